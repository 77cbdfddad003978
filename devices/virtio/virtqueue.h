/*
 * A split virtqueue, the device's side (virtio 1.2, 2.7): the descriptor
 * table, the available ring the driver fills and the used ring the device
 * returns buffers on, all in guest RAM the guest keeps writing while we
 * read. Transport-agnostic: the virtio-pci transport sets size and
 * addresses from the guest's common configuration writes and calls
 * virtq_enable; devices (virtio-blk, virtio-net) pop requests, work on
 * them, push them back and ask whether to interrupt.
 *
 * Hostile rings. Every ring and buffer is reached through dma_mem
 * (vmm/dma_mem.h), checked against the memory map, and every value the
 * guest wrote is checked before use: indices below the queue size,
 * chains no longer than the queue (so a loop ends), indirect tables
 * well-formed (2.7.5.3), buffers wholly in RAM (writable ones not in
 * ROM), device-readable before device-writable (2.7.4.2), the avail
 * index at most the queue size ahead. Each descriptor is copied once and
 * the copy checked, so the guest changing it meanwhile changes nothing.
 * A failure never touches memory outside guest RAM: virtq_pop returns a
 * negative enum virtq_err, counted in q->errors[]; the enum below says
 * what a device does with each.
 *
 * Threads. All calls on one queue come from one thread, the vCPU thread
 * (the VMM runs devices between guest runs). The guest may be running on
 * another CPU meanwhile (kvm, a second vCPU later): the ring indices are
 * read and written with C11-style atomics and fences where 2.7.13 and
 * 2.7.10 need an order (buffers before idx; idx before the
 * notification check). Buffers of a popped request may be read and
 * written from any thread (the block backend's workers) until it is
 * pushed; virtq_push itself, and so dma_written, is the vCPU thread's.
 *
 * A device's life with it:
 *
 *   virtq_init(&q, &env->mem, 256);          // once; 256 = the max it offers
 *   // transport: guest writes queue_size, queue_desc/driver/device
 *   virtq_set_size(&q, n); virtq_set_addrs(&q, desc, avail, used);
 *   if (virtq_enable(&q, negotiated_features) < 0) -> NEEDS_RESET
 *   // on a notification (the guest's write to the notify register):
 *   for (;;) {
 *       int r = virtq_pop(&q, req);
 *       if (r == 0) break;                   // ring empty
 *       if (r < 0) {
 *           if (virtq_err_has_head(r)) virtq_push(&q, req, 0);
 *           else { status |= NEEDS_RESET; config interrupt; break; }
 *           continue;
 *       }
 *       ... read req->iov[0 .. nr_out), write req->iov[nr_out .. nr_out+nr_in) ...
 *       virtq_push(&q, req, bytes_written);
 *   }
 *   if (virtq_should_notify(&q)) raise the queue's interrupt;
 *   // device reset (status 0) or queue reset: first wait for the requests
 *   // in flight (block_aio_drain), then
 *   virtq_reset(&q);
 */
#ifndef HYVM_VIRTQUEUE_H
#define HYVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vmm/dma_mem.h"
#include "devices/virtio/virtio_spec.h"

/* The guest's structures (2.7.5, 2.7.6, 2.7.8), little-endian. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;	/* head of the chain, widened to 32 bits */
	uint32_t len;	/* bytes the device wrote into the chain */
};

/* Bytes each part takes for a queue of n entries (2.7, the table of
 * sizes and alignments); the event words are included. */
#define VIRTQ_DESC_BYTES(n)	(16ull * (n))
#define VIRTQ_AVAIL_BYTES(n)	(6ull + 2ull * (n))
#define VIRTQ_USED_BYTES(n)	(6ull + 8ull * (n))
#define VIRTQ_DESC_ALIGN	16
#define VIRTQ_AVAIL_ALIGN	2
#define VIRTQ_USED_ALIGN	4

/* Why a pop (or an enable) failed. Negative return values of virtq_pop
 * are the negation of these. */
enum virtq_err {
	VIRTQ_OK = 0,
	/* The queue is unusable until it is reset (ring-level; no head):
	 * the device sets VIRTIO_CONFIG_S_NEEDS_RESET (2.1.2). */
	VIRTQ_ERR_NOT_READY = 1,	/* popped before enable, or after an error */
	VIRTQ_ERR_SIZE,			/* 0, not a power of 2, or above the max */
	VIRTQ_ERR_RING_ADDR,		/* a ring misaligned, outside RAM or in ROM */
	VIRTQ_ERR_AVAIL_IDX,		/* avail->idx more than the queue size ahead */
	VIRTQ_ERR_HEAD,			/* avail ring entry >= queue size */
	/* One chain is bad (chain-level; the head is known and consumed):
	 * the device returns the chain (virtq_push with 0 bytes) and fails
	 * the request, e.g. VIRTIO_BLK_S_IOERR, or marks NEEDS_RESET. */
	VIRTQ_ERR_NEXT,			/* desc.next >= the table's size */
	VIRTQ_ERR_LOOP,			/* more descriptors than the queue has */
	VIRTQ_ERR_BUFFER,		/* a buffer not wholly in RAM (writable: not ROM) */
	VIRTQ_ERR_LENGTH,		/* the chain's bytes overflow 32 bits */
	VIRTQ_ERR_ORDER,		/* device-readable after device-writable */
	VIRTQ_ERR_INDIRECT,		/* indirect not negotiated, nested, with NEXT,
					 * length 0 or not a multiple of 16, too long,
					 * or its table outside RAM */
	VIRTQ_ERR_TOO_MANY_SEGS,	/* more buffers than the request can hold */
	VIRTQ_ERR_COUNT
};

/* True when the error names a consumed chain (req->head valid). */
static inline bool virtq_err_has_head(int r)
{
	return r <= -VIRTQ_ERR_NEXT;
}
const char *virtq_err_name(int err);	/* either sign */

/* One popped chain, gathered: iov[0 .. nr_out) device-readable, then
 * iov[nr_out .. nr_out + nr_in) device-writable, host addresses into the
 * guest's RAM mapping (valid for the VM's life; a buffer of length 0 is
 * left out). out_bytes/in_bytes are the sums. Allocate with
 * virtq_req_new(max_segs): a chain of more buffers fails with
 * VIRTQ_ERR_TOO_MANY_SEGS (devices advertise seg_max below it). */
struct virtq_req {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_bytes, in_bytes;
	unsigned max_segs;
	struct iovec *iov;
	uint64_t *gpa;		/* each iov's guest-physical address */
	const struct dma_mem *mem;	/* the queue's, for virtq_req_write */
	uint64_t generation;	/* the queue's when popped (see virtq_push) */
	void *opaque;		/* the device's, untouched here */
};

struct virtq_req *virtq_req_new(unsigned max_segs);
void virtq_req_free(struct virtq_req *req);
/* Copies from the readable part at byte offset off (0 or -1 when short);
 * writes into the writable part at offset off and announces those bytes
 * (dma_written: the vCPU thread only; a worker thread writes through
 * iov and leaves the announcing to virtq_push). Bytes a device writes
 * outside the first `written` of the push (virtio-blk's status byte after
 * a refused read) must come through here. */
int virtq_req_read(const struct virtq_req *req, uint64_t off, void *dst, size_t len);
int virtq_req_write(const struct virtq_req *req, uint64_t off, const void *src, size_t len);

struct virtq_avail;
struct virtq_used;

struct virtq {
	const struct dma_mem *mem;
	uint16_t max_size;	/* what the device offers (transport: queue_size reads) */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;		/* enabled and not broken */
	bool broken;		/* a ring-level error: only a reset helps */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx;		/* VIRTIO_F_EVENT_IDX negotiated */

	/* Host views of the rings, set by virtq_enable. */
	const uint8_t *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail;	/* next avail entry to pop */
	uint16_t used_idx;	/* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt decision */
	bool signalled_valid;	/* false until the first (interrupt then) */
	bool notify_on;		/* virtq_set_notify's last word */

	/* Bumped by every reset and enable: a request popped before cannot
	 * be pushed onto rings the driver set up since. */
	uint64_t generation;

	/* Counters for statistics and tests. */
	uint64_t popped, pushed, notified, suppressed, stale_pushes;
	uint64_t errors[VIRTQ_ERR_COUNT];
};

/* A queue of at most max_size entries (a power of 2 <= 32768) on mem;
 * reset state (size = max_size, addresses 0, not ready). */
void virtq_init(struct virtq *q, const struct dma_mem *mem, uint16_t max_size);
/* Back to the init state (2.1, device reset; 4.1.4.3.2 queue_reset). */
void virtq_reset(struct virtq *q);
/* The transport's writes before enable; ignored (-1, counted as
 * NOT_READY) while the queue is enabled: the rings may not move under a
 * running queue. */
int virtq_set_size(struct virtq *q, uint16_t size);
int virtq_set_addrs(struct virtq *q, uint64_t desc, uint64_t avail, uint64_t used);
/* features: the negotiated feature bits (bit VIRTIO_F_*). Checks size,
 * alignment and that the three rings are RAM; 0, or -VIRTQ_ERR_SIZE /
 * -VIRTQ_ERR_RING_ADDR (counted, the queue stays off: NEEDS_RESET). */
int virtq_enable(struct virtq *q, uint64_t features);

/* Takes the next available chain: 1 with *req filled, 0 when the ring is
 * empty (or not ready and never was), a negative enum virtq_err else.
 * *req changes only when a chain was taken (1, or a chain-level error:
 * then head is set and no buffers). */
int virtq_pop(struct virtq *q, struct virtq_req *req);
/* Chains the driver made available and nobody popped yet (0 when not
 * ready or the index is absurd: the pop says why). */
unsigned virtq_pending(const struct virtq *q);
/* Returns the chain with written bytes in its writable part (2.7.8;
 * clamped to in_bytes), announcing those bytes with dma_written first.
 * Requests may be pushed in any order. -1 when not ready, or when the
 * request was popped before the queue was last reset or enabled
 * (counted in stale_pushes: a device should have drained its requests
 * before the reset). */
int virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written);
/* After pushes: whether the driver wants an interrupt now (2.7.7.2:
 * VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX used_event, 2.7.10). */
bool virtq_should_notify(struct virtq *q);
/* Whether the device wants the driver's notifications (2.7.7.2:
 * VIRTQ_USED_F_NO_NOTIFY, or with EVENT_IDX avail_event). A device
 * busy with the ring turns them off, and on enabling again must pop
 * once more: true when chains arrived meanwhile. */
bool virtq_set_notify(struct virtq *q, bool enable);

/* 2.7.10's comparison: whether the index moving from old to new_idx
 * passed event (all modulo 2^16). */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif

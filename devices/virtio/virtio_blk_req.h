/*
 * virtio-blk requests (virtio 1.2, 5.2.6): a popped chain (virtqueue.h)
 * parsed into what the block backend runs, checked first, and its status
 * byte written at the end. No transport and no queue handling here: the
 * virtio-blk device model pops, calls vblk_parse, submits req->aio to the
 * pool (block/block_aio.h) or runs it, then vblk_finish and virtq_push.
 *
 *   struct vblk_req *r = ...;                    // one per request in flight
 *   int st = vblk_parse(&disk, vq_req, r);
 *   if (st < 0)        -> no status byte: virtq_push(q, vq_req, 0), count it
 *   else if (st == VBLK_SUBMIT) { r->aio.done = ...; block_aio_submit(aio, &r->aio); }
 *   else               -> answered already (GET_ID, a refusal):
 *                         virtq_push(q, vq_req, vblk_used_len(r))
 *   // when the backend is done (vCPU thread):
 *   uint32_t len = vblk_finish(r, r->aio.result);   // writes the status
 *   virtq_push(q, vq_req, len);
 *
 * Checks (5.2.6.1/5.2.6.2): header readable (16 bytes), status the last
 * writable byte; IN/OUT data a multiple of 512 bytes and inside the disk;
 * OUT, DISCARD and WRITE_ZEROES on a read-only disk are IOERR with no
 * byte written; an unknown type, a feature not offered, DISCARD with the
 * unmap flag or reserved flags are UNSUPP; a DISCARD/WRITE_ZEROES range
 * is one 16-byte segment (max_discard_seg = 1 is what the device offers)
 * inside the disk and within the advertised maximum.
 */
#ifndef HYVM_VIRTIO_BLK_REQ_H
#define HYVM_VIRTIO_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block_aio.h"
#include "devices/virtio/virtqueue.h"

/* 5.2.6 request types and status values */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2
#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_SECTOR		512	/* addressing unit, whatever blk_size says */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP	1

/* What vblk_parse returns besides a status: hand req->aio to the disk. */
#define VBLK_SUBMIT	0x100

struct vblk_disk {
	struct block_dev *bd;
	uint64_t capacity;		/* 512-byte sectors */
	bool readonly;			/* VIRTIO_BLK_F_RO offered */
	bool discard, write_zeroes;	/* VIRTIO_BLK_F_DISCARD, _F_WRITE_ZEROES offered */
	uint32_t max_discard_sectors, max_write_zeroes_sectors;
	char id[VIRTIO_BLK_ID_BYTES];	/* GET_ID's answer (not NUL-terminated if 20) */
	/* Counted refusals. */
	uint64_t ioerr, unsupp, no_status;
};

struct vblk_req {
	struct virtq_req *vq;		/* the chain this request came in */
	uint32_t type;
	uint64_t sector;
	uint32_t data_bytes;		/* IN: bytes the device writes before the status */
	uint8_t status;
	unsigned max_segs;
	struct iovec *iov;		/* the data part, for aio */
	struct block_aio_req aio;	/* bd, op, iov, off, len filled by vblk_parse */
};

/* A request able to carry chains of max_segs buffers. */
struct vblk_req *vblk_req_new(unsigned max_segs);
void vblk_req_free(struct vblk_req *r);

/* Parses and checks vq (popped from the request queue) into r: VBLK_SUBMIT,
 * a status already written (VIRTIO_BLK_S_*; vblk_finish need not be
 * called), or -1 when the chain has no writable byte for a status. */
int vblk_parse(struct vblk_disk *d, struct virtq_req *vq, struct vblk_req *r);
/* The backend's result (0 or -errno) as the status byte; returns the
 * used length for virtq_push (data written + the status byte). */
uint32_t vblk_finish(struct vblk_req *r, int result);
/* The used length of a request vblk_parse answered itself. */
static inline uint32_t vblk_used_len(const struct vblk_req *r)
{
	return r->data_bytes + 1;
}

/* Size of the backend's disk in sectors (a partial last sector is not
 * addressable). */
static inline uint64_t vblk_capacity(const struct block_dev *bd)
{
	return bd->size / VIRTIO_BLK_SECTOR;
}

#endif

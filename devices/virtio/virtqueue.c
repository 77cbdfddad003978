/*
 * The device's side of a split virtqueue (virtio 1.2, 2.7); the API and
 * the rules for hostile rings are in virtqueue.h.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include "devices/virtio/virtqueue.h"

/* 2.7.6 and 2.7.8; used_event follows ring[size], avail_event follows
 * the used ring's ring[size]. */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

static const char *const err_names[VIRTQ_ERR_COUNT] = {
	[VIRTQ_OK] = "ok",
	[VIRTQ_ERR_NOT_READY] = "queue not ready",
	[VIRTQ_ERR_SIZE] = "bad queue size",
	[VIRTQ_ERR_RING_ADDR] = "ring outside RAM or misaligned",
	[VIRTQ_ERR_AVAIL_IDX] = "avail index too far ahead",
	[VIRTQ_ERR_HEAD] = "avail entry beyond the queue",
	[VIRTQ_ERR_NEXT] = "descriptor next beyond the table",
	[VIRTQ_ERR_LOOP] = "descriptor chain longer than the queue",
	[VIRTQ_ERR_BUFFER] = "buffer outside RAM",
	[VIRTQ_ERR_LENGTH] = "chain length overflows",
	[VIRTQ_ERR_ORDER] = "readable descriptor after a writable one",
	[VIRTQ_ERR_INDIRECT] = "bad indirect descriptor",
	[VIRTQ_ERR_TOO_MANY_SEGS] = "more buffers than the device takes",
};

const char *virtq_err_name(int err)
{
	if (err < 0)
		err = -err;
	return err < VIRTQ_ERR_COUNT ? err_names[err] : "unknown";
}

/* The guest's indices, read and written as the other side of 2.7.13's
 * memory barriers: the avail index with acquire (the ring entries and
 * descriptors it publishes are read after it), the used index with
 * release (the used element and the buffers are written before it). */
static uint16_t load_u16(const uint16_t *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static void store_u16(uint16_t *p, uint16_t v, int order)
{
	__atomic_store_n(p, htole16(v), order);
}

static uint16_t *used_event_word(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *avail_event_word(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

/* The device wrote [p, p + len) of the used ring: tell the engine. */
static void announce(const struct virtq *q, const void *p, uint64_t len)
{
	uint64_t off = (uint64_t)((const uint8_t *)p - (const uint8_t *)q->used);

	dma_written(q->mem, q->used_gpa + off, len);
}

void virtq_init(struct virtq *q, const struct dma_mem *mem, uint16_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->max_size = max_size;
	virtq_reset(q);
}

void virtq_reset(struct virtq *q)
{
	/* 4.1.4.3: after a reset queue_size reads the maximum again and the
	 * addresses read 0; the counters are statistics and survive. */
	q->size = q->max_size;
	q->desc_gpa = q->avail_gpa = q->used_gpa = 0;
	q->ready = q->broken = q->indirect = q->event_idx = false;
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = false;
	q->notify_on = true;
	q->generation++;
}

int virtq_set_size(struct virtq *q, uint16_t size)
{
	if (q->ready) {
		q->errors[VIRTQ_ERR_NOT_READY]++;
		return -1;
	}
	q->size = size;
	return 0;
}

int virtq_set_addrs(struct virtq *q, uint64_t desc, uint64_t avail, uint64_t used)
{
	if (q->ready) {
		q->errors[VIRTQ_ERR_NOT_READY]++;
		return -1;
	}
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	return 0;
}

/* A ring part: aligned, wholly in RAM. ROM is refused even for the parts
 * the device only reads: the driver must be able to write them. */
static void *ring_part(const struct virtq *q, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return dma_ptr(q->mem, gpa, len, true);
}

int virtq_enable(struct virtq *q, uint64_t features)
{
	if (q->ready)
		return 0;
	/* 2.7: a power of 2 up to 32768; and no more than the device offers */
	if (q->size == 0 || (q->size & (q->size - 1)) || q->size > q->max_size) {
		q->errors[VIRTQ_ERR_SIZE]++;
		return -VIRTQ_ERR_SIZE;
	}
	const void *desc = ring_part(q, q->desc_gpa, VIRTQ_DESC_BYTES(q->size), VIRTQ_DESC_ALIGN);
	void *avail = ring_part(q, q->avail_gpa, VIRTQ_AVAIL_BYTES(q->size), VIRTQ_AVAIL_ALIGN);
	void *used = ring_part(q, q->used_gpa, VIRTQ_USED_BYTES(q->size), VIRTQ_USED_ALIGN);
	if (!desc || !avail || !used) {
		q->errors[VIRTQ_ERR_RING_ADDR]++;
		return -VIRTQ_ERR_RING_ADDR;
	}
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->indirect = features & (1ull << VIRTIO_F_INDIRECT_DESC);
	q->event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	/* The driver zeroed the used ring before enabling (2.7.13.1); we
	 * start where it does. */
	q->last_avail = q->used_idx = 0;
	q->signalled_valid = false;
	q->notify_on = true;
	q->broken = false;
	q->ready = true;
	q->generation++;
	return 0;
}

/* A ring-level error: nothing in the ring can be trusted any more. */
static int ring_error(struct virtq *q, enum virtq_err e)
{
	q->errors[e]++;
	q->ready = false;
	q->broken = true;
	return -(int)e;
}

static void read_desc(const uint8_t *table, unsigned i, struct virtq_desc *d)
{
	memcpy(d, table + 16ull * i, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* Walks the chain from head into req (2.7.5, 2.7.5.3); 0 or the error. */
static enum virtq_err gather(const struct virtq *q, struct virtq_req *req, uint16_t head)
{
	const uint8_t *table = q->desc;
	unsigned table_n = q->size, seen = 0, nr = 0;
	bool in_indirect = false, seen_writable = false;
	uint16_t i = head;

	for (;;) {
		struct virtq_desc d;

		/* A chain visits each descriptor of its table at most once
		 * (2.7.5.2: no longer than the queue); more is a loop. */
		if (++seen > table_n)
			return VIRTQ_ERR_LOOP;
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1: only if negotiated, never inside an
			 * indirect table, never with NEXT, a whole number of
			 * descriptors; we also bound it by the largest queue. */
			if (!q->indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT) ||
			    d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_SIZE)
				return VIRTQ_ERR_INDIRECT;
			table = dma_ptr(q->mem, d.addr, d.len, true);
			if (!table)
				return VIRTQ_ERR_INDIRECT;
			table_n = d.len / 16;
			in_indirect = true;
			seen = 0;
			i = 0;
			continue;
		}
		bool writable = d.flags & VIRTQ_DESC_F_WRITE;
		/* 2.7.4.2: device-readable buffers come first */
		if (!writable && seen_writable)
			return VIRTQ_ERR_ORDER;
		seen_writable |= writable;
		if (d.len) {
			void *p = dma_ptr(q->mem, d.addr, d.len, writable);
			if (!p)
				return VIRTQ_ERR_BUFFER;
			if (nr >= req->max_segs)
				return VIRTQ_ERR_TOO_MANY_SEGS;
			uint64_t *sum = writable ? &req->in_bytes : &req->out_bytes;
			/* used.len is 32 bits (2.7.8): no chain may hold more */
			if (*sum + d.len > UINT32_MAX)
				return VIRTQ_ERR_LENGTH;
			*sum += d.len;
			req->iov[nr] = (struct iovec){ p, d.len };
			req->gpa[nr] = d.addr;
			nr++;
			if (writable)
				req->nr_in++;
			else
				req->nr_out++;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= table_n)
			return VIRTQ_ERR_NEXT;
		i = d.next;
	}
}

unsigned virtq_pending(const struct virtq *q)
{
	if (!q->ready)
		return 0;
	uint16_t ahead = (uint16_t)(load_u16(&q->avail->idx, __ATOMIC_ACQUIRE) - q->last_avail);
	return ahead > q->size ? 0 : ahead;
}

int virtq_pop(struct virtq *q, struct virtq_req *req)
{
	if (!q->ready)
		return q->broken ? -VIRTQ_ERR_NOT_READY : 0;

	uint16_t avail_idx = load_u16(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t ahead = (uint16_t)(avail_idx - q->last_avail);
	if (ahead == 0)
		return 0;
	/* 2.7.6: the driver cannot have more than size chains outstanding */
	if (ahead > q->size)
		return ring_error(q, VIRTQ_ERR_AVAIL_IDX);
	uint16_t head = load_u16(&q->avail->ring[q->last_avail & (q->size - 1)],
				 __ATOMIC_RELAXED);
	if (head >= q->size)
		return ring_error(q, VIRTQ_ERR_HEAD);
	q->last_avail++;
	req->head = head;
	req->mem = q->mem;
	req->generation = q->generation;
	req->nr_out = req->nr_in = 0;
	req->out_bytes = req->in_bytes = 0;
	/* 2.7.10: with EVENT_IDX, "notify me when you add entry last_avail" */
	if (q->event_idx && q->notify_on) {
		store_u16(avail_event_word(q), q->last_avail, __ATOMIC_RELAXED);
		announce(q, avail_event_word(q), 2);
	}

	enum virtq_err e = gather(q, req, head);
	if (e != VIRTQ_OK) {
		/* the chain is consumed: the device hands it back empty */
		req->nr_out = req->nr_in = 0;
		req->out_bytes = req->in_bytes = 0;
		q->errors[e]++;
		return -(int)e;
	}
	q->popped++;
	return 1;
}

int virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written)
{
	if (!q->ready || req->head >= q->size)
		return -1;
	if (req->generation != q->generation) {
		q->stale_pushes++;
		return -1;
	}
	if (written > req->in_bytes)
		written = (uint32_t)req->in_bytes;
	/* the buffers first: the engine must forget what it derived from
	 * them before the guest can see the used entry */
	uint64_t left = written;
	for (unsigned k = req->nr_out; left && k < req->nr_out + req->nr_in; k++) {
		uint64_t n = req->iov[k].iov_len < left ? req->iov[k].iov_len : left;
		dma_written(q->mem, req->gpa[k], n);
		left -= n;
	}
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, htole32(req->head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
	announce(q, e, sizeof(*e));
	q->used_idx++;
	/* 2.7.13.3 (device side): the element before the index */
	store_u16(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	announce(q, &q->used->idx, 2);
	q->pushed++;
	return 0;
}

bool virtq_should_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	/* 2.7.10: the used index we wrote must be visible before we read the
	 * driver's suppression, or we race a driver re-enabling interrupts
	 * and both sides wait. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled_used, cur = q->used_idx;
	bool valid = q->signalled_valid, notify;

	q->signalled_used = cur;
	q->signalled_valid = true;
	if (valid && old == cur)
		notify = false;		/* nothing new since the last one */
	else if (q->event_idx)
		notify = !valid || virtq_need_event(load_u16(used_event_word(q), __ATOMIC_RELAXED),
						    cur, old);
	else
		notify = !(load_u16(&q->avail->flags, __ATOMIC_RELAXED) &
			   VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (notify)
		q->notified++;
	else
		q->suppressed++;
	return notify;
}

bool virtq_set_notify(struct virtq *q, bool enable)
{
	if (!q->ready)
		return false;
	q->notify_on = enable;
	if (q->event_idx) {
		/* 2.7.10: without a fresh avail_event the driver's index only
		 * crosses the stale one after 2^16 entries: off enough */
		if (enable) {
			store_u16(avail_event_word(q), q->last_avail, __ATOMIC_RELAXED);
			announce(q, avail_event_word(q), 2);
		}
	} else {
		uint16_t flags = load_u16(&q->used->flags, __ATOMIC_RELAXED);
		flags = enable ? flags & ~VIRTQ_USED_F_NO_NOTIFY : flags | VIRTQ_USED_F_NO_NOTIFY;
		store_u16(&q->used->flags, flags, __ATOMIC_RELAXED);
		announce(q, &q->used->flags, 2);
	}
	if (!enable)
		return false;
	/* the driver may have added chains while notifications were off and
	 * not notified: look again after our write is visible */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load_u16(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}

struct virtq_req *virtq_req_new(unsigned max_segs)
{
	struct virtq_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->max_segs = max_segs;
	req->iov = calloc(max_segs ? max_segs : 1, sizeof(*req->iov));
	req->gpa = calloc(max_segs ? max_segs : 1, sizeof(*req->gpa));
	if (!req->iov || !req->gpa) {
		virtq_req_free(req);
		return NULL;
	}
	return req;
}

void virtq_req_free(struct virtq_req *req)
{
	if (!req)
		return;
	free(req->iov);
	free(req->gpa);
	free(req);
}

/* Copies len bytes at offset off of iov[0 .. n) to or from buf; writes
 * are announced through mem (gpa[k]: where iov[k] is in the guest). */
static int iov_copy(const struct iovec *iov, const uint64_t *gpa, unsigned n,
		    const struct dma_mem *mem, uint64_t off, void *buf, size_t len, bool to_iov)
{
	uint8_t *b = buf;

	for (unsigned k = 0; k < n && len; k++) {
		if (off >= iov[k].iov_len) {
			off -= iov[k].iov_len;
			continue;
		}
		size_t chunk = iov[k].iov_len - off;
		if (chunk > len)
			chunk = len;
		if (to_iov) {
			memcpy((uint8_t *)iov[k].iov_base + off, b, chunk);
			dma_written(mem, gpa[k] + off, chunk);
		} else {
			memcpy(b, (uint8_t *)iov[k].iov_base + off, chunk);
		}
		b += chunk;
		len -= chunk;
		off = 0;
	}
	return len ? -1 : 0;
}

int virtq_req_read(const struct virtq_req *req, uint64_t off, void *dst, size_t len)
{
	if (off + len > req->out_bytes || off + len < off)
		return -1;
	return iov_copy(req->iov, req->gpa, req->nr_out, NULL, off, dst, len, false);
}

int virtq_req_write(const struct virtq_req *req, uint64_t off, const void *src, size_t len)
{
	if (off + len > req->in_bytes || off + len < off)
		return -1;
	return iov_copy(req->iov + req->nr_out, req->gpa + req->nr_out, req->nr_in, req->mem,
			off, (void *)src, len, true);
}

/*
 * virtio-blk over PCI (virtio 1.2, 5.2): one request queue, requests
 * parsed and checked by virtio_blk_req.c, run on the block backend's
 * worker threads (block/block_aio.h) and completed on the vCPU thread
 * when the pool's eventfd says so (device_env.watch_fd), so a slow disk
 * never stalls the guest's timers.
 *
 * Configuration: "drive=ID", the id of a disk hyvm run opened with --disk
 * (block/block_registry.h); the image, read-only and snapshot options
 * belong to the disk, not to the device, as in QEMU.
 *
 * Saved state: the transport's (virtio_pci_save: the virtio_dev and the
 * PCI function) and nothing of our own, because a checkpoint never holds
 * a half-done request: quiesce (which a checkpoint runs before it saves
 * any device, so the interrupt reaches the LAPIC's saved IRR; save runs
 * it again) drains the pool (block_aio_drain) and
 * returns every finished request on the used ring with its interrupt,
 * then takes the chains that waited for a free request, until nothing
 * is in flight; so every chain the device popped has been returned
 * (last_avail == used_idx) and a load refuses a blob where that is not
 * so. The disk's contents are the disk's, not the device's.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block_registry.h"
#include "devices/device_state.h"
#include "devices/device.h"
#include "devices/virtio/virtio_blk_req.h"
#include "devices/virtio/virtio_dev.h"
#include "devices/virtio/virtio_pci.h"

#define VIRTIO_ID_BLOCK		2
/* 5.2.3 Feature bits */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VBLK_QUEUE_SIZE		128
/* 5.2.4: seg_max counts data segments; a chain adds header and status */
#define VBLK_SEG_MAX		(VBLK_QUEUE_SIZE - 2)
/* at most this many sectors per DISCARD / WRITE_ZEROES (32 MiB) */
#define VBLK_MAX_ZERO_SECTORS	65536u

/* 5.2.4 Device configuration layout, up to write_zeroes_may_unmap. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct { uint16_t cylinders; uint8_t heads, sectors; } geometry;
	uint32_t blk_size;
	struct { uint8_t physical_block_exp, alignment_offset;
		 uint16_t min_io_size; uint32_t opt_io_size; } topology;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

struct virtio_blk {
	struct virtio_dev vd;
	struct virtio_pci *vp;
	struct device_env *env;
	struct vblk_disk disk;
	struct virtio_blk_config config;
	struct block_aio *aio;
	bool watching;
	/* Requests not in flight, a stack; one per queue entry at most. */
	struct vblk_req *free[VBLK_QUEUE_SIZE];
	unsigned nr_free;
	struct vblk_req *all[VBLK_QUEUE_SIZE];
	uint64_t bad_chains;
};

static struct virtio_blk *of(struct virtio_dev *vd)
{
	return vd->device;
}

static void config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	memcpy(data, (const uint8_t *)&of(vd)->config + off, len);
}

static void request_done(struct block_aio_req *aio);

/* Takes chains off the request queue while requests are free: each is
 * answered at once (a refusal, GET_ID) or submitted to the pool. */
static void process_queue(struct virtio_blk *b)
{
	struct virtq *q = &b->vd.vq[0];
	bool used = false;

	while (b->nr_free && virtio_dev_live(&b->vd)) {
		struct vblk_req *r = b->free[--b->nr_free];
		int p = virtq_pop(q, r->vq);
		if (p <= 0) {
			b->free[b->nr_free++] = r;
			if (p == 0)
				break;
			b->bad_chains++;
			if (!virtq_err_has_head(p)) {	/* the ring itself is bad */
				virtio_dev_set_needs_reset(&b->vd);
				break;
			}
			virtq_push(q, r->vq, 0);
			used = true;
			continue;
		}
		int st = vblk_parse(&b->disk, r->vq, r);
		if (st == VBLK_SUBMIT) {
			/* vblk_parse rebuilt r->aio: done and opaque are ours to set */
			r->aio.done = request_done;
			r->aio.opaque = b;
			block_aio_submit(b->aio, &r->aio);
			continue;
		}
		virtq_push(q, r->vq, st < 0 ? 0 : vblk_used_len(r));
		b->free[b->nr_free++] = r;
		used = true;
	}
	if (used)
		virtio_dev_used(&b->vd, 0);
}

/* The pool finished r (vCPU thread, inside block_aio_complete). */
static void request_done(struct block_aio_req *aio)
{
	struct vblk_req *r = (struct vblk_req *)((char *)aio - offsetof(struct vblk_req, aio));
	struct virtio_blk *b = aio->opaque;

	virtq_push(&b->vd.vq[0], r->vq, vblk_finish(r, aio->result));
	b->free[b->nr_free++] = r;
}

static void aio_ready(void *opaque)
{
	struct virtio_blk *b = opaque;

	if (block_aio_complete(b->aio)) {
		virtio_dev_used(&b->vd, 0);
		process_queue(b);	/* chains that waited for a free request */
	}
}

/* Nothing in flight when this returns: requests finished, returned with
 * their interrupt, and the chains they held up started and finished
 * too (the guest is stopped, so the ring stops growing). */
static void quiesce(struct virtio_blk *b)
{
	while (block_aio_pending(b->aio)) {
		uint16_t before = b->vd.vq[0].used_idx;
		block_aio_drain(b->aio);
		if (b->vd.vq[0].used_idx != before)
			virtio_dev_used(&b->vd, 0);
		process_queue(b);
	}
}

static void queue_notify(struct virtio_dev *vd, unsigned q)
{
	process_queue(of(vd));
}

/* 2.1: nothing in flight may write guest RAM after a reset. */
static void device_reset(struct virtio_dev *vd)
{
	struct virtio_blk *b = of(vd);

	if (b->aio)
		block_aio_drain(b->aio);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = config_read,
	.queue_notify = queue_notify,
	.reset = device_reset,
};

/* "drive=ID": the only key; the id is a string, which device_config
 * (numbers only) does not parse. */
static int parse_config(const char *config, char *id, size_t idlen, char *err, size_t errlen)
{
	if (!config || strncmp(config, "drive=", 6) || !config[6] || strchr(config + 6, ',') ||
	    strlen(config + 6) >= idlen) {
		snprintf(err, errlen, "virtio-blk takes drive=ID (a --disk's id), not '%s'",
			 config ? config : "");
		return -1;
	}
	snprintf(id, idlen, "%s", config + 6);
	return 0;
}

static void vblk_destroy(void *dev);

static void *vblk_create(struct device_env *env, const char *config, char *err, size_t errlen)
{
	char id[BLOCK_ID_MAX];

	if (parse_config(config, id, sizeof(id), err, errlen) < 0)
		return NULL;
	struct block_dev *bd = block_registry_find(id);
	if (!bd) {
		snprintf(err, errlen, "virtio-blk: no disk with id '%s'", id);
		return NULL;
	}
	if (!env->watch_fd) {
		snprintf(err, errlen, "virtio-blk: the machine cannot watch file descriptors");
		return NULL;
	}
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		return NULL;
	}
	b->env = env;
	b->disk = (struct vblk_disk){
		.bd = bd, .capacity = vblk_capacity(bd), .readonly = bd->readonly,
		.discard = !bd->readonly, .write_zeroes = !bd->readonly,
		.max_discard_sectors = VBLK_MAX_ZERO_SECTORS,
		.max_write_zeroes_sectors = VBLK_MAX_ZERO_SECTORS,
	};
	/* GET_ID's serial: 20 bytes, NUL-padded, not NUL-terminated (5.2.6) */
	char serial[BLOCK_ID_MAX + 8];
	snprintf(serial, sizeof(serial), "hyvm-%s", id);
	memcpy(b->disk.id, serial, strnlen(serial, sizeof(b->disk.id)));
	b->config = (struct virtio_blk_config){
		.capacity = b->disk.capacity, .seg_max = VBLK_SEG_MAX, .blk_size = 512,
		.num_queues = 1,
		.max_discard_sectors = VBLK_MAX_ZERO_SECTORS, .max_discard_seg = 1,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = VBLK_MAX_ZERO_SECTORS, .max_write_zeroes_seg = 1,
		.write_zeroes_may_unmap = 1,
	};
	uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_EVENT_IDX) |
			    (1ull << VIRTIO_F_INDIRECT_DESC);
	if (bd->readonly)
		features |= 1ull << VIRTIO_BLK_F_RO;
	else
		features |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		struct vblk_req *r = vblk_req_new(VBLK_SEG_MAX + 2);
		if (r)
			r->vq = virtq_req_new(VBLK_SEG_MAX + 2);
		if (!r || !r->vq) {
			vblk_req_free(r);
			snprintf(err, errlen, "virtio-blk: out of memory");
			vblk_destroy(b);
			return NULL;
		}
		b->all[i] = b->free[b->nr_free++] = r;
	}
	b->aio = block_aio_new(4, err, errlen);
	if (!b->aio) {
		vblk_destroy(b);
		return NULL;
	}
	virtio_dev_init(&b->vd, &env->mem, VIRTIO_ID_BLOCK, features, 1, VBLK_QUEUE_SIZE,
			sizeof(b->config), &blk_ops, b);
	/* PCI class 01 (mass storage), 00 (SCSI), as QEMU's virtio-blk-pci */
	b->vp = virtio_pci_create(env, &b->vd, "virtio-blk", 0x01, 0x00, err, errlen);
	if (!b->vp) {
		vblk_destroy(b);
		return NULL;
	}
	if (env->watch_fd(env->watch_ctx, block_aio_fd(b->aio), aio_ready, b) < 0) {
		snprintf(err, errlen, "virtio-blk: cannot watch its completions");
		vblk_destroy(b);
		return NULL;
	}
	b->watching = true;
	return b;
}

static void vblk_reset(void *dev)
{
	virtio_pci_reset(((struct virtio_blk *)dev)->vp);
}

static void vblk_quiesce(void *dev)
{
	quiesce(dev);
}

static void vblk_save(void *dev, struct ds_writer *w)
{
	struct virtio_blk *b = dev;

	quiesce(b);
	virtio_pci_save(b->vp, w);
}

static int vblk_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct virtio_blk *b = dev;
	struct virtio_dev staged;

	/* what is in flight belongs to the state being replaced: finish it */
	quiesce(b);
	virtio_dev_load(&b->vd, r, &staged);
	for (unsigned q = 0; q < staged.nr_queues && !r->failed; q++)
		if (staged.vq[q].ready && staged.vq[q].last_avail != staged.vq[q].used_idx)
			ds_fail(r, "virtio-blk: saved state has requests in flight");
	return virtio_pci_load_staged(b->vp, r, &staged);
}

static void vblk_destroy(void *dev)
{
	struct virtio_blk *b = dev;

	if (b->watching)
		b->env->unwatch_fd(b->env->watch_ctx, block_aio_fd(b->aio));
	if (b->aio)
		block_aio_free(b->aio);		/* drains first */
	virtio_pci_destroy(b->vp);
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++)
		if (b->all[i]) {
			virtq_req_free(b->all[i]->vq);
			vblk_req_free(b->all[i]);
		}
	free(b);
}

static unsigned vblk_counters(void *dev, struct device_counter *out, unsigned max)
{
	return virtio_dev_counters(&((struct virtio_blk *)dev)->vd, out, max);
}

static struct device_model vblk_model = {
	.name = "virtio-blk",
	.level = DEVICE_LEVEL_VIRTIO,
	.state_version = 1,
	.needs_config = true,
	.create = vblk_create,
	.reset = vblk_reset,
	.save = vblk_save,
	.quiesce = vblk_quiesce,
	.load = vblk_load,
	.counters = vblk_counters,
	.destroy = vblk_destroy,
};
DEVICE_REGISTER(vblk_model)

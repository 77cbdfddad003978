/* A virtio device's transport-independent state; see virtio_dev.h. */
#include <string.h>
#include "devices/device_state.h"
#include "devices/virtio/virtio_dev.h"

void virtio_dev_init(struct virtio_dev *vd, const struct dma_mem *mem, uint16_t device_id,
		     uint64_t host_features, unsigned nr_queues, uint16_t queue_max,
		     uint32_t config_size, const struct virtio_dev_ops *ops, void *device)
{
	memset(vd, 0, sizeof(*vd));
	vd->ops = ops;
	vd->device = device;
	vd->device_id = device_id;
	/* 6.1: a device without VERSION_1 is a legacy one; we have no
	 * legacy interface, so every device offers it. */
	vd->host_features = host_features | (1ull << VIRTIO_F_VERSION_1);
	vd->nr_queues = nr_queues > VIRTIO_DEV_MAX_QUEUES ? VIRTIO_DEV_MAX_QUEUES : nr_queues;
	vd->config_size = config_size;
	vd->nr_vectors = VIRTIO_MSI_NO_VECTOR;
	for (unsigned q = 0; q < vd->nr_queues; q++)
		virtq_init(&vd->vq[q], mem, queue_max);
	virtio_dev_reset(vd);
}

void virtio_dev_reset(struct virtio_dev *vd)
{
	if (vd->ops && vd->ops->reset)
		vd->ops->reset(vd);
	for (unsigned q = 0; q < vd->nr_queues; q++) {
		virtq_reset(&vd->vq[q]);
		vd->vq_vector[q] = VIRTIO_MSI_NO_VECTOR;
	}
	vd->status = 0;
	vd->guest_features = vd->features = 0;
	vd->dfselect = vd->gfselect = 0;
	vd->queue_select = 0;
	vd->config_vector = VIRTIO_MSI_NO_VECTOR;
	vd->isr = 0;
}

/* 4.1.5.1.2: a vector the MSI-X table does not have maps nothing, and
 * the driver reads VIRTIO_MSI_NO_VECTOR back to learn so. */
static uint16_t map_vector(const struct virtio_dev *vd, uint32_t v)
{
	return v < vd->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static struct virtq *selected(struct virtio_dev *vd)
{
	return vd->queue_select < vd->nr_queues ? &vd->vq[vd->queue_select] : NULL;
}

/* A queue the driver enabled: ready, or broken by a bad ring since. */
static bool enabled(const struct virtq *q)
{
	return q->ready || q->broken;
}

uint32_t virtio_dev_common_read(struct virtio_dev *vd, uint32_t off, unsigned size)
{
	struct virtq *q = selected(vd);

	switch (size) {
	case 4:
		switch (off) {
		case VIRTIO_COMMON_DFSELECT: return vd->dfselect;
		case VIRTIO_COMMON_DF:
			return vd->dfselect < 2 ? (uint32_t)(vd->host_features >> (32 * vd->dfselect)) : 0;
		case VIRTIO_COMMON_GFSELECT: return vd->gfselect;
		case VIRTIO_COMMON_GF:
			return vd->gfselect < 2 ? (uint32_t)(vd->guest_features >> (32 * vd->gfselect)) : 0;
		case VIRTIO_COMMON_Q_DESCLO: return q ? (uint32_t)q->desc_gpa : 0;
		case VIRTIO_COMMON_Q_DESCHI: return q ? (uint32_t)(q->desc_gpa >> 32) : 0;
		case VIRTIO_COMMON_Q_AVAILLO: return q ? (uint32_t)q->avail_gpa : 0;
		case VIRTIO_COMMON_Q_AVAILHI: return q ? (uint32_t)(q->avail_gpa >> 32) : 0;
		case VIRTIO_COMMON_Q_USEDLO: return q ? (uint32_t)q->used_gpa : 0;
		case VIRTIO_COMMON_Q_USEDHI: return q ? (uint32_t)(q->used_gpa >> 32) : 0;
		}
		return 0;
	case 2:
		switch (off) {
		case VIRTIO_COMMON_MSIX: return vd->config_vector;
		case VIRTIO_COMMON_NUMQ: return vd->nr_queues;
		case VIRTIO_COMMON_Q_SELECT: return vd->queue_select;
		/* 4.1.4.3.2: size 0 means the queue is unavailable */
		case VIRTIO_COMMON_Q_SIZE: return q ? q->size : 0;
		case VIRTIO_COMMON_Q_MSIX:
			return q ? vd->vq_vector[vd->queue_select] : VIRTIO_MSI_NO_VECTOR;
		case VIRTIO_COMMON_Q_ENABLE: return q && enabled(q);
		/* notify offsets: queue n notifies at n * multiplier */
		case VIRTIO_COMMON_Q_NOFF: return q ? vd->queue_select : 0;
		case VIRTIO_COMMON_Q_NDATA: return q ? vd->queue_select : 0;
		case VIRTIO_COMMON_Q_RESET: return 0;
		}
		return 0;
	case 1:
		switch (off) {
		case VIRTIO_COMMON_STATUS: return vd->status;
		case VIRTIO_COMMON_CFGGENERATION: return vd->config_generation;
		}
		return 0;
	}
	return 0;
}

/* 3.1.1 steps 5-6: the device accepts the driver's features only when it
 * offered all of them and the driver took VERSION_1 (no legacy here);
 * else FEATURES_OK stays clear and the driver gives up. */
static bool features_acceptable(const struct virtio_dev *vd)
{
	return !(vd->guest_features & ~vd->host_features) &&
	       (vd->guest_features >> VIRTIO_F_VERSION_1 & 1);
}

static void write_status(struct virtio_dev *vd, uint8_t val)
{
	if (val == 0) {		/* 4.1.4.3.1: writing 0 resets the device */
		virtio_dev_reset(vd);
		return;
	}
	uint8_t added = val & ~vd->status;
	/* 2.1.1: the driver never clears a bit; only a reset does */
	val |= vd->status;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (features_acceptable(vd) &&
		    (!vd->ops->set_features || vd->ops->set_features(vd, vd->guest_features) == 0)) {
			vd->features = vd->guest_features;
		} else {
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			vd->bad_features++;
		}
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;	/* 3.1.1: out of order */
		vd->bad_features++;
		added &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	vd->status = val;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && vd->ops->activate)
		vd->ops->activate(vd);
}

static void write_queue_addr(struct virtio_dev *vd, struct virtq *q, uint32_t off, uint32_t val)
{
	uint64_t desc = q->desc_gpa, avail = q->avail_gpa, used = q->used_gpa, *p;

	switch (off & ~7u) {
	case VIRTIO_COMMON_Q_DESCLO: p = &desc; break;
	case VIRTIO_COMMON_Q_AVAILLO: p = &avail; break;
	default: p = &used; break;
	}
	if (off & 4)
		*p = (*p & 0xffffffffull) | (uint64_t)val << 32;
	else
		*p = (*p & ~0xffffffffull) | val;
	if (virtq_set_addrs(q, desc, avail, used) < 0)
		vd->bad_queue_writes++;		/* moving a live queue's rings */
}

void virtio_dev_common_write(struct virtio_dev *vd, uint32_t off, unsigned size, uint32_t val)
{
	struct virtq *q = selected(vd);

	if (size == 4) {
		switch (off) {
		case VIRTIO_COMMON_DFSELECT: vd->dfselect = val; return;
		case VIRTIO_COMMON_GFSELECT: vd->gfselect = val; return;
		case VIRTIO_COMMON_GF:
			/* 3.1.1: features are fixed once FEATURES_OK is set */
			if (vd->gfselect >= 2 || (vd->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
				vd->bad_features++;
				return;
			}
			vd->guest_features &= ~(0xffffffffull << (32 * vd->gfselect));
			vd->guest_features |= (uint64_t)val << (32 * vd->gfselect);
			return;
		case VIRTIO_COMMON_Q_DESCLO: case VIRTIO_COMMON_Q_DESCHI:
		case VIRTIO_COMMON_Q_AVAILLO: case VIRTIO_COMMON_Q_AVAILHI:
		case VIRTIO_COMMON_Q_USEDLO: case VIRTIO_COMMON_Q_USEDHI:
			if (q)
				write_queue_addr(vd, q, off, val);
			else
				vd->bad_queue_writes++;
			return;
		}
	} else if (size == 2) {
		switch (off) {
		case VIRTIO_COMMON_MSIX: vd->config_vector = map_vector(vd, val & 0xffff); return;
		case VIRTIO_COMMON_Q_SELECT: vd->queue_select = (uint16_t)val; return;
		case VIRTIO_COMMON_Q_SIZE:
			if (!q || virtq_set_size(q, (uint16_t)val) < 0)
				vd->bad_queue_writes++;
			return;
		case VIRTIO_COMMON_Q_MSIX:
			if (q)
				vd->vq_vector[vd->queue_select] = map_vector(vd, val & 0xffff);
			return;
		case VIRTIO_COMMON_Q_ENABLE:
			/* 4.1.4.3.2: the driver writes only 1; 0 is ignored */
			if (!q || val != 1 || enabled(q)) {
				vd->bad_queue_writes++;
				return;
			}
			if (!(vd->status & VIRTIO_CONFIG_S_FEATURES_OK) ||
			    virtq_enable(q, vd->features) < 0)
				virtio_dev_set_needs_reset(vd);
			return;
		}
	} else if (size == 1 && off == VIRTIO_COMMON_STATUS) {
		write_status(vd, (uint8_t)val);
		return;
	}
	vd->bad_queue_writes++;		/* read-only field, or a bad width */
}

bool virtio_dev_live(const struct virtio_dev *vd)
{
	return (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vd->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

void virtio_dev_notify(struct virtio_dev *vd, unsigned q)
{
	if (q < vd->nr_queues && virtio_dev_live(vd) && vd->vq[q].ready && vd->ops->queue_notify)
		vd->ops->queue_notify(vd, q);
}

uint8_t virtio_dev_isr_read(struct virtio_dev *vd)
{
	uint8_t isr = vd->isr;

	vd->isr = 0;
	return isr;
}

void virtio_dev_used(struct virtio_dev *vd, unsigned q)
{
	if (q >= vd->nr_queues || !virtq_should_notify(&vd->vq[q]))
		return;
	vd->isr |= 1;
	if (vd->tops && vd->tops->notify_queue)
		vd->tops->notify_queue(vd, q, vd->vq_vector[q]);
}

void virtio_dev_config_changed(struct virtio_dev *vd)
{
	vd->config_generation++;
	vd->isr |= 2;
	if (vd->tops && vd->tops->notify_config)
		vd->tops->notify_config(vd, vd->config_vector);
}

void virtio_dev_set_needs_reset(struct virtio_dev *vd)
{
	vd->needs_reset++;
	if (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	/* 2.1.2: a device in DRIVER_OK tells the driver by a config change */
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_dev_config_changed(vd);
}

void virtio_dev_save(const struct virtio_dev *vd, struct ds_writer *w)
{
	ds_put_u64(w, vd->host_features);
	ds_put_u8(w, (uint8_t)vd->nr_queues);
	ds_put_u8(w, vd->status);
	ds_put_u8(w, vd->config_generation);
	ds_put_u32(w, vd->isr);
	ds_put_u64(w, vd->guest_features);
	ds_put_u64(w, vd->features);
	ds_put_u32(w, vd->dfselect);
	ds_put_u32(w, vd->gfselect);
	ds_put_u16(w, vd->queue_select);
	ds_put_u16(w, vd->config_vector);
	for (unsigned i = 0; i < vd->nr_queues; i++) {
		const struct virtq *q = &vd->vq[i];
		ds_put_u16(w, vd->vq_vector[i]);
		ds_put_u16(w, q->size);
		ds_put_u64(w, q->desc_gpa);
		ds_put_u64(w, q->avail_gpa);
		ds_put_u64(w, q->used_gpa);
		ds_put_bool(w, q->ready);
		ds_put_bool(w, q->broken);
		ds_put_u16(w, q->last_avail);
		ds_put_u16(w, q->used_idx);
		ds_put_u16(w, q->signalled_used);
		ds_put_bool(w, q->signalled_valid);
		ds_put_bool(w, q->notify_on);
	}
}

/* One queue into staged's copy; what virtq.h's state may be in each of
 * the three lives of a queue: off (the reset values but the size and
 * addresses the driver wrote, 4.1.4.3.2), enabled, broken. */
static void load_queue(struct virtio_dev *s, unsigned i, struct ds_reader *r)
{
	struct virtq *q = &s->vq[i];

	s->vq_vector[i] = ds_get_u16(r);
	if (s->vq_vector[i] != map_vector(s, s->vq_vector[i]))
		ds_fail(r, "virtio: saved state has an MSI-X vector the transport does not have");
	uint16_t size = ds_get_u16(r);
	uint64_t desc = ds_get_u64(r), avail = ds_get_u64(r), used = ds_get_u64(r);
	bool ready = ds_get_bool(r), broken = ds_get_bool(r);
	uint16_t last_avail = ds_get_u16(r), used_idx = ds_get_u16(r), signalled = ds_get_u16(r);
	bool signalled_valid = ds_get_bool(r), notify_on = ds_get_bool(r);

	if (r->failed)
		return;
	virtq_reset(q);
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	if (ready && broken) {
		ds_fail(r, "virtio: saved state has a queue both enabled and broken");
		return;
	}
	/* 4.1.4.3.2: queues are enabled after FEATURES_OK (virtio_dev_common_write) */
	if ((ready || broken) && !(s->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		ds_fail(r, "virtio: saved state has a queue enabled before FEATURES_OK");
		return;
	}
	if (!ready && !broken) {
		/* a queue that is off has never moved its indices */
		if (last_avail || used_idx || signalled || signalled_valid || !notify_on)
			ds_fail(r, "virtio: saved state has ring indices on a queue that is off");
		return;
	}
	if (ready && virtq_enable(q, s->features) < 0) {
		/* 2.7: size a power of 2 <= the maximum, rings aligned in RAM */
		ds_fail(r, "virtio: saved state has a queue whose size or rings the device refuses");
		return;
	}
	q->broken = broken;
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled_used = signalled;
	q->signalled_valid = signalled_valid;
	q->notify_on = notify_on;
}

void virtio_dev_load(const struct virtio_dev *vd, struct ds_reader *r, struct virtio_dev *s)
{
	*s = *vd;
	if (ds_get_u64(r) != vd->host_features)
		ds_fail(r, "virtio: saved state is of a device that offered other features");
	if (ds_get_u8(r) != vd->nr_queues)
		ds_fail(r, "virtio: saved state is of a device with another number of queues");
	s->status = ds_get_u8(r);
	s->config_generation = ds_get_u8(r);
	s->isr = (uint8_t)ds_get_below(r, 4, "virtio ISR");	/* 4.1.4.5: bits 0, 1 */
	s->guest_features = ds_get_u64(r);
	s->features = ds_get_u64(r);
	s->dfselect = ds_get_u32(r);
	s->gfselect = ds_get_u32(r);
	s->queue_select = ds_get_u16(r);
	s->config_vector = ds_get_u16(r);
	if (s->config_vector != map_vector(s, s->config_vector))
		ds_fail(r, "virtio: saved state has an MSI-X vector the transport does not have");
	if (r->failed)
		return;
	/* 3.1.1: FEATURES_OK stands only for features the device accepted;
	 * until then nothing is negotiated; DRIVER_OK comes after it */
	if (s->status & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (s->features != s->guest_features || !features_acceptable(s))
			ds_fail(r, "virtio: saved state has FEATURES_OK with features the device refuses");
	} else if (s->features) {
		ds_fail(r, "virtio: saved state has features negotiated without FEATURES_OK");
	}
	if ((s->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(s->status & VIRTIO_CONFIG_S_FEATURES_OK))
		ds_fail(r, "virtio: saved state has DRIVER_OK without FEATURES_OK");
	for (unsigned i = 0; i < s->nr_queues && !r->failed; i++)
		load_queue(s, i, r);
}

unsigned virtio_dev_counters(const struct virtio_dev *vd, struct device_counter *out,
			     unsigned max)
{
	const struct device_counter all[] = {
		{ "needs_reset", vd->needs_reset },
		{ "bad_queue_writes", vd->bad_queue_writes },
		{ "bad_features", vd->bad_features },
	};
	unsigned n = 0;

	for (; n < max && n < sizeof(all) / sizeof(all[0]); n++)
		out[n] = all[n];
	return n;
}

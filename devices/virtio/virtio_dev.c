/* A virtio device's transport-independent state; see virtio_dev.h. */
#include <string.h>
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
static bool features_acceptable(struct virtio_dev *vd)
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
		case VIRTIO_COMMON_MSIX: vd->config_vector = (uint16_t)val; return;
		case VIRTIO_COMMON_Q_SELECT: vd->queue_select = (uint16_t)val; return;
		case VIRTIO_COMMON_Q_SIZE:
			if (!q || virtq_set_size(q, (uint16_t)val) < 0)
				vd->bad_queue_writes++;
			return;
		case VIRTIO_COMMON_Q_MSIX:
			if (q)
				vd->vq_vector[vd->queue_select] = (uint16_t)val;
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

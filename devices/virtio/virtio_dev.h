/*
 * A virtio device as every transport sees it (virtio 1.2, 2 "Basic
 * Facilities of a Virtio Device" and 3.1 "Device Initialization"): the
 * status byte and its state machine, feature negotiation, the queues and
 * the device-specific configuration, behind the register file of the
 * PCI transport's common configuration structure (4.1.4.3), which is
 * also how this file is driven. The transport (virtio_pci.c) maps the
 * structures into BARs and turns "interrupt queue n" into MSI-X or INTx;
 * the device type (virtio-blk, virtio-net) supplies virtio_dev_ops.
 *
 * Nothing the guest writes here can break the host: selectors beyond
 * the queues read as zero and ignore writes, a queue enabled with bad
 * rings leaves the device in NEEDS_RESET (2.1.2), features the device
 * did not offer keep FEATURES_OK clear (3.1.1 step 5).
 */
#ifndef HYVM_VIRTIO_DEV_H
#define HYVM_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/device.h"
#include "devices/virtio/virtqueue.h"

#define VIRTIO_DEV_MAX_QUEUES	16
#define VIRTIO_MSI_NO_VECTOR	0xffff	/* 4.1.4.3: no MSI-X vector */

/* 4.1.4.3 struct virtio_pci_common_cfg, byte offsets. */
enum virtio_common_reg {
	VIRTIO_COMMON_DFSELECT = 0x00,
	VIRTIO_COMMON_DF = 0x04,
	VIRTIO_COMMON_GFSELECT = 0x08,
	VIRTIO_COMMON_GF = 0x0c,
	VIRTIO_COMMON_MSIX = 0x10,
	VIRTIO_COMMON_NUMQ = 0x12,
	VIRTIO_COMMON_STATUS = 0x14,
	VIRTIO_COMMON_CFGGENERATION = 0x15,
	VIRTIO_COMMON_Q_SELECT = 0x16,
	VIRTIO_COMMON_Q_SIZE = 0x18,
	VIRTIO_COMMON_Q_MSIX = 0x1a,
	VIRTIO_COMMON_Q_ENABLE = 0x1c,
	VIRTIO_COMMON_Q_NOFF = 0x1e,
	VIRTIO_COMMON_Q_DESCLO = 0x20,
	VIRTIO_COMMON_Q_DESCHI = 0x24,
	VIRTIO_COMMON_Q_AVAILLO = 0x28,
	VIRTIO_COMMON_Q_AVAILHI = 0x2c,
	VIRTIO_COMMON_Q_USEDLO = 0x30,
	VIRTIO_COMMON_Q_USEDHI = 0x34,
	VIRTIO_COMMON_Q_NDATA = 0x38,
	VIRTIO_COMMON_Q_RESET = 0x3a,
	VIRTIO_COMMON_SIZE = 0x3c,
};

struct virtio_dev;

/* What a device type supplies. */
struct virtio_dev_ops {
	/* Device-specific configuration (5.x.4), little-endian bytes; the
	 * transport bounds off + len to config_size first. */
	void (*config_read)(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len);
	/* FEATURES_OK is being set with these features, already checked
	 * against host_features (3.1.1 step 5): 0 accepts them, -1 keeps
	 * FEATURES_OK clear (a device with rules of its own). NULL: accept. */
	int (*set_features)(struct virtio_dev *vd, uint64_t features);
	/* The driver notified queue q (it is ready). */
	void (*queue_notify)(struct virtio_dev *vd, unsigned q);
	/* DRIVER_OK was set: queues are live (a device may start I/O). */
	void (*activate)(struct virtio_dev *vd);
	/* Device reset (status 0 written): in-flight work is dropped or
	 * completed before this returns; queues are reset by the core. */
	void (*reset)(struct virtio_dev *vd);
};

/* What the transport supplies: raising the interrupts. */
struct virtio_transport_ops {
	void (*notify_queue)(struct virtio_dev *vd, unsigned q, uint16_t vector);
	void (*notify_config)(struct virtio_dev *vd, uint16_t vector);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *tops;
	void *device;		/* the device type's state */
	void *transport;	/* the transport's state */
	uint16_t device_id;	/* 5 "Device Types": 1 net, 2 block, ... */
	uint64_t host_features;	/* offered (VIRTIO_F_VERSION_1 always) */
	uint64_t guest_features; /* written by the driver */
	uint64_t features;	/* negotiated: valid once FEATURES_OK */
	uint32_t config_size;
	uint8_t status;
	uint8_t config_generation;
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t config_vector;
	/* MSI-X table entries the transport has: a vector written at or
	 * above reads back VIRTIO_MSI_NO_VECTOR (4.1.4.3, 4.1.5.1.2); init
	 * leaves every value but VIRTIO_MSI_NO_VECTOR mappable. */
	uint16_t nr_vectors;
	unsigned nr_queues;
	struct virtq vq[VIRTIO_DEV_MAX_QUEUES];
	uint16_t vq_vector[VIRTIO_DEV_MAX_QUEUES];
	/* Interrupt status (4.1.4.5): bit 0 queue, bit 1 configuration. */
	uint8_t isr;
	/* What the guest did wrong, for statistics and tests. */
	uint64_t bad_features, bad_queue_writes, needs_reset;
};

/* Sets vd up: nr_queues queues of at most queue_max entries on mem. */
void virtio_dev_init(struct virtio_dev *vd, const struct dma_mem *mem, uint16_t device_id,
		     uint64_t host_features, unsigned nr_queues, uint16_t queue_max,
		     uint32_t config_size, const struct virtio_dev_ops *ops, void *device);
/* The common configuration structure (4.1.4.3): byte, word or dword
 * accesses at their natural offsets; the 64-bit fields as two dwords.
 * Other widths or offsets read as 0 and are ignored on write. */
uint32_t virtio_dev_common_read(struct virtio_dev *vd, uint32_t off, unsigned size);
void virtio_dev_common_write(struct virtio_dev *vd, uint32_t off, unsigned size, uint32_t val);
/* The notification register for queue q was written (4.1.4.4). */
void virtio_dev_notify(struct virtio_dev *vd, unsigned q);
/* ISR read (4.1.4.5): returns and clears. */
uint8_t virtio_dev_isr_read(struct virtio_dev *vd);
/* Device-side: the used ring of queue q moved; interrupt if the driver
 * wants it (virtq_should_notify). */
void virtio_dev_used(struct virtio_dev *vd, unsigned q);
/* Device-side: the configuration changed (5.x), or the device broke
 * (sets NEEDS_RESET, 2.1.2); both raise the configuration interrupt. */
void virtio_dev_config_changed(struct virtio_dev *vd);
void virtio_dev_set_needs_reset(struct virtio_dev *vd);
/* Whether the driver set DRIVER_OK and the device is not broken. */
bool virtio_dev_live(const struct virtio_dev *vd);
/* The driver's refusals as device_model.counters reports them:
 * needs_reset, bad_queue_writes, bad_features. */
unsigned virtio_dev_counters(const struct virtio_dev *vd, struct device_counter *out,
			     unsigned max);
/* Device reset from the host side (machine reset). */
void virtio_dev_reset(struct virtio_dev *vd);

struct ds_writer;
struct ds_reader;

/* Saved state (devices/device_state.h): status, features (offered,
 * driver's, negotiated), selectors, vectors, ISR, configuration
 * generation and per queue its size, rings, enable/broken and indices.
 * What a device holds beyond the rings (a popped chain, a request in
 * flight) is not here: the device finishes it before saving.
 *
 * Loading is in two steps because the transport's part comes after ours
 * and the whole blob must be good before anything changes: virtio_dev_load
 * fills *staged (a copy of vd) and fails the reader on any value the
 * guest could not have produced (features not offered, FEATURES_OK with
 * features the device refuses, DRIVER_OK without FEATURES_OK, an ISR bit
 * beyond the two, another queue count or offer, an MSI-X vector the
 * transport does not have, a queue enabled with a
 * size or rings virtq_enable refuses, both enabled and broken); enabled
 * queues go through virtq_enable again, so host pointers are recomputed
 * against this machine's memory map. virtio_dev_commit then makes it
 * the device's state. Neither calls ops->set_features: a device type
 * that derives state of its own from the features re-derives it in its
 * load (virtio-blk has none). */
void virtio_dev_save(const struct virtio_dev *vd, struct ds_writer *w);
void virtio_dev_load(const struct virtio_dev *vd, struct ds_reader *r, struct virtio_dev *staged);
static inline void virtio_dev_commit(struct virtio_dev *vd, const struct virtio_dev *staged)
{
	*vd = *staged;
}

static inline bool virtio_has_feature(const struct virtio_dev *vd, unsigned bit)
{
	return (vd->features >> bit) & 1;
}

#endif

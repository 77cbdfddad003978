/*
 * A guest's virtio-pci driver in miniature, for device tests: it finds
 * the function through configuration mechanism #1 (ports 0xcf8/0xcfc),
 * sizes and places BAR 4, enables memory decode, walks the capability
 * list for the virtio structures (virtio 1.2, 4.1.4), then negotiates
 * features, sets up queues and posts chains in fake guest RAM through
 * MMIO, as Linux's virtio_pci_modern does. Every access goes through the
 * fake machine's buses: nothing reaches into the device model.
 */
#ifndef HYVM_VIRTIO_PCI_DRIVER_H
#define HYVM_VIRTIO_PCI_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include "fake_device_env.h"

/* A place for the BAR in the PCI hole, above any fake RAM. */
#define VDRV_BAR_ADDR	0xfe000000ull

struct vdrv_cap { bool found; uint8_t bar; uint32_t offset, length; };

struct vdrv {
	struct fake_env *f;
	unsigned slot;
	uint64_t bar;		/* where BAR 4 was placed */
	uint64_t bar_size;	/* as sizing read it */
	/* 4.1.4: common, notify, ISR, device (cfg_type 1-4) */
	struct vdrv_cap cap[5];
	uint32_t notify_mult;
	/* queue 0's rings and the driver's indices */
	uint16_t qsize;
	uint64_t desc, avail, used;
	uint16_t next_desc, avail_idx, used_seen;
};

/* Configuration space of the slot through 0xcf8/0xcfc. */
uint32_t vdrv_cfg_read(struct fake_env *f, unsigned slot, unsigned off, unsigned len);
void vdrv_cfg_write(struct fake_env *f, unsigned slot, unsigned off, unsigned len, uint32_t v);
/* The first slot whose vendor:device is 0x1af4:device_id: 0, or -1.
 * Puts mechanism #1 on the ports first if no host bridge did. */
int vdrv_find(struct vdrv *d, struct fake_env *f, uint16_t device_id);
/* Sizes BAR 4 (a 64-bit memory BAR), places it at addr, turns memory
 * decode and bus mastering on. */
void vdrv_map_bar(struct vdrv *d, uint64_t addr);
/* Walks the capability list; the number of virtio capabilities found. */
unsigned vdrv_read_caps(struct vdrv *d);
/* Structure cfg_type at off through MMIO (1, 2, 4 or 8 bytes). */
uint64_t vdrv_read(struct vdrv *d, unsigned type, uint32_t off, unsigned len);
void vdrv_write(struct vdrv *d, unsigned type, uint32_t off, unsigned len, uint64_t v);
/* 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK;
 * returns the status read back. */
uint8_t vdrv_negotiate(struct vdrv *d, uint64_t features);
/* 3.1.1 step 7 for queue 0: size, rings at desc (desc, avail and used
 * rings 4 KiB apart, zeroed), enable. */
void vdrv_setup_queue(struct vdrv *d, uint16_t size, uint64_t desc);
void vdrv_driver_ok(struct vdrv *d);
/* Posts a chain of n buffers on queue 0 (device-writable where
 * writable[i]) and makes it available; returns its head. */
uint16_t vdrv_post(struct vdrv *d, const uint64_t *gpa, const uint32_t *len,
		   const bool *writable, unsigned n);
/* Writes queue q's notification register (4.1.4.4). */
void vdrv_kick(struct vdrv *d, unsigned q);
/* used->idx of queue 0, and element i of its ring. */
uint16_t vdrv_used_idx(struct vdrv *d);
void vdrv_used_elem(struct vdrv *d, uint16_t i, uint32_t *id, uint32_t *len);

#endif

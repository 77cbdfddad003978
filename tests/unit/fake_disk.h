/*
 * A disk for device tests: a temporary raw image file opened with the
 * real block layer and registered in block_registry under an id, as
 * hyvm run --disk does, so virtio-blk finds it by drive=ID. The test can
 * read and write the file behind the device's back.
 */
#ifndef HYVM_FAKE_DISK_H
#define HYVM_FAKE_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"
#include "block/block_registry.h"

struct fake_disk {
	char id[BLOCK_ID_MAX];
	char path[64];
	struct block_dev *bd;	/* owned by the registry */
	char config[BLOCK_ID_MAX + 8];	/* "drive=ID" */
};

/* A new image of sectors 512-byte sectors, each filled with its number
 * (byte i of sector s is (s * 7 + i) & 0xff), under a fresh id starting
 * with prefix; 0 or -1. */
int fake_disk_open(struct fake_disk *d, const char *prefix, unsigned sectors, bool readonly);
/* Unregisters and closes the disk (after the devices using it are
 * destroyed) and deletes the file. */
void fake_disk_close(struct fake_disk *d);
/* The image's bytes at off, read from the file (not through the disk). */
int fake_disk_pread(const struct fake_disk *d, void *buf, size_t len, uint64_t off);
/* The byte fake_disk_open wrote at off. */
static inline uint8_t fake_disk_pattern(uint64_t off)
{
	return (uint8_t)((off / 512) * 7 + off % 512);
}

#endif

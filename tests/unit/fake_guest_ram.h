/*
 * Guest RAM for DMA tests: the PC memory map of a given size on an
 * anonymous mapping (untouched pages cost nothing, so a test may ask for
 * GiBs), optionally a ROM at the top of 4 GiB aliased at 0xe0000 like a
 * BIOS, and a dma_mem that records every range announced as written.
 */
#ifndef HYVM_FAKE_GUEST_RAM_H
#define HYVM_FAKE_GUEST_RAM_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/dma_mem.h"
#include "vmm/memory_map.h"

#define FAKE_RAM_MAX_WRITTEN 64
#define FAKE_ROM_SIZE 0x20000ull	/* at 4 GiB - 128 KiB and at 0xe0000 */

struct fake_guest_ram {
	struct memory_map map;
	struct dma_mem mem;
	uint8_t *backing;
	uint64_t rom_offset;	/* the ROM's bytes in backing */
	unsigned nr_written;	/* announcements, all of them */
	struct { uint64_t gpa, len; } written[FAKE_RAM_MAX_WRITTEN];	/* the first ones */
};

/* 0 or -1 (CUnit-fatal in the caller). */
int fake_guest_ram_init(struct fake_guest_ram *g, uint64_t ram_bytes, bool with_rom);
void fake_guest_ram_fini(struct fake_guest_ram *g);
/* The host byte behind gpa (RAM or ROM; the test knows it is backed). */
uint8_t *fake_guest_ram_host(struct fake_guest_ram *g, uint64_t gpa);
/* Whether some announcement covered [gpa, gpa + len). */
bool fake_guest_ram_was_written(const struct fake_guest_ram *g, uint64_t gpa, uint64_t len);

#endif

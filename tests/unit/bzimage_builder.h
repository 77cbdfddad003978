/* Writes small synthetic Linux bzImages for loader tests: a setup header
 * with chosen fields and a protected-mode payload of a known pattern, and
 * every way of getting one wrong. */
#ifndef HYVM_BZIMAGE_BUILDER_H
#define HYVM_BZIMAGE_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct bz_spec {
	uint16_t boot_flag;		/* 0xaa55 */
	uint32_t magic;			/* "HdrS" */
	uint16_t version;		/* 0x020f */
	uint8_t setup_sects;		/* 0 means 4 */
	uint8_t loadflags;		/* LOADED_HIGH */
	uint8_t relocatable;
	uint16_t xloadflags;
	uint32_t code32_start;		/* 0x100000 */
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t kernel_bytes;		/* the protected-mode payload */
	size_t truncate_to;		/* cut the file there (0: whole) */
};

/* A well-formed relocatable protocol 2.15 kernel: 3 setup sectors, 64 KiB
 * of payload, pref_address 16 MiB, init_size 2 MiB, alignment 2 MiB,
 * cmdline_size 255, initrd_addr_max 0x37ffffff. */
void bz_spec_default(struct bz_spec *s);

/* Payload byte i (what the loader must place at load address + i). */
uint8_t bz_payload_byte(uint32_t i);

/* Writes the image; returns its size in bytes, 0 on failure. */
size_t bzimage_builder_write(const char *path, const struct bz_spec *s);

#endif

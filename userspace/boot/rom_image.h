/* A ROM image for the memory map: `hyvm run --rom FILE[@GPA]`. */
#ifndef HYVM_ROM_IMAGE_H
#define HYVM_ROM_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "vmm/memory_map.h"

struct rom_image {
	uint8_t *bytes;		/* size bytes: the file, padded with 0xff */
	uint64_t size;		/* the file rounded up to 4 KiB */
	uint64_t gpa;
	uint64_t memfd_offset;	/* where vm_init's memfd holds it */
};

/* Reads FILE and adds it to map as ROM: at GPA, or (no @GPA) ending at
 * 4 GiB like a PC BIOS image with its last 128 KiB also at 0xe0000.
 * -1 with one line in err for a missing or empty file, a bad or
 * misaligned address, a file too big, or an overlap. */
int rom_image_load(const char *spec, struct memory_map *map, struct rom_image *rom,
		   char *err, size_t errlen);
void rom_image_free(struct rom_image *rom);

#endif

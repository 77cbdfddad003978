/*
 * ROM images: a file placed in the memory map read-only (vmm/memory_map.h).
 * Without an address it goes where a PC's BIOS flash sits: ending at
 * 4 GiB, where the CPU fetches its first instruction (0xfffffff0, Intel SDM
 * Vol. 3A 9.1.4), and its last 128 KiB are also seen at 0xe0000-0xfffff
 * (the PC's legacy BIOS window; QEMU's pc machine does the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/rom_image.h"
#include "files/input_file.h"

static int read_rom(const char *path, struct rom_image *rom, char *err, size_t errlen)
{
	struct stat st;
	char why[128];
	int fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));

	if (fd < 0) {
		snprintf(err, errlen, "--rom %s: %s", path, why);
		return -1;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > MEMMAP_ROM_MAX) {
		snprintf(err, errlen, "--rom %s: %s", path, st.st_size == 0
			 ? "the file is empty" : "the file is larger than the 256 KiB a ROM may have");
		close(fd);
		return -1;
	}
	rom->size = ((uint64_t)st.st_size + MEMMAP_PAGE - 1) & ~(MEMMAP_PAGE - 1);
	rom->bytes = malloc(rom->size);
	if (!rom->bytes) {
		close(fd);
		snprintf(err, errlen, "--rom %s: out of memory", path);
		return -1;
	}
	memset(rom->bytes, 0xff, rom->size);	/* an erased flash reads all-ones */
	for (off_t done = 0; done < st.st_size;) {
		ssize_t r = read(fd, rom->bytes + done, st.st_size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "--rom %s: read failed: %s", path,
				 r ? strerror(errno) : "file shrank");
			close(fd);
			rom_image_free(rom);
			return -1;
		}
		done += r;
	}
	close(fd);
	return 0;
}

int rom_image_load(const char *spec, struct memory_map *map, struct rom_image *rom,
		   char *err, size_t errlen)
{
	char path[4096];
	const char *at = strrchr(spec, '@');
	size_t len = at ? (size_t)(at - spec) : strlen(spec);
	bool placed = at != NULL;

	memset(rom, 0, sizeof(*rom));
	if (len == 0 || len >= sizeof(path)) {
		snprintf(err, errlen, "--rom wants FILE[@ADDRESS], not '%s'", spec);
		return -1;
	}
	memcpy(path, spec, len);
	path[len] = 0;
	if (placed) {
		char *end;
		errno = 0;
		rom->gpa = strtoull(at + 1, &end, 0);
		if (errno || end == at + 1 || *end || at[1] == '-') {
			snprintf(err, errlen, "--rom %s: '%s' is not an address", path, at + 1);
			return -1;
		}
	}
	if (read_rom(path, rom, err, errlen) < 0)
		return -1;
	if (!placed)
		rom->gpa = MEMMAP_4G - rom->size;
	if (memory_map_add_rom(map, rom->gpa, rom->size, "rom", &rom->memfd_offset,
			       err, errlen) < 0)
		goto fail;
	if (!placed) {
		uint64_t alias = rom->size < MEMMAP_BIOS_ALIAS_MAX ? rom->size
								   : MEMMAP_BIOS_ALIAS_MAX;
		if (memory_map_alias_rom(map, MEMMAP_HIGH_MEMORY - alias, alias,
					 rom->memfd_offset + rom->size - alias, "rom-legacy",
					 err, errlen) < 0)
			goto fail;
	}
	return 0;
fail:
	{
		char why[400];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "--rom %s: %s", path, why);
	}
	rom_image_free(rom);
	return -1;
}

void rom_image_free(struct rom_image *rom)
{
	free(rom->bytes);
	rom->bytes = NULL;
}

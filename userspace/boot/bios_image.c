/*
 * The BIOS image at the reset vector (boot/bios_image.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hyvm/cpuid_table.h>
#include "boot/bios_image.h"
#include "files/input_file.h"
#include "cpu/cpu_model.h"

static int bios_read(const char *path, struct rom_image *rom, char *err, size_t errlen)
{
	struct stat st;
	char open_why[128];
	/* a FIFO or device named as the BIOS must not block us (files/input_file.h) */
	int fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &st, open_why, sizeof(open_why));

	if (fd < 0) {
		snprintf(err, errlen, "--bios %s: %s", path, open_why);
		return -1;
	}
	const char *why = NULL;
	if (st.st_size == 0)
		why = "the file is empty";
	else if ((uint64_t)st.st_size > MEMMAP_ROM_MAX)
		why = "the file is larger than the 256 KiB ROM window below 4 GiB";
	else if (st.st_size % BIOS_BLOCK)
		why = "the size is not a multiple of 64 KiB, as a BIOS flash image's is";
	if (why) {
		snprintf(err, errlen, "--bios %s: %s", path, why);
		close(fd);
		return -1;
	}
	rom->size = (uint64_t)st.st_size;
	rom->bytes = malloc(rom->size);
	if (!rom->bytes) {
		snprintf(err, errlen, "--bios %s: out of memory", path);
		close(fd);
		return -1;
	}
	for (uint64_t done = 0; done < rom->size;) {
		ssize_t r = read(fd, rom->bytes + done, rom->size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "--bios %s: read failed: %s", path,
				 r ? strerror(errno) : "the file shrank");
			close(fd);
			rom_image_free(rom);
			return -1;
		}
		done += (uint64_t)r;
	}
	close(fd);
	return 0;
}

int bios_image_load(const char *path, struct memory_map *map, struct rom_image *rom,
		    char *err, size_t errlen)
{
	memset(rom, 0, sizeof(*rom));
	if (!path)
		path = BIOS_DEFAULT_FILE;
	if (bios_read(path, rom, err, errlen) < 0)
		return -1;
	rom->gpa = MEMMAP_4G - rom->size;
	if (memory_map_add_rom(map, rom->gpa, rom->size, "bios", &rom->memfd_offset,
			       err, errlen) < 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "--bios %s: %s", path, why);
		rom_image_free(rom);
		return -1;
	}
	return 0;
}

uint64_t bios_legacy_size(const struct rom_image *rom)
{
	return rom->size < MEMMAP_BIOS_ALIAS_MAX ? rom->size : MEMMAP_BIOS_ALIAS_MAX;
}

void bios_shadow_legacy(uint8_t *backing, const struct rom_image *rom)
{
	uint64_t n = bios_legacy_size(rom);

	/* low RAM sits at memfd offset == guest-physical address */
	memcpy(backing + MEMMAP_HIGH_MEMORY - n, backing + rom->memfd_offset + rom->size - n, n);
}

static struct hyvm_segment real_segment(uint16_t sel, uint64_t base, uint32_t type)
{
	/* Present, 64 KiB limit, 16-bit, accessed (Table 9-1) */
	return (struct hyvm_segment){
		.selector = sel, .base = base, .limit = 0xffff,
		.attrib = type | HYVM_SEG_S | HYVM_SEG_P,
	};
}

void bios_reset_state(uint32_t cpu_signature, struct hyvm_cpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rip = 0xfff0;
	st->rflags = 0x2;
	st->gpr[HYVM_RDX] = cpu_signature;
	st->seg[HYVM_CS] = real_segment(0xf000, 0xffff0000ull, 0xb);	/* exec/read */
	for (int s = HYVM_ES; s <= HYVM_GS; s++)
		if (s != HYVM_CS)
			st->seg[s] = real_segment(0, 0, 0x3);	/* read/write */
	st->seg[HYVM_LDTR] = (struct hyvm_segment){ .limit = 0xffff, .attrib = 0x2 | HYVM_SEG_P };
	/* Table 9-1 says "present, R/W"; VMX and SVM want a busy TSS type in
	 * TR, and KVM's reset uses the 32-bit one (0xb) as here. */
	st->seg[HYVM_TR] = (struct hyvm_segment){ .limit = 0xffff, .attrib = 0xb | HYVM_SEG_P };
	st->gdtr.limit = 0xffff;
	st->idtr.limit = 0xffff;
	st->cr0 = 0x60000010;		/* CD, NW, ET */
	st->dr6 = 0xffff0ff0;
	st->dr7 = 0x400;
	st->pat = 0x0007040600070406ull;
	/* x87 FCW 0x0040 after RESET (Table 9-1), MXCSR 0x1f80 (SDM Vol. 1 10.2.3.1) */
	st->fxsave[0] = 0x40;
	st->fxsave[24] = 0x80;
	st->fxsave[25] = 0x1f;
}

uint32_t bios_cpu_signature(const char *cpu_model)
{
	struct cpu_model model;
	char err[200];
	/* leaf 1's EAX does not depend on the limits */
	const struct cpu_model_limits lim = { .long_mode = false, .local_apic = true };
	uint32_t r[4] = { 0 };

	if (cpu_model_build(cpu_model ? cpu_model : CPU_MODEL_DEFAULT, &lim, &model,
			    err, sizeof(err)) < 0)
		return 0;
	hyvm_cpuid_lookup(&model.cpuid, 1, 0, r);
	return r[0];
}

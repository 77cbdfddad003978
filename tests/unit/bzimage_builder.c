#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bzimage_builder.h"

void bz_spec_default(struct bz_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->boot_flag = 0xaa55;
	s->magic = 0x53726448;
	s->version = 0x020f;
	s->setup_sects = 3;
	s->loadflags = 0x01;
	s->relocatable = 1;
	s->code32_start = 0x100000;
	s->kernel_alignment = 0x200000;
	s->initrd_addr_max = 0x37ffffff;
	s->cmdline_size = 255;
	s->pref_address = 0x1000000;
	s->init_size = 0x200000;
	s->kernel_bytes = 0x10000;
}

uint8_t bz_payload_byte(uint32_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 8));
}

static void put(uint8_t *b, size_t off, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

size_t bzimage_builder_write(const char *path, const struct bz_spec *s)
{
	unsigned sects = s->setup_sects ? s->setup_sects : 4;
	size_t setup = (sects + 1) * 512u, size = setup + s->kernel_bytes;
	uint8_t *b = calloc(1, size);
	FILE *f;

	if (!b)
		return 0;
	put(b, 0x1f1, s->setup_sects, 1);
	put(b, 0x1f4, s->kernel_bytes / 16, 4);		/* syssize */
	put(b, 0x1fe, s->boot_flag, 2);
	put(b, 0x200, 0xeb, 1);				/* jmp short */
	put(b, 0x201, 0x6a, 1);				/* header ends at 0x26c */
	put(b, 0x202, s->magic, 4);
	put(b, 0x206, s->version, 2);
	put(b, 0x211, s->loadflags, 1);
	put(b, 0x214, s->code32_start, 4);
	put(b, 0x22c, s->initrd_addr_max, 4);
	put(b, 0x230, s->kernel_alignment, 4);
	put(b, 0x234, s->relocatable, 1);
	put(b, 0x236, s->xloadflags, 2);
	put(b, 0x238, s->cmdline_size, 4);
	put(b, 0x258, s->pref_address, 8);
	put(b, 0x260, s->init_size, 4);
	for (uint32_t i = 0; i < s->kernel_bytes; i++)
		b[setup + i] = bz_payload_byte(i);
	if (s->truncate_to && s->truncate_to < size)
		size = s->truncate_to;
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, size, f) != size) {
		if (f)
			fclose(f);
		free(b);
		return 0;
	}
	fclose(f);
	free(b);
	return size;
}

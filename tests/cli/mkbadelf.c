/* Writes the malformed guest images tests/cli/bad-input.sh feeds to
 * `hyvm run` (ELF Multiboot kernels and Linux bzImages): mkbadelf DIR */
#include <stdio.h>
#include <string.h>
#include "../unit/bzimage_builder.h"
#include "../unit/elf_builder.h"

static void path_of(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
	char p[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: mkbadelf DIR\n");
		return 2;
	}
	const char *d = argv[1];
	/* default RAM is 128 MiB: a segment at 127 MiB of 2 MiB sticks out */
	path_of(p, sizeof(p), d, "outside-ram.elf");
	elf_builder_write(p, (struct elf_seg[]){ { 0x7f00000, 0, 0x1000, 0x200000, 0 } }, 1,
			  0x7f00000, true, NULL, 0);
	path_of(p, sizeof(p), d, "overlap.elf");
	elf_builder_write(p, (struct elf_seg[]){ { 0x100000, 0, 0x1000, 0x3000, 0 },
						 { 0x102000, 0, 0x100, 0x100, 0 } }, 2,
			  0x100000, true, NULL, 0);
	path_of(p, sizeof(p), d, "absurd-size.elf");
	elf_builder_write(p, (struct elf_seg[]){ { 0x100000, 0, 0x1000, 0xfff00000u, 0 } }, 1,
			  0x100000, true, NULL, 0);
	path_of(p, sizeof(p), d, "truncated.elf");
	elf_builder_write(p, (struct elf_seg[]){ { 0x100000, 0, 0x1800, 0x1800, 0 } }, 1,
			  0x100000, true, NULL, 0x1200);
	path_of(p, sizeof(p), d, "no-header.elf");
	elf_builder_write(p, (struct elf_seg[]){ { 0x100000, 0, 0x1000, 0x1000, 0 } }, 1,
			  0x100000, false, NULL, 0);
	path_of(p, sizeof(p), d, "needs-3mib.elf");	/* fits --mem 8, not --mem 2 */
	elf_builder_write(p, (struct elf_seg[]){ { 0x100000, 0, 0x1000, 0x180000, 0 } }, 1,
			  0x100000, true, NULL, 0);

	path_of(p, sizeof(p), d, "elf64.elf");
	if (elf_builder_write_elf64_header(p) < 0)
		return 1;
	path_of(p, sizeof(p), d, "not-elf.bin");
	FILE *f = fopen(p, "wb");
	if (!f)
		return 1;
	fputs("this is a text file, not a kernel\n", f);
	fclose(f);

	/* Linux bzImages (bzimage_builder.h's defaults: 3 setup sectors,
	 * cmdline_size 255, pref_address 16 MiB, init_size 2 MiB) */
	struct bz_spec bz;
	bz_spec_default(&bz);
	path_of(p, sizeof(p), d, "good.bzimage");
	if (!bzimage_builder_write(p, &bz))
		return 1;
	bz.truncate_to = 3 * 512;
	path_of(p, sizeof(p), d, "truncated.bzimage");
	bzimage_builder_write(p, &bz);
	bz_spec_default(&bz);
	bz.magic = 0x53726449;
	path_of(p, sizeof(p), d, "wrong-magic.bzimage");
	bzimage_builder_write(p, &bz);
	bz_spec_default(&bz);
	bz.version = 0x0204;
	path_of(p, sizeof(p), d, "protocol-2.04.bzimage");
	bzimage_builder_write(p, &bz);
	bz_spec_default(&bz);
	bz.xloadflags = 1;	/* XLF_KERNEL_64 */
	path_of(p, sizeof(p), d, "64bit.bzimage");
	bzimage_builder_write(p, &bz);
	return 0;
}

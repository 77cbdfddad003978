/* The Multiboot loader on crafted images: what it loads, the boot
 * information it builds, and every malformed input it must refuse. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "boot/loader.h"
#include "boot/multiboot.h"
#include "elf_builder.h"

#define RAM_SIZE (8u << 20)

static struct guest_ram ram;
static char err[512];
static char path[64];

static int load(const struct boot_entry *bp, struct guest_image *img)
{
	static const struct boot_entry none;
	return multiboot_load(path, bp ? bp : &none, &ram, img, err, sizeof(err));
}

static void expect_error(const char *fragment)
{
	struct guest_image img;
	CU_ASSERT_EQUAL(load(NULL, &img), -1);
	if (!strstr(err, fragment))
		fprintf(stderr, "\n  error was: %s (wanted '%s')\n", err, fragment);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, fragment));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));	/* one line */
}

static int setup(void)
{
	ram.size = RAM_SIZE;
	ram.base = malloc(RAM_SIZE);
	snprintf(path, sizeof(path), "/tmp/hyvm-loader-test-%d.elf", getpid());
	return ram.base ? 0 : 1;
}

static int teardown(void)
{
	unlink(path);
	free(ram.base);
	return 0;
}

static void test_loads_segments_and_zeroes_bss(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1800, 0x3000, 0xaa }, { 0x200000, 0, 0x100, 0x100, 0x55 } };
	struct guest_image img;

	memset(ram.base, 0xee, RAM_SIZE);
	elf_builder_write(path, s, 2, 0x100010, true, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(load(NULL, &img), 0);
	CU_ASSERT_EQUAL(img.entry, 0x100010);
	CU_ASSERT_EQUAL(*(uint32_t *)(ram.base + 0x100000), MB_HEADER_MAGIC);
	CU_ASSERT_EQUAL(ram.base[0x100020], 0xaa);
	CU_ASSERT_EQUAL(ram.base[0x1017ff], 0xaa);
	CU_ASSERT_EQUAL(ram.base[0x101800], 0);		/* bss */
	CU_ASSERT_EQUAL(ram.base[0x102fff], 0);
	CU_ASSERT_EQUAL(ram.base[0x200000], 0x55);
	CU_ASSERT(img.boot_info >= 0x200100);
}

static void test_boot_information(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 1 } };
	struct boot_entry bp = { .cmdline = "console=ttyS0 quiet", .loader_name = "hyvm test" };
	struct guest_image img;
	char mod[80];

	snprintf(mod, sizeof(mod), "%s.mod", path);
	FILE *f = fopen(mod, "wb");
	fputs("module payload", f);
	fclose(f);
	char spec[120];
	snprintf(spec, sizeof(spec), "%s arg1 arg2", mod);
	bp.modules[0] = spec;
	bp.nr_modules = 1;
	elf_builder_write(path, s, 1, 0x100000, true, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(load(&bp, &img), 0);
	unlink(mod);

	struct mb_info *mi = (struct mb_info *)(ram.base + img.boot_info);
	CU_ASSERT(mi->flags & MBI_MEMORY);
	CU_ASSERT_EQUAL(mi->mem_lower, 639);
	CU_ASSERT_EQUAL(mi->mem_upper, (RAM_SIZE - 0x100000) / 1024);
	CU_ASSERT_STRING_EQUAL((char *)ram.base + mi->cmdline, "console=ttyS0 quiet");
	CU_ASSERT_STRING_EQUAL((char *)ram.base + mi->boot_loader_name, "hyvm test");
	CU_ASSERT_EQUAL_FATAL(mi->mods_count, 1);
	struct mb_module *m = (struct mb_module *)(ram.base + mi->mods_addr);
	CU_ASSERT_EQUAL(m->mod_start % 4096, 0);
	CU_ASSERT(m->mod_start >= 0x101000);
	CU_ASSERT_EQUAL(m->mod_end - m->mod_start, strlen("module payload"));
	CU_ASSERT_NSTRING_EQUAL((char *)ram.base + m->mod_start, "module payload", 14);
	CU_ASSERT_STRING_EQUAL((char *)ram.base + m->string, spec);
	/* memory map: low RAM, BIOS area, high RAM */
	CU_ASSERT_EQUAL(mi->mmap_length, 3 * sizeof(struct mb_mmap_entry));
	struct mb_mmap_entry *e = (struct mb_mmap_entry *)(ram.base + mi->mmap_addr);
	CU_ASSERT_EQUAL(e[0].addr, 0);
	CU_ASSERT_EQUAL(e[0].len, 0x9fc00);
	CU_ASSERT_EQUAL(e[0].type, MB_MEMORY_AVAILABLE);
	CU_ASSERT_EQUAL(e[2].addr, 0x100000);
	CU_ASSERT_EQUAL(e[2].addr + e[2].len, RAM_SIZE);
}

static void test_entry_state(void)
{
	struct guest_image img = { .entry = 0x100040, .boot_info = 0x105000, .gdt = 0x104000 };
	struct hyvm_cpu_state st;

	multiboot_entry_state(&img, &st);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RAX], MB_BOOT_MAGIC);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RBX], 0x105000);
	CU_ASSERT_EQUAL(st.rip, 0x100040);
	CU_ASSERT_EQUAL(st.cr0 & 0x80000001, 1);	/* PE on, PG off */
	CU_ASSERT_EQUAL(st.rflags & 0x20200, 0);	/* IF and VM clear */
	CU_ASSERT_EQUAL(st.seg[HYVM_CS].limit, 0xffffffff);
	CU_ASSERT(st.seg[HYVM_CS].attrib & HYVM_SEG_DB);
	CU_ASSERT_EQUAL(st.seg[HYVM_CS].attrib & 0x8, 0x8);	/* code */
	CU_ASSERT_EQUAL(st.seg[HYVM_SS].base, 0);
}

static void test_higher_half_entry_is_translated(void)
{
	struct elf_seg s[] = { { 0x100000, 0xc0100000, 0x1000, 0x1000, 0 } };
	struct guest_image img;

	elf_builder_write(path, s, 1, 0xc0100020, true, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(load(NULL, &img), 0);
	CU_ASSERT_EQUAL(img.entry, 0x100020);
}

static void test_requirements_section(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 } };
	struct guest_image img;

	elf_builder_write(path, s, 1, 0x100000, true, "paging32 soft-int-cpl0", 0);
	CU_ASSERT_EQUAL_FATAL(load(NULL, &img), 0);
	CU_ASSERT(img.needs[NEED_PAGING32]);
	CU_ASSERT(img.needs[NEED_SOFT_INT_CPL0]);
	CU_ASSERT(!img.needs[NEED_LONG_MODE]);
	elf_builder_write(path, s, 1, 0x100000, true, "paging32 warp-drive", 0);
	expect_error("unknown requirement 'warp-drive'");
}

static void test_missing_file(void)
{
	unlink(path);
	expect_error("cannot open");
}

static void test_not_elf(void)
{
	FILE *f = fopen(path, "wb");
	fputs("#!/bin/sh\necho this is not a kernel\n", f);
	fclose(f);
	expect_error("not an ELF file and no Multiboot header");
}

static void test_elf64_without_header(void)
{
	CU_ASSERT_EQUAL_FATAL(elf_builder_write_elf64_header(path), 0);
	expect_error("ELF64 file without a Multiboot header");
}

static void test_elf32_without_header(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 } };
	elf_builder_write(path, s, 1, 0x100000, false, NULL, 0);
	expect_error("without a Multiboot header");
}

static void test_segment_outside_ram(void)
{
	struct elf_seg s[] = { { RAM_SIZE - 0x800, 0, 0x1000, 0x1000, 0 } };
	elf_builder_write(path, s, 1, RAM_SIZE - 0x800, true, NULL, 0);
	expect_error("outside guest RAM");
}

static void test_segment_above_4g_wraps_refused(void)
{
	struct elf_seg s[] = { { 0xfffff000, 0, 0x1000, 0x2000, 0 } };
	elf_builder_write(path, s, 1, 0xfffff000, true, NULL, 0);
	expect_error("outside guest RAM");
}

static void test_overlapping_segments(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x2000, 0 }, { 0x101000, 0, 0x100, 0x100, 0 } };
	elf_builder_write(path, s, 2, 0x100000, true, NULL, 0);
	expect_error("overlaps another loaded range");
}

static void test_segment_in_legacy_hole(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 }, { 0xa0000, 0, 0x100, 0x100, 0 } };
	elf_builder_write(path, s, 2, 0x100000, true, NULL, 0);
	expect_error("legacy hole");
}

static void test_absurd_sizes(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x7fffffff, 0 } };
	elf_builder_write(path, s, 1, 0x100000, true, NULL, 0);
	expect_error("more than guest RAM");
}

static void test_filesz_over_memsz(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x800, 0 } };
	elf_builder_write(path, s, 1, 0x100000, true, NULL, 0);
	expect_error("exceeds memory size");
}

static void test_truncated(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1800, 0x1800, 0 } };
	elf_builder_write(path, s, 1, 0x100000, true, NULL, 0x1100);
	expect_error("past the end of the file");
}

static void test_truncated_header_table(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 } };
	elf_builder_write(path, s, 1, 0x100000, true, NULL, 40);
	struct guest_image img;
	CU_ASSERT_EQUAL(load(NULL, &img), -1);	/* any clear error, no crash */
}

static void test_entry_outside_segments(void)
{
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 } };
	elf_builder_write(path, s, 1, 0x300000, true, NULL, 0);
	expect_error("entry point 0x300000 lies outside");
}

static void test_ram_too_small(void)
{
	struct guest_ram small = { .base = ram.base, .size = 1 << 20 };
	struct guest_image img;
	static const struct boot_entry none;
	struct elf_seg s[] = { { 0x100000, 0, 0x1000, 0x1000, 0 } };

	elf_builder_write(path, s, 1, 0x100000, true, NULL, 0);
	CU_ASSERT_EQUAL(multiboot_load(path, &none, &small, &img, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too small"));
}

static void test_aout_kludge(void)
{
	/* flat binary: header at file offset 0 says load at 0x100000 */
	uint32_t img_words[64] = { 0 };
	struct guest_image img;
	img_words[0] = MB_HEADER_MAGIC;
	img_words[1] = MB_FLAG_AOUT_KLUDGE;
	img_words[2] = -(MB_HEADER_MAGIC + MB_FLAG_AOUT_KLUDGE);
	img_words[3] = 0x100000;		/* header_addr */
	img_words[4] = 0x100000;		/* load_addr */
	img_words[5] = 0x100100;		/* load_end_addr */
	img_words[6] = 0x102000;		/* bss_end_addr */
	img_words[7] = 0x100020;		/* entry */
	img_words[8] = 0xdeadbeef;
	FILE *f = fopen(path, "wb");
	fwrite(img_words, 1, 0x100, f);
	fclose(f);
	memset(ram.base + 0x100000, 0xff, 0x3000);
	CU_ASSERT_EQUAL_FATAL(load(NULL, &img), 0);
	CU_ASSERT_EQUAL(img.entry, 0x100020);
	CU_ASSERT_EQUAL(*(uint32_t *)(ram.base + 0x100020), 0xdeadbeef);
	CU_ASSERT_EQUAL(ram.base[0x101fff], 0);		/* bss cleared */

	img_words[5] = 0x180000;	/* load_end beyond the file */
	f = fopen(path, "wb");
	fwrite(img_words, 1, 0x100, f);
	fclose(f);
	expect_error("runs past the end of the file");
}

UNIT_SUITE(loader, setup, teardown,
	UNIT_TEST(test_loads_segments_and_zeroes_bss),
	UNIT_TEST(test_boot_information),
	UNIT_TEST(test_entry_state),
	UNIT_TEST(test_higher_half_entry_is_translated),
	UNIT_TEST(test_requirements_section),
	UNIT_TEST(test_missing_file),
	UNIT_TEST(test_not_elf),
	UNIT_TEST(test_elf64_without_header),
	UNIT_TEST(test_elf32_without_header),
	UNIT_TEST(test_segment_outside_ram),
	UNIT_TEST(test_segment_above_4g_wraps_refused),
	UNIT_TEST(test_overlapping_segments),
	UNIT_TEST(test_segment_in_legacy_hole),
	UNIT_TEST(test_absurd_sizes),
	UNIT_TEST(test_filesz_over_memsz),
	UNIT_TEST(test_truncated),
	UNIT_TEST(test_truncated_header_table),
	UNIT_TEST(test_entry_outside_segments),
	UNIT_TEST(test_ram_too_small),
	UNIT_TEST(test_aout_kludge))

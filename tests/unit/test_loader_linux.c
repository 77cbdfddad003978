/* The Linux boot protocol loader on synthetic bzImages: where the kernel,
 * the zero page, the command line and the initrd go, the entry state, and
 * every malformed input it must refuse with one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "boot/loader.h"
#include "boot/linux_boot.h"
#include "bzimage_builder.h"

#define RAM_SIZE (64u << 20)

static struct guest_ram ram;
static char err[512];
static char path[64], initrd_path[64];
static struct bz_spec spec;

static int load_with(const char *cmdline, const char *initrd, struct guest_image *img)
{
	struct boot_entry bp = { .cmdline = cmdline, .initrd = initrd };
	return linux_load(path, &bp, &ram, img, err, sizeof(err));
}

static void write_spec(void)
{
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
}

static void write_initrd(size_t bytes)
{
	FILE *f = fopen(initrd_path, "wb");
	for (size_t i = 0; i < bytes; i++)
		fputc((int)(i % 251), f);
	fclose(f);
}

static void expect_error_with(const char *cmdline, const char *initrd, const char *fragment)
{
	struct guest_image img;
	CU_ASSERT_EQUAL(load_with(cmdline, initrd, &img), -1);
	if (!strstr(err, fragment))
		fprintf(stderr, "\n  error was: %s (wanted '%s')\n", err, fragment);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, fragment));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));	/* one line */
}

static void expect_error(const char *fragment)
{
	write_spec();
	expect_error_with(NULL, NULL, fragment);
}

static int setup(void)
{
	ram.size = RAM_SIZE;
	ram.base = malloc(RAM_SIZE);
	snprintf(path, sizeof(path), "/tmp/hyvm-linux-test-%d.bz", getpid());
	snprintf(initrd_path, sizeof(initrd_path), "/tmp/hyvm-linux-test-%d.initrd", getpid());
	return ram.base ? 0 : 1;
}

static int teardown(void)
{
	unlink(path);
	unlink(initrd_path);
	free(ram.base);
	return 0;
}

static int each(void)
{
	bz_spec_default(&spec);
	memset(ram.base, 0xee, RAM_SIZE);
	return 0;
}

static struct linux_boot_params *zero_page(const struct guest_image *img)
{
	return (struct linux_boot_params *)(ram.base + img->boot_info);
}

static bool payload_at(uint64_t gpa, uint32_t bytes)
{
	for (uint32_t i = 0; i < bytes; i++)
		if (ram.base[gpa + i] != bz_payload_byte(i))
			return false;
	return true;
}

static void test_relocatable_loads_at_pref_address(void)
{
	struct guest_image img;

	each();
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with("console=ttyS0 quiet", NULL, &img), 0);
	CU_ASSERT_EQUAL(img.entry, 0x1000000);
	CU_ASSERT(payload_at(0x1000000, spec.kernel_bytes));
	CU_ASSERT_FALSE(img.needs[NEED_LONG_MODE]);
	CU_ASSERT(img.boot_info < 0x9fc00 && img.boot_info % 4096 == 0);

	struct linux_boot_params *zp = zero_page(&img);
	CU_ASSERT_EQUAL(zp->hdr.boot_flag, 0xaa55);
	CU_ASSERT_EQUAL(zp->hdr.header, LINUX_HDRS_MAGIC);
	CU_ASSERT_EQUAL(zp->hdr.version, 0x020f);
	CU_ASSERT_EQUAL(zp->hdr.type_of_loader, 0xff);
	CU_ASSERT_EQUAL(zp->hdr.code32_start, 0x1000000);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_image, 0);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_size, 0);
	CU_ASSERT_EQUAL(zp->hdr.loadflags & LINUX_CAN_USE_HEAP, 0);
	CU_ASSERT_EQUAL(zp->hdr.init_size, spec.init_size);
	CU_ASSERT_STRING_EQUAL((char *)ram.base + zp->hdr.cmd_line_ptr, "console=ttyS0 quiet");
	/* everything outside the header the loader fills is zero */
	CU_ASSERT_EQUAL(zp->ext_cmd_line_ptr, 0);
	CU_ASSERT_EQUAL(zp->sentinel, 0);
	CU_ASSERT_EQUAL(zp->hdr.setup_data, 0);
	/* e820 from the PC memory map: low RAM, BIOS area, RAM from 1 MiB */
	CU_ASSERT_EQUAL_FATAL(zp->e820_entries, 3);
	CU_ASSERT_EQUAL(zp->e820_table[0].addr, 0);
	CU_ASSERT_EQUAL(zp->e820_table[0].size, 0x9fc00);
	CU_ASSERT_EQUAL(zp->e820_table[0].type, 1);
	CU_ASSERT_EQUAL(zp->e820_table[1].addr, 0xf0000);
	CU_ASSERT_EQUAL(zp->e820_table[1].type, 2);
	CU_ASSERT_EQUAL(zp->e820_table[2].addr, 0x100000);
	CU_ASSERT_EQUAL(zp->e820_table[2].addr + zp->e820_table[2].size, RAM_SIZE);
	CU_ASSERT_EQUAL(zp->alt_mem_k, (RAM_SIZE - 0x100000) / 1024);
	/* the GDT: null, null, flat code at 0x10, flat data at 0x18 */
	uint64_t *gdt = (uint64_t *)(ram.base + img.gdt);
	CU_ASSERT_EQUAL(gdt[2], 0x00cf9b000000ffffull);
	CU_ASSERT_EQUAL(gdt[3], 0x00cf93000000ffffull);
}

static void test_entry_state(void)
{
	struct guest_image img;
	struct hyvm_cpu_state st;

	each();
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, NULL, &img), 0);
	linux_entry_state(&img, &st);
	CU_ASSERT_EQUAL(st.rip, img.entry);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RSI], img.boot_info);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RBX], 0);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RBP], 0);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RDI], 0);
	CU_ASSERT_EQUAL(st.cr0 & 0x80000001, 1);	/* PE on, PG off */
	CU_ASSERT_EQUAL(st.rflags & 0x20200, 0);	/* IF and VM clear */
	CU_ASSERT_EQUAL(st.seg[HYVM_CS].selector, LINUX_BOOT_CS);
	CU_ASSERT_EQUAL(st.seg[HYVM_DS].selector, LINUX_BOOT_DS);
	CU_ASSERT_EQUAL(st.seg[HYVM_ES].selector, LINUX_BOOT_DS);
	CU_ASSERT_EQUAL(st.seg[HYVM_SS].selector, LINUX_BOOT_DS);
	CU_ASSERT_EQUAL(st.seg[HYVM_CS].limit, 0xffffffff);
	CU_ASSERT_EQUAL(st.seg[HYVM_DS].base, 0);
	CU_ASSERT_EQUAL(st.gdtr.base, img.gdt);
	CU_ASSERT_EQUAL(st.gdtr.limit, 31);
	/* the command line is empty but present */
	CU_ASSERT_STRING_EQUAL((char *)ram.base + zero_page(&img)->hdr.cmd_line_ptr, "");
}

static void test_not_relocatable_loads_at_1mib(void)
{
	struct guest_image img;

	each();
	spec.relocatable = 0;
	spec.code32_start = 0x100200;	/* a boot loader hook point inside */
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, NULL, &img), 0);
	CU_ASSERT(payload_at(0x100000, spec.kernel_bytes));
	CU_ASSERT_EQUAL(img.entry, 0x100200);
	CU_ASSERT_EQUAL(zero_page(&img)->hdr.code32_start, 0x100200);
}

static void test_misaligned_pref_address_falls_back_to_1mib(void)
{
	struct guest_image img;

	each();
	spec.pref_address = 0x1080000;	/* not a multiple of kernel_alignment */
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, NULL, &img), 0);
	CU_ASSERT_EQUAL(img.entry, 0x100000);
	CU_ASSERT(payload_at(0x100000, spec.kernel_bytes));
}

/* A relocatable kernel still runs at pref_address (LOAD_PHYSICAL_ADDR) at
 * least, wherever it is loaded: that must fit in RAM. */
static void test_pref_address_beyond_ram_refused(void)
{
	each();
	spec.pref_address = 0x3f00000;
	spec.kernel_alignment = 0x100000;
	expect_error("the kernel needs RAM up to 0x4100000");
}

/* pref_address near 2^64: its sum with init_size must not wrap into RAM
 * (libFuzzer's fuzz_bzimage: the kernel was copied 2^64 - 2^32 past RAM). */
static void test_pref_address_wrapping_refused(void)
{
	each();
	spec.pref_address = 0xfffffffffff00000ull;	/* + init_size wraps to 1 MiB */
	spec.kernel_alignment = 0x100000;
	expect_error("the kernel needs RAM up to 0xffffffffffffffff");
}

static void test_setup_sects_zero_means_four(void)
{
	struct guest_image img;

	each();
	spec.setup_sects = 0;
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, NULL, &img), 0);
	CU_ASSERT(payload_at(img.entry, spec.kernel_bytes));
}

static void test_initrd_at_top_of_ram(void)
{
	struct guest_image img;

	each();
	write_spec();
	write_initrd(100000);
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, initrd_path, &img), 0);
	struct linux_boot_params *zp = zero_page(&img);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_size, 100000);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_image % 4096, 0);
	CU_ASSERT(zp->hdr.ramdisk_image + 100000 <= RAM_SIZE);
	CU_ASSERT(zp->hdr.ramdisk_image + 100000 > RAM_SIZE - 4096);
	CU_ASSERT_EQUAL(ram.base[zp->hdr.ramdisk_image + 1000], 1000 % 251);
	CU_ASSERT_EQUAL(ram.base[zp->hdr.ramdisk_image + 99999], 99999 % 251);
}

static void test_initrd_below_initrd_addr_max(void)
{
	struct guest_image img;

	each();
	spec.initrd_addr_max = 0x1ffffff;	/* 32 MiB - 1 */
	write_spec();
	write_initrd(5000);
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, initrd_path, &img), 0);
	struct linux_boot_params *zp = zero_page(&img);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_image, 0x2000000 - 8192);
	CU_ASSERT(zp->hdr.ramdisk_image >= 0x1000000 + spec.init_size);
}

static void test_64bit_kernel_needs_long_mode(void)
{
	struct guest_image img;

	each();
	spec.xloadflags = LINUX_XLF_KERNEL_64 | LINUX_XLF_CAN_BE_LOADED_ABOVE_4G;
	write_spec();
	CU_ASSERT_EQUAL_FATAL(load_with(NULL, NULL, &img), 0);
	CU_ASSERT(img.needs[NEED_LONG_MODE]);
	CU_ASSERT_STRING_EQUAL(img.needs_text, "long-mode");
}

static void test_is_bzimage(void)
{
	each();
	write_spec();
	CU_ASSERT(linux_is_bzimage(path));
	spec.magic = 0x12345678;		/* a damaged one is still Linux's */
	write_spec();
	CU_ASSERT(linux_is_bzimage(path));
	FILE *f = fopen(path, "wb");
	static const char elf[0x300] = "\x7f" "ELF";
	fwrite(elf, 1, sizeof(elf), f);
	fclose(f);
	CU_ASSERT_FALSE(linux_is_bzimage(path));
	spec.truncate_to = 0x100;
	write_spec();
	CU_ASSERT_FALSE(linux_is_bzimage(path));
	CU_ASSERT_FALSE(linux_is_bzimage("/nonexistent/kernel"));
}

static void test_missing_file(void)
{
	struct guest_image img;
	struct boot_entry bp = { 0 };

	CU_ASSERT_EQUAL(linux_load("/nonexistent/bzImage", &bp, &ram, &img, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
}

static void test_truncated_files(void)
{
	each();
	spec.truncate_to = 0x100;
	expect_error("too short for a Linux bzImage");
	each();
	spec.truncate_to = 0x240;
	expect_error("setup header is truncated");
	each();
	spec.truncate_to = 3 * 512;
	expect_error("ends inside the 3 setup sectors");
	each();
	spec.truncate_to = 4 * 512 + 0x8000;	/* half the payload */
	expect_error("syssize says");
}

static void test_bad_magic(void)
{
	each();
	spec.boot_flag = 0x55aa;
	expect_error("boot flag at 0x1fe is 0x55aa, not 0xAA55");
	each();
	spec.magic = 0x53726449;
	expect_error("no \"HdrS\" magic at 0x202");
}

static void test_protocol_too_old(void)
{
	each();
	spec.version = 0x0204;
	expect_error("Linux boot protocol 2.04 is too old");
}

static void test_zimage_refused(void)
{
	each();
	spec.loadflags = 0;
	expect_error("a zImage (loadflags without LOADED_HIGH)");
}

static void test_bad_alignment_and_entry(void)
{
	each();
	spec.kernel_alignment = 0x300000;
	expect_error("kernel_alignment 0x300000 is not a power of two");
	each();
	spec.code32_start = 0x200000;
	expect_error("code32_start 0x200000 lies outside the protected-mode kernel");
	each();
	spec.init_size = 0x1000;
	expect_error("init_size 0x1000 is smaller than the protected-mode kernel");
}

static void test_kernel_larger_than_ram(void)
{
	each();
	spec.relocatable = 0;
	spec.pref_address = 0x1000000;
	spec.init_size = 0x4000000;	/* 64 MiB from 16 MiB */
	expect_error("more than the 64 MiB below 4 GiB");
}

static void test_command_line_too_long(void)
{
	char line[300];

	each();
	write_spec();
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	expect_error_with(line, NULL, "command line of 299 bytes is longer than the kernel's cmdline_size 255");
	line[255] = 0;		/* exactly cmdline_size: fits */
	struct guest_image img;
	CU_ASSERT_EQUAL(load_with(line, NULL, &img), 0);
}

static void test_initrd_too_big(void)
{
	each();
	spec.initrd_addr_max = 0x11fffff;	/* only 0x1200000 - 0x1000000 - 2 MiB = 0 above the kernel */
	write_spec();
	write_initrd(4096);
	expect_error_with(NULL, initrd_path, "does not fit in the RAM between the kernel's end");
	each();
	write_spec();
	write_initrd(0);
	expect_error_with(NULL, initrd_path, "the initrd is empty");
	expect_error_with(NULL, "/nonexistent/initrd", "/nonexistent/initrd: cannot open");
}

static void test_modules_refused(void)
{
	struct guest_image img;
	struct boot_entry bp = { .modules = { "x" }, .nr_modules = 1 };

	each();
	write_spec();
	CU_ASSERT_EQUAL(linux_load(path, &bp, &ram, &img, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "takes --initrd, not --module"));
}

UNIT_SUITE(loader_linux, setup, teardown,
	UNIT_TEST(test_relocatable_loads_at_pref_address),
	UNIT_TEST(test_entry_state),
	UNIT_TEST(test_not_relocatable_loads_at_1mib),
	UNIT_TEST(test_misaligned_pref_address_falls_back_to_1mib),
	UNIT_TEST(test_pref_address_beyond_ram_refused),
	UNIT_TEST(test_pref_address_wrapping_refused),
	UNIT_TEST(test_setup_sects_zero_means_four),
	UNIT_TEST(test_initrd_at_top_of_ram),
	UNIT_TEST(test_initrd_below_initrd_addr_max),
	UNIT_TEST(test_64bit_kernel_needs_long_mode),
	UNIT_TEST(test_is_bzimage),
	UNIT_TEST(test_missing_file),
	UNIT_TEST(test_truncated_files),
	UNIT_TEST(test_bad_magic),
	UNIT_TEST(test_protocol_too_old),
	UNIT_TEST(test_zimage_refused),
	UNIT_TEST(test_bad_alignment_and_entry),
	UNIT_TEST(test_kernel_larger_than_ram),
	UNIT_TEST(test_command_line_too_long),
	UNIT_TEST(test_initrd_too_big),
	UNIT_TEST(test_modules_refused))

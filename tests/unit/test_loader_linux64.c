/* The Linux loader's 64-bit boot protocol entry (boot.rst, "64-bit BOOT
 * PROTOCOL") on synthetic bzImages: the identity map (walked with the one
 * page walker every engine shares), the 64-bit GDT, the long-mode entry
 * state, and the refusal of a 64-bit kernel where there is no long mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hyvm/x86.h>
#include "unit.h"
#include "boot/loader.h"
#include "boot/linux_boot.h"
#include "x86/page_walk.h"
#include "bzimage_builder.h"

#define RAM_SIZE (64u << 20)

static struct guest_ram ram;
static char err[512];
static char path[64];
static struct bz_spec spec;

static int setup(void)
{
	ram.size = RAM_SIZE;
	ram.base = malloc(RAM_SIZE);
	snprintf(path, sizeof(path), "/tmp/hyvm-linux64-test-%d.bz", getpid());
	return ram.base ? 0 : 1;
}

static int teardown(void)
{
	unlink(path);
	free(ram.base);
	return 0;
}

/* A 64-bit kernel as Debian's amd64 one says it is (xloadflags 0x7f). */
static void write_64bit(void)
{
	bz_spec_default(&spec);
	spec.xloadflags = 0x7f;
	memset(ram.base, 0xee, RAM_SIZE);
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
}

static int load64(bool long_mode, bool gbpages, const char *cmdline, struct guest_image *img)
{
	struct boot_entry bp = { .cmdline = cmdline, .long_mode = long_mode, .gbpages = gbpages };
	return linux_load(path, &bp, &ram, img, err, sizeof(err));
}

static uint8_t *table_ptr(void *opaque, uint64_t gpa, unsigned len)
{
	(void)opaque;
	return gpa + len <= RAM_SIZE ? ram.base + gpa : NULL;
}

/* Walks linear with the entry state's paging registers. */
static void walk(const struct hyvm_cpu_state *st, uint64_t linear, struct pw_result *r)
{
	struct pw_context ctx = { .cr0 = st->cr0, .cr3 = st->cr3, .cr4 = st->cr4,
				  .efer = st->efer, .maxphyaddr = 36, .table_ptr = table_ptr };
	page_walk(&ctx, linear, PW_FETCH, false, r);
}

static void check_identity_map(const struct hyvm_cpu_state *st, uint64_t page_size)
{
	/* the kernel, the zero page, the command line, the top of RAM, the
	 * MMIO hole (IOAPIC, local APIC) and the last byte below 4 GiB */
	static const uint64_t at[] = { 0x1000200, 0x7000, 0x8000, RAM_SIZE - 1, 0xfec00000,
				       0xfee00000, 0xffffffff };
	struct pw_result r;

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		walk(st, at[i], &r);
		CU_ASSERT_EQUAL(r.status, PW_OK);
		CU_ASSERT_EQUAL(r.phys, at[i]);
		CU_ASSERT_EQUAL(r.page_size, page_size);
		CU_ASSERT(r.writable);
	}
	walk(st, 0x100000000ull, &r);	/* nothing from 4 GiB on */
	CU_ASSERT_EQUAL(r.status, PW_FAULT);
}

static void test_64bit_entry_state(void)
{
	struct guest_image img;
	struct hyvm_cpu_state st;

	write_64bit();
	CU_ASSERT_EQUAL_FATAL(load64(true, false, "console=ttyS0", &img), 0);
	CU_ASSERT(img.kernel64);
	CU_ASSERT(img.entry64);
	CU_ASSERT(img.needs[NEED_LONG_MODE]);
	/* loaded at pref_address, entered at startup_64 = load + 0x200 */
	CU_ASSERT_EQUAL(img.entry, 0x1000000 + LINUX_STARTUP_64_OFFSET);
	struct linux_boot_params *zp = (struct linux_boot_params *)(ram.base + img.boot_info);
	CU_ASSERT_EQUAL(zp->hdr.code32_start, 0x1000000);
	CU_ASSERT_STRING_EQUAL((char *)ram.base + zp->hdr.cmd_line_ptr, "console=ttyS0");
	/* the page tables sit in low RAM, clear of what the loader put there */
	CU_ASSERT(img.page_table >= zp->hdr.cmd_line_ptr + 4096 && img.page_table + 6 * 4096 <= 0x10000);
	CU_ASSERT(img.page_table % 4096 == 0);
	/* __BOOT_CS: 64-bit code (L=1, D=0); __BOOT_DS: flat data */
	uint64_t *gdt = (uint64_t *)(ram.base + img.gdt);
	CU_ASSERT_EQUAL(gdt[2], 0x00af9b000000ffffull);
	CU_ASSERT_EQUAL(gdt[3], 0x00cf93000000ffffull);

	linux_entry_state(&img, &st);
	CU_ASSERT_EQUAL(st.rip, 0x1000200);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RSI], img.boot_info);
	CU_ASSERT_EQUAL(st.cr0 & (CR0_PG | 1), CR0_PG | 1);
	CU_ASSERT_EQUAL(st.cr4 & CR4_PAE, CR4_PAE);
	CU_ASSERT_EQUAL(st.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	CU_ASSERT_EQUAL(st.cr3, img.page_table);
	CU_ASSERT_EQUAL(st.rflags & 0x20200, 0);	/* IF and VM clear */
	CU_ASSERT_EQUAL(st.seg[HYVM_CS].selector, LINUX_BOOT_CS);
	CU_ASSERT(st.seg[HYVM_CS].attrib & HYVM_SEG_L);
	CU_ASSERT_FALSE(st.seg[HYVM_CS].attrib & HYVM_SEG_DB);
	CU_ASSERT_EQUAL(st.seg[HYVM_DS].selector, LINUX_BOOT_DS);
	CU_ASSERT_EQUAL(st.seg[HYVM_SS].selector, LINUX_BOOT_DS);
	CU_ASSERT_EQUAL(st.gdtr.base, img.gdt);
	check_identity_map(&st, 2u << 20);
}

static void test_64bit_entry_gbpages(void)
{
	struct guest_image img;
	struct hyvm_cpu_state st;

	write_64bit();
	CU_ASSERT_EQUAL_FATAL(load64(true, true, NULL, &img), 0);
	linux_entry_state(&img, &st);
	check_identity_map(&st, 1u << 30);
}

/* Without long mode the loader keeps the 32-bit entry layout (the caller
 * refuses the kernel: linux_check_long_mode); a 32-bit kernel on a CPU
 * with long mode keeps its 32-bit entry. */
static void test_32bit_entry_unless_both(void)
{
	struct guest_image img;
	struct hyvm_cpu_state st;

	write_64bit();
	CU_ASSERT_EQUAL_FATAL(load64(false, false, NULL, &img), 0);
	CU_ASSERT(img.kernel64);
	CU_ASSERT_FALSE(img.entry64);
	CU_ASSERT_EQUAL(img.entry, 0x1000000);
	CU_ASSERT_EQUAL(((uint64_t *)(ram.base + img.gdt))[2], 0x00cf9b000000ffffull);
	bz_spec_default(&spec);		/* no XLF_KERNEL_64 */
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
	CU_ASSERT_EQUAL_FATAL(load64(true, false, NULL, &img), 0);
	CU_ASSERT_FALSE(img.kernel64);
	CU_ASSERT_FALSE(img.entry64);
	linux_entry_state(&img, &st);
	CU_ASSERT_EQUAL(st.cr0 & CR0_PG, 0);
	CU_ASSERT_EQUAL(st.efer, 0);
	CU_ASSERT(st.seg[HYVM_CS].attrib & HYVM_SEG_DB);
}

static void test_64bit_kernel_needs_long_mode_line(void)
{
	struct guest_image img;

	write_64bit();
	CU_ASSERT_EQUAL_FATAL(load64(false, false, NULL, &img), 0);
	CU_ASSERT_EQUAL(linux_check_long_mode("vmlinuz", &img, "bt", false, NULL, true, err,
					      sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "vmlinuz is a 64-bit kernel; engine bt has no long mode; "
				    "try --engine svm|vmx|kvm");
	CU_ASSERT_EQUAL(linux_check_long_mode("vmlinuz", &img, "svm", true, "pentium3", false, err,
					      sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "CPU model pentium3 has no long mode"));
	CU_ASSERT_EQUAL(linux_check_long_mode("vmlinuz", &img, NULL, false, NULL, false, err,
					      sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no engine here has long mode"));
	CU_ASSERT_EQUAL(linux_check_long_mode("vmlinuz", &img, "kvm", true, NULL, true, err,
					      sizeof(err)), 0);
	bz_spec_default(&spec);		/* a 32-bit kernel runs anywhere */
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
	CU_ASSERT_EQUAL_FATAL(load64(false, false, NULL, &img), 0);
	CU_ASSERT_EQUAL(linux_check_long_mode("vmlinuz", &img, "bt", false, NULL, false, err,
					      sizeof(err)), 0);
}

/* The command line ends below the page tables: 4 KiB with its NUL. */
static void test_command_line_below_page_tables(void)
{
	static char line[4200];
	struct guest_image img;

	write_64bit();
	spec.cmdline_size = 8192;
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
	memset(line, 'x', sizeof(line) - 1);
	CU_ASSERT_EQUAL(load64(true, false, line, &img), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "command line of 4199 bytes does not fit below 0x9000"));
	line[4095] = 0;
	CU_ASSERT_EQUAL(load64(true, false, line, &img), 0);
	CU_ASSERT_EQUAL(ram.base[0x8000 + 4095], 0);
	CU_ASSERT_EQUAL(*(uint64_t *)(ram.base + img.page_table) & PTE_P, PTE_P);
}

/* Debian 12's linux-image-6.1.0-57-amd64 header as it is: protocol 2.15,
 * relocatable, kernel_alignment 2 MiB, pref_address 16 MiB, init_size
 * 0x3f98000, xloadflags 0x7f, cmdline_size 2047. It is loaded at
 * pref_address (aligned, and it runs there anyway) and reaches 0x4f98000:
 * refused in 64 MiB, loaded in 96 MiB with the initrd above its reach. */
static void test_debian_amd64_header(void)
{
	struct guest_image img;
	struct guest_ram big = { .size = 96u << 20 };
	struct boot_entry bp = { .long_mode = true, .initrd = path };

	write_64bit();
	spec.init_size = 0x3f98000;
	spec.initrd_addr_max = 0x7fffffff;
	spec.cmdline_size = 2047;
	CU_ASSERT_FATAL(bzimage_builder_write(path, &spec) > 0);
	CU_ASSERT_EQUAL(load64(true, false, NULL, &img), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "the kernel needs RAM up to 0x4f98000"));
	big.base = calloc(1, big.size);
	CU_ASSERT_FATAL(big.base != NULL);
	/* the image itself as the initrd: any file will do */
	CU_ASSERT_EQUAL(linux_load(path, &bp, &big, &img, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(img.entry, 0x1000200);
	struct linux_boot_params *zp = (struct linux_boot_params *)(big.base + img.boot_info);
	CU_ASSERT(zp->hdr.ramdisk_image >= 0x4f98000);
	CU_ASSERT_EQUAL(zp->hdr.ramdisk_image + zp->hdr.ramdisk_size <= big.size, 1);
	free(big.base);
}

UNIT_SUITE(loader_linux64, setup, teardown,
	UNIT_TEST(test_64bit_entry_state),
	UNIT_TEST(test_64bit_entry_gbpages),
	UNIT_TEST(test_32bit_entry_unless_both),
	UNIT_TEST(test_64bit_kernel_needs_long_mode_line),
	UNIT_TEST(test_command_line_below_page_tables),
	UNIT_TEST(test_debian_amd64_header))

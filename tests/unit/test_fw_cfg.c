/* fw_cfg (devices/firmware/): the selector and data ports, the file
 * directory, the DMA interface with well-formed and hostile descriptors,
 * and the pc machine's items (firmware/fw_cfg_pc.c), its ACPI tables
 * replayed through the table-loader commands as SeaBIOS runs them. */
#include <arpa/inet.h>
#include <endian.h>
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/firmware/fw_cfg.h"
#include "firmware/fw_acpi_loader.h"
#include "firmware/fw_cfg_linux.h"
#include "firmware/fw_cfg_pc.h"
#include "bzimage_builder.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <hyvm/le.h>

#define MiB (1ull << 20)
#define DESC 0x10000ull		/* where the tests put a DMA descriptor */
#define BUF 0x20000ull

static struct fake_env F;
static struct fw_cfg *C;

static const char hello[] = "hello, firmware";

static void start_with(struct fw_cfg_store *s)
{
	char err[200];

	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 16 * MiB), 0);
	if (s) {
		CU_ASSERT_EQUAL_FATAL(fw_cfg_registry_add("t", s, err, sizeof(err)), 0);
		C = fake_create_config(&F, "fw_cfg", "items=t");
	} else {
		C = fake_create(&F, "fw_cfg");
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(C);
}

static void start(void)
{
	char err[200];
	struct fw_cfg_store *s = fw_cfg_store_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, "etc/hello", hello, sizeof(hello), err,
					      sizeof(err)), FW_CFG_FILE_FIRST);
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, "etc/other", "x", 1, err, sizeof(err)),
			FW_CFG_FILE_FIRST + 1);
	CU_ASSERT_EQUAL(fw_cfg_store_set_le(s, FW_CFG_RAM_SIZE, 0x1234, 8, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(fw_cfg_store_finish(s, err, sizeof(err)), 0);
	start_with(s);
}

static void stop(void)
{
	fake_env_fini(&F);
	fw_cfg_registry_clear();
}

static void read_port(uint16_t key, void *out, size_t n)
{
	pio_out16(&F, FW_CFG_PORT_SEL, key);
	for (size_t i = 0; i < n; i++)
		((uint8_t *)out)[i] = pio_in8(&F, FW_CFG_PORT_DATA);
}

/* A descriptor at DESC, the transfer started by the low half. */
static uint32_t dma(uint32_t control, uint32_t len, uint64_t addr, uint64_t desc_at)
{
	struct fw_cfg_dma_access d = { htonl(control), htonl(len), htobe64(addr) };
	uint32_t back;

	bool in_ram = desc_at <= 16 * MiB - sizeof(d);

	if (in_ram)
		memcpy(fake_guest_ram_host(&F.ram, desc_at), &d, sizeof(d));
	/* the guest writes the big-endian address: bytes in memory order */
	pio_out32(&F, FW_CFG_PORT_DMA, htonl((uint32_t)(desc_at >> 32)));
	pio_out32(&F, FW_CFG_PORT_DMA + 4, htonl((uint32_t)desc_at));
	if (!in_ram)
		return 0xdead;
	memcpy(&back, fake_guest_ram_host(&F.ram, desc_at), 4);
	return ntohl(back);
}

static void test_signature_and_id(void)
{
	char sig[5] = { 0 };
	uint32_t id;
	uint64_t ram;

	start();
	read_port(FW_CFG_SIGNATURE, sig, 4);
	CU_ASSERT_STRING_EQUAL(sig, "QEMU");
	read_port(FW_CFG_ID, &id, 4);
	CU_ASSERT_EQUAL(le32toh(id), FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	read_port(FW_CFG_RAM_SIZE, &ram, 8);
	CU_ASSERT_EQUAL(le64toh(ram), 0x1234);
	/* past the end and unknown keys read zeros */
	CU_ASSERT_EQUAL(pio_in8(&F, FW_CFG_PORT_DATA), 0);
	read_port(0x7777, &id, 4);
	CU_ASSERT_EQUAL(id, 0);
	/* the DMA register reads "QEMU CFG" */
	CU_ASSERT_EQUAL(pio_in8(&F, FW_CFG_PORT_DMA), 'Q');
	CU_ASSERT_EQUAL(pio_in8(&F, FW_CFG_PORT_DMA + 7), 'G');
	/* writes to the data port change nothing */
	pio_out16(&F, FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	pio_out8(&F, FW_CFG_PORT_DATA, 'X');
	read_port(FW_CFG_SIGNATURE, sig, 4);
	CU_ASSERT_STRING_EQUAL(sig, "QEMU");
	stop();
}

static void test_file_dir(void)
{
	uint8_t dir[4 + 3 * sizeof(struct fw_cfg_file)];
	struct fw_cfg_file f;
	char got[sizeof(hello)];
	uint32_t count;

	start();
	read_port(FW_CFG_FILE_DIR, dir, sizeof(dir));
	memcpy(&count, dir, 4);
	CU_ASSERT_EQUAL(ntohl(count), 2);
	memcpy(&f, dir + 4, sizeof(f));
	CU_ASSERT_STRING_EQUAL(f.name, "etc/hello");
	CU_ASSERT_EQUAL(ntohl(f.size), sizeof(hello));
	CU_ASSERT_EQUAL(ntohs(f.select), FW_CFG_FILE_FIRST);
	memcpy(&f, dir + 4 + sizeof(f), sizeof(f));
	CU_ASSERT_STRING_EQUAL(f.name, "etc/other");
	read_port(FW_CFG_FILE_FIRST, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, hello);
	stop();

	/* no configuration: an empty directory, still "QEMU" */
	start_with(NULL);
	read_port(FW_CFG_FILE_DIR, &count, 4);
	CU_ASSERT_EQUAL(count, 0);
	stop();
}

static void test_store_refusals(void)
{
	char err[200], name[80];
	struct fw_cfg_store *s = fw_cfg_store_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, "", "x", 1, err, sizeof(err)), -1);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, name, "x", 1, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, "a", "x", 1, err, sizeof(err)), FW_CFG_FILE_FIRST);
	CU_ASSERT_EQUAL(fw_cfg_store_add_file(s, "a", "x", 1, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exists"));
	fw_cfg_store_destroy(s);
	CU_ASSERT_EQUAL(fake_env_init(&F, 16 * MiB), 0);
	CU_ASSERT_PTR_NULL(fake_create_config(&F, "fw_cfg", "items=nobody"));
	CU_ASSERT_PTR_NULL(fake_create_config(&F, "fw_cfg", "bogus"));
	fake_env_fini(&F);
}

static void test_dma_read_skip(void)
{
	uint8_t *buf;

	start();
	buf = fake_guest_ram_host(&F.ram, BUF);
	memset(buf, 0xaa, 64);
	CU_ASSERT_EQUAL(dma(FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			    sizeof(hello), BUF, DESC), 0);
	CU_ASSERT_STRING_EQUAL((char *)buf, hello);
	CU_ASSERT(fake_guest_ram_was_written(&F.ram, BUF, sizeof(hello)));
	/* select, skip 7, read the rest and 8 zeros past the end */
	memset(buf, 0xaa, 64);
	CU_ASSERT_EQUAL(dma(FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
			    7, 0, DESC), 0);
	CU_ASSERT_EQUAL(dma(FW_CFG_DMA_CTL_READ, sizeof(hello) - 7 + 8, BUF, DESC), 0);
	CU_ASSERT_STRING_EQUAL((char *)buf, hello + 7);
	for (unsigned i = sizeof(hello) - 7; i < sizeof(hello) - 7 + 8; i++)
		CU_ASSERT_EQUAL(buf[i], 0);
	CU_ASSERT_EQUAL(buf[sizeof(hello) - 7 + 8], 0xaa);
	/* the data port continues where DMA left off */
	CU_ASSERT_EQUAL(dma(FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP,
			    2, 0, DESC), 0);
	CU_ASSERT_EQUAL(pio_in8(&F, FW_CFG_PORT_DATA), hello[2]);
	/* a zero-length read does nothing and succeeds */
	CU_ASSERT_EQUAL(dma(FW_CFG_DMA_CTL_READ, 0, 0xfec00000ull, DESC), 0);
	CU_ASSERT_EQUAL(C->dma_errors, 0);
	CU_ASSERT_EQUAL(C->dma_lost, 0);
	stop();
}

static void test_dma_hostile(void)
{
	const uint32_t rd = FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
	struct fake_guest_ram rom_ram;
	unsigned written;

	start();
	written = F.ram.nr_written;
	/* buffers: in the IOAPIC's MMIO, past RAM, across RAM's end, wrapping, huge */
	CU_ASSERT_EQUAL(dma(rd, 16, 0xfec00000ull, DESC), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(dma(rd, 16, 64 * MiB, DESC), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(dma(rd, 16, 16 * MiB - 8, DESC), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(dma(rd, 32, 0xfffffffffffffff0ull, DESC), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(dma(rd, 0xffffffffu, BUF, DESC), FW_CFG_DMA_CTL_ERROR);
	/* writes: no item is writable */
	CU_ASSERT_EQUAL(dma(FW_CFG_DMA_CTL_WRITE, 4, BUF, DESC), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(C->dma_errors, 6);
	/* only the descriptors' control words were written back */
	CU_ASSERT_EQUAL(F.ram.nr_written - written, 6);
	/* descriptors outside RAM: nowhere to answer, counted */
	dma(rd, 16, BUF, 0xfec00000ull);
	dma(rd, 16, BUF, 64 * MiB);
	dma(rd, 16, BUF, 16 * MiB - 8);
	dma(rd, 16, BUF, 0xfffffffffffffff8ull);
	CU_ASSERT_EQUAL(C->dma_lost, 4);
	CU_ASSERT_EQUAL(F.ram.nr_written - written, 6);

	/* into ROM: a machine with a BIOS ROM aliased at 0xe0000 */
	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&rom_ram, 16 * MiB, true), 0);
	struct dma_mem saved = F.env.mem;
	F.env.mem = rom_ram.mem;
	struct fw_cfg_dma_access d = { htonl(rd), htonl(16), htobe64(0xe0000) };
	memcpy(fake_guest_ram_host(&rom_ram, DESC), &d, sizeof(d));
	uint8_t before = *fake_guest_ram_host(&rom_ram, 0xe0000);
	pio_out32(&F, FW_CFG_PORT_DMA + 4, htonl((uint32_t)DESC));
	uint32_t back;
	memcpy(&back, fake_guest_ram_host(&rom_ram, DESC), 4);
	CU_ASSERT_EQUAL(ntohl(back), FW_CFG_DMA_CTL_ERROR);
	CU_ASSERT_EQUAL(*fake_guest_ram_host(&rom_ram, 0xe0000), before);
	/* a descriptor in ROM is read but cannot be answered */
	uint64_t lost = C->dma_lost;
	pio_out32(&F, FW_CFG_PORT_DMA + 4, htonl(0xe0000u));
	CU_ASSERT_EQUAL(C->dma_lost, lost + 1);
	F.env.mem = saved;
	fake_guest_ram_fini(&rom_ram);
	stop();
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* etc/table-loader run as SeaBIOS's romfile_loader.c runs it, each file
 * "allocated" at a fixed address in a flat buffer standing for memory. */
static void test_pc_items_and_acpi_loader(void)
{
	struct memory_map map;
	struct fw_cfg_pc_config cfg = { .acpi = true };
	char err[200];
	struct fw_cfg_store *s;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&map, 128 * MiB, err, sizeof(err)), 0);
	s = fw_cfg_pc_build(&map, &cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_RAM_SIZE].data, 8), 128 * MiB);
	CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_NB_CPUS].data, 2), 1);
	int k = fw_cfg_store_file_key(s, "etc/e820");
	CU_ASSERT_FATAL(k >= 0);
	/* one run of RAM from 0 to 128 MiB */
	CU_ASSERT_EQUAL(s->item[k].len, FW_CFG_E820_ENTRY);
	CU_ASSERT_EQUAL(le_get(s->item[k].data, 8), 0);
	CU_ASSERT_EQUAL(le_get(s->item[k].data + 8, 8), 128 * MiB);
	CU_ASSERT_EQUAL(le_get(s->item[k].data + 16, 4), E820_USABLE);
	k = fw_cfg_store_file_key(s, "etc/sercon-port");
	CU_ASSERT_FATAL(k >= 0);
	CU_ASSERT_EQUAL(le_get(s->item[k].data, 2), 0x3f8);

	static uint8_t mem[0x40000];
	const uint64_t at[2] = { 0x10000, 0x30000 };	/* tables, rsdp */
	const char *names[2] = { "etc/acpi/tables", "etc/acpi/rsdp" };
	int kt = fw_cfg_store_file_key(s, names[0]), kr = fw_cfg_store_file_key(s, names[1]);
	int kl = fw_cfg_store_file_key(s, "etc/table-loader");
	CU_ASSERT_FATAL(kt >= 0 && kr >= 0 && kl >= 0);
	CU_ASSERT_EQUAL_FATAL(s->item[kl].len % FW_LOADER_ENTRY_SIZE, 0);
	memcpy(mem + at[0], s->item[kt].data, s->item[kt].len);
	memcpy(mem + at[1], s->item[kr].data, s->item[kr].len);
	unsigned allocs = 0;
	for (uint32_t o = 0; o < s->item[kl].len; o += FW_LOADER_ENTRY_SIZE) {
		const uint8_t *c = s->item[kl].data + o;
		const char *f1 = (const char *)c + 4, *f2 = (const char *)c + 4 + FW_LOADER_FILE_MAX;
		int i1 = !strcmp(f1, names[1]);
		switch (le_get(c, 4)) {
		case FW_LOADER_ALLOCATE:
			CU_ASSERT(!strcmp(f1, names[0]) || i1);
			allocs++;
			break;
		case FW_LOADER_ADD_POINTER: {
			uint32_t off = (uint32_t)le_get(c + 4 + 2 * FW_LOADER_FILE_MAX, 4);
			uint8_t size = c[4 + 2 * FW_LOADER_FILE_MAX + 4];
			uint8_t *p = mem + at[i1] + off;
			uint64_t v = le_get(p, size) + at[!strcmp(f2, names[1])];
			for (unsigned b = 0; b < size; b++)
				p[b] = (uint8_t)(v >> (8 * b));
			break;
		}
		case FW_LOADER_ADD_CHECKSUM: {
			uint32_t off = (uint32_t)le_get(c + 4 + FW_LOADER_FILE_MAX, 4);
			uint32_t start = (uint32_t)le_get(c + 4 + FW_LOADER_FILE_MAX + 4, 4);
			uint32_t len = (uint32_t)le_get(c + 4 + FW_LOADER_FILE_MAX + 8, 4);
			mem[at[i1] + off] -= sum(mem + at[i1] + start, len);
			break;
		}
		default:
			CU_FAIL("unknown loader command");
		}
	}
	CU_ASSERT_EQUAL(allocs, 2);
	/* RSDP -> RSDT/XSDT -> FADT -> DSDT/FACS, every checksum good */
	const uint8_t *rsdp = mem + at[1];
	CU_ASSERT_EQUAL(memcmp(rsdp, "RSD PTR ", 8), 0);
	CU_ASSERT_EQUAL(sum(rsdp, 20), 0);
	CU_ASSERT_EQUAL(sum(rsdp, 36), 0);
	uint64_t rsdt = le_get(rsdp + 16, 4), xsdt = le_get(rsdp + 24, 8);
	CU_ASSERT_FATAL(rsdt > at[0] && rsdt < at[1] && xsdt > at[0] && xsdt < at[1]);
	CU_ASSERT_EQUAL(memcmp(mem + rsdt, "RSDT", 4), 0);
	CU_ASSERT_EQUAL(memcmp(mem + xsdt, "XSDT", 4), 0);
	CU_ASSERT_EQUAL(sum(mem + rsdt, le_get(mem + rsdt + 4, 4)), 0);
	CU_ASSERT_EQUAL(sum(mem + xsdt, le_get(mem + xsdt + 4, 4)), 0);
	unsigned found = 0;
	for (uint32_t e = 36; e < le_get(mem + rsdt + 4, 4); e += 4) {
		uint64_t t = le_get(mem + rsdt + e, 4);
		CU_ASSERT_FATAL(t >= at[0] && t < at[1]);
		CU_ASSERT_EQUAL(t, le_get(mem + xsdt + 36 + (e - 36) * 2, 8));
		CU_ASSERT_EQUAL(sum(mem + t, le_get(mem + t + 4, 4)), 0);
		if (!memcmp(mem + t, "FACP", 4)) {
			uint64_t facs = le_get(mem + t + 36, 4), dsdt = le_get(mem + t + 40, 4);
			CU_ASSERT_EQUAL(memcmp(mem + facs, "FACS", 4), 0);
			CU_ASSERT_EQUAL(facs % 64, 0);
			CU_ASSERT_EQUAL(memcmp(mem + dsdt, "DSDT", 4), 0);
			CU_ASSERT_EQUAL(le_get(mem + t + 140, 8), dsdt);
			CU_ASSERT_EQUAL(sum(mem + dsdt, le_get(mem + dsdt + 4, 4)), 0);
			found++;
		}
		if (!memcmp(mem + t, "APIC", 4))
			found++;
	}
	CU_ASSERT_EQUAL(found, 2);
	fw_cfg_store_destroy(s);

	/* --no-acpi: no loader */
	cfg.acpi = false;
	s = fw_cfg_pc_build(&map, &cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(fw_cfg_store_file_key(s, "etc/table-loader"), -1);
	fw_cfg_store_destroy(s);
}

static void test_e820_split(void)
{
	struct memory_map map;
	char err[200];
	uint8_t e[MEMMAP_MAX_REGIONS * FW_CFG_E820_ENTRY];

	/* 4 GiB: 3 GiB below the hole, 1 GiB from 4 GiB */
	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&map, 4096 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(fw_cfg_pc_e820(&map, e, MEMMAP_MAX_REGIONS), 2 * FW_CFG_E820_ENTRY);
	CU_ASSERT_EQUAL(le_get(e + 8, 8), 3072 * MiB);
	CU_ASSERT_EQUAL(le_get(e + 20, 8), 1ull << 32);
	CU_ASSERT_EQUAL(le_get(e + 28, 8), 1024 * MiB);
}

/* --bios --kernel: the items QEMU's x86_load_linux gives linuxboot_dma.bin */
static void test_linux_items(void)
{
	char kpath[] = "/tmp/hyvm-fwcfg-bzXXXXXX", rpath[] = "/tmp/hyvm-fwcfg-rdXXXXXX";
	struct bz_spec spec;
	struct memory_map map;
	char err[300];
	int kfd = mkstemp(kpath), rfd = mkstemp(rpath);
	static uint8_t rd[100000];

	CU_ASSERT_FATAL(kfd >= 0 && rfd >= 0);
	close(kfd);
	bz_spec_default(&spec);
	CU_ASSERT_FATAL(bzimage_builder_write(kpath, &spec) > 0);
	for (unsigned i = 0; i < sizeof(rd); i++)
		rd[i] = (uint8_t)(i * 7);
	CU_ASSERT_FATAL(write(rfd, rd, sizeof(rd)) == (ssize_t)sizeof(rd));
	close(rfd);
	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&map, 64 * MiB, err, sizeof(err)), 0);
	struct fw_cfg_store *s = fw_cfg_store_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	int r = fw_cfg_linux_add(s, &map, kpath, rpath, "console=ttyS0", err, sizeof(err));
	if (access("/usr/share/qemu/linuxboot_dma.bin", R_OK) &&
	    access("/usr/lib/ipxe/qemu/linuxboot_dma.bin", R_OK)) {
		/* without QEMU's option ROM: refused in one line, said why */
		CU_ASSERT_EQUAL(r, -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "linuxboot_dma.bin"));
	} else {
		CU_ASSERT_EQUAL_FATAL(r, 0);
		CU_ASSERT(fw_cfg_store_file_key(s, "genroms/linuxboot_dma.bin") >= 0);
		size_t setup = (3 + 1) * 512;
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_SETUP_SIZE].data, 4), setup);
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_SETUP_ADDR].data, 4), FW_LINUX_REAL_ADDR);
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_KERNEL_ADDR].data, 4), FW_LINUX_PROT_ADDR);
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_KERNEL_SIZE].data, 4), spec.kernel_bytes);
		CU_ASSERT_EQUAL(s->item[FW_CFG_KERNEL_DATA].len, spec.kernel_bytes);
		CU_ASSERT_EQUAL(s->item[FW_CFG_KERNEL_DATA].data[5], bz_payload_byte(5));
		const uint8_t *h = s->item[FW_CFG_SETUP_DATA].data;
		CU_ASSERT_EQUAL(h[0x210], 0xff);		/* type_of_loader */
		CU_ASSERT(h[0x211] & 0x80);			/* CAN_USE_HEAP */
		CU_ASSERT_EQUAL(le_get(h + 0x228, 4), FW_LINUX_CMDLINE_ADDR);
		CU_ASSERT_EQUAL(le_get(h + 0x224, 2), FW_LINUX_CMDLINE_ADDR - FW_LINUX_REAL_ADDR - 0x200);
		uint64_t addr = le_get(h + 0x218, 4);
		CU_ASSERT_EQUAL(le_get(h + 0x21c, 4), sizeof(rd));
		CU_ASSERT_EQUAL(addr % 4096, 0);
		CU_ASSERT(addr + sizeof(rd) <= 64 * MiB - 0x100000);
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_INITRD_ADDR].data, 4), addr);
		CU_ASSERT_EQUAL(memcmp(s->item[FW_CFG_INITRD_DATA].data, rd, sizeof(rd)), 0);
		CU_ASSERT_STRING_EQUAL((char *)s->item[FW_CFG_CMDLINE_DATA].data, "console=ttyS0");
		CU_ASSERT_EQUAL(le_get(s->item[FW_CFG_CMDLINE_SIZE].data, 4), 14);
	}
	fw_cfg_store_destroy(s);

	/* refusals: not a bzImage, protocol too old, a command line too long */
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	s = fw_cfg_store_create();
	CU_ASSERT_EQUAL(fw_cfg_linux_add(s, &map, rpath, NULL, NULL, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not one"));
	CU_ASSERT_EQUAL(fw_cfg_linux_add(s, &map, kpath, NULL, big, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "command line"));
	spec.version = 0x0201;
	CU_ASSERT_FATAL(bzimage_builder_write(kpath, &spec) > 0);
	CU_ASSERT_EQUAL(fw_cfg_linux_add(s, &map, kpath, NULL, NULL, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "2.02"));
	fw_cfg_store_destroy(s);
	unlink(kpath);
	unlink(rpath);
}

UNIT_SUITE(fw_cfg, NULL, NULL,
	   UNIT_TEST(test_linux_items),
	   UNIT_TEST(test_signature_and_id),
	   UNIT_TEST(test_file_dir),
	   UNIT_TEST(test_store_refusals),
	   UNIT_TEST(test_dma_read_skip),
	   UNIT_TEST(test_dma_hostile),
	   UNIT_TEST(test_pc_items_and_acpi_loader),
	   UNIT_TEST(test_e820_split))

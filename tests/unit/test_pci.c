/*
 * The PCI bus (devices/pci/): configuration mechanism #1 through the host
 * bridge's ports (widths, unaligned lanes, the enable bit, absent
 * functions), the header's read-only and writable bits, BAR sizing,
 * moving and decode enable for I/O, 32-bit and 64-bit memory BARs,
 * placements the bus refuses, the capability list, and INTx as a level
 * line through the IOAPIC with its EOI.
 */
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/pci/pci.h"

#define CFG_ADDR(slot, off) (0x80000000u | (slot) << 11 | ((off) & 0xfc))
#define TEST_SLOT 5

static struct fake_env F;
static struct pci_device *dev;
static struct {
	uint64_t off;
	unsigned len;
	bool write;
	uint32_t value;
	unsigned n;
	unsigned bar;
} last;

static uint32_t pio_in32(uint16_t port)
{
	uint8_t d[4];
	bus_access(&F.pio, port, d, 4, false);
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static uint32_t cfg_read(unsigned slot, unsigned off, unsigned len)
{
	uint8_t d[4] = { 0 };
	pio_out32(&F, 0xcf8, CFG_ADDR(slot, off));
	bus_access(&F.pio, 0xcfc + (off & 3), d, len, false);
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static void cfg_write(unsigned slot, unsigned off, unsigned len, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	pio_out32(&F, 0xcf8, CFG_ADDR(slot, off));
	bus_access(&F.pio, 0xcfc + (off & 3), d, len, true);
}

static void bar_access(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	last.off = off;
	last.len = len;
	last.write = is_write;
	last.n++;
	last.bar = (unsigned)(uintptr_t)opaque;
	if (is_write)
		last.value = data[0] | (len > 1 ? data[1] << 8 : 0);
	else
		memset(data, 0x5a, len);
}

static const struct pci_device_desc test_desc = {
	.name = "test", .slot = TEST_SLOT,
	.vendor_id = 0x1af4, .device_id = 0x1042, .revision = 1,
	.subsystem_vendor_id = 0x1af4, .subsystem_id = 0x0002,
	.class_code = 0x01, .subclass = 0x00, .prog_if = 0x00,
	.intx = true,
	.bar = {
		[0] = { PCI_BAR_IO, false, 0x40, bar_access, (void *)0 },
		[1] = { PCI_BAR_MEM32, false, 0x1000, bar_access, (void *)1 },
		[2] = { PCI_BAR_MEM64, true, 0x4000, bar_access, (void *)2 },
	},
};

static void start(void)
{
	char err[200];
	memset(&last, 0, sizeof(last));
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "i440fx"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "piix3"));
	dev = pci_register_device(F.pci, &test_desc, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
}

static void stop(void)
{
	pci_unregister_device(dev);
	fake_env_fini(&F);
}

static void test_config_mechanism(void)
{
	start();
	/* CONFIG_ADDRESS: dword only; reserved bits 30:24 and 1:0 read 0 */
	pio_out32(&F, 0xcf8, 0xffffffff);
	CU_ASSERT_EQUAL(pio_in32(0xcf8), 0x80fffffc);
	pio_out32(&F, 0xcf8, 0x80000000);
	CU_ASSERT_EQUAL(pio_in32(0xcf8), 0x80000000);
	pio_out8(&F, 0xcfb, 0x01);			/* Linux's type-1 probe */
	CU_ASSERT_EQUAL(pio_in32(0xcf8), 0x80000000);
	CU_ASSERT_EQUAL(pio_in8(&F, 0xcf9), 0xff);
	CU_ASSERT(pci_bus_counters(F.pci)->config_bad_access >= 2);

	/* the host bridge and the ISA bridge, QEMU's pc IDs */
	CU_ASSERT_EQUAL(cfg_read(0, 0, 4), 0x12378086);
	CU_ASSERT_EQUAL(cfg_read(0, 8, 4) >> 8, 0x060000);
	CU_ASSERT_EQUAL(cfg_read(0, 8, 1), 0x02);
	CU_ASSERT_EQUAL(cfg_read(1, 0, 4), 0x70008086);
	CU_ASSERT_EQUAL(cfg_read(1, 0x0a, 2), 0x0601);
	CU_ASSERT_EQUAL(cfg_read(1, 0x0e, 1), 0x00);

	/* widths and lanes: bytes and words at any offset of the dword */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0, 4), 0x10421af4);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 1, 1), 0x1a);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 2, 2), 0x1042);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 3, 1), 0x10);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 1, 2), 0x421a);	/* unaligned word */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x2c, 4), 0x00021af4);
	/* a dword at 0xcfd straddles 0xcff: the lanes past it read ones */
	pio_out32(&F, 0xcf8, CFG_ADDR(TEST_SLOT, 0));
	uint8_t d[4];
	bus_access(&F.pio, 0xcfd, d, 4, false);
	CU_ASSERT_EQUAL(d[0], 0x1a);
	CU_ASSERT_EQUAL(d[2], 0x10);
	CU_ASSERT_EQUAL(d[3], 0xff);

	/* enable bit clear, another bus, another function, an empty slot */
	pio_out32(&F, 0xcf8, CFG_ADDR(TEST_SLOT, 0) & 0x7fffffff);
	CU_ASSERT_EQUAL(pio_in32(0xcfc), 0xffffffff);
	pio_out32(&F, 0xcf8, CFG_ADDR(TEST_SLOT, 0) | 1 << 16);
	CU_ASSERT_EQUAL(pio_in32(0xcfc), 0xffffffff);
	pio_out32(&F, 0xcf8, CFG_ADDR(TEST_SLOT, 0) | 1 << 8);
	CU_ASSERT_EQUAL(pio_in32(0xcfc), 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(7, 0, 4), 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(31, 0, 2), 0xffff);
	cfg_write(7, 4, 2, 0xffff);			/* dropped */
	CU_ASSERT(pci_bus_counters(F.pci)->config_absent >= 6);

	/* read-only IDs and class; COMMAND's writable bits only */
	cfg_write(TEST_SLOT, 0, 4, 0);
	cfg_write(TEST_SLOT, 8, 4, 0);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0, 4), 0x10421af4);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 8, 4), 0x01000001);
	CU_ASSERT_FALSE(pci_bus_master(dev));
	cfg_write(TEST_SLOT, 4, 2, 0xffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 4, 2), 0x0407);
	CU_ASSERT_TRUE(pci_bus_master(dev));
	cfg_write(TEST_SLOT, 4, 2, 0);
	/* interrupt pin read-only, line writable, preset to the routing */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x3d, 1), 1);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x3c, 1), pci_intx_line(TEST_SLOT, 1));
	cfg_write(TEST_SLOT, 0x3c, 2, 0x0709);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x3c, 2), 0x0109);
	/* no capabilities: STATUS bit 4 clear, pointer 0 */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 6, 2) & PCI_STATUS_CAP_LIST, 0);
	stop();
}

/* Sizing, moving and decode enable for one BAR at bar_reg. */
static void check_bar(unsigned bar, uint32_t size, uint32_t size_mask, uint32_t type_bits,
		      uint16_t decode, uint32_t addr, struct bus *bus)
{
	unsigned reg = 0x10 + 4 * bar;
	uint64_t at;

	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, reg, 4), type_bits);
	cfg_write(TEST_SLOT, reg, 4, 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, reg, 4), size_mask | type_bits);
	cfg_write(TEST_SLOT, reg, 4, addr);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, reg, 4), addr | type_bits);
	/* not decoded until COMMAND says so */
	CU_ASSERT_FALSE(pci_bar_mapped(dev, bar, NULL));
	CU_ASSERT_PTR_NULL(bus_find(bus, addr));
	cfg_write(TEST_SLOT, 4, 2, decode);
	CU_ASSERT_TRUE(pci_bar_mapped(dev, bar, &at));
	CU_ASSERT_EQUAL(at, addr);
	uint8_t d[2] = { 0x34, 0x12 };
	last.n = 0;
	bus_access(bus, addr + 2, d, 2, true);
	CU_ASSERT_EQUAL(last.n, 1);
	CU_ASSERT_EQUAL(last.bar, bar);
	CU_ASSERT_EQUAL(last.off, 2);
	CU_ASSERT_EQUAL(last.value, 0x1234);
	bus_access(bus, addr, d, 1, false);
	CU_ASSERT_EQUAL(d[0], 0x5a);
	/* moved while decoding: the old range goes, the new one comes */
	uint32_t moved = addr + 2 * size;
	cfg_write(TEST_SLOT, reg, 4, moved);
	CU_ASSERT_PTR_NULL(bus_find(bus, addr));
	CU_ASSERT_PTR_NOT_NULL(bus_find(bus, moved));
	/* decode off: unmapped, the register keeps its value */
	cfg_write(TEST_SLOT, 4, 2, 0);
	CU_ASSERT_PTR_NULL(bus_find(bus, moved));
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, reg, 4), moved | type_bits);
}

static void test_bars(void)
{
	start();
	check_bar(0, 0x40, 0xffc0, PCI_BAR_SPACE_IO, PCI_COMMAND_IO, 0xc000, &F.pio);
	check_bar(1, 0x1000, 0xfffff000, 0, PCI_COMMAND_MEMORY, 0xc0000000, &F.mmio);
	/* 64-bit: low dword, then the high one sizes as all ones (16 KiB) */
	check_bar(2, 0x4000, 0xffffc000, PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH, PCI_COMMAND_MEMORY,
		  0xc0100000, &F.mmio);
	cfg_write(TEST_SLOT, 0x1c, 4, 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x1c, 4), 0xffffffff);
	cfg_write(TEST_SLOT, 0x1c, 4, 0x2);		/* above 4 GiB: 0x2_c0108000 */
	cfg_write(TEST_SLOT, 4, 2, PCI_COMMAND_MEMORY);
	uint64_t at;
	CU_ASSERT_TRUE(pci_bar_mapped(dev, 2, &at));
	CU_ASSERT_EQUAL(at, 0x2c0108000ull);
	CU_ASSERT_PTR_NOT_NULL(bus_find(&F.mmio, 0x2c0108000ull));
	/* BARs 3-5 and the one after the 64-bit BAR's pair: absent, read 0 */
	cfg_write(TEST_SLOT, 0x20, 4, 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x20, 4), 0);
	cfg_write(TEST_SLOT, 4, 2, 0);

	/* refused placements: over another range, past 64 KiB of ports;
	 * counted once each, nothing mapped, nothing crashes */
	unsigned long refused = pci_bus_counters(F.pci)->bar_refused;
	cfg_write(TEST_SLOT, 0x14, 4, 0xfec00000);	/* unaligned to 4 KiB: rounds down */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x14, 4), 0xfec00000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "ioapic"));
	cfg_write(TEST_SLOT, 0x10, 4, 0xffc0);		/* the last 64 ports: fits */
	cfg_write(TEST_SLOT, 4, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	CU_ASSERT_TRUE(pci_bar_mapped(dev, 0, NULL));
	CU_ASSERT_FALSE(pci_bar_mapped(dev, 1, NULL));	/* over the IOAPIC */
	CU_ASSERT_EQUAL(pci_bus_counters(F.pci)->bar_refused, refused + 1);
	cfg_write(TEST_SLOT, 4, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);	/* again */
	CU_ASSERT_EQUAL(pci_bus_counters(F.pci)->bar_refused, refused + 1);
	cfg_write(TEST_SLOT, 0x10, 4, 0xfffc);		/* sizing leaves it at 0xffc0 */
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x10, 4), 0xffc1);
	/* two BARs on one address: the second is refused */
	cfg_write(TEST_SLOT, 0x14, 4, 0xd0000000);
	cfg_write(TEST_SLOT, 0x18, 4, 0xd0000000);
	cfg_write(TEST_SLOT, 0x1c, 4, 0);
	CU_ASSERT_TRUE(pci_bar_mapped(dev, 1, NULL));
	CU_ASSERT_FALSE(pci_bar_mapped(dev, 2, NULL));
	/* reset: unmapped, registers back to their type bits */
	pci_device_reset(dev);
	CU_ASSERT_PTR_NULL(bus_find(&F.mmio, 0xd0000000));
	CU_ASSERT_PTR_NULL(bus_find(&F.pio, 0xffc0));
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x14, 4), 0);
	stop();
}

/* A BAR the bus refuses to build, a 64-bit BAR without its pair, a slot
 * taken. */
static void test_bad_descriptions(void)
{
	char err[200];
	start();
	struct pci_device_desc d = test_desc;
	d.slot = 9;
	d.bar[0].size = 0x30;
	CU_ASSERT_PTR_NULL(pci_register_device(F.pci, &d, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a size PCI allows"));
	d = test_desc;
	d.slot = 9;
	d.bar[5] = (struct pci_bar_desc){ PCI_BAR_MEM64, false, 0x1000, NULL, NULL };
	CU_ASSERT_PTR_NULL(pci_register_device(F.pci, &d, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs BAR 6 free"));
	d = test_desc;
	CU_ASSERT_PTR_NULL(pci_register_device(F.pci, &d, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "slot 5 is taken by test"));
	d.slot = -1;
	struct pci_device *any = pci_register_device(F.pci, &d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(any);
	CU_ASSERT_EQUAL(pci_device_slot(any), 2);	/* the first free one */
	pci_unregister_device(any);
	CU_ASSERT_EQUAL(cfg_read(2, 0, 4), 0xffffffff);
	stop();
}

static void test_capabilities(void)
{
	start();
	unsigned a = pci_add_capability(dev, PCI_CAP_ID_VNDR, 16);
	unsigned b = pci_add_capability(dev, PCI_CAP_ID_MSIX, 12);
	unsigned c = pci_add_capability(dev, PCI_CAP_ID_VNDR, 6);
	CU_ASSERT_EQUAL(a, 0x40);
	CU_ASSERT_EQUAL(b, 0x50);
	CU_ASSERT_EQUAL(c, 0x5c);
	pci_config_set(dev, a + 2, 1, 16);		/* vendor cap's length */
	pci_config_set_wmask(dev, a + 4, 4, 0x0000ffff);
	CU_ASSERT_EQUAL(pci_add_capability(dev, PCI_CAP_ID_VNDR, 200), 0);	/* no room */
	/* the guest walks the list as a driver does */
	CU_ASSERT(cfg_read(TEST_SLOT, 6, 2) & PCI_STATUS_CAP_LIST);
	unsigned at = cfg_read(TEST_SLOT, 0x34, 1), seen[4], n = 0;
	while (at && n < 4) {
		seen[n++] = at;
		at = cfg_read(TEST_SLOT, at + 1, 1);
	}
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(seen[0], a);
	CU_ASSERT_EQUAL(seen[1], b);
	CU_ASSERT_EQUAL(seen[2], c);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, b, 1), PCI_CAP_ID_MSIX);
	CU_ASSERT_EQUAL(pci_find_capability(dev, PCI_CAP_ID_MSIX), b);
	CU_ASSERT_EQUAL(pci_find_capability(dev, PCI_CAP_ID_MSI), 0);
	/* the list itself is read-only; the model's writable bits are not */
	cfg_write(TEST_SLOT, 0x34, 1, 0x80);
	cfg_write(TEST_SLOT, a, 4, 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, 0x34, 1), a);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, a, 4), 0x00100000 | b << 8 | PCI_CAP_ID_VNDR);
	cfg_write(TEST_SLOT, a + 4, 4, 0xffffffff);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, a + 4, 4), 0x0000ffff);
	/* reset keeps the list, drops the guest's writes */
	pci_device_reset(dev);
	CU_ASSERT_EQUAL(cfg_read(TEST_SLOT, a + 4, 4), 0);
	CU_ASSERT_EQUAL(pci_find_capability(dev, PCI_CAP_ID_MSIX), b);
	stop();
}

#define IO	0xfec00000u
#define LAPIC_EOI 0xfee000b0u

/* INTA# as a level line: through the IOAPIC (level pin, Remote IRR,
 * delivered again after an EOI while still asserted), COMMAND's INTx
 * disable and STATUS bit 3. */
static void test_intx(void)
{
	start();
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "lapic"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "ioapic"));
	unsigned line = pci_intx_line(TEST_SLOT, 1);
	CU_ASSERT(line == 10 || line == 11);
	CU_ASSERT_NOT_EQUAL(pci_intx_line(TEST_SLOT, 1), pci_intx_line(TEST_SLOT + 1, 1));
	CU_ASSERT_EQUAL(pci_intx_line(TEST_SLOT, 2), pci_intx_line(TEST_SLOT + 1, 1));
	mmio_write32(&F, IO, 0x10 + 2 * line);
	mmio_write32(&F, IO + 0x10, 0xa000 | 0x41);	/* level, active low, vector 0x41 */
	mmio_write32(&F, IO, 0x11 + 2 * line);
	mmio_write32(&F, IO + 0x10, 0);

	pci_set_intx(dev, true);
	CU_ASSERT_TRUE(F.line[line]);
	CU_ASSERT(cfg_read(TEST_SLOT, 6, 2) & PCI_STATUS_INTERRUPT);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x41);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));	/* Remote IRR holds it */
	mmio_write32(&F, LAPIC_EOI, 0);			/* still asserted: again */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x41);
	pci_set_intx(dev, false);
	CU_ASSERT_FALSE(F.line[line]);
	mmio_write32(&F, LAPIC_EOI, 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	/* INTx disable holds the line low; STATUS still shows the device's */
	cfg_write(TEST_SLOT, 4, 2, PCI_COMMAND_INTX_DISABLE);
	pci_set_intx(dev, true);
	CU_ASSERT_FALSE(F.line[line]);
	CU_ASSERT(cfg_read(TEST_SLOT, 6, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(TEST_SLOT, 4, 2, 0);
	CU_ASSERT_TRUE(F.line[line]);
	/* a second device on the same line: wired-OR */
	char err[200];
	struct pci_device_desc d = test_desc;
	d.slot = TEST_SLOT + 2;
	memset(d.bar, 0, sizeof(d.bar));
	struct pci_device *other = pci_register_device(F.pci, &d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_EQUAL(pci_intx_line(TEST_SLOT + 2, 1), line);
	pci_set_intx(other, true);
	pci_set_intx(dev, false);
	CU_ASSERT_TRUE(F.line[line]);
	pci_set_intx(other, false);
	CU_ASSERT_FALSE(F.line[line]);
	/* unregistering drops the device's drive */
	pci_set_intx(other, true);
	pci_unregister_device(other);
	CU_ASSERT_FALSE(F.line[line]);
	stop();
}

UNIT_SUITE(pci, NULL, NULL,
	   UNIT_TEST(test_config_mechanism),
	   UNIT_TEST(test_bars),
	   UNIT_TEST(test_bad_descriptions),
	   UNIT_TEST(test_capabilities),
	   UNIT_TEST(test_intx))

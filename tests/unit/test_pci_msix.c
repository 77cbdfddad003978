/*
 * MSI-X (devices/pci/pci_msix.c) on a function of the fake machine's PCI
 * bus with a local APIC to receive the messages: the capability as a
 * driver finds it, the table and PBA in a memory BAR, per-vector and
 * function masks holding messages as pending bits and releasing them on
 * unmask, INTx held off while MSI-X is on, reserved bits, bad addresses,
 * reset and a save/load round trip.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/device_state.h"
#include "devices/pci/pci.h"
#include "devices/pci/pci_msix.h"

#define SLOT 3
#define BAR_ADDR 0xc0000000u
#define TABLE 0x000
#define PBA 0x800
#define CFG_ADDR(off) (0x80000000u | SLOT << 11 | ((off) & 0xfc))

static struct fake_env F;
static struct pci_device *dev;
static struct pci_msix *msix;
static unsigned own_accesses;

static void cfg_write(unsigned off, unsigned len, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	pio_out32(&F, 0xcf8, CFG_ADDR(off));
	bus_access(&F.pio, 0xcfc + (off & 3), d, len, true);
}

static uint32_t cfg_read(unsigned off, unsigned len)
{
	uint8_t d[4] = { 0 };
	pio_out32(&F, 0xcf8, CFG_ADDR(off));
	bus_access(&F.pio, 0xcfc + (off & 3), d, len, false);
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static void bar_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	if (pci_msix_bar_io(msix, off, data, len, is_write))
		return;
	own_accesses++;
	if (!is_write)
		memset(data, 0, len);
}

static void entry(unsigned v, uint32_t addr, uint32_t data, uint32_t ctrl)
{
	uint32_t base = BAR_ADDR + TABLE + 16 * v;
	mmio_write32(&F, base, addr);
	mmio_write32(&F, base + 4, 0);
	mmio_write32(&F, base + 8, data);
	mmio_write32(&F, base + 12, ctrl);
}

static unsigned cap;

/* The vector the local APIC delivers, then its EOI (a vector in service
 * blocks its own priority class). */
static int take(void)
{
	int v = fake_acknowledge(&F);
	mmio_write32(&F, 0xfee000b0u, 0);
	return v;
}

static void start(void)
{
	char err[200];
	own_accesses = 0;
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "i440fx"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "lapic"));
	const struct pci_device_desc d = {
		.name = "msix-test", .slot = SLOT, .vendor_id = 0x1af4, .device_id = 0x1041,
		.intx = true,
		.bar = { [1] = { PCI_BAR_MEM32, false, 0x1000, bar_io, NULL } },
	};
	dev = pci_register_device(F.pci, &d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	msix = pci_msix_create(dev, 4, 1, TABLE, PBA, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(msix);
	cap = pci_find_capability(dev, PCI_CAP_ID_MSIX);
	CU_ASSERT_FATAL(cap != 0);
	cfg_write(0x14, 4, BAR_ADDR);
	cfg_write(4, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void stop(void)
{
	pci_unregister_device(dev);
	fake_env_fini(&F);
}

static void test_capability(void)
{
	char err[200];
	start();
	CU_ASSERT_EQUAL(cfg_read(0x34, 1), cap);
	CU_ASSERT_EQUAL(cfg_read(cap, 1), PCI_CAP_ID_MSIX);
	CU_ASSERT_EQUAL(cfg_read(cap + 2, 2), 3);		/* table size - 1 */
	CU_ASSERT_EQUAL(cfg_read(cap + 4, 4), TABLE | 1);	/* offset | BIR */
	CU_ASSERT_EQUAL(cfg_read(cap + 8, 4), PBA | 1);
	cfg_write(cap + 2, 2, 0xffff);				/* only bits 15, 14 */
	CU_ASSERT_EQUAL(cfg_read(cap + 2, 2), 0xc003);
	cfg_write(cap + 4, 4, 0);				/* read-only */
	CU_ASSERT_EQUAL(cfg_read(cap + 4, 4), TABLE | 1);
	/* every vector starts masked, the device's own registers still work */
	for (unsigned v = 0; v < 4; v++)
		CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + 16 * v + 12), 1);
	mmio_read32(&F, BAR_ADDR + 0x900);
	CU_ASSERT_EQUAL(own_accesses, 1);
	/* descriptions it refuses */
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 4, 1, 0, 0x800, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already"));
	stop();
	start();
	pci_unregister_device(dev);
	const struct pci_device_desc d = {
		.name = "bad", .slot = SLOT,
		.bar = { [0] = { PCI_BAR_IO, false, 0x100, NULL, NULL },
			 [1] = { PCI_BAR_MEM32, false, 0x100, NULL, NULL } },
	};
	dev = pci_register_device(F.pci, &d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 4, 0, 0, 0x80, err, sizeof(err)));	/* I/O BAR */
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 16, 1, 0, 0x80, err, sizeof(err)));	/* overlap */
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 4, 1, 0, 0x100, err, sizeof(err)));	/* outside */
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 4, 1, 4, 0x80, err, sizeof(err)));	/* misaligned */
	CU_ASSERT_PTR_NULL(pci_msix_create(dev, 0, 1, 0, 0x80, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0 MSI-X vectors"));
	CU_ASSERT_PTR_NOT_NULL(pci_msix_create(dev, 4, 1, 0, 0x80, err, sizeof(err)));
	stop();
}

static void test_masks_and_pending(void)
{
	start();
	/* disabled: the device must use INTx */
	CU_ASSERT_FALSE(pci_msix_notify(msix, 0));
	cfg_write(cap + 2, 2, 0x8000);				/* enable */
	CU_ASSERT_TRUE(pci_msix_enabled(msix));
	/* masked vector: held as a pending bit, nothing delivered */
	CU_ASSERT_TRUE(pci_msix_notify(msix, 2));
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_TRUE(pci_msix_pending(msix, 2));
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + PBA), 1u << 2);
	mmio_write32(&F, BAR_ADDR + PBA, 0);			/* read-only */
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + PBA), 1u << 2);
	/* programming the entry with the mask still set: still held */
	entry(2, 0xfee00000, 0x52, 1);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	/* unmasking releases it */
	mmio_write32(&F, BAR_ADDR + 16 * 2 + 12, 0);
	CU_ASSERT_EQUAL(take(), 0x52);
	CU_ASSERT_FALSE(pci_msix_pending(msix, 2));
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + PBA), 0);
	/* unmasked: sent at once */
	CU_ASSERT_TRUE(pci_msix_notify(msix, 2));
	CU_ASSERT_EQUAL(take(), 0x52);
	/* function mask: held, released when the function mask clears */
	entry(0, 0xfee00000, 0x50, 0);
	cfg_write(cap + 2, 2, 0xc000);
	CU_ASSERT_TRUE(pci_msix_notify(msix, 0));
	CU_ASSERT_TRUE(pci_msix_notify(msix, 2));
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + PBA), 0x5);
	cfg_write(cap + 2, 2, 0x8000);
	CU_ASSERT_EQUAL(pci_msix_counters(msix)->sent, 4);
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + PBA), 0);
	CU_ASSERT_EQUAL(take(), 0x52);		/* the higher vector first */
	CU_ASSERT_EQUAL(take(), 0x50);
	/* a vector beyond the table */
	CU_ASSERT_FALSE(pci_msix_notify(msix, 4));
	stop();
}

static void test_intx_off_while_enabled(void)
{
	start();
	unsigned line = pci_intx_line(SLOT, 1);
	pci_set_intx(dev, true);
	CU_ASSERT_TRUE(F.line[line]);
	cfg_write(cap + 2, 2, 0x8000);
	CU_ASSERT_FALSE(F.line[line]);
	cfg_write(cap + 2, 2, 0);
	CU_ASSERT_TRUE(F.line[line]);
	pci_set_intx(dev, false);
	stop();
}

static void test_guest_mistakes(void)
{
	start();
	cfg_write(cap + 2, 2, 0x8000);
	/* reserved bits read 0; the address's low two bits too */
	entry(1, 0xfee00003, 0x51, 0xfffffffe);
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + 16 + 0), 0xfee00000);
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + 16 + 12), 0);
	/* an address that is not the APICs': refused and counted */
	entry(3, 0x12345678, 0x53, 0);
	CU_ASSERT_TRUE(pci_msix_notify(msix, 3));
	CU_ASSERT_EQUAL(pci_msix_counters(msix)->refused, 1);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	/* 64-bit and byte accesses */
	mmio_write(&F, BAR_ADDR + 16 * 1 + 8, 0x0000000000000059ull, 8);
	CU_ASSERT_EQUAL(mmio_read(&F, BAR_ADDR + 16 * 1 + 8, 1), 0x59);
	CU_ASSERT_TRUE(pci_msix_notify(msix, 1));
	CU_ASSERT_EQUAL(take(), 0x59);
	/* reset: masked again, nothing pending, MSI-X off */
	mmio_write32(&F, BAR_ADDR + 16 * 1 + 12, 1);
	pci_msix_notify(msix, 1);
	pci_device_reset(dev);
	CU_ASSERT_FALSE(pci_msix_enabled(msix));
	CU_ASSERT_FALSE(pci_msix_pending(msix, 1));
	CU_ASSERT_EQUAL(pci_config_get(dev, cap + 2, 2), 3);
	stop();
}

static void test_save_load(void)
{
	start();
	cfg_write(cap + 2, 2, 0xc000);
	entry(1, 0xfee00000, 0x61, 0);
	pci_msix_notify(msix, 1);
	struct ds_writer w = { 0 };
	pci_device_save(dev, &w);
	CU_ASSERT_FALSE_FATAL(w.failed);
	pci_device_reset(dev);
	CU_ASSERT_FALSE(pci_msix_pending(msix, 1));
	/* a cut blob changes nothing */
	struct ds_reader cut = { w.data, w.len - 1, 0, false, "" };
	CU_ASSERT_EQUAL(pci_device_load(dev, &cut), -1);
	CU_ASSERT_FALSE(pci_msix_enabled(msix));
	struct ds_reader r = { w.data, w.len, 0, false, "" };
	CU_ASSERT_EQUAL(pci_device_load(dev, &r), 0);
	CU_ASSERT_TRUE(pci_msix_pending(msix, 1));
	CU_ASSERT_EQUAL(mmio_read32(&F, BAR_ADDR + 16 + 8), 0x61);	/* BAR mapped again */
	cfg_write(cap + 2, 2, 0x8000);
	CU_ASSERT_EQUAL(take(), 0x61);
	free(w.data);
	stop();
}

UNIT_SUITE(pci_msix, NULL, NULL,
	   UNIT_TEST(test_capability),
	   UNIT_TEST(test_masks_and_pending),
	   UNIT_TEST(test_intx_off_while_enabled),
	   UNIT_TEST(test_guest_mistakes),
	   UNIT_TEST(test_save_load))

/*
 * MSI-X on the virtio PCI transport (virtio 1.2 4.1.4.3, 4.1.5.1.2,
 * 4.1.5.3), as a driver meets it: the capability and its table in BAR 1,
 * config_msix_vector and queue_msix_vector read back as written or as
 * VIRTIO_MSI_NO_VECTOR beyond the table, events on INTA# until MSI-X is
 * enabled, then on their vectors at the local APIC with INTA# quiet, and
 * nowhere for an event without a vector.
 */
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "virtio_pci_driver.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_blk_req.h"
#include "devices/virtio/virtio_dev.h"

enum { CAP_COMMON = 1, CAP_ISR = 3 };
#define MSIX_BAR_ADDR 0xfe100000u
#define RINGS 0x10000ull
#define HDR 0x20000ull
#define DATA 0x21000ull
#define STATUS 0x30000ull

static struct fake_env F;
static struct fake_disk disk;
static struct vdrv d;
static unsigned cap;		/* the MSI-X capability's offset */

static void start(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "lapic"));
	CU_ASSERT_EQUAL_FATAL(fake_disk_open(&disk, "msix", 64, false), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create_config(&F, "virtio-blk", disk.config));
	CU_ASSERT_EQUAL_FATAL(vdrv_find(&d, &F, 0x1042), 0);
	vdrv_cfg_write(&F, d.slot, PCI_BAR0 + 4, 4, MSIX_BAR_ADDR);
	vdrv_map_bar(&d, VDRV_BAR_ADDR);		/* and memory decode on */
	CU_ASSERT_EQUAL_FATAL(vdrv_read_caps(&d), 4);
	cap = 0;
	for (unsigned at = vdrv_cfg_read(&F, d.slot, PCI_CAPABILITY_LIST, 1), n = 0; at && n < 48;
	     at = vdrv_cfg_read(&F, d.slot, at + 1, 1), n++)
		if (vdrv_cfg_read(&F, d.slot, at, 1) == PCI_CAP_ID_MSIX)
			cap = at;
	CU_ASSERT_NOT_EQUAL_FATAL(cap, 0);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, 1ull << VIRTIO_F_VERSION_1) & VIRTIO_CONFIG_S_FEATURES_OK,
			VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&d, 16, RINGS);
}

static void stop(void)
{
	fake_env_fini(&F);
	fake_disk_close(&disk);
}

static bool intx(void)
{
	return F.line[pci_intx_line(d.slot, 1)];
}

/* Table entry v: message to the BSP's local APIC with vector. */
static void entry(unsigned v, uint8_t vector)
{
	uint32_t at = MSIX_BAR_ADDR + 16 * v;
	mmio_write32(&F, at, 0xfee00000u);
	mmio_write32(&F, at + 4, 0);
	mmio_write32(&F, at + 8, vector);
	mmio_write32(&F, at + 12, 0);		/* unmasked */
}

static int take(void)
{
	int v = fake_acknowledge(&F);
	mmio_write32(&F, 0xfee000b0u, 0);	/* EOI */
	return v;
}

static bool read_sector(unsigned n)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { VIRTIO_BLK_T_IN, 0, n };
	memcpy(fake_guest_ram_host(&F.ram, HDR), &h, sizeof(h));
	vdrv_post(&d, (const uint64_t[]){ HDR, DATA, STATUS }, (const uint32_t[]){ 16, 512, 1 },
		  (const bool[]){ false, true, true }, 3);
	vdrv_kick(&d, 0);
	for (int i = 0; i < 400 && vdrv_used_idx(&d) != d.avail_idx; i++)
		fake_wait_fds(&F, 5);
	return vdrv_used_idx(&d) == d.avail_idx;
}

static uint16_t common16(uint32_t off)
{
	return (uint16_t)vdrv_read(&d, CAP_COMMON, off, 2);
}

/* PCI 3.0 6.8.2: table size N-1 = nr_queues, table and PBA in BAR 1. */
static void test_capability(void)
{
	start();
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, cap + 2, 2) & 0x7ff, 1);	/* 2 vectors */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, cap + 4, 4), 0x000 | 1);	/* table: BIR 1 */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, cap + 8, 4), 0x800 | 1);	/* PBA: BIR 1 */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 4, 4), MSIX_BAR_ADDR);
	/* the table answers in BAR 1: entries start masked */
	CU_ASSERT_EQUAL(mmio_read32(&F, MSIX_BAR_ADDR + 12), 1);
	mmio_write32(&F, MSIX_BAR_ADDR + 8, 0x1234);
	CU_ASSERT_EQUAL(mmio_read32(&F, MSIX_BAR_ADDR + 8), 0x1234);
	stop();
}

/* 4.1.4.3: vectors read back as written, VIRTIO_MSI_NO_VECTOR when the
 * table has no such entry (4.1.5.1.2: "mapping failed"). */
static void test_vector_registers(void)
{
	start();
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);	/* after reset */
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_MSIX, 2, 0);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, 1);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_MSIX), 0);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_Q_MSIX), 1);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_MSIX, 2, 2);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, 0x7ff);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, 1);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	/* a queue the device does not have: nothing to map */
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SELECT, 2, 1);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, 0);
	CU_ASSERT_EQUAL(common16(VIRTIO_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	stop();
}

/* INTA# while MSI-X is off; the queue's vector once on, INTA# quiet;
 * no interrupt at all for a queue without a vector; the configuration
 * vector for NEEDS_RESET (2.1.2). */
static void test_delivery(void)
{
	start();
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_MSIX, 2, 0);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, 1);
	entry(0, 0x45);
	entry(1, 0x46);
	vdrv_driver_ok(&d);

	CU_ASSERT_TRUE_FATAL(read_sector(1));
	CU_ASSERT_TRUE(intx());
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_ISR, 0, 1), 1);
	CU_ASSERT_FALSE(intx());

	vdrv_cfg_write(&F, d.slot, cap + 2, 2, 0x8000);		/* MSI-X enable */
	CU_ASSERT_TRUE_FATAL(read_sector(2));
	CU_ASSERT_FALSE(intx());
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(take(), 0x46);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(*fake_guest_ram_host(&F.ram, STATUS), VIRTIO_BLK_S_OK);

	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
	CU_ASSERT_TRUE_FATAL(read_sector(3));
	CU_ASSERT_FALSE(intx());
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	/* the driver's avail index jumps past the ring: NEEDS_RESET, told
	 * through the configuration vector */
	uint16_t bogus = (uint16_t)(d.avail_idx + 100);
	memcpy(fake_guest_ram_host(&F.ram, d.avail + 2), &bogus, 2);
	vdrv_kick(&d, 0);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET,
			VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT_EQUAL(take(), 0x45);
	CU_ASSERT_FALSE(intx());
	stop();
}

UNIT_SUITE(virtio_msix, NULL, NULL,
	   UNIT_TEST(test_capability),
	   UNIT_TEST(test_vector_registers),
	   UNIT_TEST(test_delivery))

/*
 * The virtio PCI transport (devices/virtio/virtio_pci.c, virtio 1.2 4.1)
 * with the virtio-blk device model behind it, driven only as a guest
 * drives it: configuration mechanism #1 for the header and capabilities,
 * MMIO in BAR 4 for the structures, requests in fake guest RAM, the
 * disk a real raw file (fake_disk.h) and completions through the VMM's
 * fd watch (fake_wait_fds). Then what a hostile driver does.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unit.h"
#include "fake_device_env.h"
#include "virtio_pci_driver.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_blk_req.h"
#include "devices/virtio/virtio_dev.h"

enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };
#define SECTORS 64
#define RINGS 0x10000ull
#define HDR 0x20000ull
#define DATA 0x21000ull
#define STATUS 0x30000ull
#define FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << 9) /* FLUSH */)

static struct fake_env F;
static struct fake_disk disk;
static struct vdrv d;

/* A machine with one virtio-blk on a fresh disk, BAR 4 placed. */
static void start(bool readonly)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(fake_disk_open(&disk, "vp", SECTORS, readonly), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create_config(&F, "virtio-blk", disk.config));
	CU_ASSERT_EQUAL_FATAL(vdrv_find(&d, &F, 0x1042), 0);
	vdrv_map_bar(&d, VDRV_BAR_ADDR);
	CU_ASSERT_EQUAL_FATAL(vdrv_read_caps(&d), 4);
}

static void stop(void)
{
	fake_env_fini(&F);
	fake_disk_close(&disk);
}

/* Negotiated, queue 0 of 16 entries live. */
static void start_live(bool readonly)
{
	start(readonly);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES) & VIRTIO_CONFIG_S_FEATURES_OK,
			VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&d, 16, RINGS);
	vdrv_driver_ok(&d);
}

static bool intx(void)
{
	return F.line[pci_intx_line(d.slot, 1)];
}

static uint8_t status_of(void)
{
	return (uint8_t)vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_STATUS, 1);
}

/* Posts header, data (len bytes at DATA + n * 0x1000, device-writable
 * for IN) and status for request n. */
static void post(unsigned n, uint32_t type, uint64_t sector, uint32_t len)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { type, 0, sector };
	uint64_t hdr = HDR + 16ull * n, data = DATA + 0x1000ull * n, st = STATUS + n;
	memcpy(fake_guest_ram_host(&F.ram, hdr), &h, sizeof(h));
	*fake_guest_ram_host(&F.ram, st) = 0xee;
	const uint64_t gpa[3] = { hdr, data, st };
	const uint32_t lens[3] = { 16, len, 1 };
	const bool wr[3] = { false, type == VIRTIO_BLK_T_IN, true };
	if (len)
		vdrv_post(&d, gpa, lens, wr, 3);
	else
		vdrv_post(&d, (const uint64_t[]){ hdr, st }, (const uint32_t[]){ 16, 1 },
			  (const bool[]){ false, true }, 2);
}

/* Runs completions as the VMM's loop does until used->idx reaches n. */
static bool wait_used(uint16_t n)
{
	for (int i = 0; i < 400 && vdrv_used_idx(&d) != n; i++)
		fake_wait_fds(&F, 5);
	return vdrv_used_idx(&d) == n;
}

static uint8_t *ram(uint64_t gpa)
{
	return fake_guest_ram_host(&F.ram, gpa);
}

/* 4.1.2.1, and the header a driver matches on. */
static void test_identity(void)
{
	start(false);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_VENDOR_ID, 2), 0x1af4);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_DEVICE_ID, 2), 0x1040 + 2);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_REVISION_ID, 1), 1);	/* non-transitional */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_SUBSYSTEM_ID, 2), 2);
	/* class 01 (mass storage), subclass 00, prog-if 00 */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_CLASS_PROG, 1), 0);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_CLASS_DEVICE, 2), 0x0100);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_HEADER_TYPE, 1), 0);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR 4: 64-bit prefetchable memory of 16 KiB, placed where we said */
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 16, 4) & 0xf,
			PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	CU_ASSERT_EQUAL(d.bar_size, 0x4000);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 16, 4) & ~0xfu, (uint32_t)VDRV_BAR_ADDR);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 20, 4), 0);
	/* BAR 1: MSI-X's 4 KiB, 32-bit, unplaced; no other BAR */
	vdrv_cfg_write(&F, d.slot, PCI_BAR0 + 4, 4, 0xffffffff);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 4, 4), 0xfffff000);
	for (unsigned b = 0; b < 4; b++)
		if (b != 1)
			CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, PCI_BAR0 + 4 * b, 4), 0);
	stop();
}

/* 4.1.4: the four structures, each in BAR 4, inside it and apart; the
 * notify capability's multiplier (4.1.4.4). */
static void test_capabilities(void)
{
	start(false);
	static const uint32_t offset[5] = { 0, 0x0000, 0x3000, 0x1000, 0x2000 };
	static const uint32_t length[5] = { 0, VIRTIO_COMMON_SIZE, 4, 1, 60 };
	for (unsigned t = 1; t <= 4; t++) {
		CU_ASSERT_TRUE(d.cap[t].found);
		CU_ASSERT_EQUAL(d.cap[t].bar, 4);
		CU_ASSERT_EQUAL(d.cap[t].offset, offset[t]);
		CU_ASSERT_EQUAL(d.cap[t].length, length[t]);
		CU_ASSERT(d.cap[t].offset + d.cap[t].length <= d.bar_size);
	}
	CU_ASSERT_EQUAL(d.notify_mult, 4);
	/* the list: MSI-X and the four, each once; the common one's bytes
	 * are read-only to the guest */
	unsigned at = vdrv_cfg_read(&F, d.slot, PCI_CAPABILITY_LIST, 1), common = 0, msix = 0, n = 0;
	for (; at && n < 48; at = vdrv_cfg_read(&F, d.slot, at + 1, 1), n++) {
		CU_ASSERT(at >= PCI_HEADER_END && at % 4 == 0);
		unsigned id = vdrv_cfg_read(&F, d.slot, at, 1);
		if (id == PCI_CAP_ID_MSIX)
			msix++;
		else if (id == PCI_CAP_ID_VNDR && vdrv_cfg_read(&F, d.slot, at + 3, 1) == CAP_COMMON)
			common = at;
	}
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(msix, 1);
	CU_ASSERT_NOT_EQUAL_FATAL(common, 0);
	at = common;
	vdrv_cfg_write(&F, d.slot, at + 8, 4, 0x2000);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, at + 3, 1), CAP_COMMON);
	CU_ASSERT_EQUAL(vdrv_cfg_read(&F, d.slot, at + 8, 4), 0);
	stop();
}

/* 3.1.1 over the BAR: the offer, a subset accepted, an offer exceeded or
 * VERSION_1 left out refused; the device configuration (5.2.4). */
static void test_features(void)
{
	start(false);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_DFSELECT, 4, 0);
	uint32_t lo = (uint32_t)vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_DF, 4);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_DFSELECT, 4, 1);
	uint32_t hi = (uint32_t)vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_DF, 4);
	CU_ASSERT_EQUAL(hi & 1, 1);				/* VERSION_1 */
	CU_ASSERT_EQUAL(lo & (1u << 9), 1u << 9);		/* FLUSH */
	CU_ASSERT_EQUAL(lo & (1u << 5), 0);			/* RO: a writable disk */
	CU_ASSERT_EQUAL(lo & (1u << VIRTIO_F_EVENT_IDX), 1u << VIRTIO_F_EVENT_IDX);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_DFSELECT, 4, 2);	/* beyond: 0 */
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_DF, 4), 0);

	CU_ASSERT_EQUAL(vdrv_negotiate(&d, 1ull << 9) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES | (1ull << 5)) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES) & VIRTIO_CONFIG_S_FEATURES_OK,
			VIRTIO_CONFIG_S_FEATURES_OK);
	/* 3.1.1: fixed once FEATURES_OK is set */
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_GFSELECT, 4, 0);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_GF, 4, 0);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_GF, 4), 1u << 9);

	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_DEVICE, 0, 8), SECTORS);	/* capacity */
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_DEVICE, 20, 4), 512);		/* blk_size */
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_DEVICE, 34, 2), 1);		/* num_queues */
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_NUMQ, 2), 1);
	stop();
}

/* 4.1.4.3.2: queue size, addresses, enable, read back; no moving a live
 * queue; a queue the device has not reads size 0. */
static void test_queue_setup(void)
{
	start(false);
	vdrv_negotiate(&d, FEATURES);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SELECT, 2, 0);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2), 128);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	vdrv_setup_queue(&d, 32, RINGS);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_ENABLE, 2), 1);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2), 32);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_DESCLO, 4), RINGS);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_AVAILLO, 4), RINGS + 0x1000);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_USEDLO, 8), RINGS + 0x2000);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_NOFF, 2), 0);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_DESCLO, 4, 0x40000);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2, 64);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_DESCLO, 4), RINGS);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2), 32);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SELECT, 2, 1);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2), 0);
	CU_ASSERT_EQUAL(status_of() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	stop();
}

/* An IN request end to end: the sector's bytes in guest RAM, status 0,
 * the used ring advanced by one with 513 bytes written, INTA# up until
 * the ISR is read (4.1.4.5.1). */
static void test_read(void)
{
	start_live(false);
	CU_ASSERT_FALSE(intx());
	memset(ram(DATA), 0x5c, 512);
	post(0, VIRTIO_BLK_T_IN, 5, 512);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE_FATAL(wait_used(1));
	uint8_t want[512];
	CU_ASSERT_EQUAL_FATAL(fake_disk_pread(&disk, want, 512, 5 * 512), 0);
	CU_ASSERT_EQUAL(want[7], fake_disk_pattern(5 * 512 + 7));
	CU_ASSERT_EQUAL(memcmp(ram(DATA), want, 512), 0);
	CU_ASSERT_EQUAL(*ram(STATUS), VIRTIO_BLK_S_OK);
	uint32_t id, len;
	vdrv_used_elem(&d, 0, &id, &len);
	CU_ASSERT_EQUAL(id, 0);
	CU_ASSERT_EQUAL(len, 513);
	CU_ASSERT_TRUE(fake_guest_ram_was_written(&F.ram, DATA, 512));
	CU_ASSERT_TRUE(intx());
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_ISR, 0, 1), 1);		/* queue interrupt */
	CU_ASSERT_FALSE(intx());
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_ISR, 0, 1), 0);		/* cleared by the read */
	stop();
}

/* OUT then FLUSH (5.2.6.1): the bytes are in the file. */
static void test_write_flush(void)
{
	start_live(false);
	memset(ram(DATA), 0xa5, 1024);
	post(0, VIRTIO_BLK_T_OUT, 9, 1024);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE_FATAL(wait_used(1));
	CU_ASSERT_EQUAL(*ram(STATUS), VIRTIO_BLK_S_OK);
	post(1, VIRTIO_BLK_T_FLUSH, 0, 0);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE_FATAL(wait_used(2));
	CU_ASSERT_EQUAL(*ram(STATUS + 1), VIRTIO_BLK_S_OK);
	uint8_t got[1536];
	CU_ASSERT_EQUAL_FATAL(fake_disk_pread(&disk, got, sizeof(got), 8 * 512), 0);
	CU_ASSERT_EQUAL(got[511], fake_disk_pattern(8 * 512 + 511));	/* sector 8 kept */
	for (unsigned i = 512; i < 1536; i++)
		if (got[i] != 0xa5) {
			CU_FAIL("sectors 9-10 do not hold what was written");
			break;
		}
	stop();
}

/* A read-only disk: RO offered, a write IOERR and the file untouched. */
static void test_readonly(void)
{
	start(true);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_DFSELECT, 4, 0);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_DF, 4) & (1u << 5), 1u << 5);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES | (1ull << 5)) & VIRTIO_CONFIG_S_FEATURES_OK,
			VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&d, 16, RINGS);
	vdrv_driver_ok(&d);
	memset(ram(DATA), 0x11, 512);
	post(0, VIRTIO_BLK_T_OUT, 2, 512);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE_FATAL(wait_used(1));
	CU_ASSERT_EQUAL(*ram(STATUS), VIRTIO_BLK_S_IOERR);
	uint8_t got[512];
	CU_ASSERT_EQUAL_FATAL(fake_disk_pread(&disk, got, 512, 2 * 512), 0);
	for (unsigned i = 0; i < 512; i++)
		if (got[i] != fake_disk_pattern(2 * 512 + i)) {
			CU_FAIL("a read-only disk was written");
			break;
		}
	stop();
}

/* Notifications for queues never enabled, or beyond the device's, do
 * nothing: no request taken, no interrupt, no NEEDS_RESET. */
static void test_notify_unready(void)
{
	start(false);
	vdrv_negotiate(&d, FEATURES);
	/* rings in RAM with a request in them, queue not enabled */
	d.qsize = 16;
	d.desc = RINGS;
	d.avail = RINGS + 0x1000;
	d.used = RINGS + 0x2000;
	memset(ram(RINGS), 0, 0x3000);
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	vdrv_driver_ok(&d);
	vdrv_kick(&d, 0);
	vdrv_kick(&d, 1);
	vdrv_kick(&d, 1000);		/* past the notify structure: other page */
	vdrv_write(&d, CAP_NOTIFY, 0, 4, 7);
	fake_wait_fds(&F, 20);
	CU_ASSERT_EQUAL(vdrv_used_idx(&d), 0);
	CU_ASSERT_EQUAL(*ram(STATUS), 0xee);
	CU_ASSERT_FALSE(intx());
	CU_ASSERT_EQUAL(status_of() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	stop();
}

/* Rings in the MMIO hole (the device's own BAR): enable refuses them and
 * the device wants a reset (2.1.2); nothing of the BAR is read as RAM. */
static void test_rings_in_mmio(void)
{
	start(false);
	vdrv_negotiate(&d, FEATURES);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SELECT, 2, 0);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2, 16);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_DESCLO, 4, (uint32_t)VDRV_BAR_ADDR);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_AVAILLO, 4, 0x11000);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_USEDLO, 4, 0x12000);
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CU_ASSERT_EQUAL(status_of() & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	vdrv_kick(&d, 0);
	CU_ASSERT_FALSE(intx());
	/* a reset brings it back, and a good queue works */
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES), VIRTIO_CONFIG_S_ACKNOWLEDGE |
			VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&d, 16, RINGS);
	vdrv_driver_ok(&d);
	post(0, VIRTIO_BLK_T_IN, 1, 512);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE(wait_used(1));
	CU_ASSERT_EQUAL(*ram(STATUS), VIRTIO_BLK_S_OK);
	stop();
}

/* Accesses a driver should not make: widths the fields do not have,
 * offsets past each structure, across a page, writes to read-only
 * fields. Reads give 0 or all-ones, nothing changes, the device works. */
static void test_odd_accesses(void)
{
	start_live(false);
	uint8_t st = status_of();
	const uint64_t bar = d.bar;
	static const struct { uint32_t off; unsigned len; } reads[] = {
		{ 0x0040, 4 }, { 0x0100, 2 }, { 0x0ffc, 4 }, { 0x0014, 4 },	/* common */
		{ 0x0015, 2 }, { 0x0003, 1 }, { 0x0016, 1 }, { 0x0001, 3 },
		{ 0x1001, 1 }, { 0x1100, 4 },					/* ISR */
		{ 0x2000 + 60, 1 }, { 0x2000 + 58, 4 }, { 0x2fff, 1 },		/* device */
		{ 0x3000, 4 }, { 0x3ffe, 2 },					/* notify */
	};
	for (unsigned i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		uint64_t v = mmio_read(&F, bar + reads[i].off, reads[i].len);
		uint64_t all = reads[i].len == 8 ? ~0ull : (1ull << (8 * reads[i].len)) - 1;
		CU_ASSERT(v == 0 || v == all);
	}
	/* straddling two structures: refused whole */
	CU_ASSERT_EQUAL(mmio_read(&F, bar + 0x0ffe, 4), 0xffffffff);
	/* writes: read-only fields, odd widths, the device config (read-only
	 * for virtio-blk), past the structures, notify at odd offsets */
	mmio_write(&F, bar + VIRTIO_COMMON_NUMQ, 7, 2);
	mmio_write(&F, bar + VIRTIO_COMMON_DF, 0, 4);
	mmio_write(&F, bar + VIRTIO_COMMON_STATUS, 0, 2);	/* a reset, but 2 bytes wide */
	mmio_write(&F, bar + VIRTIO_COMMON_STATUS, 0, 4);
	mmio_write(&F, bar + VIRTIO_COMMON_Q_SIZE, 8, 1);
	mmio_write(&F, bar + VIRTIO_COMMON_Q_DESCLO + 1, 0x12345678, 4);
	mmio_write(&F, bar + 0x0200, ~0ull, 8);
	mmio_write(&F, bar + 0x2000, 0, 8);			/* capacity */
	mmio_write(&F, bar + 0x1000, 0xff, 1);			/* ISR */
	mmio_write(&F, bar + 0x3001, 0, 1);
	mmio_write(&F, bar + 0x3002, 0, 2);
	mmio_write(&F, bar + 0x4000, 0, 4);			/* past the BAR */
	CU_ASSERT_EQUAL(status_of(), st);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_NUMQ, 2), 1);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_SIZE, 2), 16);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_DESCLO, 4), RINGS);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_DEVICE, 0, 8), SECTORS);
	CU_ASSERT_FALSE(intx());
	post(0, VIRTIO_BLK_T_IN, 3, 512);
	vdrv_kick(&d, 0);
	CU_ASSERT_TRUE(wait_used(1));
	CU_ASSERT_EQUAL(*ram(STATUS), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(*ram(DATA + 100), fake_disk_pattern(3 * 512 + 100));
	stop();
}

/* A disk whose reads take 30 ms, so requests are surely on the workers
 * when the driver resets the device. */
static int slow_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct timespec ts = { 0, 30 * 1000000L };

	nanosleep(&ts, NULL);
	for (int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0x77, iov[i].iov_len);
	return 0;
}

static int slow_flush(struct block_dev *bd) { return 0; }
static void slow_close(struct block_dev *bd) { }

static const struct block_ops slow_ops = {
	.preadv = slow_preadv, .flush = slow_flush, .close = slow_close,
};

/* 2.1 / 4.1.4.3.1: after the driver's reset returns, the device writes
 * nothing more to guest RAM, although its requests were in flight. */
static void test_reset_in_flight(void)
{
	static struct block_dev slow = { .ops = &slow_ops, .size = SECTORS * 512, .readonly = true };
	char err[256];

	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(block_registry_add("vp-slow", &slow, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create_config(&F, "virtio-blk", "drive=vp-slow"));
	CU_ASSERT_EQUAL_FATAL(vdrv_find(&d, &F, 0x1042), 0);
	vdrv_map_bar(&d, VDRV_BAR_ADDR);
	CU_ASSERT_EQUAL_FATAL(vdrv_read_caps(&d), 4);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, FEATURES | (1ull << 5)) & VIRTIO_CONFIG_S_FEATURES_OK,
			VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&d, 16, RINGS);
	vdrv_driver_ok(&d);
	for (unsigned n = 0; n < 4; n++)
		post(n, VIRTIO_BLK_T_IN, n, 512);
	vdrv_kick(&d, 0);
	/* nothing completed yet: the workers sleep, the vCPU thread never polled */
	CU_ASSERT_EQUAL(vdrv_used_idx(&d), 0);
	CU_ASSERT_EQUAL(*ram(DATA + 3 * 0x1000), 0);
	unsigned written_before = F.ram.nr_written;
	vdrv_write(&d, CAP_COMMON, VIRTIO_COMMON_STATUS, 1, 0);
	CU_ASSERT_EQUAL(status_of(), 0);
	/* the reset waited for them: their bytes are in, before it returned */
	CU_ASSERT_EQUAL(*ram(DATA + 3 * 0x1000), 0x77);
	/* what guest RAM holds once the reset returned */
	static uint8_t rings[0x3000], data[4 * 0x1000], status[4];
	memcpy(rings, ram(RINGS), sizeof(rings));
	memcpy(data, ram(DATA), sizeof(data));
	memcpy(status, ram(STATUS), sizeof(status));
	unsigned written_after_reset = F.ram.nr_written;
	CU_ASSERT(written_after_reset >= written_before);
	for (int i = 0; i < 10; i++) {			/* 100 ms: the workers are long done */
		fake_wait_fds(&F, 10);
		fake_poll_all(&F);
	}
	CU_ASSERT_EQUAL(F.ram.nr_written, written_after_reset);
	CU_ASSERT_EQUAL(memcmp(rings, ram(RINGS), sizeof(rings)), 0);
	CU_ASSERT_EQUAL(memcmp(data, ram(DATA), sizeof(data)), 0);
	CU_ASSERT_EQUAL(memcmp(status, ram(STATUS), sizeof(status)), 0);
	CU_ASSERT_EQUAL(vdrv_read(&d, CAP_COMMON, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	fake_env_fini(&F);
	CU_ASSERT_EQUAL(block_registry_remove("vp-slow"), 0);
}

UNIT_SUITE(virtio_pci, NULL, NULL,
	   UNIT_TEST(test_identity),
	   UNIT_TEST(test_capabilities),
	   UNIT_TEST(test_features),
	   UNIT_TEST(test_queue_setup),
	   UNIT_TEST(test_read),
	   UNIT_TEST(test_write_flush),
	   UNIT_TEST(test_readonly),
	   UNIT_TEST(test_notify_unready),
	   UNIT_TEST(test_rings_in_mmio),
	   UNIT_TEST(test_odd_accesses),
	   UNIT_TEST(test_reset_in_flight))

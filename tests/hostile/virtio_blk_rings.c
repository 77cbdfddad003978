/* A hostile virtio-blk driver: the modern virtio-pci transport (virtio
 * 1.2, 4.1) found on bus 0, its BAR placed, one split queue of 8, and
 * requests whose rings and descriptors lie: a data buffer outside RAM,
 * one in ROM (tests/hostile/run.sh maps a 4 KiB --rom at ROM_AT), a
 * descriptor chain that loops, a length of 4 GiB - 1, a head index past
 * the queue, ring addresses outside RAM at enable, and a descriptor
 * table moved while the queue runs. The device must fail each request
 * (returned with nothing written, 2.7.7.1: used length 0) or stop with
 * DEVICE_NEEDS_RESET (2.1.2), never touch memory outside the guest's RAM,
 * and after a reset (status 0) serve a good request again; hyvm must
 * keep running throughout. A good read first shows the driver works, so
 * a failure below is the device's doing. */
#include "guest.h"

GUEST("virtio_blk_rings", "");

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define BAR_AT 0xc0000000u	/* the PCI window (memory_map.h) */
#define ROM_AT 0xfffc0000u	/* run.sh's --rom */
#define OUTSIDE 0x40000000u	/* neither RAM (16 MiB) nor a device */
#define QSIZE 8

#include "virtio_pci_regs.h"

/* the queue and one request, in RAM the library leaves alone */
#define DESC 0x400000u
#define AVAIL 0x401000u
#define USED 0x402000u
#define HDR 0x403000u
#define DATA 0x404000u
#define STAT 0x405000u

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; } __attribute__((packed));

static volatile struct desc *const desc = (volatile struct desc *)DESC;
static volatile uint16_t *const avail = (volatile uint16_t *)AVAIL;	/* flags, idx, ring[] */
static volatile uint16_t *const used16 = (volatile uint16_t *)USED;	/* flags, idx */
static volatile uint32_t *const used_ring = (volatile uint32_t *)(USED + 4);	/* id, len pairs */
static uint16_t last_used;


static bool find_device(void)
{
	for (dev_slot = 0; dev_slot < 32; dev_slot++)
		if (cfg_read(0) == 0x10421af4u)	/* virtio 1.x block */
			return true;
	return false;
}

/* 3.1.1: reset, features (VERSION_1 only), one queue of QSIZE at the
 * given ring addresses, DRIVER_OK; the status the device ends with. */
static uint8_t setup(uint32_t d, uint32_t a, uint32_t u)
{
	*c8(STATUS) = 0;
	*c8(STATUS) = S_ACK | S_DRIVER;
	*c32(GFSELECT) = 1;
	*c32(GF) = 1;		/* bit 32: VIRTIO_F_VERSION_1 */
	*c32(GFSELECT) = 0;
	*c32(GF) = 0;
	*c8(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	*c16(Q_SELECT) = 0;
	*c16(Q_SIZE) = QSIZE;
	*c32(Q_DESC) = d;
	*c32(Q_DESC + 4) = 0;
	*c32(Q_AVAIL) = a;
	*c32(Q_AVAIL + 4) = 0;
	*c32(Q_USED) = u;
	*c32(Q_USED + 4) = 0;
	memset((void *)DESC, 0, 0x3000);
	last_used = 0;
	*c16(Q_ENABLE) = 1;
	*c8(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return *c8(STATUS);
}

/* A read of sector 0: header, 512-byte data, status byte. */
static void good_chain(void)
{
	volatile uint32_t *hdr = (volatile uint32_t *)HDR;

	hdr[0] = 0;	/* VIRTIO_BLK_T_IN */
	hdr[1] = 0;
	hdr[2] = hdr[3] = 0;	/* sector */
	desc[0] = (struct desc){ HDR, 16, F_NEXT, 1 };
	desc[1] = (struct desc){ DATA, 512, F_NEXT | F_WRITE, 2 };
	desc[2] = (struct desc){ STAT, 1, F_WRITE, 0 };
	*(volatile uint8_t *)STAT = 0xee;
	memset((void *)DATA, 0, 512);
}

enum outcome { DONE, FAILED_EMPTY, NEEDS_RESET, NOTHING };

/* Offers head, notifies, waits for the used ring or NEEDS_RESET. */
static enum outcome submit(uint16_t head, uint32_t *len)
{
	uint16_t idx = avail[1];

	avail[2 + idx % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	avail[1] = (uint16_t)(idx + 1);
	*(volatile uint16_t *)(NOTIFY + *c16(Q_NOFF) * 4) = 0;
	for (unsigned spin = 0; spin < 20000000; spin++) {
		if (used16[1] != last_used) {
			*len = used_ring[2 * (last_used % QSIZE) + 1];
			last_used++;
			return *len ? DONE : FAILED_EMPTY;
		}
		if (*c8(STATUS) & S_NEEDS_RESET)
			return NEEDS_RESET;
		__asm__ volatile("pause");
	}
	return NOTHING;
}

static void good_read(const char *when)
{
	uint32_t len = 0;

	check(setup(DESC, AVAIL, USED) == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK),
	      "%s: device live after setup (status 0x%x)", when, *c8(STATUS));
	good_chain();
	enum outcome o = submit(0, &len);
	check(o == DONE && len == 513 && *(volatile uint8_t *)STAT == 0,
	      "%s: a good read completes (outcome %d, len %u, status byte 0x%x)", when, o, len,
	      *(volatile uint8_t *)STAT);
	check_eq("sector 0's first word", *(volatile uint32_t *)DATA, 0x6b736964);	/* "disk" */
}

/* One hostile request: refused (failed, nothing written) or the device
 * stopped, never completed as if good; then a good read after reset. */
static void hostile(const char *name, void (*spoil)(void))
{
	uint32_t len = 0;

	check_begin(name);
	setup(DESC, AVAIL, USED);
	good_chain();
	spoil();
	enum outcome o = submit(0, &len);
	check(o == FAILED_EMPTY || o == NEEDS_RESET,
	      "refused (outcome %d: 0 done, 1 failed, 2 needs reset, 3 nothing; len %u)", o, len);
	printf_serial("%s: %s\n", name, o == FAILED_EMPTY ? "request failed" :
		      o == NEEDS_RESET ? "DEVICE_NEEDS_RESET" : "not refused");
	check(*(volatile uint8_t *)STAT == 0xee, "status byte untouched (0x%x)", *(volatile uint8_t *)STAT);
	good_read("after it");
	check_end();
}

static void data_outside_ram(void) { desc[1].addr = OUTSIDE; }
static void data_in_rom(void) { desc[1].addr = ROM_AT; }
static void data_straddles_ram_end(void) { desc[1].addr = 0x1000000u - 256; }
static void chain_loops(void) { desc[2] = (struct desc){ STAT, 1, F_WRITE | F_NEXT, 1 }; }
static void length_absurd(void) { desc[1].len = 0xffffffffu; }
static void next_past_queue(void) { desc[1].next = 200; }
static void header_outside_ram(void) { desc[0].addr = 0xfffffff0u; }

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	check_begin("find");
	if (!find_device())
		fail_now("no virtio-blk (1af4:1042) on bus 0: run with --disk");
	/* BAR 4: 64-bit memory; placed in the PCI window, memory + bus master on */
	cfg_write(0x20, BAR_AT);
	cfg_write(0x24, 0);
	cfg_write(0x04, cfg_read(0x04) | 0x6);
	check_end();

	check_begin("good");
	good_read("first");
	check_end();

	hostile("data_outside_ram", data_outside_ram);
	hostile("data_in_rom", data_in_rom);
	hostile("data_straddles_ram_end", data_straddles_ram_end);
	hostile("chain_loops", chain_loops);
	hostile("length_absurd", length_absurd);
	hostile("next_past_queue", next_past_queue);
	hostile("header_outside_ram", header_outside_ram);

	/* a head index past the queue: the ring itself is broken */
	check_begin("head_past_queue");
	uint32_t len = 0;
	setup(DESC, AVAIL, USED);
	good_chain();
	enum outcome o = submit(QSIZE + 3, &len);
	check(o == FAILED_EMPTY || o == NEEDS_RESET, "refused (outcome %d)", o);
	good_read("after it");
	check_end();

	/* rings outside RAM or in ROM at enable: the device refuses to run */
	check_begin("rings_outside_ram");
	uint8_t st = setup(OUTSIDE, AVAIL, USED);
	check(st & S_NEEDS_RESET, "descriptor table outside RAM: status 0x%x", st);
	st = setup(DESC, AVAIL, ROM_AT);
	check(st & S_NEEDS_RESET, "used ring in ROM: status 0x%x", st);
	st = setup(DESC, 0x1000000u - 4, USED);
	check(st & S_NEEDS_RESET, "avail ring across the end of RAM: status 0x%x", st);
	good_read("after them");
	check_end();

	/* the descriptor table moved while the queue runs: the write is
	 * ignored (4.1.4.3.2: the driver must not) and the queue goes on */
	check_begin("ring_moved_while_running");
	setup(DESC, AVAIL, USED);
	*c32(Q_DESC) = OUTSIDE;
	good_chain();
	o = submit(0, &len);
	check(o == DONE || o == NEEDS_RESET, "outcome %d", o);
	if (o == DONE)
		check(*(volatile uint8_t *)STAT == 0, "served from the old table (status byte 0x%x)",
		      *(volatile uint8_t *)STAT);
	good_read("after it");
	check_end();
	guest_exit();
}

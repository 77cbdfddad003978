/* A hostile virtio-net driver (tests/hostile/virtio_blk_rings is the
 * model): the modern virtio-pci transport (virtio 1.2, 4.1), the receive
 * (0) and transmit (1) queues of 8, and rings and buffers that lie: rings
 * outside RAM, in ROM (run.sh maps a 4 KiB --rom at ROM_AT) or across the
 * end of RAM at enable, a transmit buffer outside RAM and one whose chain
 * loops, a receive buffer in ROM, outside RAM or across the end of RAM, a
 * descriptor table moved while the queues run. The device must refuse each
 * (the chain returned unused, 5.1.6: a transmit chain never has anything
 * written; or DEVICE_NEEDS_RESET, 2.1.2), never write outside the guest's
 * RAM (the ROM reads back as zeros), and after a reset answer again: an
 * ARP request for the gateway 10.0.2.2 sent on the transmit queue brings
 * libslirp's ARP reply into the receive queue (run with --net user). */
#include "guest.h"

GUEST("virtio_net_rings", "");

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define BAR_AT 0xc0000000u
#define ROM_AT 0xfffc0000u
#define OUTSIDE 0x40000000u
#define RAM_END 0x1000000u	/* run.sh's --mem 16 */
#define QSIZE 8
#define RXQ 0
#define TXQ 1

#include "virtio_pci_regs.h"
#define HDR_LEN 12		/* struct virtio_net_hdr with VERSION_1 (5.1.6) */

/* each queue's rings (desc, avail, used a page each) and the buffers */
#define RING(q, n) (0x400000u + (q) * 0x3000u + (n) * 0x1000u)
#define TXBUF 0x408000u
#define RXBUF 0x409000u

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; } __attribute__((packed));
struct ring { uint32_t desc, avail, used; };

static uint16_t last_used[2];
static struct ring rings[2];

static volatile struct desc *descs(int q) { return (volatile struct desc *)RING(q, 0); }
static volatile uint16_t *avail(int q) { return (volatile uint16_t *)RING(q, 1); }
static volatile uint16_t *used(int q) { return (volatile uint16_t *)RING(q, 2); }

static bool find_device(void)
{
	for (dev_slot = 0; dev_slot < 32; dev_slot++)
		if (cfg_read(0) == 0x10411af4u)	/* virtio 1.x network */
			return true;
	return false;
}

/* 3.1.1: reset, VERSION_1 only, both queues at rings[], DRIVER_OK. */
static uint8_t setup(void)
{
	*c8(STATUS) = 0;
	*c8(STATUS) = S_ACK | S_DRIVER;
	*c32(GFSELECT) = 1;
	*c32(GF) = 1;
	*c32(GFSELECT) = 0;
	*c32(GF) = 0;
	*c8(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
	memset((void *)RING(0, 0), 0, 0x6000);
	for (int q = 0; q < 2; q++) {
		*c16(Q_SELECT) = (uint16_t)q;
		*c16(Q_SIZE) = QSIZE;
		*c32(Q_DESC) = rings[q].desc;
		*c32(Q_DESC + 4) = 0;
		*c32(Q_AVAIL) = rings[q].avail;
		*c32(Q_AVAIL + 4) = 0;
		*c32(Q_USED) = rings[q].used;
		*c32(Q_USED + 4) = 0;
		*c16(Q_ENABLE) = 1;
		last_used[q] = 0;
	}
	*c8(STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return *c8(STATUS);
}

static void good_rings(void)
{
	for (int q = 0; q < 2; q++)
		rings[q] = (struct ring){ RING(q, 0), RING(q, 1), RING(q, 2) };
}

static void offer(int q, uint16_t head)
{
	uint16_t idx = avail(q)[1];

	avail(q)[2 + idx % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	avail(q)[1] = (uint16_t)(idx + 1);
	*c16(Q_SELECT) = (uint16_t)q;
	*(volatile uint16_t *)(NOTIFY + *c16(Q_NOFF) * 4) = (uint16_t)q;
}

enum outcome { USED, NEEDS_RESET, NOTHING };

/* Waits for queue q's used ring to move (its length in *len) or for
 * DEVICE_NEEDS_RESET; a bounded spin, not a time. */
static enum outcome wait_used(int q, uint32_t *len)
{
	for (unsigned spin = 0; spin < 20000000; spin++) {
		if (used(q)[1] != last_used[q]) {
			*len = *(volatile uint32_t *)(RING(q, 2) + 4 + 8 * (last_used[q] % QSIZE) + 4);
			last_used[q]++;
			return USED;
		}
		if (*c8(STATUS) & S_NEEDS_RESET)
			return NEEDS_RESET;
		__asm__ volatile("pause");
	}
	return NOTHING;
}

/* An ARP request for 10.0.2.2 from 52:54:00:12:34:56 / 10.0.2.15. */
static void arp_request(void)
{
	static const uint8_t frame[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};
	memset((void *)TXBUF, 0, HDR_LEN);
	memcpy((void *)(TXBUF + HDR_LEN), frame, sizeof(frame));
	descs(TXQ)[0] = (struct desc){ TXBUF, HDR_LEN + sizeof(frame), 0, 0 };
}

static void rx_buffer(uint64_t addr, uint32_t len)
{
	descs(RXQ)[0] = (struct desc){ addr, len, F_WRITE, 0 };
}

/* An ARP request out and its reply in, on the queues as they are. */
static void exchange(const char *when)
{
	uint32_t len = 0;
	volatile uint8_t *rx = (volatile uint8_t *)RXBUF;

	memset((void *)RXBUF, 0, 2048);
	rx_buffer(RXBUF, 2048);
	offer(RXQ, 0);
	arp_request();
	offer(TXQ, 0);
	enum outcome t = wait_used(TXQ, &len);
	check(t == USED && len == 0, "%s: the request sent (outcome %d, len %u)", when, t, len);
	enum outcome r = wait_used(RXQ, &len);
	check(r == USED && len >= HDR_LEN + 42 && rx[HDR_LEN + 12] == 0x08 &&
	      rx[HDR_LEN + 13] == 0x06 && rx[HDR_LEN + 21] == 2,
	      "%s: an ARP reply came back (outcome %d, len %u, type %02x%02x, op %u)", when, r,
	      len, rx[HDR_LEN + 12], rx[HDR_LEN + 13], rx[HDR_LEN + 21]);
}

/* Reset, good rings, then an exchange. */
static void round_trip(const char *when)
{
	good_rings();
	check(setup() == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK),
	      "%s: device live after setup (status 0x%x)", when, *c8(STATUS));
	exchange(when);
}

static bool rom_untouched(void)
{
	for (uint32_t i = 0; i < 4096; i += 4)
		if (*(volatile uint32_t *)(ROM_AT + i))
			return false;
	return true;
}

/* A receive buffer the device must not write: the chain comes back
 * unused (length 0) or the device stops; the ROM stays zero. */
static void bad_rx(const char *name, uint64_t addr, uint32_t len)
{
	uint32_t used_len = 0;

	check_begin(name);
	good_rings();
	setup();
	rx_buffer(addr, len);
	offer(RXQ, 0);
	arp_request();
	offer(TXQ, 0);
	wait_used(TXQ, &used_len);
	enum outcome o = wait_used(RXQ, &used_len);
	check((o == USED && used_len == 0) || o == NEEDS_RESET,
	      "refused (outcome %d: 0 used, 1 needs reset, 2 nothing; len %u)", o, used_len);
	printf_serial("%s: %s\n", name, o == NEEDS_RESET ? "DEVICE_NEEDS_RESET" :
		      o == USED ? "chain returned unused" : "nothing");
	check(rom_untouched(), "the ROM reads zero");
	round_trip("after it");
	check_end();
}

/* A transmit chain that lies: returned (nothing sent) or the device
 * stops; hyvm goes on. */
static void bad_tx(const char *name, void (*spoil)(void))
{
	uint32_t len = 0;

	check_begin(name);
	good_rings();
	setup();
	arp_request();
	spoil();
	offer(TXQ, 0);
	enum outcome o = wait_used(TXQ, &len);
	check(o == USED || o == NEEDS_RESET, "refused (outcome %d)", o);
	printf_serial("%s: %s\n", name, o == NEEDS_RESET ? "DEVICE_NEEDS_RESET" : "chain returned");
	round_trip("after it");
	check_end();
}

static void tx_outside_ram(void) { descs(TXQ)[0].addr = OUTSIDE; }
static void tx_loops(void) { descs(TXQ)[0] = (struct desc){ TXBUF, HDR_LEN + 42, F_NEXT, 0 }; }
static void tx_length_absurd(void) { descs(TXQ)[0].len = 0xffffffffu; }

/* Rings at enable that lie: the device must refuse to run. */
static void bad_ring(const char *what, int q, int which, uint32_t at)
{
	good_rings();
	if (which == 0)
		rings[q].desc = at;
	else if (which == 1)
		rings[q].avail = at;
	else
		rings[q].used = at;
	uint8_t st = setup();
	check(st & S_NEEDS_RESET, "%s: status 0x%x", what, st);
}

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	check_begin("find");
	if (!find_device())
		fail_now("no virtio-net (1af4:1041) on bus 0: run with --net user");
	cfg_write(0x20, BAR_AT);	/* BAR 4, 64-bit memory */
	cfg_write(0x24, 0);
	cfg_write(0x04, cfg_read(0x04) | 0x6);
	check_end();

	check_begin("good");
	round_trip("first");
	check_end();

	bad_rx("rx_in_rom", ROM_AT, 2048);
	bad_rx("rx_outside_ram", OUTSIDE, 2048);
	bad_rx("rx_straddles_ram_end", RAM_END - 64, 2048);
	bad_tx("tx_outside_ram", tx_outside_ram);
	bad_tx("tx_chain_loops", tx_loops);
	bad_tx("tx_length_absurd", tx_length_absurd);

	check_begin("rings_at_enable");
	bad_ring("tx descriptor table outside RAM", TXQ, 0, OUTSIDE);
	bad_ring("rx used ring in ROM", RXQ, 2, ROM_AT);
	bad_ring("tx used ring in ROM", TXQ, 2, ROM_AT);
	bad_ring("rx avail ring across the end of RAM", RXQ, 1, RAM_END - 4);
	bad_ring("rx descriptor table outside RAM", RXQ, 0, 0xfffff000u);
	check(rom_untouched(), "the ROM reads zero");
	round_trip("after them");
	check_end();

	/* the receive queue's table moved while it runs: ignored (4.1.4.3.2) */
	check_begin("ring_moved_while_running");
	good_rings();
	setup();
	*c16(Q_SELECT) = RXQ;
	*c32(Q_DESC) = OUTSIDE;
	exchange("after the move");
	round_trip("after it");
	check_end();
	guest_exit();
}

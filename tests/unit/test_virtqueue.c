/*
 * The split virtqueue against well-formed and hostile rings (virtio 1.2,
 * 2.7): every malformed case must fail the pop with its error, counted,
 * handing out no buffer outside guest RAM (the random test checks each one
 * against the mapping and touches it), and the queue must work again
 * after a reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "fake_guest_ram.h"
#include "devices/virtio/virtqueue.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define QSIZE 16
#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define TABLE 0x13000ull	/* an indirect table */
#define BUF 0x100000ull

static struct fake_guest_ram g;
static struct virtq q;
static struct virtq_req *req;

static const uint64_t ALL = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX);

static void set_desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(fake_guest_ram_host(&g, table + 16ull * i), &d, sizeof(d));
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	set_desc_at(DESC, i, addr, len, flags, next);
}

static uint16_t *avail16(unsigned word)	/* flags, idx, ring[0..], used_event */
{
	return (uint16_t *)fake_guest_ram_host(&g, AVAIL + 2ull * word);
}

static uint16_t *used16(unsigned byte)
{
	return (uint16_t *)fake_guest_ram_host(&g, USED + byte);
}

static uint32_t used_elem(unsigned i, unsigned field)	/* field 0 id, 1 len */
{
	uint32_t v;

	memcpy(&v, fake_guest_ram_host(&g, USED + 4 + 8ull * i + 4 * field), 4);
	return v;
}

/* The driver makes the chain at head available. */
static void make_available(uint16_t head)
{
	uint16_t idx = *avail16(1);

	avail16(2)[idx % q.size] = head;
	*avail16(1) = idx + 1;
}

static int setup_queue(uint64_t features)
{
	virtq_init(&q, &g.mem, QSIZE);
	virtq_set_size(&q, QSIZE);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	return virtq_enable(&q, features);
}

static int suite_setup(void)
{
	if (fake_guest_ram_init(&g, 16 * MiB, true) < 0)
		return -1;
	req = virtq_req_new(8);
	return req ? 0 : -1;
}

static int suite_teardown(void)
{
	virtq_req_free(req);
	fake_guest_ram_fini(&g);
	return 0;
}

/* A fresh ring before each test (zeroed, as a driver leaves it). */
static void fresh(uint64_t features)
{
	memset(fake_guest_ram_host(&g, DESC), 0, 0x4000);
	g.nr_written = 0;
	CU_ASSERT_EQUAL_FATAL(setup_queue(features), 0);
}

static uint64_t errors_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < VIRTQ_ERR_COUNT; i++)
		n += q.errors[i];
	return n;
}

/* A virtio-blk-shaped request: header, data, status. */
static void test_simple_chain(void)
{
	uint8_t hdr[16], status = 0;

	fresh(0);
	for (int i = 0; i < 16; i++)
		fake_guest_ram_host(&g, BUF)[i] = (uint8_t)i;
	set_desc(3, BUF, 16, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	make_available(3);
	CU_ASSERT_EQUAL(virtq_pending(&q), 1);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(req->head, 3);
	CU_ASSERT_EQUAL(req->nr_out, 1);
	CU_ASSERT_EQUAL(req->nr_in, 2);
	CU_ASSERT_EQUAL(req->out_bytes, 16);
	CU_ASSERT_EQUAL(req->in_bytes, 513);
	CU_ASSERT_PTR_EQUAL(req->iov[0].iov_base, g.backing + BUF);
	CU_ASSERT_PTR_EQUAL(req->iov[2].iov_base, g.backing + BUF + 0x2000);
	CU_ASSERT_EQUAL(virtq_req_read(req, 0, hdr, 16), 0);
	CU_ASSERT_EQUAL(hdr[15], 15);
	CU_ASSERT_EQUAL(virtq_req_read(req, 1, hdr, 16), -1);	/* past the readable part */
	/* the status byte is the 513th writable byte */
	status = 0x42;
	CU_ASSERT_EQUAL(virtq_req_write(req, 512, &status, 1), 0);
	CU_ASSERT_EQUAL(g.backing[BUF + 0x2000], 0x42);
	CU_ASSERT_EQUAL(virtq_req_write(req, 513, &status, 1), -1);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 0);	/* empty now */
	CU_ASSERT_EQUAL(virtq_pending(&q), 0);

	CU_ASSERT_EQUAL(virtq_push(&q, req, 513), 0);
	CU_ASSERT_EQUAL(*used16(2), 1);		/* used->idx */
	CU_ASSERT_EQUAL(used_elem(0, 0), 3);
	CU_ASSERT_EQUAL(used_elem(0, 1), 513);
	/* the buffers and the used ring were announced to the engine */
	CU_ASSERT(fake_guest_ram_was_written(&g, BUF + 0x1000, 512));
	CU_ASSERT(fake_guest_ram_was_written(&g, BUF + 0x2000, 1));
	CU_ASSERT(fake_guest_ram_was_written(&g, USED + 4, 8));
	CU_ASSERT(fake_guest_ram_was_written(&g, USED + 2, 2));
	CU_ASSERT_FALSE(fake_guest_ram_was_written(&g, BUF, 16));	/* readable part */
	CU_ASSERT_EQUAL(q.popped, 1);
	CU_ASSERT_EQUAL(q.pushed, 1);
	CU_ASSERT_EQUAL(errors_total(), 0);
}

static void test_written_clamped_and_partial(void)
{
	fresh(0);
	set_desc(0, BUF, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 100, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(req->nr_out, 0);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 150), 0);
	CU_ASSERT(fake_guest_ram_was_written(&g, BUF, 100));
	CU_ASSERT(fake_guest_ram_was_written(&g, BUF + 0x1000, 50));
	CU_ASSERT_FALSE(fake_guest_ram_was_written(&g, BUF + 0x1000, 51));
	make_available(0);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 0xffffffff), 0);
	CU_ASSERT_EQUAL(used_elem(1, 1), 200);	/* never more than the chain holds */
}

static void test_zero_length_buffers_skipped(void)
{
	fresh(0);
	set_desc(0, 0xdead0000000ull, 0, VIRTQ_DESC_F_NEXT, 1);	/* length 0: no access */
	set_desc(1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(req->nr_out, 0);
	CU_ASSERT_EQUAL(req->nr_in, 1);
}

static void test_indirect(void)
{
	fresh(ALL);
	set_desc_at(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc_at(TABLE, 2, BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(TABLE, 1, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(5, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	make_available(5);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(req->head, 5);
	CU_ASSERT_EQUAL(req->nr_out, 2);
	CU_ASSERT_EQUAL(req->nr_in, 1);
	CU_ASSERT_EQUAL(req->out_bytes, 16 + 4096);
	CU_ASSERT_PTR_EQUAL(req->iov[2].iov_base, g.backing + BUF + 0x3000);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 1), 0);
	CU_ASSERT_EQUAL(used_elem(0, 0), 5);
}

static void expect_chain_error_req(int err, struct virtq_req *req)
{
	int r = virtq_pop(&q, req);

	CU_ASSERT_EQUAL(r, -err);
	CU_ASSERT(virtq_err_has_head(r));
	CU_ASSERT_EQUAL(q.errors[err], 1);
	CU_ASSERT_EQUAL(req->nr_out + req->nr_in, 0);
	CU_ASSERT_EQUAL(req->out_bytes + req->in_bytes, 0);
	/* the chain goes back empty and the queue goes on */
	CU_ASSERT_EQUAL(virtq_push(&q, req, 0), 0);
	CU_ASSERT_EQUAL(*used16(2), 1);
	CU_ASSERT(q.ready);
	set_desc(15, BUF, 8, 0, 0);
	make_available(15);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(req->head, 15);
}

static void expect_chain_error(int err)
{
	expect_chain_error_req(err, req);
}

static void test_indirect_not_negotiated(void)
{
	fresh(0);
	set_desc_at(TABLE, 0, BUF, 16, 0, 0);
	set_desc(0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_malformed(void)
{
	static const struct { uint64_t addr; uint32_t len; uint16_t flags; } bad[] = {
		{ TABLE, 24, VIRTQ_DESC_F_INDIRECT },		/* not a multiple of 16 */
		{ TABLE, 0, VIRTQ_DESC_F_INDIRECT },		/* empty */
		{ TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT },	/* with NEXT */
		{ 0xd0000000, 32, VIRTQ_DESC_F_INDIRECT },	/* in the PCI hole */
		{ 16 * MiB - 16, 32, VIRTQ_DESC_F_INDIRECT },	/* past the end of RAM */
		{ MEMMAP_4G - FAKE_ROM_SIZE, 32, VIRTQ_DESC_F_INDIRECT },	/* in ROM */
		{ TABLE, 0x80010u * 16 / 16 * 16, VIRTQ_DESC_F_INDIRECT },	/* > 32768 entries */
		{ UINT64_MAX - 15, 32, VIRTQ_DESC_F_INDIRECT },	/* wraps */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(ALL);
		set_desc(1, BUF, 8, 0, 0);
		set_desc(0, bad[i].addr, bad[i].len, bad[i].flags, 1);
		make_available(0);
		expect_chain_error(VIRTQ_ERR_INDIRECT);
	}
	/* nested: an indirect descriptor inside the table */
	fresh(ALL);
	set_desc_at(TABLE, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_loop_and_next(void)
{
	fresh(ALL);
	set_desc_at(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(TABLE, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_LOOP);

	fresh(ALL);
	set_desc_at(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 2);	/* table has 2 */
	set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_NEXT);
}

static void test_loops(void)
{
	/* room for more buffers than the queue has: the loop is what stops */
	struct virtq_req *big = virtq_req_new(4 * QSIZE);

	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 0);	/* itself */
	make_available(0);
	expect_chain_error_req(VIRTQ_ERR_LOOP, big);

	fresh(0);
	for (unsigned i = 0; i < QSIZE; i++)	/* a ring of all 16 */
		set_desc(i, BUF, 8, VIRTQ_DESC_F_NEXT, (i + 1) % QSIZE);
	make_available(4);
	expect_chain_error_req(VIRTQ_ERR_LOOP, big);

	/* with a small request the buffers run out first: also an error */
	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_TOO_MANY_SEGS);

	/* the longest legal chain: all 16 descriptors */
	fresh(0);
	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(i, BUF + i, 1, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, big), 1);
	CU_ASSERT_EQUAL(big->nr_out, QSIZE);
	virtq_req_free(big);
}

static void test_next_out_of_range(void)
{
	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_NEXT);
}

static void test_order(void)
{
	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 8, 0, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_ORDER);

	/* an empty writable buffer starts the writable part too */
	fresh(0);
	set_desc(0, BUF, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 8, 0, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_ORDER);
}

static void test_buffers_outside_ram(void)
{
	static const struct { uint64_t addr; uint32_t len; uint16_t flags; } bad[] = {
		{ 16 * MiB - 4, 8, 0 },				/* past the end */
		{ 16 * MiB, 1, VIRTQ_DESC_F_WRITE },
		{ 0xd0000000, 512, 0 },				/* PCI window */
		{ MEMMAP_IOAPIC, 4, VIRTQ_DESC_F_WRITE },	/* a device's registers */
		{ MEMMAP_4G - FAKE_ROM_SIZE, 512, VIRTQ_DESC_F_WRITE },	/* ROM */
		{ 0xe0000, 16, VIRTQ_DESC_F_WRITE },		/* the ROM alias */
		{ 0xdfff0, 32, 0 },				/* RAM into the alias */
		{ UINT64_MAX - 7, 16, 0 },			/* wraps */
		{ 0x1000, 0xffffffffu, 0 },			/* 4 GiB in 16 MiB */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(0);
		set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
		set_desc(1, bad[i].addr, bad[i].len, bad[i].flags, 0);
		make_available(0);
		expect_chain_error(VIRTQ_ERR_BUFFER);
	}
	/* ROM the device only reads is fine */
	fresh(0);
	set_desc(0, MEMMAP_4G - FAKE_ROM_SIZE, 512, 0, 0);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
}

static void test_too_many_segments(void)
{
	struct virtq_req *two = virtq_req_new(2);

	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF, 8, 0, 0);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, two), -VIRTQ_ERR_TOO_MANY_SEGS);
	CU_ASSERT_EQUAL(q.errors[VIRTQ_ERR_TOO_MANY_SEGS], 1);
	virtq_req_free(two);
}

/* Two buffers of 3 GiB - 32 MiB each: more than used.len can say.
 * Needs a 3 GiB guest, mapped but never touched. */
static void test_length_overflow(void)
{
	struct fake_guest_ram big;
	struct virtq bq;
	uint64_t len = 3 * GiB - 32 * MiB;

	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&big, 3 * GiB, false), 0);
	virtq_init(&bq, &big.mem, QSIZE);
	virtq_set_addrs(&bq, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL_FATAL(virtq_enable(&bq, 0), 0);
	struct virtq_desc d[2] = {
		{ 16 * MiB, (uint32_t)len, VIRTQ_DESC_F_NEXT, 1 },
		{ 16 * MiB, (uint32_t)len, 0, 0 },
	};
	memcpy(big.backing + DESC, d, sizeof(d));
	uint16_t avail[3] = { 0, 1, 0 };
	memcpy(big.backing + AVAIL, avail, sizeof(avail));
	CU_ASSERT_EQUAL(virtq_pop(&bq, req), -VIRTQ_ERR_LENGTH);
	CU_ASSERT_EQUAL(bq.errors[VIRTQ_ERR_LENGTH], 1);
	fake_guest_ram_fini(&big);
}

static void expect_ring_error(int err)
{
	int r = virtq_pop(&q, req);

	CU_ASSERT_EQUAL(r, -err);
	CU_ASSERT_FALSE(virtq_err_has_head(r));
	CU_ASSERT_EQUAL(q.errors[err], 1);
	CU_ASSERT_FALSE(q.ready);
	CU_ASSERT(q.broken);
	/* until a reset: every pop says so, nothing is pushed or counted */
	CU_ASSERT_EQUAL(virtq_pop(&q, req), -VIRTQ_ERR_NOT_READY);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 0), -1);
	CU_ASSERT_FALSE(virtq_should_notify(&q));
	CU_ASSERT_EQUAL(errors_total(), 1);
	/* a reset and the same rings again: works */
	memset(fake_guest_ram_host(&g, AVAIL), 0, 0x2000);
	virtq_reset(&q);
	CU_ASSERT_FALSE(q.broken);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 0);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL(virtq_enable(&q, 0), 0);
	set_desc(0, BUF, 8, 0, 0);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
}

static void test_avail_idx_too_far(void)
{
	fresh(0);
	set_desc(0, BUF, 8, 0, 0);
	*avail16(1) = QSIZE;		/* 16 ahead: legal, all entries head 0 */
	CU_ASSERT_EQUAL(virtq_pending(&q), QSIZE);
	for (int i = 0; i < QSIZE; i++)
		CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	*avail16(1) = 2 * QSIZE + 1;	/* 17 ahead */
	CU_ASSERT_EQUAL(virtq_pending(&q), 0);
	expect_ring_error(VIRTQ_ERR_AVAIL_IDX);

	fresh(0);
	*avail16(1) = 0xffff;		/* "behind": as far ahead as it gets */
	expect_ring_error(VIRTQ_ERR_AVAIL_IDX);
}

static void test_head_out_of_range(void)
{
	fresh(0);
	make_available(QSIZE);
	expect_ring_error(VIRTQ_ERR_HEAD);
	fresh(0);
	make_available(0xffff);
	expect_ring_error(VIRTQ_ERR_HEAD);
}

static void test_enable_refusals(void)
{
	static const uint16_t bad_sizes[] = { 0, 3, 12, 32, 0x8000 };

	for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		virtq_init(&q, &g.mem, QSIZE);
		virtq_set_size(&q, bad_sizes[i]);
		virtq_set_addrs(&q, DESC, AVAIL, USED);
		CU_ASSERT_EQUAL(virtq_enable(&q, 0), -VIRTQ_ERR_SIZE);
		CU_ASSERT_FALSE(q.ready);
		CU_ASSERT_EQUAL(virtq_pop(&q, req), 0);
	}
	static const uint64_t bad_rings[][3] = {
		{ DESC + 8, AVAIL, USED },		/* desc not 16-aligned */
		{ DESC, AVAIL + 1, USED },		/* avail not 2-aligned */
		{ DESC, AVAIL, USED + 2 },		/* used not 4-aligned */
		{ 0xd0000000, AVAIL, USED },		/* PCI window */
		{ DESC, MEMMAP_LAPIC, USED },		/* the local APIC */
		{ DESC, AVAIL, MEMMAP_4G - FAKE_ROM_SIZE },	/* ROM */
		{ MEMMAP_4G - FAKE_ROM_SIZE, AVAIL, USED },	/* ROM, even read-only */
		{ DESC, AVAIL, 16 * MiB - 64 },		/* runs past the end of RAM */
		{ UINT64_MAX & ~15ull, AVAIL, USED },	/* wraps */
	};
	for (unsigned i = 0; i < sizeof(bad_rings) / sizeof(bad_rings[0]); i++) {
		virtq_init(&q, &g.mem, QSIZE);
		virtq_set_addrs(&q, bad_rings[i][0], bad_rings[i][1], bad_rings[i][2]);
		CU_ASSERT_EQUAL(virtq_enable(&q, 0), -VIRTQ_ERR_RING_ADDR);
		CU_ASSERT_EQUAL(q.errors[VIRTQ_ERR_RING_ADDR], 1);
		CU_ASSERT_FALSE(q.ready);
	}
	/* the rings do not move under a running queue */
	fresh(0);
	CU_ASSERT_EQUAL(virtq_set_addrs(&q, 0x20000, AVAIL, USED), -1);
	CU_ASSERT_EQUAL(virtq_set_size(&q, 8), -1);
	CU_ASSERT_EQUAL(q.desc_gpa, DESC);
	CU_ASSERT_EQUAL(q.size, QSIZE);
	CU_ASSERT_EQUAL(q.errors[VIRTQ_ERR_NOT_READY], 2);
	/* a smaller size than the maximum is fine */
	virtq_init(&q, &g.mem, QSIZE);
	virtq_set_size(&q, 4);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL(virtq_enable(&q, 0), 0);
}

static void push_one(void)
{
	set_desc(0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);
}

static void test_interrupt_suppression_flags(void)
{
	fresh(0);
	push_one();
	CU_ASSERT(virtq_should_notify(&q));
	CU_ASSERT_FALSE(virtq_should_notify(&q));	/* nothing new */
	*avail16(0) = VIRTQ_AVAIL_F_NO_INTERRUPT;
	push_one();
	CU_ASSERT_FALSE(virtq_should_notify(&q));
	*avail16(0) = 0;
	push_one();
	CU_ASSERT(virtq_should_notify(&q));
	CU_ASSERT_EQUAL(q.notified, 2);
	CU_ASSERT_EQUAL(q.suppressed, 2);
}

static void test_notify_suppression_flags(void)
{
	fresh(0);
	CU_ASSERT_FALSE(virtq_set_notify(&q, false));
	CU_ASSERT_EQUAL(*used16(0), VIRTQ_USED_F_NO_NOTIFY);
	CU_ASSERT(fake_guest_ram_was_written(&g, USED, 2));
	CU_ASSERT_FALSE(virtq_set_notify(&q, true));	/* nothing arrived */
	CU_ASSERT_EQUAL(*used16(0), 0);
	virtq_set_notify(&q, false);
	set_desc(0, BUF, 8, 0, 0);
	make_available(0);
	CU_ASSERT(virtq_set_notify(&q, true));		/* arrived meanwhile: pop again */
}

static void test_need_event_arithmetic(void)
{
	/* 2.7.10: notify when the index went past event since old */
	CU_ASSERT(virtq_need_event(0, 1, 0));
	CU_ASSERT_FALSE(virtq_need_event(1, 1, 0));	/* reached, not passed */
	CU_ASSERT(virtq_need_event(5, 10, 0));
	CU_ASSERT_FALSE(virtq_need_event(10, 10, 0));
	CU_ASSERT_FALSE(virtq_need_event(3, 3, 3));	/* nothing moved */
	/* across the 16-bit wrap */
	CU_ASSERT(virtq_need_event(0xffff, 0x0000, 0xfffe));
	CU_ASSERT(virtq_need_event(0xfffe, 0x0002, 0xfff0));
	CU_ASSERT(virtq_need_event(0x0001, 0x0002, 0xfff0));
	CU_ASSERT_FALSE(virtq_need_event(0x0002, 0x0002, 0xfff0));
	CU_ASSERT_FALSE(virtq_need_event(0xffef, 0x0002, 0xfff0));	/* before old */
	CU_ASSERT_FALSE(virtq_need_event(0x0010, 0x0002, 0xfff0));	/* ahead of new */
}

/* EVENT_IDX on a queue whose indices sit just below the 16-bit wrap. */
static void test_event_idx_across_wrap(void)
{
	fresh(ALL);
	q.last_avail = q.used_idx = 0xfffe;
	*avail16(1) = 0xfffe;
	*used16(2) = 0xfffe;
	*avail16(2 + QSIZE) = 0xfffe;		/* used_event: interrupt after entry 0xfffe */
	set_desc(0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	for (int i = 0; i < 4; i++)
		make_available(0);
	CU_ASSERT_EQUAL(virtq_pending(&q), 4);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	/* avail_event (after used->ring[16]) asks for the next one */
	CU_ASSERT_EQUAL(*used16(4 + 8 * QSIZE), 0xffff);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);	/* used 0xfffe -> 0xffff */
	CU_ASSERT(virtq_should_notify(&q));		/* first decision: always */
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(*used16(4 + 8 * QSIZE), 0x0000);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);	/* 0xffff -> 0x0000 */
	CU_ASSERT_EQUAL(*used16(2), 0);
	CU_ASSERT_EQUAL(used_elem(0xffff % QSIZE, 0), 0);
	*avail16(2 + QSIZE) = 0x0001;		/* the driver wants entry 1 */
	CU_ASSERT_FALSE(virtq_should_notify(&q));
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);	/* 0x0000 -> 0x0001: not past 1 */
	CU_ASSERT_FALSE(virtq_should_notify(&q));
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);	/* 0x0001 -> 0x0002: past 1 */
	CU_ASSERT(virtq_should_notify(&q));
	/* the flag is ignored with EVENT_IDX (2.7.10) */
	CU_ASSERT_EQUAL(virtq_pending(&q), 0);
	/* notifications off: avail_event stays, on: it catches up */
	virtq_set_notify(&q, false);
	make_available(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(*used16(4 + 8 * QSIZE), 0x0002);
	CU_ASSERT_FALSE(virtq_set_notify(&q, true));
	CU_ASSERT_EQUAL(*used16(4 + 8 * QSIZE), 0x0003);
}

/* Random bytes in the descriptor table, the avail ring and an indirect
 * table, popped until the queue is empty or broken: whatever comes out
 * must lie in guest RAM, and nothing may crash or spin. */
static void test_random_rings(void)
{
	unsigned seed = 12345, ok = 0, errs = 0;
	struct virtq_req *r = virtq_req_new(64);

	for (int round = 0; round < 2000; round++) {
		uint8_t *ring = fake_guest_ram_host(&g, DESC);
		for (unsigned i = 0; i < 0x4000; i++)
			ring[i] = (uint8_t)rand_r(&seed);
		/* addresses mostly near the buffers, so some chains succeed */
		for (unsigned i = 0; i < QSIZE; i++) {
			uint64_t *addr = (uint64_t *)(ring + 16 * i);
			if (rand_r(&seed) % 4)
				*addr = BUF + (*addr & 0xffff);
			uint32_t *len = (uint32_t *)(ring + 16 * i + 8);
			if (rand_r(&seed) % 4)
				*len &= 0x3ff;
			uint16_t *flags = (uint16_t *)(ring + 16 * i + 12);
			if (rand_r(&seed) % 4)
				*flags &= i == 3 ? 7 : 3;
			uint16_t *next = (uint16_t *)(ring + 16 * i + 14);
			if (rand_r(&seed) % 2)
				*next &= QSIZE - 1;
		}
		for (unsigned i = 0; i < QSIZE; i++)
			if (rand_r(&seed) % 8)
				avail16(2)[i] &= QSIZE - 1;
		uint64_t *taddr = (uint64_t *)(ring + 16 * 3);
		if (rand_r(&seed) % 2)
			*taddr = TABLE;
		for (unsigned i = 0; i < 64; i++) {
			uint64_t *a = (uint64_t *)(fake_guest_ram_host(&g, TABLE) + 16 * i);
			if (rand_r(&seed) % 2)
				*a = BUF + (*a & 0xffff);
		}
		virtq_init(&q, &g.mem, QSIZE);
		virtq_set_addrs(&q, DESC, AVAIL, USED);
		if (virtq_enable(&q, rand_r(&seed) % 2 ? ALL : 0) < 0)
			continue;
		q.last_avail = *avail16(1) - (rand_r(&seed) % (QSIZE + 3));
		for (int n = 0; n < 2 * QSIZE; n++) {
			int res = virtq_pop(&q, r);
			if (res == 0)
				break;
			if (res < 0) {
				errs++;
				if (!virtq_err_has_head(res))
					break;
				continue;
			}
			ok++;
			for (unsigned k = 0; k < r->nr_out + r->nr_in; k++) {
				uint8_t *b = r->iov[k].iov_base;
				CU_ASSERT_FATAL(b >= g.backing &&
						b + r->iov[k].iov_len <= g.backing + g.map.memfd_size);
				volatile uint8_t touch = b[r->iov[k].iov_len - 1];
				(void)touch;
			}
			virtq_push(&q, r, (uint32_t)rand_r(&seed));
			virtq_should_notify(&q);
		}
	}
	virtq_req_free(r);
	printf("(%u chains popped, %u refused) ", ok, errs);
	CU_ASSERT(ok > 100);	/* the shape above lets some through */
	CU_ASSERT(errs > 100);
}

UNIT_SUITE(virtqueue, suite_setup, suite_teardown,
	   UNIT_TEST(test_simple_chain),
	   UNIT_TEST(test_written_clamped_and_partial),
	   UNIT_TEST(test_zero_length_buffers_skipped),
	   UNIT_TEST(test_indirect),
	   UNIT_TEST(test_indirect_not_negotiated),
	   UNIT_TEST(test_indirect_malformed),
	   UNIT_TEST(test_indirect_loop_and_next),
	   UNIT_TEST(test_loops),
	   UNIT_TEST(test_next_out_of_range),
	   UNIT_TEST(test_order),
	   UNIT_TEST(test_buffers_outside_ram),
	   UNIT_TEST(test_too_many_segments),
	   UNIT_TEST(test_length_overflow),
	   UNIT_TEST(test_avail_idx_too_far),
	   UNIT_TEST(test_head_out_of_range),
	   UNIT_TEST(test_enable_refusals),
	   UNIT_TEST(test_interrupt_suppression_flags),
	   UNIT_TEST(test_notify_suppression_flags),
	   UNIT_TEST(test_need_event_arithmetic),
	   UNIT_TEST(test_event_idx_across_wrap),
	   UNIT_TEST(test_random_rings))

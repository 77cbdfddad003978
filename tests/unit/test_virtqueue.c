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
#include "virtq_fixture.h"

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
	fresh(VQ_ALL_FEATURES);
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
		fresh(VQ_ALL_FEATURES);
		set_desc(1, BUF, 8, 0, 0);
		set_desc(0, bad[i].addr, bad[i].len, bad[i].flags, 1);
		make_available(0);
		expect_chain_error(VIRTQ_ERR_INDIRECT);
	}
	/* nested: an indirect descriptor inside the table */
	fresh(VQ_ALL_FEATURES);
	set_desc_at(TABLE, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_loop_and_next(void)
{
	fresh(VQ_ALL_FEATURES);
	set_desc_at(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(TABLE, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_available(0);
	expect_chain_error(VIRTQ_ERR_LOOP);

	fresh(VQ_ALL_FEATURES);
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

/* A request popped before a reset is not pushed onto the new rings. */
static void test_stale_push_refused(void)
{
	fresh(0);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	make_available(0);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	virtq_reset(&q);
	memset(fake_guest_ram_host(&g, AVAIL), 0, 0x2000);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL_FATAL(virtq_enable(&q, 0), 0);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), -1);
	CU_ASSERT_EQUAL(q.stale_pushes, 1);
	CU_ASSERT_EQUAL(*used16(2), 0);		/* the new used ring is untouched */
	make_available(0);
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, req), 1);
	CU_ASSERT_EQUAL(virtq_push(&q, req, 8), 0);
	CU_ASSERT_EQUAL(*used16(2), 1);
}

UNIT_SUITE(virtqueue, vq_suite_setup, vq_suite_teardown,
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
	   UNIT_TEST(test_stale_push_refused))

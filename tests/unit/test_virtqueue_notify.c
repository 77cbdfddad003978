/*
 * The split virtqueue's notifications both ways (virtio 1.2, 2.7.7,
 * 2.7.10): VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY, and
 * EVENT_IDX's used_event/avail_event, also across the 16-bit wrap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtq_fixture.h"

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
	fresh(VQ_ALL_FEATURES);
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

UNIT_SUITE(virtqueue_notify, vq_suite_setup, vq_suite_teardown,
	   UNIT_TEST(test_interrupt_suppression_flags),
	   UNIT_TEST(test_notify_suppression_flags),
	   UNIT_TEST(test_need_event_arithmetic),
	   UNIT_TEST(test_event_idx_across_wrap))

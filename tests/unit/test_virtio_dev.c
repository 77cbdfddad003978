/*
 * The virtio device core (devices/virtio/virtio_dev.c) driven as a
 * driver drives it through the common configuration (virtio 1.2, 3.1.1
 * and 4.1.4.3): feature negotiation, the status byte, queue setup,
 * notifications and interrupts, reset; and what a driver gets wrong.
 */
#include <string.h>
#include "unit.h"
#include "fake_guest_ram.h"
#include "devices/virtio/virtio_dev.h"

#define MiB (1ull << 20)
#define OFFERED ((1ull << VIRTIO_F_EVENT_IDX) | (1ull << 5))

static struct fake_guest_ram g;
static struct virtio_dev vd;
static unsigned activated, resets, notified[2], queue_irqs, config_irqs;
static uint16_t last_vector;

static void on_notify(struct virtio_dev *d, unsigned q) { notified[q]++; }
static void on_activate(struct virtio_dev *d) { activated++; }
static void on_reset(struct virtio_dev *d) { resets++; }
static void irq_queue(struct virtio_dev *d, unsigned q, uint16_t v) { queue_irqs++; last_vector = v; }
static void irq_config(struct virtio_dev *d, uint16_t v) { config_irqs++; last_vector = v; }

static const struct virtio_dev_ops ops = {
	.queue_notify = on_notify, .activate = on_activate, .reset = on_reset,
};
static const struct virtio_transport_ops tops = {
	.notify_queue = irq_queue, .notify_config = irq_config,
};

static int suite_setup(void) { return fake_guest_ram_init(&g, 16 * MiB, true); }
static int suite_teardown(void) { fake_guest_ram_fini(&g); return 0; }

static void fresh(void)
{
	memset(fake_guest_ram_host(&g, 0x10000), 0, 0x4000);
	activated = resets = notified[0] = notified[1] = queue_irqs = config_irqs = 0;
	virtio_dev_init(&vd, &g.mem, 2, OFFERED, 2, 64, 8, &ops, NULL);
	vd.tops = &tops;
}

static uint32_t rd(uint32_t off, unsigned size) { return virtio_dev_common_read(&vd, off, size); }
static void wr(uint32_t off, unsigned size, uint32_t v) { virtio_dev_common_write(&vd, off, size, v); }

static void set_features(uint64_t f)
{
	wr(VIRTIO_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_COMMON_GF, 4, (uint32_t)f);
	wr(VIRTIO_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_COMMON_GF, 4, (uint32_t)(f >> 32));
}

/* 3.1.1 steps 1-6 with the given features; returns the status read back. */
static uint8_t negotiate(uint64_t f)
{
	wr(VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_features(f);
	wr(VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	return (uint8_t)rd(VIRTIO_COMMON_STATUS, 1);
}

static void setup_queue0(uint64_t desc)
{
	wr(VIRTIO_COMMON_Q_SELECT, 2, 0);
	wr(VIRTIO_COMMON_Q_SIZE, 2, 16);
	wr(VIRTIO_COMMON_Q_DESCLO, 4, (uint32_t)desc);
	wr(VIRTIO_COMMON_Q_DESCHI, 4, (uint32_t)(desc >> 32));
	wr(VIRTIO_COMMON_Q_AVAILLO, 4, 0x11000);
	wr(VIRTIO_COMMON_Q_USEDLO, 4, 0x12000);
	wr(VIRTIO_COMMON_Q_MSIX, 2, 3);
	wr(VIRTIO_COMMON_Q_ENABLE, 2, 1);
}

static void test_features_offered(void)
{
	fresh();
	wr(VIRTIO_COMMON_DFSELECT, 4, 0);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_DF, 4), (uint32_t)OFFERED);
	wr(VIRTIO_COMMON_DFSELECT, 4, 1);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_DF, 4), 1u);	/* VERSION_1 is bit 32 */
	wr(VIRTIO_COMMON_DFSELECT, 4, 7);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_DF, 4), 0u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_NUMQ, 2), 2u);
}

static void test_negotiation(void)
{
	uint64_t v1 = 1ull << VIRTIO_F_VERSION_1;

	fresh();
	CU_ASSERT(negotiate(v1 | (1ull << 5)) & VIRTIO_CONFIG_S_FEATURES_OK);
	CU_ASSERT(virtio_has_feature(&vd, 5));
	CU_ASSERT(!virtio_has_feature(&vd, VIRTIO_F_EVENT_IDX));
	/* fixed now: a late write changes nothing */
	set_features(v1 | OFFERED);
	CU_ASSERT(!virtio_has_feature(&vd, VIRTIO_F_EVENT_IDX));

	fresh();	/* a feature never offered */
	CU_ASSERT(!(negotiate(v1 | (1ull << 7)) & VIRTIO_CONFIG_S_FEATURES_OK));
	fresh();	/* no VERSION_1: a legacy driver, which we do not serve */
	CU_ASSERT(!(negotiate(1ull << 5) & VIRTIO_CONFIG_S_FEATURES_OK));
	CU_ASSERT(vd.bad_features > 0);
}

static void test_driver_ok_and_notify(void)
{
	fresh();
	negotiate((1ull << VIRTIO_F_VERSION_1) | OFFERED);
	setup_queue0(0x10000);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_ENABLE, 2), 1u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_NOFF, 2), 0u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_DESCLO, 4), 0x10000u);
	virtio_dev_notify(&vd, 0);
	CU_ASSERT_EQUAL(notified[0], 0);	/* not live before DRIVER_OK */
	wr(VIRTIO_COMMON_STATUS, 1, 0x0f);
	CU_ASSERT_EQUAL(activated, 1);
	CU_ASSERT(virtio_dev_live(&vd));
	virtio_dev_notify(&vd, 0);
	virtio_dev_notify(&vd, 1);		/* queue 1 never enabled */
	virtio_dev_notify(&vd, 9);		/* no such queue */
	CU_ASSERT_EQUAL(notified[0], 1);
	CU_ASSERT_EQUAL(notified[1], 0);
	/* moving a live queue's rings is refused */
	wr(VIRTIO_COMMON_Q_DESCLO, 4, 0x20000);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_DESCLO, 4), 0x10000u);
}

static void test_driver_ok_before_features(void)
{
	fresh();
	wr(VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_FALSE(rd(VIRTIO_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_EQUAL(activated, 0);
}

static void test_interrupts(void)
{
	fresh();
	negotiate(1ull << VIRTIO_F_VERSION_1);
	setup_queue0(0x10000);
	wr(VIRTIO_COMMON_STATUS, 1, 0x0f);
	virtio_dev_used(&vd, 0);	/* no flags in the avail ring: interrupt */
	CU_ASSERT_EQUAL(queue_irqs, 1);
	CU_ASSERT_EQUAL(last_vector, 3);
	CU_ASSERT_EQUAL(virtio_dev_isr_read(&vd), 1);
	CU_ASSERT_EQUAL(virtio_dev_isr_read(&vd), 0);	/* read clears */
	wr(VIRTIO_COMMON_MSIX, 2, 5);
	virtio_dev_config_changed(&vd);
	CU_ASSERT_EQUAL(config_irqs, 1);
	CU_ASSERT_EQUAL(last_vector, 5);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_CFGGENERATION, 1), 1u);
	CU_ASSERT_EQUAL(virtio_dev_isr_read(&vd), 2);
}

static void test_bad_ring_needs_reset(void)
{
	fresh();
	negotiate(1ull << VIRTIO_F_VERSION_1);
	wr(VIRTIO_COMMON_STATUS, 1, 0x0f);
	setup_queue0(0xfee00000ull);	/* the local APIC, not RAM */
	CU_ASSERT(rd(VIRTIO_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CU_ASSERT_FALSE(virtio_dev_live(&vd));
	CU_ASSERT_EQUAL(config_irqs, 1);	/* 2.1.2: told by a config change */
	virtio_dev_notify(&vd, 0);
	CU_ASSERT_EQUAL(notified[0], 0);
	/* reset brings it back */
	wr(VIRTIO_COMMON_STATUS, 1, 0);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_STATUS, 1), 0u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_ENABLE, 2), 0u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CU_ASSERT(resets >= 2);		/* init and this one */
}

static void test_out_of_range_and_widths(void)
{
	fresh();
	wr(VIRTIO_COMMON_Q_SELECT, 2, 40);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_SIZE, 2), 0u);	/* unavailable */
	wr(VIRTIO_COMMON_Q_SIZE, 2, 8);
	wr(VIRTIO_COMMON_Q_DESCLO, 4, 0x1000);
	wr(VIRTIO_COMMON_Q_ENABLE, 2, 1);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_ENABLE, 2), 0u);
	wr(VIRTIO_COMMON_NUMQ, 2, 9);		/* read-only */
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_NUMQ, 2), 2u);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_STATUS, 4), 0u);	/* wrong width */
	CU_ASSERT_EQUAL(rd(0x3f, 1), 0u);
	CU_ASSERT(vd.bad_queue_writes >= 4);
	/* what the statistics file shows (device_model.counters) */
	struct device_counter c[4];
	CU_ASSERT_EQUAL_FATAL(virtio_dev_counters(&vd, c, 4), 3);
	CU_ASSERT_STRING_EQUAL(c[0].name, "needs_reset");
	CU_ASSERT_EQUAL(c[0].value, vd.needs_reset);
	CU_ASSERT_EQUAL(c[1].value, vd.bad_queue_writes);
	wr(VIRTIO_COMMON_Q_SELECT, 2, 1);
	CU_ASSERT_EQUAL(rd(VIRTIO_COMMON_Q_SIZE, 2), 64u);	/* the max offered */
}

UNIT_SUITE(virtio_dev, suite_setup, suite_teardown,
	   UNIT_TEST(test_features_offered),
	   UNIT_TEST(test_negotiation),
	   UNIT_TEST(test_driver_ok_and_notify),
	   UNIT_TEST(test_driver_ok_before_features),
	   UNIT_TEST(test_interrupts),
	   UNIT_TEST(test_bad_ring_needs_reset),
	   UNIT_TEST(test_out_of_range_and_widths))

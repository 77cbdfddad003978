/* The interrupt wiring (vmm/irq_router.c) with fake controllers. */
#include <string.h>
#include "unit.h"
#include "vmm/irq_router.h"

struct fake_controller {
	unsigned changes;
	bool level[IRQ_ROUTER_LINES];
	unsigned last_vcpu;
	int vector;		/* what acknowledge answers */
};

static void fake_changed(void *ctx, unsigned gsi, bool level)
{
	struct fake_controller *c = ctx;

	c->changes++;
	c->level[gsi] = level;
}

static bool fake_has(void *ctx, unsigned vcpu)
{
	struct fake_controller *c = ctx;

	c->last_vcpu = vcpu;
	return c->vector >= 0;
}

static int fake_ack(void *ctx, unsigned vcpu)
{
	struct fake_controller *c = ctx;

	c->last_vcpu = vcpu;
	return c->vector;
}

static const struct irq_controller_ops fake_ops = {
	.has_interrupt = fake_has, .acknowledge = fake_ack,
};

/* A line reaches every controller wired to it, and only those. */
static void test_line_to_two_controllers(void)
{
	struct irq_router r;
	struct fake_controller pic = { 0 }, ioapic = { 0 };
	static const int dev;

	irq_router_init(&r);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 16, fake_changed, &pic), 0);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 24, fake_changed, &ioapic), 0);
	irq_router_set(&r, &dev, 4, true);
	CU_ASSERT_TRUE(pic.level[4]);
	CU_ASSERT_TRUE(ioapic.level[4]);
	irq_router_set(&r, &dev, 20, true);		/* a PCI line */
	CU_ASSERT_FALSE(pic.level[20]);
	CU_ASSERT_EQUAL(pic.changes, 1);
	CU_ASSERT_TRUE(ioapic.level[20]);
	irq_router_set(&r, &dev, 4, false);
	CU_ASSERT_FALSE(pic.level[4]);
	CU_ASSERT_FALSE(ioapic.level[4]);
	CU_ASSERT_EQUAL(pic.changes, 2);
	CU_ASSERT_EQUAL(ioapic.changes, 3);

	/* Unwired: the PIC hears nothing more; the IOAPIC still does. */
	irq_router_unlisten(&r, &pic);
	irq_router_set(&r, &dev, 4, true);
	CU_ASSERT_EQUAL(pic.changes, 2);
	CU_ASSERT_EQUAL(ioapic.changes, 4);

	/* A controller wired later learns the lines already asserted. */
	struct fake_controller late = { 0 };
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 24, fake_changed, &late), 0);
	CU_ASSERT_EQUAL(late.changes, 2);
	CU_ASSERT_TRUE(late.level[4]);
	CU_ASSERT_TRUE(late.level[20]);
}

/* Shared lines are the OR of their sources; a source repeating its level
 * is no change. */
static void test_wired_or(void)
{
	struct irq_router r;
	struct fake_controller c = { 0 };
	static const int a, b;

	irq_router_init(&r);
	irq_router_listen(&r, 0, IRQ_ROUTER_LINES, fake_changed, &c);
	irq_router_set(&r, &a, 9, true);
	irq_router_set(&r, &a, 9, true);
	irq_router_set(&r, &b, 9, true);
	CU_ASSERT_EQUAL(c.changes, 1);
	CU_ASSERT_TRUE(irq_router_level(&r, 9));
	irq_router_set(&r, &a, 9, false);
	CU_ASSERT_TRUE(irq_router_level(&r, 9));	/* b holds it */
	CU_ASSERT_EQUAL(c.changes, 1);
	irq_router_set(&r, &a, 9, false);		/* a again: no effect */
	CU_ASSERT_TRUE(irq_router_level(&r, 9));
	irq_router_set(&r, &b, 9, false);
	CU_ASSERT_FALSE(irq_router_level(&r, 9));
	CU_ASSERT_FALSE(c.level[9]);
	CU_ASSERT_EQUAL(c.changes, 2);
	irq_router_set(&r, &b, 9, false);		/* low and low: nothing */
	CU_ASSERT_EQUAL(c.changes, 2);
	CU_ASSERT_EQUAL(r.refused, 0);
}

/* Bad lines, too many sources, bad ranges and full tables are refused
 * and counted, never written out of bounds. */
static void test_refusals(void)
{
	struct irq_router r;
	struct fake_controller c = { 0 };
	int sources[IRQ_LINE_MAX_SOURCES + 1];

	irq_router_init(&r);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 20, 5, fake_changed, &c), -1);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 24, 1, fake_changed, &c), -1);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 0, fake_changed, &c), -1);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 1, NULL, &c), -1);
	irq_router_set(&r, &c, IRQ_ROUTER_LINES, true);
	irq_router_set(&r, &c, ~0u, true);
	CU_ASSERT_EQUAL(r.refused, 2);
	CU_ASSERT_FALSE(irq_router_level(&r, IRQ_ROUTER_LINES));

	for (int i = 0; i <= IRQ_LINE_MAX_SOURCES; i++)
		irq_router_set(&r, &sources[i], 7, true);
	CU_ASSERT_EQUAL(r.refused, 3);
	CU_ASSERT_EQUAL(r.line[7].nr_asserted, IRQ_LINE_MAX_SOURCES);
	for (int i = 0; i <= IRQ_LINE_MAX_SOURCES; i++)
		irq_router_set(&r, &sources[i], 7, false);
	CU_ASSERT_FALSE(irq_router_level(&r, 7));

	struct fake_controller many[IRQ_ROUTER_MAX_LISTENERS + 1];
	memset(many, 0, sizeof(many));
	for (int i = 0; i < IRQ_ROUTER_MAX_LISTENERS; i++)
		CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 1, fake_changed, &many[i]), 0);
	CU_ASSERT_EQUAL(irq_router_listen(&r, 0, 1, fake_changed,
					  &many[IRQ_ROUTER_MAX_LISTENERS]), -1);
}

/* Each vCPU asks its own controller; one without a controller is never
 * interrupted. */
static void test_controller_per_vcpu(void)
{
	struct irq_router r;
	struct fake_controller c0 = { .vector = 0x30 }, c1 = { .vector = -1 };

	irq_router_init(&r);
	CU_ASSERT_FALSE(irq_router_has_interrupt(&r, 0));
	CU_ASSERT_EQUAL(irq_router_acknowledge(&r, 0), -1);
	CU_ASSERT_EQUAL(irq_router_set_controller(&r, 0, &fake_ops, &c0), 0);
	CU_ASSERT_EQUAL(irq_router_set_controller(&r, 0, &fake_ops, &c1), -1);
	CU_ASSERT_EQUAL(irq_router_set_controller(&r, 3, &fake_ops, &c1), 0);
	CU_ASSERT_EQUAL(irq_router_set_controller(&r, IRQ_ROUTER_MAX_VCPUS,
						  &fake_ops, &c1), -1);
	CU_ASSERT_TRUE(irq_router_has_interrupt(&r, 0));
	CU_ASSERT_EQUAL(irq_router_acknowledge(&r, 0), 0x30);
	CU_ASSERT_EQUAL(c0.last_vcpu, 0);
	CU_ASSERT_FALSE(irq_router_has_interrupt(&r, 3));
	CU_ASSERT_EQUAL(c1.last_vcpu, 3);
	CU_ASSERT_FALSE(irq_router_has_interrupt(&r, 1));
	CU_ASSERT_FALSE(irq_router_has_interrupt(&r, IRQ_ROUTER_MAX_VCPUS));
	irq_router_clear_controller(&r, &c0);
	CU_ASSERT_FALSE(irq_router_has_controller(&r, 0));
	CU_ASSERT_TRUE(irq_router_has_controller(&r, 3));
}

/* The ExtINT source interrupts vCPU 0 directly only while vCPU 0 has no
 * controller of its own; with one (a local APIC) it is that controller's
 * to ask. */
static void test_extint_source(void)
{
	struct irq_router r;
	struct fake_controller pic = { .vector = 0x21 }, lapic = { .vector = 0x40 };

	irq_router_init(&r);
	CU_ASSERT_FALSE(irq_router_has_controller(&r, 0));
	CU_ASSERT_EQUAL(irq_router_set_extint(&r, &fake_ops, &pic), 0);
	CU_ASSERT_EQUAL(irq_router_set_extint(&r, &fake_ops, &lapic), -1);
	CU_ASSERT_TRUE(irq_router_has_controller(&r, 0));
	CU_ASSERT_FALSE(irq_router_has_controller(&r, 1));
	CU_ASSERT_EQUAL(irq_router_acknowledge(&r, 0), 0x21);
	CU_ASSERT_EQUAL(irq_router_set_controller(&r, 0, &fake_ops, &lapic), 0);
	CU_ASSERT_EQUAL(irq_router_acknowledge(&r, 0), 0x40);
	CU_ASSERT_EQUAL(irq_router_extint_acknowledge(&r), 0x21);
	irq_router_unlisten(&r, &pic);
	CU_ASSERT_FALSE(irq_router_extint_pending(&r));
	CU_ASSERT_EQUAL(irq_router_extint_acknowledge(&r), -1);
}

struct fake_sink {
	uint8_t id;
	unsigned taken;
	struct irq_msg last;
};

static bool sink_matches(void *ctx, const struct irq_msg *m)
{
	struct fake_sink *s = ctx;
	return m->dest == 0xff || m->dest == s->id;
}

static void sink_accept(void *ctx, const struct irq_msg *m)
{
	struct fake_sink *s = ctx;
	s->taken++;
	s->last = *m;
}

static const struct irq_msg_sink_ops sink_ops = { sink_matches, sink_accept };

static unsigned eoi_seen;
static void eoi_listener(void *ctx, uint8_t vector) { eoi_seen = vector; }

/* Messages reach the sinks their destination names; broadcast all but the
 * excepted sender; lowest priority exactly one; EOIs every listener. */
static void test_messages(void)
{
	struct irq_router r;
	struct fake_sink a = { .id = 0 }, b = { .id = 1 };
	struct irq_msg m = { .vector = 0x30, .dest = 1 };

	irq_router_init(&r);
	CU_ASSERT_EQUAL(irq_router_add_sink(&r, &sink_ops, &a), 0);
	CU_ASSERT_EQUAL(irq_router_add_sink(&r, &sink_ops, &b), 0);
	CU_ASSERT_EQUAL(irq_router_send(&r, &m, NULL), 1);
	CU_ASSERT_EQUAL(b.taken, 1);
	m.dest = 0xff;
	CU_ASSERT_EQUAL(irq_router_send(&r, &m, NULL), 2);
	CU_ASSERT_EQUAL(irq_router_send(&r, &m, &a), 1);
	CU_ASSERT_EQUAL(a.taken, 1);
	m.delivery = IRQ_DELIVERY_LOWEST;
	CU_ASSERT_EQUAL(irq_router_send(&r, &m, NULL), 1);
	m.dest = 7;
	CU_ASSERT_EQUAL(irq_router_send(&r, &m, NULL), 0);
	CU_ASSERT_EQUAL(r.msgs_unclaimed, 1);
	/* MSI: destination 1, logical, vector 0x45, NMI, level */
	CU_ASSERT_EQUAL(irq_router_send_msi(&r, 0xfee01004, 0xc445), 0);
	CU_ASSERT_EQUAL(b.last.vector, 0x45);
	CU_ASSERT_EQUAL(b.last.delivery, IRQ_DELIVERY_NMI);
	CU_ASSERT_TRUE(b.last.logical);
	CU_ASSERT_TRUE(b.last.level);
	CU_ASSERT_EQUAL(irq_router_send_msi(&r, 0xfec00000, 0x45), -1);
	CU_ASSERT_EQUAL(irq_router_listen_eoi(&r, eoi_listener, &eoi_seen), 0);
	irq_router_broadcast_eoi(&r, 0x61);
	CU_ASSERT_EQUAL(eoi_seen, 0x61);
	irq_router_unlisten(&r, &b);
	CU_ASSERT_EQUAL(irq_router_nr_sinks(&r), 1);
	irq_router_unlisten(&r, &eoi_seen);
	irq_router_broadcast_eoi(&r, 0x62);
	CU_ASSERT_EQUAL(eoi_seen, 0x61);
}

UNIT_SUITE(irq_router, NULL, NULL,
	   UNIT_TEST(test_extint_source),
	   UNIT_TEST(test_messages),
	   UNIT_TEST(test_line_to_two_controllers),
	   UNIT_TEST(test_wired_or),
	   UNIT_TEST(test_refusals),
	   UNIT_TEST(test_controller_per_vcpu))

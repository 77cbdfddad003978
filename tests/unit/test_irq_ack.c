/*
 * Acknowledge notices (userspace/vmm/irq_router.h): the 8259 at INTA and
 * an IOAPIC edge pin when a local APIC takes its vector tell the line's
 * source, and the PIT holds an owed edge until the last one was taken,
 * so edges never merge in an IRR (KVM's PIT: kvm_pit_ack_irq).
 */
#include "unit.h"
#include "fake_device_env.h"

#define IO	0xfec00000u
#define LAPIC_EOI 0xfee000b0u
#define HZ	1193182ull

static struct fake_env F;
static unsigned acks[IRQ_ROUTER_LINES];

static void count_ack(void *ctx, unsigned gsi)
{
	acks[gsi]++;
}

static void start(const char *const *models, unsigned n)
{
	memset(acks, 0, sizeof(acks));
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, models[i]));
}

static void pulse(unsigned line)
{
	fake_set_irq(&F, line, true);
	fake_set_irq(&F, line, false);
}

static void pic_init_pair(void)
{
	static const uint8_t seq[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0x00 }, { 0xa1, 0x00 },
	};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		pio_out8(&F, seq[i][0], seq[i][1]);
}

/* INTA of IRQ 0 and of the slave's IRQ 12: one notice each, on their
 * lines; the cascade line (2) never has one; an edge still in IRR none. */
static void test_pic_inta(void)
{
	static const char *const m[] = { "pic8259" };

	start(m, 1);
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_ack(&F.irq, 0, count_ack, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_ack(&F.irq, 2, count_ack, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_ack(&F.irq, 12, count_ack, NULL), 0);
	pic_init_pair();
	pulse(0);
	CU_ASSERT_EQUAL(acks[0], 0);	/* requested, not taken */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	CU_ASSERT_EQUAL(acks[0], 1);
	pio_out8(&F, 0x20, 0x20);
	pulse(12);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2c);
	CU_ASSERT_EQUAL(acks[12], 1);
	CU_ASSERT_EQUAL(acks[2], 0);
	CU_ASSERT_EQUAL(acks[0], 1);
	CU_ASSERT_EQUAL(irq_router_listen_ack(&F.irq, IRQ_ROUTER_LINES, count_ack, NULL), -1);
	fake_env_fini(&F);
}

static void io_write(uint8_t reg, uint32_t v)
{
	mmio_write32(&F, IO, reg);
	mmio_write32(&F, IO + 0x10, v);
}

/* ISA IRQ 0 on IOAPIC pin 2 (edge, vector 0x30): the notice comes when
 * the local APIC moves 0x30 to its ISR, once per delivered edge; a level
 * pin's vector taken gives none (Remote IRR and the EOI do that work). */
static void test_ioapic_taken(void)
{
	static const char *const m[] = { "lapic", "ioapic" };

	start(m, 2);
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_ack(&F.irq, 0, count_ack, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_ack(&F.irq, 9, count_ack, NULL), 0);
	io_write(0x15, 0);
	io_write(0x14, 0x30);		/* pin 2: vector 0x30, edge, unmasked */
	io_write(0x23, 0);
	io_write(0x22, 0x8039);		/* pin 9: vector 0x39, level */
	pulse(0);
	CU_ASSERT_EQUAL(acks[0], 0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x30);
	CU_ASSERT_EQUAL(acks[0], 1);
	mmio_write32(&F, LAPIC_EOI, 0);
	irq_router_vector_taken(&F.irq, 0x30);	/* no edge sent since: nothing */
	CU_ASSERT_EQUAL(acks[0], 1);
	fake_set_irq(&F, 9, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x39);
	CU_ASSERT_EQUAL(acks[9], 0);
	fake_set_irq(&F, 9, false);
	mmio_write32(&F, LAPIC_EOI, 0);
	fake_env_fini(&F);
}

static uint64_t at_ticks(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * 1000000000ull + HZ - 1) / HZ;
}

/* The PIT in mode 2 (1 ms), 20 periods late: without notices the owed
 * edges go out 200 us apart; once a notice came, the next owed edge
 * waits for the notice of the last (the deadline says when it gives up),
 * and 1 s without one lets the edges go by the clock again. */
static void test_pit_waits_for_notice(void)
{
	static const char *const m[] = { "pit8254" };
	const struct device_model *model = fake_model("pit8254");
	void *pit;

	start(m, 0);
	pit = fake_create(&F, "pit8254");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pit);
	uint64_t t0 = F.now;
	pio_out8(&F, 0x43, 0x34);
	pio_out8(&F, 0x40, 1193 & 0xff);
	pio_out8(&F, 0x40, 1193 >> 8);

	F.now = at_ticks(t0, 1193);
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 1);
	F.now += 250000;			/* no notice yet, none ever seen */
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 1);	/* on time: the next period's */
	F.now = at_ticks(t0, 20 * 1193 + 5);
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 2);
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 3);	/* paced by the clock alone */

	irq_router_line_acked(&F.irq, 0);	/* the guest took it */
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 4);
	uint64_t edge = F.now;
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 4);	/* owed, but the last is held */
	CU_ASSERT_EQUAL(model->next_deadline(pit), edge + 1000000000ull);
	irq_router_line_acked(&F.irq, 0);
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 5);

	/* no notice for 1 s: masked; paced by the clock again */
	edge = F.now;
	F.now = edge + 999000000ull;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 5);
	F.now = edge + 1000000000ull;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 6);
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 7);
	fake_env_fini(&F);
}

UNIT_SUITE(irq_ack, NULL, NULL,
	   UNIT_TEST(test_pic_inta),
	   UNIT_TEST(test_ioapic_taken),
	   UNIT_TEST(test_pit_waits_for_notice))

/*
 * Notices about a line's edge (userspace/vmm/irq_router.h): held by the
 * 8259 or an IOAPIC on its way to a CPU, taken at INTA or when a local
 * APIC moves the pin's vector to its ISR; the PIT holds an owed edge while
 * its last is held, so edges never merge in an IRR (KVM's PIT:
 * kvm_pit_ack_irq).
 */
#include "unit.h"
#include "fake_device_env.h"

#define IO	0xfec00000u
#define LAPIC_EOI 0xfee000b0u
#define HZ	1193182ull

static struct fake_env F;
static unsigned held[IRQ_ROUTER_LINES], taken[IRQ_ROUTER_LINES];

static void count_notice(void *ctx, unsigned gsi, enum irq_notice n)
{
	if (n == IRQ_NOTICE_HELD)
		held[gsi]++;
	else
		taken[gsi]++;
}

static void start(const char *const *models, unsigned n)
{
	memset(held, 0, sizeof(held));
	memset(taken, 0, sizeof(taken));
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, models[i]));
}

static void listen(unsigned gsi)
{
	CU_ASSERT_EQUAL_FATAL(irq_router_listen_notices(&F.irq, gsi, count_notice, NULL), 0);
}

static void pulse(unsigned line)
{
	fake_set_irq(&F, line, true);
	fake_set_irq(&F, line, false);
}

/* IRQ 0 and the slave's IRQ 12: held when the edge enters IRR unmasked,
 * taken at INTA; the cascade line (2) never has one; a masked input's
 * edge is not held (it may wait in IRR for good). */
static void test_pic_notices(void)
{
	static const char *const m[] = { "pic8259" };

	start(m, 1);
	listen(0);
	listen(1);
	listen(2);
	listen(12);
	fake_pic_init(&F);
	pulse(0);
	CU_ASSERT_EQUAL(held[0], 1);
	CU_ASSERT_EQUAL(taken[0], 0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	CU_ASSERT_EQUAL(taken[0], 1);
	pio_out8(&F, 0x20, 0x20);
	pulse(12);
	CU_ASSERT_EQUAL(held[12], 1);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2c);
	CU_ASSERT_EQUAL(taken[12], 1);
	CU_ASSERT_EQUAL(held[2] + taken[2], 0);
	pio_out8(&F, 0x21, 0x02);	/* IRQ 1 masked */
	pulse(1);
	CU_ASSERT_EQUAL(held[1], 0);
	CU_ASSERT_EQUAL(irq_router_listen_notices(&F.irq, IRQ_ROUTER_LINES, count_notice, NULL), -1);
	fake_env_fini(&F);
}

static void io_write(uint8_t reg, uint32_t v)
{
	mmio_write32(&F, IO, reg);
	mmio_write32(&F, IO + 0x10, v);
}

/* ISA IRQ 0 on IOAPIC pin 2 (edge, vector 0x30): held once a local
 * APIC took the message, taken when it moves 0x30 to its ISR, once per
 * edge; a masked edge pin's edge is lost, not held; a level pin has
 * neither (Remote IRR and the EOI do that work). */
static void test_ioapic_notices(void)
{
	static const char *const m[] = { "lapic", "ioapic" };

	start(m, 2);
	listen(0);
	listen(4);
	listen(9);
	io_write(0x15, 0);
	io_write(0x14, 0x30);		/* pin 2: vector 0x30, edge, unmasked */
	io_write(0x19, 0);
	io_write(0x18, 0x10034);	/* pin 4: edge, masked */
	io_write(0x23, 0);
	io_write(0x22, 0x8039);		/* pin 9: vector 0x39, level */
	pulse(0);
	CU_ASSERT_EQUAL(held[0], 1);
	CU_ASSERT_EQUAL(taken[0], 0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x30);
	CU_ASSERT_EQUAL(taken[0], 1);
	mmio_write32(&F, LAPIC_EOI, 0);
	irq_router_vector_taken(&F.irq, 0x30);	/* no edge sent since: nothing */
	CU_ASSERT_EQUAL(taken[0], 1);
	pulse(4);
	CU_ASSERT_EQUAL(held[4], 0);
	fake_set_irq(&F, 9, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x39);
	CU_ASSERT_EQUAL(held[9] + taken[9], 0);
	fake_set_irq(&F, 9, false);
	mmio_write32(&F, LAPIC_EOI, 0);
	fake_env_fini(&F);
}

static uint64_t at_ticks(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * 1000000000ull + HZ - 1) / HZ;
}

/* The PIT in mode 2 (1 ms), 20 periods late: with no controller holding
 * its edges the owed ones go out 200 us apart; while a controller holds
 * the last, the next waits (looking again each 1 ms) until a CPU took it,
 * at most 200 ms. */
static void test_pit_waits_while_held(void)
{
	const struct device_model *model = fake_model("pit8254");
	void *pit;

	start(NULL, 0);
	pit = fake_create(&F, "pit8254");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pit);
	uint64_t t0 = F.now;
	pio_out8(&F, 0x43, 0x34);
	pio_out8(&F, 0x40, 1193 & 0xff);
	pio_out8(&F, 0x40, 1193 >> 8);

	F.now = at_ticks(t0, 20 * 1193 + 5);
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 1);
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 2);	/* nobody held the first */

	irq_router_notice(&F.irq, 0, IRQ_NOTICE_HELD);	/* a controller has it */
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 2);	/* owed, but the last is held */
	CU_ASSERT_EQUAL(model->next_deadline(pit), F.now + 1000000);
	irq_router_notice(&F.irq, 0, IRQ_NOTICE_TAKEN);
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 3);

	/* held for 200 ms: a guest that keeps IF clear loses this one */
	irq_router_notice(&F.irq, 0, IRQ_NOTICE_HELD);
	uint64_t edge = F.now;
	F.now = edge + 199000000ull;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 3);
	F.now = edge + 200000000ull;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 4);
	F.now += 200000;
	model->poll(pit, F.now);
	CU_ASSERT_EQUAL(F.rising[0], 5);	/* this one nobody held */
	fake_env_fini(&F);
}

UNIT_SUITE(irq_ack, NULL, NULL,
	   UNIT_TEST(test_pic_notices),
	   UNIT_TEST(test_ioapic_notices),
	   UNIT_TEST(test_pit_waits_while_held))

/* The i8259A pair, driven through the port bus as a guest would. */
#include "unit.h"
#include "fake_device_env.h"

static struct fake_env F;
static void *pic;

static void raise_edge(unsigned irq)
{
	fake_set_irq(&F, irq, true);
	fake_set_irq(&F, irq, false);
}

static uint8_t read_isr(uint16_t base)
{
	pio_out8(&F, base, 0x0b);	/* OCW3: read ISR */
	return pio_in8(&F, base);
}

static uint8_t read_irr(uint16_t base)
{
	pio_out8(&F, base, 0x0a);	/* OCW3: read IRR */
	return pio_in8(&F, base);
}

/* The Linux/BSD sequence: vectors 0x20 and 0x28, 8086 mode, all unmasked. */
static void init_pair(uint8_t icw4)
{
	pio_out8(&F, 0x20, 0x11);
	pio_out8(&F, 0x21, 0x20);
	pio_out8(&F, 0x21, 0x04);
	pio_out8(&F, 0x21, icw4);
	pio_out8(&F, 0xa0, 0x11);
	pio_out8(&F, 0xa1, 0x28);
	pio_out8(&F, 0xa1, 0x02);
	pio_out8(&F, 0xa1, icw4);
	pio_out8(&F, 0x21, 0x00);
	pio_out8(&F, 0xa1, 0x00);
}

static int setup(void)
{
	if (fake_env_init(&F, 64 << 20))
		return -1;
	pic = fake_create(&F, "pic8259");
	return pic ? 0 : -1;
}

static int teardown(void)
{
	fake_env_fini(&F);
	return 0;
}

static void test_registered_and_installed(void)
{
	const struct device_model *m = fake_model("pic8259");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->level, DEVICE_LEVEL_CORE);
	/* Core devices come first in the registry. */
	CU_ASSERT_EQUAL(device_models()->level, DEVICE_LEVEL_CORE);
	for (struct device_model *d = device_models(); d && d->next; d = d->next)
		CU_ASSERT(d->level <= d->next->level);
	/* It is the ExtINT source, which interrupts vCPU 0 directly on a
	 * machine without a local APIC, and only vCPU 0. */
	CU_ASSERT_PTR_EQUAL(F.irq.extint.ctx, pic);
	CU_ASSERT_PTR_NULL(F.irq.cpu[0].ops);
	CU_ASSERT_TRUE(irq_router_has_controller(&F.irq, 0));
	CU_ASSERT_FALSE(irq_router_has_controller(&F.irq, 1));

	struct fake_env other;
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&other, 1 << 20), 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&other));	/* no PIC there */
	CU_ASSERT_EQUAL(fake_acknowledge(&other), -1);
	fake_env_fini(&other);
}

static void test_quiet_before_init(void)
{
	/* As the BIOS leaves it: timer masked, nothing delivered. */
	raise_edge(0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(read_irr(0x20) & 1, 1);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x21), 0xfb);
}

static void test_init_and_eoi(void)
{
	init_pair(0x01);
	CU_ASSERT_EQUAL(read_irr(0x20), 0);	/* ICW1 cleared the old edge */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x21), 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	raise_edge(0);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x01);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x00);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	/* While IR0 is in service, neither IR0 again nor IR1 gets through. */
	raise_edge(0);
	raise_edge(1);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x03);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	pio_out8(&F, 0x20, 0x20);	/* non-specific EOI */
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x21);
	pio_out8(&F, 0x20, 0x61);	/* specific EOI for IR1 */
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
}

static void test_priority_and_nesting(void)
{
	init_pair(0x01);
	raise_edge(3);
	raise_edge(1);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x21);
	/* IR3 is lower than IR1 (in service): held. */
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	/* IR0 is higher: nests. */
	raise_edge(0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x03);
	/* Non-specific EOI ends the highest in service, IR0. */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x02);
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	pio_out8(&F, 0x20, 0x20);

	/* Rotate: set priority so IR3 is lowest; then IR4 beats IR1. */
	pio_out8(&F, 0x20, 0xc3);
	raise_edge(1);
	raise_edge(4);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x24);
}

static void test_masking(void)
{
	init_pair(0x01);
	pio_out8(&F, 0x21, 0x10);	/* mask IR4 */
	raise_edge(4);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(read_irr(0x20), 0x10);
	raise_edge(6);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x26);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x21, 0x00);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x24);
}

static void test_cascade(void)
{
	init_pair(0x01);
	raise_edge(10);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(read_irr(0xa0), 0x04);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2a);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x04);
	CU_ASSERT_EQUAL(read_isr(0xa0), 0x04);

	raise_edge(11);		/* lower than IR10 on the slave: held */
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	raise_edge(1);		/* master IR1 beats the cascade IR2 */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x21);
	pio_out8(&F, 0x20, 0x20);

	pio_out8(&F, 0xa0, 0x20);	/* EOI the slave, then the master */
	CU_ASSERT_FALSE(fake_has_interrupt(&F));	/* master IR2 still in service */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2b);

	/* Masking the cascade line on the master hides the slave. */
	pio_out8(&F, 0xa0, 0x20);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x21, 0x04);
	raise_edge(15);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	pio_out8(&F, 0x21, 0x00);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2f);
}

static void test_spurious(void)
{
	init_pair(0x01);
	raise_edge(5);
	pio_out8(&F, 0x21, 0x20);	/* masked between INT and INTA */
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x27);
	CU_ASSERT_EQUAL(read_isr(0x20), 0);	/* spurious IR7 sets no ISR */

	pio_out8(&F, 0x21, 0x00);
	pio_out8(&F, 0xa1, 0x00);
	pio_out8(&F, 0x20, 0x20);
	/* Slave request withdrawn (level line dropped) before INTA: the
	 * master still acks IR2 and the slave answers IR7 (vector 0x2f). */
	pio_out8(&F, 0x4d1, 0x08);	/* IRQ11 level-triggered */
	fake_set_irq(&F, 11, true);
	CU_ASSERT_EQUAL(read_irr(0x20) & 0x04, 0x04);
	fake_set_irq(&F, 11, false);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x2f);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x04);	/* the OS EOIs the master */
	CU_ASSERT_EQUAL(read_isr(0xa0), 0x00);
}

static void test_level_elcr(void)
{
	init_pair(0x01);
	pio_out8(&F, 0x4d0, 0xff);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x4d0), 0xf8);	/* IRQ0-2 edge only */
	pio_out8(&F, 0x4d0, 0x20);
	fake_set_irq(&F, 5, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x25);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x20);	/* level stays requested */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));	/* still asserted */
	fake_set_irq(&F, 5, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	pio_out8(&F, 0x4d0, 0x00);
}

static void test_poll_and_auto_eoi(void)
{
	init_pair(0x01);
	raise_edge(3);
	pio_out8(&F, 0x20, 0x0c);	/* OCW3 poll */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x20), 0x83);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x08);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x20, 0x0c);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x20), 0x00);	/* nothing pending */

	init_pair(0x03);		/* ICW4: AEOI */
	raise_edge(3);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	raise_edge(4);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x24);
}

static void test_bad_input(void)
{
	/* Lines that do not exist and junk words change nothing fatal. */
	init_pair(0x01);
	fake_set_irq(&F, 16, true);
	fake_set_irq(&F, 1000, true);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	pio_out8(&F, 0x20, 0x40);	/* OCW2 no-op */
	pio_out8(&F, 0x20, 0x20);	/* EOI with nothing in service */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x27);
	CU_ASSERT_EQUAL(pio_in16(&F, 0x20) >> 8, 0x00);	/* word read: IMR */
	fake_set_irq(&F, 16, false);
	CU_ASSERT_EQUAL(F.irq.refused, 1);	/* GSI 1000 does not exist */
}

/* Two devices on one line (wired-OR), through the router to the PIC:
 * a level input stays requested until both let go; on an edge input a
 * second source's pulse while the first holds the line is no new edge. */
static void test_shared_line(void)
{
	static const int dev_a, dev_b;

	init_pair(0x01);
	pio_out8(&F, 0x4d0, 0x20);			/* IRQ5 level */
	irq_router_set(&F.irq, &dev_a, 5, true);
	irq_router_set(&F.irq, &dev_b, 5, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x25);
	pio_out8(&F, 0x20, 0x20);
	irq_router_set(&F.irq, &dev_a, 5, false);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));		/* b still holds it */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x25);
	pio_out8(&F, 0x20, 0x20);
	irq_router_set(&F.irq, &dev_b, 5, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	pio_out8(&F, 0x4d0, 0x00);

	/* IRQ3 edge: a holds the line high, b pulses: one request only. */
	irq_router_set(&F.irq, &dev_a, 3, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	pio_out8(&F, 0x20, 0x20);
	irq_router_set(&F.irq, &dev_b, 3, true);
	irq_router_set(&F.irq, &dev_b, 3, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	irq_router_set(&F.irq, &dev_a, 3, false);
	irq_router_set(&F.irq, &dev_b, 3, true);	/* now a real edge */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	pio_out8(&F, 0x20, 0x20);
	irq_router_set(&F.irq, &dev_b, 3, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
}

UNIT_SUITE(pic8259, setup, teardown,
	   UNIT_TEST(test_registered_and_installed),
	   UNIT_TEST(test_quiet_before_init),
	   UNIT_TEST(test_init_and_eoi),
	   UNIT_TEST(test_priority_and_nesting),
	   UNIT_TEST(test_masking),
	   UNIT_TEST(test_cascade),
	   UNIT_TEST(test_spurious),
	   UNIT_TEST(test_level_elcr),
	   UNIT_TEST(test_shared_line),
	   UNIT_TEST(test_poll_and_auto_eoi),
	   UNIT_TEST(test_bad_input))

/* The i8259A pair, driven through the port bus as a guest would. */
#include "unit.h"
#include "fake_device_env.h"

static struct fake_env F;
static struct pic *pic;

static void raise_edge(unsigned irq)
{
	F.env.set_irq(F.env.irq_ctx, irq, true);
	F.env.set_irq(F.env.irq_ctx, irq, false);
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
	if (!fake_create(&F, "pic8259"))
		return -1;
	pic = pic_from_env(&F.env);
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
	CU_ASSERT_PTR_EQUAL(pic, F.env.irq_ctx);

	struct fake_env other;
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&other, 1 << 20), 0);
	CU_ASSERT_PTR_NULL(pic_from_env(&other.env));	/* no PIC there */
	fake_env_fini(&other);
}

static void test_quiet_before_init(void)
{
	/* As the BIOS leaves it: timer masked, nothing delivered. */
	raise_edge(0);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(read_irr(0x20) & 1, 1);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x21), 0xfb);
}

static void test_init_and_eoi(void)
{
	init_pair(0x01);
	CU_ASSERT_EQUAL(read_irr(0x20), 0);	/* ICW1 cleared the old edge */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x21), 0);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));

	raise_edge(0);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x01);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x00);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));

	/* While IR0 is in service, neither IR0 again nor IR1 gets through. */
	raise_edge(0);
	raise_edge(1);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x03);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));

	pio_out8(&F, 0x20, 0x20);	/* non-specific EOI */
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x20);
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x21);
	pio_out8(&F, 0x20, 0x61);	/* specific EOI for IR1 */
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
}

static void test_priority_and_nesting(void)
{
	init_pair(0x01);
	raise_edge(3);
	raise_edge(1);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x21);
	/* IR3 is lower than IR1 (in service): held. */
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	/* IR0 is higher: nests. */
	raise_edge(0);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x03);
	/* Non-specific EOI ends the highest in service, IR0. */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x02);
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x23);
	pio_out8(&F, 0x20, 0x20);

	/* Rotate: set priority so IR3 is lowest; then IR4 beats IR1. */
	pio_out8(&F, 0x20, 0xc3);
	raise_edge(1);
	raise_edge(4);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x24);
}

static void test_masking(void)
{
	init_pair(0x01);
	pio_out8(&F, 0x21, 0x10);	/* mask IR4 */
	raise_edge(4);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(read_irr(0x20), 0x10);
	raise_edge(6);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x26);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x21, 0x00);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x24);
}

static void test_cascade(void)
{
	init_pair(0x01);
	raise_edge(10);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(read_irr(0xa0), 0x04);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x2a);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x04);
	CU_ASSERT_EQUAL(read_isr(0xa0), 0x04);

	raise_edge(11);		/* lower than IR10 on the slave: held */
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	raise_edge(1);		/* master IR1 beats the cascade IR2 */
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x21);
	pio_out8(&F, 0x20, 0x20);

	pio_out8(&F, 0xa0, 0x20);	/* EOI the slave, then the master */
	CU_ASSERT_FALSE(pic_has_interrupt(pic));	/* master IR2 still in service */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x2b);

	/* Masking the cascade line on the master hides the slave. */
	pio_out8(&F, 0xa0, 0x20);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x21, 0x04);
	raise_edge(15);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	pio_out8(&F, 0x21, 0x00);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x2f);
}

static void test_spurious(void)
{
	init_pair(0x01);
	raise_edge(5);
	pio_out8(&F, 0x21, 0x20);	/* masked between INT and INTA */
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x27);
	CU_ASSERT_EQUAL(read_isr(0x20), 0);	/* spurious IR7 sets no ISR */

	pio_out8(&F, 0x21, 0x00);
	pio_out8(&F, 0xa1, 0x00);
	pio_out8(&F, 0x20, 0x20);
	/* Slave request withdrawn (level line dropped) before INTA: the
	 * master still acks IR2 and the slave answers IR7 (vector 0x2f). */
	pio_out8(&F, 0x4d1, 0x08);	/* IRQ11 level-triggered */
	F.env.set_irq(F.env.irq_ctx, 11, true);
	CU_ASSERT_EQUAL(read_irr(0x20) & 0x04, 0x04);
	F.env.set_irq(F.env.irq_ctx, 11, false);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x2f);
	CU_ASSERT_EQUAL(read_isr(0x20), 0x04);	/* the OS EOIs the master */
	CU_ASSERT_EQUAL(read_isr(0xa0), 0x00);
}

static void test_level_elcr(void)
{
	init_pair(0x01);
	pio_out8(&F, 0x4d0, 0xff);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x4d0), 0xf8);	/* IRQ0-2 edge only */
	pio_out8(&F, 0x4d0, 0x20);
	F.env.set_irq(F.env.irq_ctx, 5, true);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x25);
	CU_ASSERT_EQUAL(read_irr(0x20), 0x20);	/* level stays requested */
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_TRUE(pic_has_interrupt(pic));	/* still asserted */
	F.env.set_irq(F.env.irq_ctx, 5, false);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
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
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x23);
	CU_ASSERT_EQUAL(read_isr(0x20), 0);
	raise_edge(4);
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x24);
}

static void test_bad_input(void)
{
	/* Lines that do not exist and junk words change nothing fatal. */
	init_pair(0x01);
	F.env.set_irq(F.env.irq_ctx, 16, true);
	F.env.set_irq(F.env.irq_ctx, 1000, true);
	CU_ASSERT_FALSE(pic_has_interrupt(pic));
	pio_out8(&F, 0x20, 0x40);	/* OCW2 no-op */
	pio_out8(&F, 0x20, 0x20);	/* EOI with nothing in service */
	CU_ASSERT_EQUAL(pic_acknowledge(pic), 0x27);
	CU_ASSERT_EQUAL(pio_in16(&F, 0x20) >> 8, 0x00);	/* word read: IMR */
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
	   UNIT_TEST(test_poll_and_auto_eoi),
	   UNIT_TEST(test_bad_input))

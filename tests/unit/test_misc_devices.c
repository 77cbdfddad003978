/* The small PC devices: isa-debug-exit, ACPI PM1a_CNT power-off, i8042,
 * port 0x92 and the POST port. Each test starts from fresh devices. */
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"

static struct fake_env F;

static void start(const char *name)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 16 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, name));
}

static void test_debug_exit(void)
{
	start("debug_exit");
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	pio_out8(&F, 0xf4, 0x10);
	CU_ASSERT_EQUAL(F.nr_stops, 1);
	CU_ASSERT_EQUAL(F.stop_reason, STOP_DEBUG_EXIT);
	CU_ASSERT_EQUAL(F.stop_status, 0x21);
	pio_out8(&F, 0xf4, 0x00);
	CU_ASSERT_EQUAL(F.stop_status, 1);
	pio_out32(&F, 0xf4, 0x102);		/* dword OUT: the whole value */
	CU_ASSERT_EQUAL(F.stop_status, 0x205);
	pio_out16(&F, 0xf6, 3);			/* anywhere in the 4 ports */
	CU_ASSERT_EQUAL(F.stop_status, 7);
	CU_ASSERT_EQUAL(F.nr_stops, 4);
	CU_ASSERT_EQUAL(pio_in8(&F, 0xf4), 0);
	CU_ASSERT_EQUAL(F.nr_stops, 4);		/* reads do not stop */
	fake_env_fini(&F);
}

static void test_acpi_poweroff(void)
{
	start("acpi_pm");
	CU_ASSERT_EQUAL(pio_in16(&F, 0x604) & 1, 1);	/* SCI_EN */
	pio_out16(&F, 0x604, 0x1c00);		/* SLP_TYP only: nothing */
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	CU_ASSERT_EQUAL(pio_in16(&F, 0x604) & 0x1c00, 0x1c00);
	pio_out8(&F, 0x604, 0xff);		/* low byte cannot reach bit 13 */
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	pio_out16(&F, 0x604, 0x2000);		/* what QEMU's pc answers to */
	CU_ASSERT_EQUAL(F.nr_stops, 1);
	CU_ASSERT_EQUAL(F.stop_reason, STOP_POWEROFF);
	CU_ASSERT_EQUAL(pio_in16(&F, 0x604) & 0x2000, 0);	/* write-only bit */
	pio_out8(&F, 0x605, 0x20);		/* the high byte alone */
	CU_ASSERT_EQUAL(F.nr_stops, 2);
	fake_env_fini(&F);
}

/* QMP system_powerdown: PWRBTN_STS (bit 8) set; the SCI (IRQ 9) only
 * once the OS enabled PWRBTN_EN; cleared by writing 1 (ACPI 6.4 4.8.3.1). */
static void test_acpi_power_button(void)
{
	const struct device_model *m = device_model_find("acpi_pm");

	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 16 << 20), 0);
	void *dev = fake_create(&F, "acpi_pm");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->power_button);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	m->power_button(dev);
	CU_ASSERT_EQUAL(pio_in16(&F, 0x600) & 0x100, 0x100);
	CU_ASSERT_FALSE(F.line[9]);		/* not enabled: no SCI */
	pio_out16(&F, 0x602, 0x100);		/* PWRBTN_EN */
	CU_ASSERT_TRUE(F.line[9]);
	pio_out16(&F, 0x600, 0x100);		/* the OS acknowledges */
	CU_ASSERT_EQUAL(pio_in16(&F, 0x600) & 0x100, 0);
	CU_ASSERT_FALSE(F.line[9]);
	fake_env_fini(&F);
}

static uint8_t kbc_read_data(void)
{
	CU_ASSERT_EQUAL(pio_in8(&F, 0x64) & 0x01, 0x01);	/* OBF */
	return pio_in8(&F, 0x60);
}

static void test_i8042_commands(void)
{
	start("i8042");
	CU_ASSERT_EQUAL(pio_in8(&F, 0x64) & 0x01, 0);
	pio_out8(&F, 0x64, 0xaa);		/* self test */
	CU_ASSERT_EQUAL(kbc_read_data(), 0x55);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x64) & 0x05, 0x04);	/* SYS, OB empty */

	pio_out8(&F, 0x64, 0x20);		/* read command byte */
	uint8_t cb = kbc_read_data();
	CU_ASSERT_EQUAL(cb & 0x01, 0x01);	/* keyboard IRQ enabled */
	pio_out8(&F, 0x64, 0xad);		/* disable keyboard */
	pio_out8(&F, 0x64, 0x20);
	CU_ASSERT_EQUAL(kbc_read_data() & 0x10, 0x10);
	pio_out8(&F, 0x64, 0xae);
	pio_out8(&F, 0x64, 0x20);
	CU_ASSERT_EQUAL(kbc_read_data() & 0x10, 0x00);

	/* Writing the command byte: interrupts off, then a byte needs none. */
	pio_out8(&F, 0x64, 0x60);
	pio_out8(&F, 0x60, 0x44);
	pio_out8(&F, 0x64, 0x20);
	CU_ASSERT_FALSE(F.line[1]);
	CU_ASSERT_EQUAL(kbc_read_data(), 0x44);

	/* Interrupts on: the keyboard's reply raises IRQ1 until read. */
	pio_out8(&F, 0x64, 0x60);
	pio_out8(&F, 0x60, 0x45);
	unsigned edges = F.rising[1];
	pio_out8(&F, 0x60, 0xff);		/* keyboard reset */
	CU_ASSERT_TRUE(F.line[1]);
	CU_ASSERT_EQUAL(F.rising[1], edges + 1);
	CU_ASSERT_EQUAL(kbc_read_data(), 0xfa);
	CU_ASSERT_EQUAL(F.rising[1], edges + 2);	/* next byte: a new edge */
	CU_ASSERT_EQUAL(kbc_read_data(), 0xaa);
	CU_ASSERT_FALSE(F.line[1]);
	pio_out8(&F, 0x60, 0xed);		/* set LEDs: two ACKs */
	pio_out8(&F, 0x60, 0x07);
	CU_ASSERT_EQUAL(kbc_read_data(), 0xfa);
	CU_ASSERT_EQUAL(kbc_read_data(), 0xfa);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x64) & 0x01, 0);

	/* Aux loopback lands with AUX_OBF. */
	pio_out8(&F, 0x64, 0xd3);
	pio_out8(&F, 0x60, 0x5a);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x64) & 0x21, 0x21);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x60), 0x5a);
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	fake_env_fini(&F);
}

static void test_i8042_reset_and_a20(void)
{
	start("i8042");
	pio_out8(&F, 0x64, 0xd0);		/* read output port */
	CU_ASSERT_EQUAL(kbc_read_data() & 0x03, 0x03);	/* A20 on, not in reset */
	CU_ASSERT_EQUAL(F.nr_a20, 0);		/* reading drives nothing */
	pio_out8(&F, 0x64, 0xdd);
	CU_ASSERT_EQUAL(F.nr_a20, 1);
	CU_ASSERT_FALSE(F.a20);
	pio_out8(&F, 0x64, 0xd0);
	CU_ASSERT_EQUAL(kbc_read_data() & 0x02, 0x00);
	pio_out8(&F, 0x64, 0xdf);
	CU_ASSERT_EQUAL(F.nr_a20, 2);
	CU_ASSERT_TRUE(F.a20);
	pio_out8(&F, 0x64, 0xd0);
	CU_ASSERT_EQUAL(kbc_read_data() & 0x02, 0x02);
	pio_out8(&F, 0x64, 0xd1);		/* write output port: A20 off */
	CU_ASSERT_EQUAL(F.nr_a20, 2);		/* not before the data byte */
	pio_out8(&F, 0x60, 0x01);
	CU_ASSERT_EQUAL(F.nr_a20, 3);
	CU_ASSERT_FALSE(F.a20);
	pio_out8(&F, 0x64, 0xd0);
	CU_ASSERT_EQUAL(kbc_read_data() & 0x02, 0x00);
	pio_out8(&F, 0x64, 0xd1);		/* and on again */
	pio_out8(&F, 0x60, 0x03);
	CU_ASSERT_EQUAL(F.nr_a20, 4);
	CU_ASSERT_TRUE(F.a20);
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	pio_out8(&F, 0x64, 0xff);		/* pulse nothing */
	CU_ASSERT_EQUAL(F.nr_stops, 0);

	pio_out8(&F, 0x64, 0xfe);		/* pulse reset */
	CU_ASSERT_EQUAL(F.nr_stops, 1);
	CU_ASSERT_EQUAL(F.stop_reason, STOP_RESET);
	pio_out8(&F, 0x64, 0xd1);		/* output port bit 0 low: reset */
	pio_out8(&F, 0x60, 0x00);
	CU_ASSERT_EQUAL(F.nr_stops, 2);
	fake_env_fini(&F);
}

static void test_port92_and_port80(void)
{
	start("port92");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "port80"));
	CU_ASSERT_EQUAL(pio_in8(&F, 0x92), 0x02);	/* A20 on */
	CU_ASSERT_EQUAL(F.nr_a20, 0);
	pio_out8(&F, 0x92, 0x00);
	CU_ASSERT_EQUAL(F.nr_a20, 1);
	CU_ASSERT_FALSE(F.a20);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x92), 0x00);
	pio_out8(&F, 0x92, 0x02);
	CU_ASSERT_EQUAL(F.nr_a20, 2);
	CU_ASSERT_TRUE(F.a20);
	pio_out8(&F, 0x92, 0x00);
	CU_ASSERT_EQUAL(F.nr_stops, 0);
	pio_out8(&F, 0x92, 0x03);
	CU_ASSERT_EQUAL(F.nr_stops, 1);
	CU_ASSERT_EQUAL(F.stop_reason, STOP_RESET);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x92), 0x02);	/* reset bit is a pulse */

	pio_out8(&F, 0x80, 0x42);
	pio_out8(&F, 0x80, 0x99);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x80), 0x99);
	CU_ASSERT_EQUAL(bus_find(&F.pio, 0x80)->accesses, 3);
	CU_ASSERT_EQUAL(F.pio.unclaimed_reads + F.pio.unclaimed_writes, 0);
	fake_env_fini(&F);
}

/* Models that refuse to exist without a host backend hyvm run opens
 * first (a --disk, a --net): their own suites create them with one. */
/* Every registered model comes up on one machine without a port clash,
 * and a second copy of a device is refused, not half-registered. */
static void test_all_models_together(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	unsigned n = 0;
	for (struct device_model *m = device_models(); m; m = m->next) {
		/* a model that says it needs a configuration refuses the defaults */
		if (m->needs_config) {
			char err[256] = "";
			CU_ASSERT_PTR_NULL(m->create(&F.env, NULL, err, sizeof(err)));
			CU_ASSERT_NOT_EQUAL(err[0], 0);
		}
		CU_ASSERT_PTR_NOT_NULL(fake_create_default(&F, m->name));
		n++;
	}
	CU_ASSERT(n >= 9);
	CU_ASSERT_TRUE(irq_router_has_controller(&F.irq, 0));
	unsigned ranges = F.pio.nr, mmio_ranges = F.mmio.nr;
	CU_ASSERT_PTR_NULL(fake_create(&F, "pic8259"));
	CU_ASSERT_PTR_NOT_NULL(strstr(F.err, "ExtINT source"));
	CU_ASSERT_PTR_NULL(fake_create(&F, "pit8254"));
	CU_ASSERT_STRING_EQUAL(F.err, "device pit8254: ports at 0x40 are taken");
	CU_ASSERT_EQUAL(F.pio.nr, ranges);
	CU_ASSERT_EQUAL(F.mmio.nr, mmio_ranges);
	fake_env_fini(&F);
	CU_ASSERT_EQUAL(F.pio.nr, 0);	/* destroy unregistered everything */
}

/* The devices' IRQ lines reach the real PIC: what the VMM sees after a
 * poll, as vectors, with the guest's PIC setup (0x20/0x28). */
static void test_irqs_through_pic(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	for (struct device_model *m = device_models(); m; m = m->next)
		CU_ASSERT_PTR_NOT_NULL(fake_create_default(&F, m->name));
	CU_ASSERT_TRUE_FATAL(irq_router_has_controller(&F.irq, 0));
	static const uint8_t init[2][5] = {
		{ 0x20, 0x11, 0x20, 0x04, 0x01 }, { 0xa0, 0x11, 0x28, 0x02, 0x01 },
	};
	for (int c = 0; c < 2; c++) {
		pio_out8(&F, init[c][0], init[c][1]);
		for (int i = 2; i < 5; i++)
			pio_out8(&F, (uint16_t)(init[c][0] + 1), init[c][i]);
		pio_out8(&F, (uint16_t)(init[c][0] + 1), 0x00);
	}
	fake_poll_all(&F);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));

	/* PIT channel 0, mode 2, 1 ms: IRQ0 -> vector 0x20. */
	pio_out8(&F, 0x43, 0x34);
	pio_out8(&F, 0x40, 0xa9);
	pio_out8(&F, 0x40, 0x04);
	F.now += 2000000;
	fake_poll_all(&F);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x20);
	pio_out8(&F, 0x20, 0x20);
	pio_out8(&F, 0x43, 0x30);		/* mode 0, no count: timer quiet */

	/* UART THRE: IRQ4 -> 0x24. */
	pio_out8(&F, 0x3f9, 0x02);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x24);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x3fa), 0x02);
	pio_out8(&F, 0x20, 0x20);

	/* RTC periodic: IRQ8 through the cascade -> 0x28. */
	pio_out8(&F, 0x70, 0x0b);
	pio_out8(&F, 0x71, 0x42);
	F.now += 2000000;
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x28);
	pio_out8(&F, 0x70, 0x0c);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x71) & 0xc0, 0xc0);
	pio_out8(&F, 0xa0, 0x20);
	pio_out8(&F, 0x20, 0x20);

	/* Keyboard controller reply: IRQ1 -> 0x21. */
	pio_out8(&F, 0x60, 0xf4);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x21);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x60), 0xfa);
	pio_out8(&F, 0x20, 0x20);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	fake_env_fini(&F);
}

/* Random guest I/O at every device port, with time passing and polls:
 * nothing may crash (this suite runs under ASan/UBSan), every vector the
 * PIC hands out is a byte, and ports nobody claims keep reading 0xff. */
static void test_random_io(void)
{
	static const uint16_t ports[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43,
		0x61, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
		0x70, 0x71, 0x60, 0x64, 0x92, 0x80, 0x604, 0x605, 0x3f6,
	};
	uint32_t seed = 12345;

	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	for (struct device_model *m = device_models(); m; m = m->next)
		CU_ASSERT_PTR_NOT_NULL(fake_create_default(&F, m->name));
	CU_ASSERT_TRUE_FATAL(irq_router_has_controller(&F.irq, 0));
	unsigned bad_vectors = 0, acks = 0;
	for (int i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8;
		uint16_t port = ports[r % (sizeof(ports) / sizeof(ports[0]))];
		unsigned len = 1u << ((r >> 5) % 3);
		uint8_t data[4] = { (uint8_t)(r >> 9), (uint8_t)(r >> 13),
				    (uint8_t)(r >> 3), (uint8_t)r };
		bool write = (r >> 16) & 1;
		/* No real exits: reset/power-off/debug-exit are recorded only. */
		bus_access(&F.pio, port, data, len, write);
		if ((r & 0xff) == 0) {
			F.now += (r >> 12) * 1000;
			fake_poll_all(&F);
		}
		if (fake_has_interrupt(&F)) {
			int v = fake_acknowledge(&F);
			acks++;
			if (v < 0 || v > 255)
				bad_vectors++;
		}
	}
	CU_ASSERT_EQUAL(bad_vectors, 0);
	CU_ASSERT(acks > 0);
	uint8_t d = 0;
	CU_ASSERT_FALSE(bus_access(&F.pio, 0x3f6, &d, 1, false));
	CU_ASSERT_EQUAL(d, 0xff);
	fake_env_fini(&F);
}

UNIT_SUITE(pc_misc_devices, NULL, NULL,
	   UNIT_TEST(test_random_io),
	   UNIT_TEST(test_irqs_through_pic),
	   UNIT_TEST(test_debug_exit),
	   UNIT_TEST(test_acpi_poweroff),
	   UNIT_TEST(test_acpi_power_button),
	   UNIT_TEST(test_i8042_commands),
	   UNIT_TEST(test_i8042_reset_and_a20),
	   UNIT_TEST(test_port92_and_port80),
	   UNIT_TEST(test_all_models_together))

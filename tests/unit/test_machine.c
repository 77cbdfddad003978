/*
 * Machine descriptions: the PC's devices come up in init-level order;
 * instances carry their own configuration (two UARTs, independent); an
 * unknown model or a bad configuration is one error line and leaves no
 * half-built machine.
 */
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "vmm/machine.h"

static struct fake_env F;
static struct device_instance devs[16];
static unsigned nr;
static char err[256];

static int create(const struct machine_device *list, unsigned n)
{
	const struct machine m = { "test", list, n };
	err[0] = 0;
	return machine_create_devices(&m, &F.env, devs, 16, &nr, err, sizeof(err));
}

static void test_pc_machine(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(machine_create_devices(&machine_pc, &F.env, devs, 16,
						     &nr, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(nr, machine_pc.nr_devices);
	CU_ASSERT_STRING_EQUAL(devs[0].model->name, "pic8259");
	CU_ASSERT_STRING_EQUAL(devs[1].model->name, "lapic");
	CU_ASSERT_STRING_EQUAL(devs[2].model->name, "ioapic");
	CU_ASSERT_STRING_EQUAL(devs[3].model->name, "pit8254");	/* base */
	for (unsigned i = 1; i < nr; i++)
		CU_ASSERT(devs[i - 1].model->level <= devs[i].model->level);
	CU_ASSERT_TRUE(irq_router_has_controller(&F.irq, 0));
	/* vCPU 0's controller is its local APIC; the 8259 is the ExtINT
	 * source behind LINT0. */
	CU_ASSERT_PTR_EQUAL(F.irq.cpu[0].ctx, devs[1].state);
	CU_ASSERT_PTR_EQUAL(F.irq.extint.ctx, devs[0].state);
	CU_ASSERT_EQUAL(irq_router_nr_sinks(&F.irq), 1);
	CU_ASSERT_PTR_NOT_NULL(bus_find(&F.mmio, 0xfee00000));
	CU_ASSERT_PTR_NOT_NULL(bus_find(&F.mmio, 0xfec00000));
	CU_ASSERT_PTR_NOT_NULL(bus_find(&F.pio, 0x3f8));
	CU_ASSERT_PTR_NULL(bus_find(&F.pio, 0x2f8));
	machine_destroy_devices(devs, nr);
	CU_ASSERT_EQUAL(F.pio.nr, 0);
	CU_ASSERT_EQUAL(F.mmio.nr, 0);
	CU_ASSERT_EQUAL(irq_router_nr_sinks(&F.irq), 0);
	CU_ASSERT_FALSE(irq_router_has_controller(&F.irq, 0));
	fake_env_fini(&F);
}

/* A machine listed out of level order is still created core first. */
static void test_level_order(void)
{
	static const struct machine_device list[] = {
		{ "port80", NULL }, { "uart16550", NULL }, { "pit8254", NULL },
		{ "pic8259", NULL },
	};
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(create(list, 4), 0);
	CU_ASSERT_STRING_EQUAL(devs[0].model->name, "pic8259");
	CU_ASSERT_STRING_EQUAL(devs[1].model->name, "pit8254");
	CU_ASSERT_STRING_EQUAL(devs[2].model->name, "port80");	/* dev: as listed */
	CU_ASSERT_STRING_EQUAL(devs[3].model->name, "uart16550");
	machine_destroy_devices(devs, nr);
	fake_env_fini(&F);
}

/* COM1 on the console at IRQ4 and COM2 at 0x2f8/IRQ3 with no host side:
 * registers, interrupts and output are each their own. */
static void test_two_uarts(void)
{
	static const struct machine_device list[] = {
		{ "pic8259", NULL },
		{ "uart16550", "port=0x3f8,irq=4,console=1" },
		{ "uart16550", "port=0x2f8,irq=3,console=0" },
	};
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(create(list, 3), 0);
	CU_ASSERT_EQUAL(nr, 3);
	static const uint8_t init[] = { 0x11, 0x20, 0x04, 0x01, 0x00 };
	pio_out8(&F, 0x20, init[0]);
	for (int i = 1; i < 5; i++)
		pio_out8(&F, 0x21, init[i]);

	pio_out8(&F, 0x2ff, 0x11);
	pio_out8(&F, 0x3ff, 0x22);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x2ff), 0x11);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x3ff), 0x22);

	pio_out8(&F, 0x2f9, 0x02);			/* COM2 THRE interrupt */
	CU_ASSERT_TRUE(F.line[3]);
	CU_ASSERT_FALSE(F.line[4]);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x2fa) & 0x0f, 0x02);	/* IIR: THRE */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x3fa) & 0x0f, 0x01);	/* COM1: none */
	pio_out8(&F, 0x20, 0x20);

	char out[8];
	pio_out8(&F, 0x2f8, 'x');			/* nowhere: console=0 */
	pio_out8(&F, 0x3f8, 'y');
	CU_ASSERT_EQUAL(fake_read_output(&F, out, sizeof(out)), 1);
	CU_ASSERT_EQUAL(out[0], 'y');
	machine_destroy_devices(devs, nr);
	fake_env_fini(&F);
}

static void expect_refused(const struct machine_device *list, unsigned n,
			   const char *what)
{
	CU_ASSERT_EQUAL(create(list, n), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	CU_ASSERT_EQUAL(nr, 0);
	CU_ASSERT_EQUAL(F.pio.nr, 0);		/* nothing left behind */
	CU_ASSERT_FALSE(irq_router_has_controller(&F.irq, 0));
}

static void test_bad_descriptions(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	const struct machine_device unknown[] = { { "pic8259", NULL }, { "nope", NULL } };
	expect_refused(unknown, 2, "no device model 'nope'");
	struct machine_device bad[] = { { "pic8259", NULL }, { "uart16550", NULL } };
	static const char *const configs[][2] = {
		{ "port=0x3f8,irq=99", "irq=99 is outside 0-0x17" },
		{ "port=0x3f8,speed=9600", "unknown option 'speed'" },
		{ "irq=3,irq=4", "irq given twice" },
		{ "port=", "port needs a number" },
		{ "port=0x2f8x", "port=0x2f8x is not a number" },
		{ "port=-1", "port needs a number" },
		{ "port=0xfffc", "port=0xfffc is outside 0-0xfff8" },
		{ "console", "console needs a number" },
	};
	for (unsigned i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		bad[1].config = configs[i][0];
		expect_refused(bad, 2, configs[i][1]);
	}
	const struct machine_device opts[] = { { "port80", "x=1" } };
	expect_refused(opts, 1, "device port80 takes no options (got 'x=1')");
	const struct machine_device twice[] = { { "pic8259", NULL }, { "port92", NULL },
						{ "port92", NULL } };
	expect_refused(twice, 3, "device port92: ports at 0x92 are taken");
	fake_env_fini(&F);
}

/* hyvm run --device: extra instances come after the machine's own in
 * their level, and a refused extra is MACHINE_BAD_EXTRA (bad input, not a
 * broken machine) with nothing left behind. */
static void test_extra_devices(void)
{
	static const struct machine_device list[] = {
		{ "pic8259", NULL }, { "uart16550", "port=0x3f8,irq=4" },
	};
	const struct machine m = { "test", list, 2 };
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	const struct machine_device extra[] = { { "uart16550", "port=0x2f8,irq=3" } };
	CU_ASSERT_EQUAL_FATAL(machine_create_devices_with(&m, extra, 1, &F.env, devs, 16,
							  &nr, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(nr, 3);
	CU_ASSERT_PTR_EQUAL(devs[2].config, extra[0].config);
	CU_ASSERT_PTR_NOT_NULL(bus_find(&F.pio, 0x2f8));
	machine_destroy_devices(devs, nr);

	const struct machine_device bad[] = { { "uart16550", "port=0x3f8" } };
	CU_ASSERT_EQUAL(machine_create_devices_with(&m, bad, 1, &F.env, devs, 16,
						    &nr, err, sizeof(err)), MACHINE_BAD_EXTRA);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--device uart16550: device uart16550: ports at 0x3f8"));
	CU_ASSERT_EQUAL(nr, 0);
	CU_ASSERT_EQUAL(F.pio.nr, 0);
	const struct machine_device unknown[] = { { "floppy", NULL } };
	CU_ASSERT_EQUAL(machine_create_devices_with(&m, unknown, 1, &F.env, devs, 16,
						    &nr, err, sizeof(err)), MACHINE_BAD_EXTRA);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no device model 'floppy'"));
	fake_env_fini(&F);
}

UNIT_SUITE(machine, NULL, NULL,
	   UNIT_TEST(test_extra_devices),
	   UNIT_TEST(test_pc_machine),
	   UNIT_TEST(test_level_order),
	   UNIT_TEST(test_two_uarts),
	   UNIT_TEST(test_bad_descriptions))

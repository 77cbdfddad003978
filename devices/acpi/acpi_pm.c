/*
 * The ACPI fixed-hardware PM block (ACPI 6.4, 4.8) at 0x600, laid out as
 * QEMU's pc machine has it (acpi_pm.h), so `outw(0x604, 0x2000)` powers off
 * under both and the FADT (userspace/firmware/acpi_tables.c) points at it:
 *   PM1a_EVT_BLK 0x600: PM1_STS (write 1 to clear) and PM1_EN (4.8.3.1);
 *   PM1a_CNT_BLK 0x604: a write that sets SLP_EN (bit 13) ends the run,
 *     whatever SLP_TYP says (the DSDT's \_S5 names SLP_TYP 0, as QEMU's);
 *     SCI_EN reads as set: ACPI mode is already on and the FADT has no
 *     SMI_CMD, so a guest never tries to enable it;
 *   PM_TMR_BLK 0x608: the 32-bit PM timer at 3.579545 MHz from the VM's
 *     monotonic clock (4.8.3.3; the FADT sets TMR_VAL_EXT).
 * The SCI (ISA IRQ 9, level, active high as the MADT says) is raised while
 * a status bit and its enable are both set. Nothing sets a status bit yet:
 * there is no power button, and TMR_STS (the timer's carry out of bit 31,
 * every 20 minutes) is not modelled.
 */
#include <stdlib.h>
#include "devices/acpi/acpi_pm.h"
#include "devices/device_util.h"

#define PM1_EN_MASK (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
		     ACPI_PM1_RTC)

struct acpi_pm {
	struct device_env *env;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
};

static uint32_t pm_timer(const struct acpi_pm *pm)
{
	unsigned __int128 ticks = (unsigned __int128)device_now(pm->env) * ACPI_PM_TMR_HZ;

	return (uint32_t)(ticks / 1000000000u);
}

static void update_sci(struct acpi_pm *pm)
{
	device_set_irq(pm->env, pm, ACPI_PM_SCI_IRQ, (pm->pm1_sts & pm->pm1_en) != 0);
}

/* The 32-bit register window holding byte offset off of the block. */
static uint32_t reg_read(const struct acpi_pm *pm, unsigned off)
{
	switch (off & ~3u) {
	case 0:
		return pm->pm1_sts | (uint32_t)pm->pm1_en << 16;
	case 4:
		return pm->pm1_cnt;
	default:
		return pm_timer(pm);
	}
}

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t v)
{
	unsigned s = 8 * (off & 1);

	switch (off) {
	case 0: case 1:		/* PM1_STS: write 1 to clear */
		pm->pm1_sts &= (uint16_t)~((unsigned)v << s);
		break;
	case 2: case 3:
		pm->pm1_en = (uint16_t)(((pm->pm1_en & ~(0xffu << s)) | (unsigned)v << s) &
					PM1_EN_MASK);
		break;
	case 4: case 5: {	/* byte writes land in their half of PM1_CNT */
		uint16_t c = (uint16_t)((pm->pm1_cnt & ~(0xffu << s)) | (unsigned)v << s);
		pm->pm1_cnt = (uint16_t)((c & ~ACPI_PM1_SLP_EN) | ACPI_PM1_SCI_EN);
		if (c & ACPI_PM1_SLP_EN)
			device_request_stop(pm->env, STOP_POWEROFF, 0);
		break;
	}
	default:		/* reserved, and the read-only timer */
		break;
	}
}

static void acpi_pm_io(void *opaque, uint64_t addr, uint8_t *data,
		       unsigned len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	unsigned off = (unsigned)(addr - ACPI_PM_BASE);

	if (is_write) {
		for (unsigned i = 0; i < len && off + i < ACPI_PM_LEN; i++)
			write_byte(pm, off + i, data[i]);
		update_sci(pm);
		return;
	}
	/* One register read per access, so a timer read is one sample. */
	uint32_t v = reg_read(pm, off);
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		if ((o & ~3u) != (off & ~3u))
			v = o < ACPI_PM_LEN ? reg_read(pm, o) : 0;
		data[i] = o < ACPI_PM_LEN ? (uint8_t)(v >> (8 * (o & 3))) : 0xff;
	}
}

static void acpi_pm_reset(void *dev)
{
	struct acpi_pm *pm = dev;

	pm->pm1_sts = 0;
	pm->pm1_en = 0;
	pm->pm1_cnt = ACPI_PM1_SCI_EN;
	update_sci(pm);
}

static void *acpi_pm_create(struct device_env *env, const char *config,
			    char *err, size_t errlen)
{
	if (device_config_parse("acpi_pm", config, NULL, 0, err, errlen))
		return NULL;
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return device_no_memory(err, errlen, "acpi_pm");
	pm->env = env;
	acpi_pm_reset(pm);
	if (bus_register(env->pio, ACPI_PM_BASE, ACPI_PM_LEN, acpi_pm_io, pm, "acpi-pm")) {
		free(pm);
		return device_ports_taken(err, errlen, "acpi_pm", ACPI_PM_BASE);
	}
	return pm;
}

/* Version 2: PM1_STS, PM1_EN, PM1_CNT; version 1 had PM1_CNT alone. */
static void acpi_pm_save(void *dev, struct ds_writer *w)
{
	struct acpi_pm *pm = dev;

	ds_put_u16(w, pm->pm1_sts);
	ds_put_u16(w, pm->pm1_en);
	ds_put_u16(w, pm->pm1_cnt);
}

static int acpi_pm_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct acpi_pm *pm = dev;
	uint16_t sts = 0, en = 0, cnt;

	if (version >= 2) {
		sts = ds_get_u16(r);
		en = ds_get_u16(r);
	}
	cnt = ds_get_u16(r);
	if (!ds_done(r))
		return -1;
	pm->pm1_sts = sts & (PM1_EN_MASK | ACPI_PM1_WAK);
	pm->pm1_en = en & PM1_EN_MASK;
	pm->pm1_cnt = (uint16_t)((cnt & ~ACPI_PM1_SLP_EN) | ACPI_PM1_SCI_EN);
	update_sci(pm);
	return 0;
}

/* The fixed power button (ACPI 6.4, 4.8.2.2.1.1): PWRBTN_STS is set and,
 * if OSPM enabled PWRBTN_EN, the SCI raised; Linux's button driver then
 * powers off (QEMU's acpi_pm1_evt_power_down). */
static void acpi_pm_power_button(void *dev)
{
	struct acpi_pm *pm = dev;

	pm->pm1_sts |= ACPI_PM1_PWRBTN;
	update_sci(pm);
}

static void acpi_pm_destroy(void *dev)
{
	struct acpi_pm *pm = dev;

	device_set_irq(pm->env, pm, ACPI_PM_SCI_IRQ, false);
	bus_unregister_owner(pm->env->pio, pm);
	free(pm);
}

static struct device_model acpi_pm_model = {
	.name = "acpi_pm",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 2,
	.create = acpi_pm_create,
	.reset = acpi_pm_reset,
	.save = acpi_pm_save,
	.load = acpi_pm_load,
	.power_button = acpi_pm_power_button,
	.destroy = acpi_pm_destroy,
};
DEVICE_REGISTER(acpi_pm_model)

/*
 * The one ACPI register a guest needs to power off: PM1a_CNT at 0x604,
 * where QEMU's pc machine has it, so `outw(0x604, 0x2000)` powers off
 * under both. A write that sets SLP_EN (bit 13) ends the run, whatever
 * SLP_TYP says. SCI_EN reads as set: ACPI mode is already on, so a guest
 * never tries the SMI command port to enable it.
 */
#include <stdlib.h>
#include "devices/device_util.h"

#define PM1A_CNT	0x604
#define PM1_SCI_EN	0x0001
#define PM1_SLP_EN	0x2000	/* write-only: reads as 0 */

struct acpi_pm {
	struct device_env *env;
	uint16_t pm1_cnt;
};

static void acpi_pm_io(void *opaque, uint64_t addr, uint8_t *data,
		       unsigned len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	unsigned shift = 8 * (unsigned)(addr - PM1A_CNT);

	if (!is_write) {
		for (unsigned i = 0; i < len; i++)
			data[i] = (uint8_t)(pm->pm1_cnt >> (shift + 8 * i));
		return;
	}
	/* Byte writes land in their half of the register. */
	uint16_t v = pm->pm1_cnt;
	for (unsigned i = 0; i < len; i++) {
		unsigned s = shift + 8 * i;
		v = (uint16_t)((v & ~(0xffu << s)) | (unsigned)data[i] << s);
	}
	pm->pm1_cnt = (uint16_t)((v & ~PM1_SLP_EN) | PM1_SCI_EN);
	if (v & PM1_SLP_EN)
		device_request_stop(pm->env, STOP_POWEROFF, 0);
}

static void acpi_pm_reset(void *dev)
{
	struct acpi_pm *pm = dev;

	pm->pm1_cnt = PM1_SCI_EN;
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
	if (bus_register(env->pio, PM1A_CNT, 2, acpi_pm_io, pm, "acpi-pm1a-cnt")) {
		free(pm);
		return device_ports_taken(err, errlen, "acpi_pm", PM1A_CNT);
	}
	return pm;
}

static void acpi_pm_save(void *dev, struct ds_writer *w)
{
	struct acpi_pm *pm = dev;

	ds_put_u16(w, pm->pm1_cnt);
}

static int acpi_pm_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct acpi_pm *pm = dev;
	uint16_t v = ds_get_u16(r);

	if (!ds_done(r))
		return -1;
	pm->pm1_cnt = (uint16_t)((v & ~PM1_SLP_EN) | PM1_SCI_EN);
	return 0;
}

static void acpi_pm_destroy(void *dev)
{
	struct acpi_pm *pm = dev;

	bus_unregister_owner(pm->env->pio, pm);
	free(pm);
}

static struct device_model acpi_pm_model = {
	.name = "acpi_pm",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = acpi_pm_create,
	.reset = acpi_pm_reset,
	.save = acpi_pm_save,
	.load = acpi_pm_load,
	.destroy = acpi_pm_destroy,
};
DEVICE_REGISTER(acpi_pm_model)

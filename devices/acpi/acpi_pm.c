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

static void *acpi_pm_create(struct device_env *env)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->env = env;
	pm->pm1_cnt = PM1_SCI_EN;
	if (bus_register(env->pio, PM1A_CNT, 2, acpi_pm_io, pm, "acpi-pm1a-cnt")) {
		free(pm);
		return NULL;
	}
	return pm;
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
	.create = acpi_pm_create,
	.destroy = acpi_pm_destroy,
};
DEVICE_REGISTER(acpi_pm_model)

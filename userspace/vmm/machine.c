/* Machine descriptions (machine.h). */
#include <stdio.h>
#include "vmm/machine.h"

static const struct machine_device pc_devices[] = {
	{ "pic8259", NULL },
	{ "lapic", "vcpu=0" },
	{ "ioapic", NULL },
	{ "pit8254", NULL },
	{ "rtc_cmos", NULL },
	{ "uart16550", "port=0x3f8,irq=4,console=1" },
	{ "i8042", NULL },
	{ "port80", NULL },
	{ "port92", NULL },
	{ "debug_exit", NULL },
	{ "acpi_pm", NULL },
};

const struct machine machine_pc = {
	.name = "pc",
	.devices = pc_devices,
	.nr_devices = sizeof(pc_devices) / sizeof(pc_devices[0]),
};

int machine_create_devices(const struct machine *m, struct device_env *env,
			   struct device_instance *out, unsigned max, unsigned *nr,
			   char *err, size_t errlen)
{
	*nr = 0;
	for (unsigned i = 0; i < m->nr_devices; i++)
		if (!device_model_find(m->devices[i].model)) {
			snprintf(err, errlen, "machine %s: no device model '%s'",
				 m->name, m->devices[i].model);
			return -1;
		}
	for (int level = 0; level < DEVICE_LEVEL_COUNT; level++) {
		for (unsigned i = 0; i < m->nr_devices; i++) {
			const struct machine_device *d = &m->devices[i];
			const struct device_model *model = device_model_find(d->model);
			if ((int)model->level != level)
				continue;
			if (*nr == max) {
				snprintf(err, errlen, "machine %s: more than %u devices",
					 m->name, max);
				goto fail;
			}
			char why[200] = "";
			void *state = model->create(env, d->config, why, sizeof(why));
			if (!state) {
				snprintf(err, errlen, "machine %s: %s", m->name,
					 why[0] ? why : "a device failed to start");
				goto fail;
			}
			out[*nr] = (struct device_instance){ model, state, d->config };
			(*nr)++;
		}
	}
	return 0;
fail:
	machine_destroy_devices(out, *nr);
	*nr = 0;
	return -1;
}

void machine_destroy_devices(struct device_instance *devs, unsigned nr)
{
	while (nr--)
		if (devs[nr].model->destroy)
			devs[nr].model->destroy(devs[nr].state);
}

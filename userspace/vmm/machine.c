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
	{ "i440fx", NULL },
	{ "piix3", NULL },
};

const struct machine machine_pc = {
	.name = "pc",
	.devices = pc_devices,
	.nr_devices = sizeof(pc_devices) / sizeof(pc_devices[0]),
};

/* The i-th instance of m's list followed by extra's. */
static const struct machine_device *nth_device(const struct machine *m,
					       const struct machine_device *extra,
					       unsigned i)
{
	return i < m->nr_devices ? &m->devices[i] : &extra[i - m->nr_devices];
}

int machine_create_devices_with(const struct machine *m, const struct machine_device *extra,
				unsigned nr_extra, struct device_env *env,
				struct device_instance *out, unsigned max, unsigned *nr,
				char *err, size_t errlen)
{
	unsigned total = m->nr_devices + nr_extra;

	*nr = 0;
	for (unsigned i = 0; i < total; i++)
		if (!device_model_find(nth_device(m, extra, i)->model)) {
			snprintf(err, errlen, "%s %s: no device model '%s'",
				 i < m->nr_devices ? "machine" : "--device",
				 i < m->nr_devices ? m->name : nth_device(m, extra, i)->model,
				 nth_device(m, extra, i)->model);
			return i < m->nr_devices ? -1 : MACHINE_BAD_EXTRA;
		}
	for (int level = 0; level < DEVICE_LEVEL_COUNT; level++) {
		for (unsigned i = 0; i < total; i++) {
			const struct machine_device *d = nth_device(m, extra, i);
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
				if (i >= m->nr_devices) {
					snprintf(err, errlen, "--device %s: %s", d->model,
						 why[0] ? why : "the device failed to start");
					machine_destroy_devices(out, *nr);
					*nr = 0;
					return MACHINE_BAD_EXTRA;
				}
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

int machine_create_devices(const struct machine *m, struct device_env *env,
			   struct device_instance *out, unsigned max, unsigned *nr,
			   char *err, size_t errlen)
{
	return machine_create_devices_with(m, NULL, 0, env, out, max, nr, err, errlen);
}

void machine_destroy_devices(struct device_instance *devs, unsigned nr)
{
	while (nr--)
		if (devs[nr].model->destroy)
			devs[nr].model->destroy(devs[nr].state);
}

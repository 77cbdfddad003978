/*
 * A machine description: the device instances a VM has, each a registered
 * model with its own configuration string, and how to create them in
 * init-level order (core, base, PCI, dev, virtio, firmware, late).
 */
#ifndef HYVM_MACHINE_H
#define HYVM_MACHINE_H

#include <stddef.h>
#include "devices/device.h"

struct machine_device {
	const char *model;
	const char *config;	/* NULL: the model's defaults */
};

struct machine {
	const char *name;
	const struct machine_device *devices;
	unsigned nr_devices;
};

struct device_instance {
	const struct device_model *model;
	void *state;
	const char *config;
};

/* The PC: PIC, the BSP's local APIC, the IOAPIC, PIT, RTC, COM1, i8042,
 * ports 0x80 and 0x92, QEMU's debug exit, the ACPI PM block, and the PCI
 * host bridge (i440FX, 00:00.0) and ISA bridge (PIIX3, 00:01.0). */
extern const struct machine machine_pc;

/* Creates m's devices on env in level order, instances of one level in
 * the order m lists them, into out[0..max); *nr says how many. On failure
 * (unknown model, a device refusing its configuration, more than max)
 * destroys what it created and returns -1 with one line in err. */
int machine_create_devices(const struct machine *m, struct device_env *env,
			   struct device_instance *out, unsigned max, unsigned *nr,
			   char *err, size_t errlen);
/* The same with extra instances (hyvm run --device) after m's own, in
 * the same level order. An extra instance that names no model or whose
 * create refuses its configuration is the user's error: MACHINE_BAD_EXTRA
 * (-2), with one line in err naming it. */
#define MACHINE_BAD_EXTRA (-2)
int machine_create_devices_with(const struct machine *m, const struct machine_device *extra,
				unsigned nr_extra, struct device_env *env,
				struct device_instance *out, unsigned max, unsigned *nr,
				char *err, size_t errlen);
/* Destroys instances in the reverse order of creation. */
void machine_destroy_devices(struct device_instance *devs, unsigned nr);

#endif

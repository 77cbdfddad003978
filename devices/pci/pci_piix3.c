/*
 * The PCI-to-ISA bridge at 00:01.0 with the IDs of Intel's PIIX3 function
 * 0 (8086:7000, class 06 01 00), as on QEMU's pc machine. It is what a
 * guest looks for to know the ISA devices are behind PCI; the ISA devices
 * themselves are devices/isa/. Its PIRQ route control registers
 * (0x60-0x63) are not modelled: the routing is fixed (pci_intx.c) and the
 * firmware tables say so. No IDE, USB or ACPI functions: header type 0.
 */
#include <stdlib.h>
#include "devices/device_util.h"
#include "devices/pci/pci.h"

#define PIIX3_VENDOR	0x8086
#define PIIX3_DEVICE	0x7000
#define PCI_CLASS_BRIDGE	0x06
#define PCI_SUBCLASS_ISA	0x01
#define PIIX3_SLOT	1

struct piix3 {
	struct pci_device *pci;
};

static void piix3_reset(void *dev)
{
	pci_device_reset(((struct piix3 *)dev)->pci);
}

static void piix3_destroy(void *dev)
{
	struct piix3 *p = dev;

	pci_unregister_device(p->pci);
	free(p);
}

static void *piix3_create(struct device_env *env, const char *config, char *err,
			  size_t errlen)
{
	if (device_config_parse("piix3", config, NULL, 0, err, errlen))
		return NULL;
	struct piix3 *p = calloc(1, sizeof(*p));
	if (!p)
		return device_no_memory(err, errlen, "piix3");
	const struct pci_device_desc desc = {
		.name = "piix3", .slot = PIIX3_SLOT,
		.vendor_id = PIIX3_VENDOR, .device_id = PIIX3_DEVICE,
		.class_code = PCI_CLASS_BRIDGE, .subclass = PCI_SUBCLASS_ISA,
	};
	p->pci = pci_register_device(env->pci, &desc, err, errlen);
	if (!p->pci) {
		free(p);
		return NULL;
	}
	return p;
}

static void piix3_save(void *dev, struct ds_writer *w)
{
	pci_device_save(((struct piix3 *)dev)->pci, w);
}

static int piix3_load(void *dev, struct ds_reader *r, unsigned version)
{
	return pci_device_load(((struct piix3 *)dev)->pci, r);
}

static struct device_model piix3_model = {
	.name = "piix3",
	.level = DEVICE_LEVEL_PCI,
	.state_version = 1,
	.create = piix3_create,
	.reset = piix3_reset,
	.save = piix3_save,
	.load = piix3_load,
	.destroy = piix3_destroy,
};
DEVICE_REGISTER(piix3_model)

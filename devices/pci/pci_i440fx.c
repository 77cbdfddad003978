/*
 * The host bridge at 00:00.0 with the IDs of Intel's 82441FX (i440FX PMC,
 * 8086:1237, class 06 00 00, revision 2), which QEMU's pc machine has, so
 * one guest can check both. It owns configuration mechanism #1 on ports
 * 0xcf8-0xcff (pci_config_io.c), as the PMC does on a real board. Its
 * subsystem IDs are QEMU's (1af4:1100), which SeaBIOS's qemu_detect looks
 * for at 00:00.0.
 *
 * The PAM registers (82441FX datasheet 3.2.18, config 0x59-0x5f: two bits
 * of read and write enable per segment of 0xc0000-0xfffff) are storage a
 * BIOS reads back what it wrote to: SeaBIOS's make_bios_writable (src/fw/
 * shadow.c) enables RAM there, copies itself from the ROM at 4 GiB and
 * write-protects it again. hyvm's engines map memory once, so the segment
 * cannot switch between ROM and RAM: with --bios it is RAM holding the
 * BIOS from the start (boot/bios_image.h), the state SeaBIOS's copy makes,
 * and its write protection is not enforced. SMRAM and the DRAM rows read
 * as zero.
 */
#include <stdlib.h>
#include "devices/device_util.h"
#include "devices/pci/pci.h"

#define I440FX_VENDOR	0x8086
#define I440FX_DEVICE	0x1237
#define I440FX_REVISION	0x02
#define PCI_CLASS_BRIDGE	0x06
#define PCI_SUBCLASS_HOST	0x00
#define QEMU_SUBSYSTEM_VENDOR	0x1af4	/* Red Hat, as QEMU's pc machine */
#define QEMU_SUBSYSTEM_ID	0x1100
#define I440FX_PAM0		0x59	/* PAM0: 0xf0000-0xfffff, high nibble only */
#define I440FX_PAM_COUNT	7	/* PAM0-PAM6 */

struct i440fx {
	struct device_env *env;
	struct pci_device *pci;
};

static void i440fx_reset(void *dev)
{
	struct i440fx *h = dev;

	pci_set_config_address(h->env->pci, 0);
	pci_device_reset(h->pci);
}

static void i440fx_destroy(void *dev)
{
	struct i440fx *h = dev;

	bus_unregister_owner(h->env->pio, h->env->pci);
	pci_unregister_device(h->pci);
	free(h);
}

static void *i440fx_create(struct device_env *env, const char *config, char *err,
			   size_t errlen)
{
	if (device_config_parse("i440fx", config, NULL, 0, err, errlen))
		return NULL;
	if (!env->pci) {
		snprintf(err, errlen, "device i440fx: this machine has no PCI bus");
		return NULL;
	}
	struct i440fx *h = calloc(1, sizeof(*h));
	if (!h)
		return device_no_memory(err, errlen, "i440fx");
	h->env = env;
	const struct pci_device_desc desc = {
		.name = "i440fx", .slot = 0,
		.vendor_id = I440FX_VENDOR, .device_id = I440FX_DEVICE,
		.subsystem_vendor_id = QEMU_SUBSYSTEM_VENDOR, .subsystem_id = QEMU_SUBSYSTEM_ID,
		.revision = I440FX_REVISION,
		.class_code = PCI_CLASS_BRIDGE, .subclass = PCI_SUBCLASS_HOST,
	};
	if (bus_register(env->pio, PCI_CONFIG_ADDRESS_PORT, 4, pci_config_address_io, env->pci,
			 "pci-config-address") ||
	    bus_register(env->pio, PCI_CONFIG_DATA_PORT, 4, pci_config_data_io, env->pci,
			 "pci-config-data")) {
		bus_unregister_owner(env->pio, env->pci);
		free(h);
		return device_ports_taken(err, errlen, "i440fx", PCI_CONFIG_ADDRESS_PORT);
	}
	h->pci = pci_register_device(env->pci, &desc, err, errlen);
	if (!h->pci) {
		bus_unregister_owner(env->pio, env->pci);
		free(h);
		return NULL;
	}
	pci_config_set_wmask(h->pci, I440FX_PAM0, 1, 0x30);
	for (unsigned i = 1; i < I440FX_PAM_COUNT; i++)
		pci_config_set_wmask(h->pci, I440FX_PAM0 + i, 1, 0x33);
	i440fx_reset(h);
	return h;
}

static void i440fx_save(void *dev, struct ds_writer *w)
{
	struct i440fx *h = dev;

	ds_put_u32(w, pci_config_address(h->env->pci));
	pci_device_save(h->pci, w);
}

static int i440fx_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct i440fx *h = dev;
	uint32_t address = ds_get_u32(r);

	if (pci_device_load(h->pci, r) < 0)
		return -1;
	pci_set_config_address(h->env->pci, address);
	return 0;
}

static struct device_model i440fx_model = {
	.name = "i440fx",
	.level = DEVICE_LEVEL_PCI,
	.state_version = 1,
	.create = i440fx_create,
	.reset = i440fx_reset,
	.save = i440fx_save,
	.load = i440fx_load,
	.destroy = i440fx_destroy,
};
DEVICE_REGISTER(i440fx_model)

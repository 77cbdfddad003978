/*
 * The PCI bus: 32 slots on bus 0, function 0 each (pci.h). A function's
 * configuration space is built here from its description: the type-0
 * header (PCI Local Bus 3.0, 6.1) with the IDs and class read-only,
 * COMMAND's I/O, memory, bus-master and INTx-disable bits writable,
 * STATUS read-only, the interrupt line writable (the firmware's scratch
 * register, preset to the line pci_intx_line routes the pin to, as a BIOS
 * leaves it), the interrupt pin read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device_state.h"
#include "devices/pci/pci_internal.h"

struct pci_bus *pci_bus_create(struct bus *pio, struct bus *mmio, struct irq_router *irq,
			       const struct memory_map *map)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->pio = pio;
	bus->mmio = mmio;
	bus->irq = irq;
	bus->map = map;
	return bus;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (bus->slot[s])
			pci_unregister_device(bus->slot[s]);
	free(bus);
}

const struct pci_bus_counters *pci_bus_counters(const struct pci_bus *bus)
{
	return &bus->counters;
}

static void build_header(struct pci_device *dev)
{
	const struct pci_device_desc *d = &dev->desc;

	pci_config_set(dev, PCI_VENDOR_ID, 2, d->vendor_id);
	pci_config_set(dev, PCI_DEVICE_ID, 2, d->device_id);
	pci_config_set(dev, PCI_REVISION_ID, 1, d->revision);
	pci_config_set(dev, PCI_CLASS_PROG, 1, d->prog_if);
	pci_config_set(dev, PCI_CLASS_DEVICE, 1, d->subclass);
	pci_config_set(dev, PCI_CLASS_DEVICE + 1, 1, d->class_code);
	pci_config_set(dev, PCI_HEADER_TYPE, 1, 0);	/* type 0, one function */
	pci_config_set(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, d->subsystem_vendor_id);
	pci_config_set(dev, PCI_SUBSYSTEM_ID, 2, d->subsystem_id);
	pci_config_set_wmask(dev, PCI_COMMAND, 2,
			     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			     PCI_COMMAND_INTX_DISABLE);
	/* Cache line size and latency timer: read/write scratch registers a
	 * device without bursts may keep (6.2.4); Linux writes them. */
	pci_config_set_wmask(dev, PCI_CACHE_LINE_SIZE, 2, 0xffff);
	pci_config_set_wmask(dev, PCI_INTERRUPT_LINE, 1, 0xff);
	if (d->intx) {
		pci_config_set(dev, PCI_INTERRUPT_PIN, 1, 1);	/* INTA# */
		pci_config_set(dev, PCI_INTERRUPT_LINE, 1, pci_intx_line(dev->slot, 1));
	}
	dev->cap_end = PCI_HEADER_END;
}

static int pick_slot(struct pci_bus *bus, int want, char *err, size_t errlen, const char *name)
{
	if (want >= PCI_SLOTS) {
		snprintf(err, errlen, "pci %s: slot %d is outside 0-%d", name, want, PCI_SLOTS - 1);
		return -1;
	}
	if (want >= 0) {
		if (bus->slot[want]) {
			snprintf(err, errlen, "pci %s: slot %d is taken by %s", name, want,
				 bus->slot[want]->desc.name);
			return -1;
		}
		return want;
	}
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (!bus->slot[s])
			return (int)s;
	snprintf(err, errlen, "pci %s: all %d slots are taken", name, PCI_SLOTS);
	return -1;
}

struct pci_device *pci_register_device(struct pci_bus *bus, const struct pci_device_desc *d,
				       char *err, size_t errlen)
{
	const char *name = d->name ? d->name : "device";

	if (!bus) {
		snprintf(err, errlen, "pci %s: this machine has no PCI bus", name);
		return NULL;
	}
	int slot = pick_slot(bus, d->slot, err, errlen, name);
	if (slot < 0)
		return NULL;
	struct pci_device *dev = calloc(1, sizeof(*dev));
	if (!dev) {
		snprintf(err, errlen, "pci %s: out of memory", name);
		return NULL;
	}
	dev->bus = bus;
	dev->slot = (unsigned)slot;
	dev->desc = *d;
	dev->desc.name = name;
	build_header(dev);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (pci_bar_setup(dev, i, err, errlen) < 0) {
			free(dev);
			return NULL;
		}
	bus->slot[slot] = dev;
	return dev;
}

void pci_unregister_device(struct pci_device *dev)
{
	if (!dev)
		return;
	pci_bars_unmap(dev);
	dev->intx_level = false;
	pci_intx_update(dev);
	pci_msix_destroy(dev->msix);
	if (dev->bus->slot[dev->slot] == dev)
		dev->bus->slot[dev->slot] = NULL;
	free(dev);
}

void pci_device_reset(struct pci_device *dev)
{
	pci_bars_unmap(dev);
	memcpy(dev->config, dev->initial, sizeof(dev->config));
	dev->intx_level = false;
	if (dev->msix)
		pci_msix_reset(dev->msix);
	pci_intx_update(dev);
}

unsigned pci_device_slot(const struct pci_device *dev)
{
	return dev->slot;
}

bool pci_bus_master(const struct pci_device *dev)
{
	return pci_config_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

struct irq_router *pci_device_irq(const struct pci_device *dev)
{
	return dev->bus->irq;
}

void pci_device_save(const struct pci_device *dev, struct ds_writer *w)
{
	ds_put_bytes(w, dev->config, sizeof(dev->config));
	ds_put_bool(w, dev->intx_level);
	if (dev->msix)
		pci_msix_save(dev->msix, w);
}

int pci_device_load(struct pci_device *dev, struct ds_reader *r)
{
	uint8_t cfg[PCI_CONFIG_SIZE];

	ds_get_bytes(r, cfg, sizeof(cfg));
	bool level = ds_get_bool(r);
	void *msix = dev->msix ? pci_msix_read(dev->msix, r) : NULL;
	if (!ds_done(r)) {
		free(msix);
		return -1;
	}
	if (msix)
		pci_msix_commit(dev->msix, msix);
	/* Only what the guest could have written comes from the blob: the
	 * read-only bits stay the model's. */
	for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
		dev->config[i] = (uint8_t)((dev->initial[i] & ~dev->wmask[i]) |
					   (cfg[i] & dev->wmask[i]));
	dev->intx_level = level;
	pci_bars_update(dev);
	pci_intx_update(dev);
	return 0;
}

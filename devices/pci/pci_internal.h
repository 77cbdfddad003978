/*
 * What the files of devices/pci/ share: the bus and function structs.
 * Device models use pci.h only.
 */
#ifndef HYVM_PCI_INTERNAL_H
#define HYVM_PCI_INTERNAL_H

#include "devices/pci/pci.h"
#include "devices/pci/pci_msix.h"

/* One BAR as the bus maps it. */
struct pci_bar {
	struct pci_bar_desc desc;
	struct pci_device *dev;
	bool mapped;			/* registered on the pio/mmio bus */
	uint64_t addr;			/* where, while mapped */
	bool refused;			/* the bus refused refused_addr (counted once) */
	uint64_t refused_addr;
};

struct pci_device {
	struct pci_bus *bus;
	unsigned slot;
	struct pci_device_desc desc;
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];	/* bits the guest writes */
	uint8_t initial[PCI_CONFIG_SIZE]; /* the config space at reset */
	unsigned cap_end;		/* first free byte after the capabilities */
	bool intx_level;		/* the device's INTA# as it drives it */
	struct pci_bar bar[PCI_NUM_BARS];
	struct pci_msix *msix;		/* pci_msix.h, or NULL */
};

struct pci_bus {
	struct bus *pio, *mmio;
	struct irq_router *irq;
	const struct memory_map *map;
	struct pci_device *slot[PCI_SLOTS];
	uint32_t config_address;	/* mechanism #1's CONFIG_ADDRESS */
	struct pci_bus_counters counters;
};

/* pci_bar.c */
/* Builds BAR i's read-only type bits and writable address mask; -1 with
 * err for a size or kind the bus refuses. */
int pci_bar_setup(struct pci_device *dev, unsigned i, char *err, size_t errlen);
/* Brings every BAR's mapping in line with COMMAND and the BAR registers. */
void pci_bars_update(struct pci_device *dev);
void pci_bars_unmap(struct pci_device *dev);

/* pci_config.c: a guest configuration cycle to dev at off (any width up
 * to 4 inside one dword). */
uint32_t pci_config_read(struct pci_device *dev, unsigned off, unsigned len);
void pci_config_write(struct pci_device *dev, unsigned off, unsigned len, uint32_t v);
/* The INTx line as COMMAND's disable bit lets it out. */
void pci_intx_update(struct pci_device *dev);

/* pci_msix.c, for the function's own reset, save, load and teardown */
void pci_msix_destroy(struct pci_msix *m);
/* Every vector masked, addresses and data 0, nothing pending. */
void pci_msix_reset(struct pci_msix *m);
/* The guest wrote Message Control: deliver what unmasking releases. */
void pci_msix_control_written(struct pci_msix *m);
void pci_msix_save(const struct pci_msix *m, struct ds_writer *w);
/* Reads the table and PBA into a malloc'd copy (NULL: the reader
 * failed); pci_msix_commit takes it over. */
void *pci_msix_read(const struct pci_msix *m, struct ds_reader *r);
void pci_msix_commit(struct pci_msix *m, void *copy);

#endif

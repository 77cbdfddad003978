/*
 * The PCI bus (bus 0, 32 slots, function 0 of each) as device models see
 * it. The VMM creates one struct pci_bus per machine, like the port and
 * MMIO buses, and hands it to every device in env->pci; the host bridge
 * model (pci_i440fx.c) puts configuration mechanism #1 on ports
 * 0xcf8/0xcfc (PCI Local Bus 3.0, 3.2.2.3.2). Device models never see
 * each other: each registers its function here and gets a handle back.
 *
 * How to write a PCI device
 * -------------------------
 * A model like any other (devices/isa/port92.c, DEVICE_LEVEL_PCI or
 * later) whose create fills a struct pci_device_desc (IDs, class, BARs
 * with an access callback each, whether it uses INTA#) and calls
 * pci_register_device(env->pci, &desc, err, errlen). The bus picks the
 * slot (or takes desc.slot), builds the type-0 header with its read-only
 * and writable bits, and from then on answers configuration cycles by
 * itself: the guest sizes BARs (all-ones, read back the size mask) and
 * moves them, and the bus maps each BAR's range on the pio or mmio bus
 * only while the COMMAND register's I/O or memory decode bit is set. The
 * BAR callback gets the offset inside the BAR, never an absolute address.
 * Capabilities: pci_add_capability reserves bytes in the list, the model
 * writes their initial contents with pci_config_set* and marks the bits
 * the guest may write with pci_config_set_wmask; a config_write hook tells
 * the model after a write it must act on. MSI-X: pci_msix.h. Interrupts:
 * pci_set_intx(dev, level) drives INTA# (level-triggered, shared). Reset:
 * the model's reset calls pci_device_reset; save/load use
 * pci_device_save/pci_device_load; destroy calls pci_unregister_device.
 */
#ifndef HYVM_PCI_H
#define HYVM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/bus.h"

struct irq_router;
struct memory_map;
struct ds_writer;
struct ds_reader;

#define PCI_SLOTS		32
#define PCI_CONFIG_SIZE		256
#define PCI_NUM_BARS		6

/* Type-0 header offsets (PCI Local Bus 3.0, 6.1, figure 6-1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a	/* sub-class, then base class */
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_HEADER_END		0x40	/* capabilities live from here on */

/* COMMAND bits (6.2.2). */
#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
/* STATUS bits (6.2.3). */
#define PCI_STATUS_INTERRUPT	0x0008
#define PCI_STATUS_CAP_LIST	0x0010
/* BAR low bits (6.2.5.1). */
#define PCI_BAR_SPACE_IO	0x1
#define PCI_BAR_MEM_TYPE_64	0x4
#define PCI_BAR_MEM_PREFETCH	0x8

/* Capability IDs (PCI Local Bus 3.0 appendix H). */
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar_desc {
	enum pci_bar_kind kind;
	bool prefetchable;		/* memory BARs */
	/* A power of two: I/O 4 to 256 bytes, memory at least 16 bytes
	 * (6.2.5.1); the bus refuses other sizes. A 64-bit BAR takes this
	 * slot and the next one, which stays PCI_BAR_NONE. */
	uint64_t size;
	/* An access at offset addr inside the BAR (not the bus address). */
	bus_io_fn fn;
	void *opaque;
};

struct pci_device_desc {
	const char *name;		/* for the bus ranges and errors */
	int slot;			/* 0-31, or -1: the first free one */
	uint16_t vendor_id, device_id;
	uint16_t subsystem_vendor_id, subsystem_id;
	uint8_t revision, prog_if, subclass, class_code;
	bool intx;			/* INTA# is wired (interrupt pin 1) */
	struct pci_bar_desc bar[PCI_NUM_BARS];
	/* After the guest wrote len bytes at off (the bus has applied them
	 * through the masks); NULL: nothing to do. */
	void (*config_write)(void *opaque, unsigned off, unsigned len);
	void *opaque;
};

struct pci_bus;
struct pci_device;

/* The VMM's side: a bus whose BARs map on pio/mmio and whose INTx lines
 * go to irq. map (NULL: no check) is where RAM and ROM are, which no BAR
 * may cover. NULL when out of memory. */
struct pci_bus *pci_bus_create(struct bus *pio, struct bus *mmio, struct irq_router *irq,
			       const struct memory_map *map);
/* After every device is unregistered. */
void pci_bus_destroy(struct pci_bus *bus);

/* Registers a function; NULL with one line in err (no free slot, slot
 * taken, a BAR the bus refuses). */
struct pci_device *pci_register_device(struct pci_bus *bus, const struct pci_device_desc *d,
				       char *err, size_t errlen);
/* Unmaps its BARs, drops its INTx and frees the handle. */
void pci_unregister_device(struct pci_device *dev);
/* The header as registered, BARs unmapped, INTx deasserted. */
void pci_device_reset(struct pci_device *dev);
unsigned pci_device_slot(const struct pci_device *dev);

/* Configuration space as the guest sees it, for the model's own
 * registers: reads, and set writes the value the register has now and
 * after every reset (not through the write masks). */
uint32_t pci_config_get(const struct pci_device *dev, unsigned off, unsigned len);
void pci_config_set(struct pci_device *dev, unsigned off, unsigned len, uint32_t v);
/* Which bits of [off, off + len) the guest may write (default: none
 * outside the header's own). */
void pci_config_set_wmask(struct pci_device *dev, unsigned off, unsigned len, uint32_t mask);
/* Reserves len bytes for a capability with id in the list (id and next
 * pointer written, STATUS.CAP_LIST set); its offset, or 0 when the 192
 * bytes after the header are full. */
unsigned pci_add_capability(struct pci_device *dev, uint8_t id, unsigned len);
/* The offset of the first capability with id, or 0. */
unsigned pci_find_capability(const struct pci_device *dev, uint8_t id);

/* Where BAR i is mapped now; false if it is not (decode off, unassigned,
 * or refused). */
bool pci_bar_mapped(const struct pci_device *dev, unsigned i, uint64_t *addr);
/* COMMAND's bus master bit (6.2.2, bit 2): a function may read or write
 * guest memory (dma_mem) only while it is set. */
bool pci_bus_master(const struct pci_device *dev);
/* The bus's environment, for helpers such as pci_msix. */
struct irq_router *pci_device_irq(const struct pci_device *dev);

/* Drives INTA# to level (ignored without desc.intx); while COMMAND's
 * INTx disable bit is set the line stays low (6.2.2), STATUS.INTERRUPT
 * shows the device's own level either way (6.2.3). */
void pci_set_intx(struct pci_device *dev, bool level);

/* The guest-visible configuration space, for a model's save/load; load
 * is the last thing a model's load reads (it ends with ds_done), takes
 * only the bits the guest may write and maps the BARs they describe. 0,
 * or -1 (the reader says why) with the function unchanged. */
void pci_device_save(const struct pci_device *dev, struct ds_writer *w);
int pci_device_load(struct pci_device *dev, struct ds_reader *r);

/* What the bus refused, for tests and statistics. */
struct pci_bus_counters {
	unsigned long bar_refused;	/* placements over RAM, overlaps, past 4 GiB / 64 KiB */
	unsigned long config_absent;	/* configuration cycles to no function */
	unsigned long config_bad_access; /* non-dword CONFIG_ADDRESS accesses */
};
const struct pci_bus_counters *pci_bus_counters(const struct pci_bus *bus);

/* INTx routing (pci_intx.c): INTA# of slot s is PIRQ (s + pin - 1) mod 4
 * (the swizzle of the PCI-to-PCI Bridge Architecture 1.2, 9.1), and PIRQ
 * A-D are wired to fixed interrupt lines, the same ISA IRQs the 8259
 * and the IOAPIC see. */
unsigned pci_intx_line(unsigned slot, unsigned pin);

/* Configuration mechanism #1 (pci_config_io.c), for the host bridge to
 * register: CONFIG_ADDRESS at 0xcf8 (4 ports, dword accesses only) and
 * CONFIG_DATA at 0xcfc (4 ports, any width). opaque is the bus. */
#define PCI_CONFIG_ADDRESS_PORT	0xcf8
#define PCI_CONFIG_DATA_PORT	0xcfc
void pci_config_address_io(void *bus, uint64_t port, uint8_t *data, unsigned len,
			   bool is_write);
void pci_config_data_io(void *bus, uint64_t port, uint8_t *data, unsigned len,
			bool is_write);
uint32_t pci_config_address(const struct pci_bus *bus);
void pci_set_config_address(struct pci_bus *bus, uint32_t v);

#endif

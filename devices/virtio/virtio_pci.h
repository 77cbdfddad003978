/*
 * The virtio PCI transport, modern interface only (virtio 1.2, 4.1): a
 * PCI function with vendor 0x1af4 and device 0x1040 + the virtio device
 * ID, whose vendor-specific capabilities (4.1.4) point into one 64-bit
 * memory BAR holding the common configuration, the ISR, the device
 * configuration and the notification registers (the layout QEMU's
 * virtio-pci uses, so drivers meet nothing new). Interrupts: MSI-X when
 * the driver enables it (devices/pci/pci_msix.h: the table and PBA in
 * 32-bit memory BAR 1, one vector per queue plus one for configuration
 * changes), else INTA# with the ISR (4.1.5.3, 4.1.5.4).
 *
 * A device type (virtio_blk.c, virtio_net.c) creates its struct
 * virtio_dev, then virtio_pci_create, and talks to the driver only
 * through virtio_dev from then on.
 */
#ifndef HYVM_VIRTIO_PCI_H
#define HYVM_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>
#include "devices/device.h"
#include "devices/virtio/virtio_dev.h"

struct virtio_pci;

/* class: PCI base class, subclass (e.g. 0x01, 0x00 for storage). NULL
 * with one line in err when the bus refuses it. */
struct virtio_pci *virtio_pci_create(struct device_env *env, struct virtio_dev *vd,
				     const char *name, uint8_t class_code, uint8_t subclass,
				     char *err, size_t errlen);
void virtio_pci_reset(struct virtio_pci *vp);
/* Saved state: the virtio_dev's (virtio_dev_save), then the PCI
 * function's configuration space (pci_device_save: BARs, COMMAND, INTx).
 * A device type saves its own fields before these, or has none. */
void virtio_pci_save(const struct virtio_pci *vp, struct ds_writer *w);
/* Loads what virtio_pci_save wrote. A device type with checks of its
 * own calls virtio_dev_load(vd, r, staged), checks staged, then
 * virtio_pci_load_staged; the others call virtio_pci_load. Either reads
 * the rest of the blob (the PCI part ends it), and only when all of it
 * is good does the function and staged become the device's: 0, or -1
 * (the reader says why) with nothing changed. */
int virtio_pci_load(struct virtio_pci *vp, struct ds_reader *r);
int virtio_pci_load_staged(struct virtio_pci *vp, struct ds_reader *r,
			   const struct virtio_dev *staged);
void virtio_pci_destroy(struct virtio_pci *vp);

#endif

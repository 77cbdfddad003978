/*
 * The MSI-X capability (PCI Local Bus 3.0, 6.8.2) for a PCI function:
 * the capability in the list, the vector table and the pending-bit array
 * (PBA) inside one of the function's memory BARs, per-vector masks, the
 * function mask, pending bits, and delivery as a memory write to the
 * local APICs (irq_router_send_msi, Intel SDM Vol. 3A 11.11).
 *
 * Use: after pci_register_device, pci_msix_create(dev, n, bar, table,
 * pba) with offsets inside that BAR (8-byte aligned, table 16 bytes a
 * vector, PBA 8 bytes per 64 vectors); the BAR's callback first offers
 * every access to pci_msix_bar_io and handles it itself only when that
 * returns false. The device raises vector v with pci_msix_notify: false
 * means MSI-X is off and the device should use INTx (pci_set_intx), as
 * a function does before its driver enables MSI-X. While MSI-X is
 * enabled the bus holds INTx low (6.8.2.3). The function's reset, save
 * and load (pci_device_reset/save/load) include the table and the PBA;
 * pci_unregister_device destroys the helper.
 */
#ifndef HYVM_PCI_MSIX_H
#define HYVM_PCI_MSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_device;
struct pci_msix;
struct ds_writer;
struct ds_reader;

#define PCI_MSIX_MAX_VECTORS	2048
#define PCI_MSIX_ENTRY_SIZE	16

/* NULL with one line in err: a bad vector count, a BAR that is not a
 * memory BAR, table or PBA misaligned, outside the BAR or overlapping,
 * no room for the capability. */
struct pci_msix *pci_msix_create(struct pci_device *dev, unsigned nr_vectors, unsigned bar,
				 uint64_t table_off, uint64_t pba_off, char *err, size_t errlen);

/* An access at offset off of the MSI-X BAR: true if it was the table or
 * the PBA (done), false if it is the device's. */
bool pci_msix_bar_io(struct pci_msix *m, uint64_t off, uint8_t *data, unsigned len,
		     bool is_write);

/* Raises vector v: sent now, or left pending while masked. false when
 * MSI-X is disabled (or v is out of range): nothing happened. */
bool pci_msix_notify(struct pci_msix *m, unsigned v);
bool pci_msix_enabled(const struct pci_msix *m);
bool pci_msix_pending(const struct pci_msix *m, unsigned v);

/* Counters: messages sent, notifications left pending, sends the
 * router refused (an address outside 0xfeexxxxx). */
struct pci_msix_counters {
	unsigned long sent, held, refused;
};
const struct pci_msix_counters *pci_msix_counters(const struct pci_msix *m);


#endif

/*
 * INTx: each function's INTA# as a level-triggered, shareable interrupt
 * line (PCI Local Bus 3.0, 2.2.6).
 *
 * The routing is fixed, so that all three ways a guest can learn it agree
 * and need no interrupt router to program: INTx of slot s goes to PIRQ
 * (s + pin - 1) mod 4 (the usual swizzle), PIRQ A-D to ISA IRQs 10, 11,
 * 10, 11 (SeaBIOS gives the i440FX/PIIX3 links the same lines, QEMU's pc
 * offers its PCI links 5, 10 and 11). An ISA IRQ is the same interrupt
 * line for the 8259 pair (which the guest makes level-triggered through
 * the ELCR) and for the IOAPIC pin of that number, so:
 *  - ACPI: the DSDT's _PRT names these lines as GSIs (no link devices),
 *    which Linux takes as level, active low, in IOAPIC and PIC mode alike
 *    (`noapic`: the same number is the 8259 IRQ);
 *  - acpi=off: the MP table's interrupt entries for bus PCI name the same
 *    IOAPIC pins (and leave out the ISA entries of IRQs 10 and 11);
 *  - no tables at all, or `acpi=off noapic`: the interrupt line register
 *    of each function holds the IRQ, as a BIOS leaves it.
 * kvmtool instead gives every device its own IOAPIC pin from 16 up; those
 * pins have no 8259 IRQ, so `noapic` would lose PCI interrupts. With two
 * lines shared by up to 32 slots, level triggering does the sharing.
 */
#include "devices/pci/pci_internal.h"
#include "vmm/irq_router.h"

static const uint8_t pirq_line[4] = { 10, 11, 10, 11 };

unsigned pci_intx_line(unsigned slot, unsigned pin)
{
	return pirq_line[(slot + pin - 1) & 3];
}

void pci_intx_update(struct pci_device *dev)
{
	uint16_t cmd = (uint16_t)pci_config_get(dev, PCI_COMMAND, 2);
	uint16_t status = (uint16_t)pci_config_get(dev, PCI_STATUS, 2);
	/* MSI-X enabled: the function may not use INTx (6.8.2.3) */
	bool out = dev->desc.intx && dev->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
		   !(dev->msix && pci_msix_enabled(dev->msix));

	/* STATUS bit 3 shows the function's own INTx, disabled or not (6.2.3) */
	status = dev->intx_level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
	dev->config[PCI_STATUS] = (uint8_t)status;
	if (dev->desc.intx && dev->bus->irq)
		irq_router_set(dev->bus->irq, dev, pci_intx_line(dev->slot, 1), out);
}

void pci_set_intx(struct pci_device *dev, bool level)
{
	if (!dev->desc.intx)
		return;
	dev->intx_level = level;
	pci_intx_update(dev);
}

/*
 * The pc machine as its firmware tables describe it: one CPU (APIC ID 0),
 * the local APIC and IOAPIC where the memory map puts them, the ISA IRQs
 * routed as on QEMU's pc (IRQ 0 on pin 2, the SCI level-triggered), the
 * PM block of devices/acpi/acpi_pm.h, reset through the i8042, the RTC's
 * century byte. The devices these name are vmm/machine.c's machine_pc.
 */
#include <string.h>
#include <hyvm/x86.h>
#include "devices/acpi/acpi_pm.h"
#include "devices/pci/pci.h"
#include "firmware/fw_tables.h"

#define PC_IOAPIC_ID		1	/* the first ID after the CPUs' */
#define PC_LINT_EXTINT		0	/* LINT0: the 8259A's INTR (virtual wire) */
#define PC_LINT_NMI		1	/* LINT1: NMI */
/* The RESET_REG: the i8042's "pulse reset" command (devices/isa/i8042.c).
 * QEMU's pc uses 0xcf9, which lies inside the PCI configuration address
 * dword 0xcf8-0xcfb; a PCI host bridge may take that over later. */
#define PC_RESET_PORT		0x64
#define PC_RESET_VALUE		0xfe
#define PC_RTC_CENTURY		0x32	/* devices/isa/rtc_cmos.c: RTC_CENTURY */
#define PC_S5_SLP_TYP		0	/* what acpi_pm.c and QEMU's PIIX4 PM take as soft-off */
/* IAPC_BOOT_ARCH (ACPI 6.4, 5.2.9.3, table 5.11): ISA devices and an
 * 8042 are there; no VGA (the legacy window is plain RAM); MSI works
 * (devices/pci/pci_msix.c delivers through the local APIC); the CMOS RTC
 * is there (bit 5 clear). */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042		(1u << 1)
#define BOOT_ARCH_NO_VGA	(1u << 2)
#define BOOT_ARCH_NO_MSI	(1u << 3)

void fw_machine_pc(struct fw_machine *m, const struct hyvm_cpuid_table *cpuid)
{
	*m = (struct fw_machine){
		.oem_id = "HYVM",
		.product_id = "HYVM PC",
		.nr_cpus = 1,
		.apic_id = { 0 },
		.lapic_addr = (uint32_t)MEMMAP_LAPIC,
		.lapic_version = LAPIC_VERSION,
		.ioapic = {
			.id = PC_IOAPIC_ID, .version = IOAPIC_VERSION,
			.addr = (uint32_t)MEMMAP_IOAPIC, .gsi_base = 0, .pins = IOAPIC_PINS,
		},
		.lint_extint = PC_LINT_EXTINT,
		.lint_nmi = PC_LINT_NMI,
		.pm = {
			.evt_blk = ACPI_PM1A_EVT, .evt_len = ACPI_PM1_EVT_LEN,
			.cnt_blk = ACPI_PM1A_CNT, .cnt_len = ACPI_PM1_CNT_LEN,
			.tmr_blk = ACPI_PM_TMR, .tmr_len = ACPI_PM_TMR_LEN,
			.tmr_32bit = true,
			.sci_irq = ACPI_PM_SCI_IRQ,
			.s5_slp_typ = PC_S5_SLP_TYP,
		},
		.reset = { PC_RESET_PORT, PC_RESET_VALUE },
		.boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA,
		/* the i440FX and PIIX3 of vmm/machine.c's machine_pc */
		.pci = true,
		.pci_mem_base = (uint32_t)MEMMAP_PCI_WINDOW_MIN,
		.pci_mem_size = (uint32_t)(MEMMAP_IOAPIC - MEMMAP_PCI_WINDOW_MIN),
		.rtc_century = PC_RTC_CENTURY,
	};
	/* ISA IRQ n on pin n, edge and active high as the ISA bus has them
	 * (conforming); IRQ 0 (the PIT) on pin 2, IRQ 2 (the cascade) on
	 * none; the SCI level-triggered, active high (QEMU's MADT says so:
	 * the PM block drives its line high while an event is pending). */
	for (unsigned irq = 0; irq < FW_ISA_IRQS; irq++)
		m->isa_irq[irq] = (struct fw_isa_irq){ irq, FW_INTI_CONFORMS };
	m->isa_irq[0].gsi = 2;
	m->isa_irq[2].gsi = FW_NO_GSI;
	m->isa_irq[ACPI_PM_SCI_IRQ].flags = FW_INTI_LEVEL | FW_INTI_ACTIVE_HIGH;
	for (unsigned slot = 0; slot < FW_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			m->pci_intx_gsi[slot][pin] = (uint8_t)pci_intx_line(slot, pin + 1);
	if (cpuid) {
		uint32_t r[4];
		hyvm_cpuid_lookup(cpuid, 1, 0, r);
		m->cpu_signature = r[0];
		m->cpu_features = r[3];
	}
}

void fw_machine_pc_window(struct fw_machine *m, const struct memory_map *map)
{
	uint64_t best = 0;

	for (unsigned i = 0; i < map->nr; i++) {
		const struct mem_region *r = &map->r[i];
		if (r->kind != MEM_MMIO || strcmp(r->name, "pci-window") || r->size <= best ||
		    r->gpa + r->size > MEMMAP_4G)
			continue;
		best = r->size;
		m->pci_mem_base = (uint32_t)r->gpa;
		m->pci_mem_size = (uint32_t)r->size;
	}
}

bool fw_pci_uses_irq(const struct fw_machine *m, unsigned irq)
{
	if (!m->pci)
		return false;
	for (unsigned slot = 0; slot < FW_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			if (m->pci_intx_gsi[slot][pin] == irq)
				return true;
	return false;
}

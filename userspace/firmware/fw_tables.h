/*
 * The firmware tables hyvm writes into guest RAM in place of a BIOS, so a
 * stock kernel finds the interrupt controllers and the ACPI PM block
 * without options: an MP table (mptable.c) and ACPI tables (acpi_tables.c,
 * with the DSDT's AML from acpi_aml.c). Both are built from one small
 * description of the machine (struct fw_machine, filled for the pc machine
 * by platform_pc.c), never from numbers of their own; fw_tables.c lays
 * them out in the area the memory map names (MEMMAP_FW_TABLES).
 */
#ifndef HYVM_FW_TABLES_H
#define HYVM_FW_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hyvm/cpuid_table.h>
#include "firmware/fw_buf.h"
#include "vmm/memory_map.h"

#define FW_MAX_CPUS	16
#define FW_ISA_IRQS	16
#define FW_NO_GSI	0xffffffffu	/* an ISA IRQ with no IOAPIC pin (IRQ 2) */
#define FW_PCI_SLOTS	32

/* Interrupt input flags, "MPS INTI flags": the MP spec 1.4 (table 4-10,
 * I/O interrupt entry) and ACPI 6.4 (5.2.12.5, table 5.26) share them. */
#define FW_INTI_CONFORMS	0x0	/* polarity and trigger as the bus says */
#define FW_INTI_ACTIVE_HIGH	0x1
#define FW_INTI_ACTIVE_LOW	0x3
#define FW_INTI_EDGE		0x4
#define FW_INTI_LEVEL		0xc

/* Where an ISA IRQ arrives on the IOAPIC. */
struct fw_isa_irq {
	uint32_t gsi;			/* FW_NO_GSI: not wired */
	uint16_t flags;			/* FW_INTI_* */
};

/* What the tables say about the machine. */
struct fw_machine {
	const char *oem_id;		/* 6 characters at most (ACPI OEMID) */
	const char *product_id;		/* 8 at most (ACPI OEM table ID, MP product) */
	unsigned nr_cpus;
	uint8_t apic_id[FW_MAX_CPUS];	/* [0] is the bootstrap processor */
	uint32_t lapic_addr;
	uint8_t lapic_version;
	uint32_t cpu_signature;		/* CPUID.1:EAX (MP processor entry) */
	uint32_t cpu_features;		/* CPUID.1:EDX */
	struct {
		uint8_t id, version;
		uint32_t addr, gsi_base;
		unsigned pins;
	} ioapic;
	struct fw_isa_irq isa_irq[FW_ISA_IRQS];	/* by ISA IRQ */
	uint8_t lint_extint, lint_nmi;	/* local APIC pins of the 8259A and NMI */
	bool pci;			/* a PCI bus 0 (MP bus entry, \_SB.PCI0) */
	/* With pci: the host bridge's 32-bit memory window (the PCI hole
	 * between the top of low RAM and the IOAPIC) and where INTA#-INTD#
	 * of each slot arrive, as a GSI that is also the ISA IRQ the 8259
	 * sees (devices/pci/pci_intx.c). */
	uint32_t pci_mem_base, pci_mem_size;
	uint8_t pci_intx_gsi[FW_PCI_SLOTS][4];
	/* The ACPI PM block (FADT). */
	struct {
		uint16_t evt_blk, cnt_blk, tmr_blk;
		uint8_t evt_len, cnt_len, tmr_len;
		bool tmr_32bit;
		uint16_t sci_irq;	/* an ISA IRQ: isa_irq[] says its GSI */
		uint8_t s5_slp_typ;	/* SLP_TYP for soft-off (\_S5) */
	} pm;
	/* FADT RESET_REG: an 8-bit write of value to I/O port. */
	struct {
		uint16_t port;
		uint8_t value;
	} reset;
	uint16_t boot_arch;		/* FADT IAPC_BOOT_ARCH */
	uint8_t rtc_century;		/* CMOS index of the century byte, 0: none */
};

/* The pc machine hyvm runs (vmm/machine.c's devices, the memory map's
 * addresses); cpuid: the VM's CPU model (NULL: signature and features 0). */
void fw_machine_pc(struct fw_machine *m, const struct hyvm_cpuid_table *cpuid);
/* The PCI memory window as the memory map has it (the largest part of
 * the PCI hole a --rom left). */
void fw_machine_pc_window(struct fw_machine *m, const struct memory_map *map);
/* Is ISA IRQ irq a PCI INTx line (the MP table then lists it for PCI
 * only)? */
bool fw_pci_uses_irq(const struct fw_machine *m, unsigned irq);

/* acpi_pci.c: Device (PCI0) for \_SB: _HID PNP0A03, _CRS with the bus
 * range, the configuration ports and the I/O and memory windows, _PRT. */
void acpi_pci_device(const struct fw_machine *m, struct fw_buf *b);

/* Guest RAM the tables are placed in, bottom up, each aligned. */
struct fw_area {
	uint8_t *mem;			/* host view of gpa */
	uint32_t gpa, size, used;
};
/* Copies b into the area at the next multiple of align; its gpa, or 0
 * when it does not fit or b overflowed. */
uint32_t fw_place(struct fw_area *a, const struct fw_buf *b, uint32_t align);

/* Where each table went (0: not built). */
struct fw_layout {
	uint32_t mpf, mpc;		/* MP floating pointer, configuration table */
	uint32_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
};

/* mptable.c: the MP configuration table and floating pointer. 0 or -1. */
int mptable_build(const struct fw_machine *m, struct fw_area *a, struct fw_layout *out);
/* acpi_tables.c: FACS, DSDT, FADT, MADT, RSDT, XSDT, RSDP. 0 or -1. */
int acpi_tables_build(const struct fw_machine *m, struct fw_area *a, struct fw_layout *out);

/* Builds every table into mem (the host view of [gpa, gpa + size)),
 * zeroed first; the ACPI tables only if acpi. -1 with one line in err. */
int fw_tables_build(const struct fw_machine *m, bool acpi, uint8_t *mem, uint32_t gpa,
		    uint32_t size, struct fw_layout *out, char *err, size_t errlen);

/* What hyvm run calls: the pc machine's tables for the CPU model named
 * cpu_model (NULL: the default) in the memory map's firmware-table area of
 * the low RAM at ram (flat from gpa 0). Nothing when a --rom BIOS owns
 * that area. 0, or -1 with one line in err. */
int fw_tables_install(const struct memory_map *map, uint8_t *ram, const char *cpu_model,
		      bool acpi, char *err, size_t errlen);

#endif

/*
 * The MP table (Intel MultiProcessor Specification 1.4, chapter 4): a
 * configuration table "PCMP" with one entry per processor, bus, I/O APIC,
 * ISA interrupt and local interrupt, and the floating pointer "_MP_" on a
 * 16-byte boundary in the BIOS area that points at it. Kernels read it
 * when there is no ACPI MADT (hyvm run --no-acpi, or acpi=off). The
 * routing is SeaBIOS's and kvmtool's: ISA IRQ 0 on IOAPIC pin 2, the
 * other ISA IRQs on the pins of their number (IRQ 2 is the cascade and
 * has no pin), LINT0 ExtINT from the 8259A, LINT1 NMI on every CPU.
 */
#include "firmware/fw_tables.h"

#define MP_SPEC_REV		4	/* 1.4 */

/* Configuration table entry types and lengths (4.3, table 4-3). */
enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IOINTR, MP_LINTR };
#define MP_PROCESSOR_LEN	20
#define MP_OTHER_LEN		8

/* Processor entry CPU flags (4.3.1, table 4-5). */
#define MP_CPU_EN		0x01
#define MP_CPU_BP		0x02
/* I/O APIC entry flags (4.3.3, table 4-8). */
#define MP_IOAPIC_EN		0x01
/* Interrupt types (4.3.4, table 4-11). */
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };
#define MP_ALL_LAPICS		0xff	/* destination local APIC ID: every one */

/* Bus IDs: with a PCI bus, PCI is 0 and ISA 1 (as SeaBIOS and kvmtool
 * number them); without, ISA is 0. */
static uint8_t isa_bus_id(const struct fw_machine *m)
{
	return m->pci ? 1 : 0;
}

static void entry_processor(struct fw_buf *b, const struct fw_machine *m, unsigned cpu)
{
	fw_u8(b, MP_PROCESSOR);
	fw_u8(b, m->apic_id[cpu]);
	fw_u8(b, m->lapic_version);
	fw_u8(b, MP_CPU_EN | (cpu == 0 ? MP_CPU_BP : 0));
	fw_u32(b, m->cpu_signature);	/* stepping, model, family */
	fw_u32(b, m->cpu_features);
	fw_u64(b, 0);			/* reserved */
}

static void entry_bus(struct fw_buf *b, uint8_t id, const char *type)
{
	fw_u8(b, MP_BUS);
	fw_u8(b, id);
	fw_str(b, type, 6);		/* bus type string (table 4-7) */
}

/* I/O and local interrupt entries share one layout (4.3.4, 4.3.5). */
static void entry_interrupt(struct fw_buf *b, uint8_t kind, uint8_t irq_type, uint16_t flags,
			    uint8_t src_bus, uint8_t src_irq, uint8_t dst_apic, uint8_t dst_pin)
{
	fw_u8(b, kind);
	fw_u8(b, irq_type);
	fw_u16(b, flags);
	fw_u8(b, src_bus);
	fw_u8(b, src_irq);
	fw_u8(b, dst_apic);
	fw_u8(b, dst_pin);
}

/* The configuration table (4.2): header, then entries sorted by type. */
static void build_config(const struct fw_machine *m, struct fw_buf *b)
{
	uint16_t count = 0;

	fw_bytes(b, "PCMP", 4);
	fw_u16(b, 0);			/* base table length: below */
	fw_u8(b, MP_SPEC_REV);
	fw_u8(b, 0);			/* checksum: below */
	fw_str(b, m->oem_id, 8);
	fw_str(b, m->product_id, 12);
	fw_u32(b, 0);			/* no OEM table */
	fw_u16(b, 0);
	fw_u16(b, 0);			/* entry count: below */
	fw_u32(b, m->lapic_addr);
	fw_u16(b, 0);			/* no extended entries */
	fw_u8(b, 0);
	fw_u8(b, 0);

	for (unsigned c = 0; c < m->nr_cpus; c++, count++)
		entry_processor(b, m, c);
	if (m->pci) {
		entry_bus(b, 0, "PCI");
		count++;
	}
	entry_bus(b, isa_bus_id(m), "ISA");
	count++;
	fw_u8(b, MP_IOAPIC);
	fw_u8(b, m->ioapic.id);
	fw_u8(b, m->ioapic.version);
	fw_u8(b, MP_IOAPIC_EN);
	fw_u32(b, m->ioapic.addr);
	count++;
	/* PCI INTx (D.3, "PCI bus interrupt source": the source IRQ is the
	 * device number << 2 | pin, INTA# = 0), level-triggered and active
	 * low as PCI signals them; the ISA entries of the same pins are left
	 * out, as SeaBIOS does, so each pin has one owner. */
	for (unsigned slot = 0; m->pci && slot < FW_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++, count++)
			entry_interrupt(b, MP_IOINTR, MP_INT, FW_INTI_LEVEL | FW_INTI_ACTIVE_LOW, 0,
					(uint8_t)(slot << 2 | pin), m->ioapic.id,
					(uint8_t)(m->pci_intx_gsi[slot][pin] - m->ioapic.gsi_base));
	for (unsigned irq = 0; irq < FW_ISA_IRQS; irq++) {
		const struct fw_isa_irq *r = &m->isa_irq[irq];
		if (r->gsi == FW_NO_GSI || r->gsi < m->ioapic.gsi_base ||
		    r->gsi - m->ioapic.gsi_base >= m->ioapic.pins || fw_pci_uses_irq(m, irq))
			continue;
		entry_interrupt(b, MP_IOINTR, MP_INT, r->flags, isa_bus_id(m), (uint8_t)irq,
				m->ioapic.id, (uint8_t)(r->gsi - m->ioapic.gsi_base));
		count++;
	}
	/* The 8259A's INTR on the BSP's LINT0 (virtual wire, 3.6.2.2), NMI
	 * on every local APIC's LINT1. */
	entry_interrupt(b, MP_LINTR, MP_EXTINT, FW_INTI_CONFORMS, isa_bus_id(m), 0,
			m->apic_id[0], m->lint_extint);
	entry_interrupt(b, MP_LINTR, MP_NMI, FW_INTI_CONFORMS, isa_bus_id(m), 0,
			MP_ALL_LAPICS, m->lint_nmi);
	count += 2;

	if (b->overflow)
		return;
	fw_put16(b->b + 4, (uint16_t)b->len);
	fw_put16(b->b + 34, count);
	b->b[7] = fw_checksum(b->b, b->len);
}

/* The floating pointer structure (4.1, table 4-1): 16 bytes. */
static void build_floating(uint32_t config_gpa, struct fw_buf *b)
{
	fw_bytes(b, "_MP_", 4);
	fw_u32(b, config_gpa);
	fw_u8(b, 1);			/* length in 16-byte units */
	fw_u8(b, MP_SPEC_REV);
	fw_u8(b, 0);			/* checksum: below */
	fw_u8(b, 0);			/* feature 1: 0, a configuration table is present */
	fw_u8(b, 0);			/* feature 2: IMCRP clear, virtual wire mode */
	fw_u8(b, 0);
	fw_u16(b, 0);
	if (!b->overflow)
		b->b[10] = fw_checksum(b->b, b->len);
}

int mptable_build(const struct fw_machine *m, struct fw_area *a, struct fw_layout *out)
{
	struct fw_buf b = { .len = 0 };

	if (m->nr_cpus == 0 || m->nr_cpus > FW_MAX_CPUS)
		return -1;
	build_config(m, &b);
	out->mpc = fw_place(a, &b, 16);
	if (!out->mpc)
		return -1;
	b = (struct fw_buf){ .len = 0 };
	build_floating(out->mpc, &b);
	out->mpf = fw_place(a, &b, 16);
	return out->mpf ? 0 : -1;
}

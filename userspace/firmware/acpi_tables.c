/*
 * The ACPI tables (ACPI 6.4, chapter 5.2) of a machine with the legacy
 * fixed hardware (not HW_REDUCED): RSDP (revision 2, pointing at both an
 * RSDT for ACPI 1.0 kernels and an XSDT), FADT revision 6 with the PM
 * block of devices/acpi/acpi_pm.c, FACS, a DSDT whose AML holds \_S5
 * (the SLP_TYP for soft-off), and a MADT with the local APICs, the IOAPIC,
 * the ISA interrupt source overrides and the local APIC NMI. Field values
 * follow QEMU's pc machine (hw/i386/acpi-build.c) where the spec leaves
 * a choice.
 */
#include "firmware/acpi_aml.h"
#include "firmware/fw_tables.h"

#define ACPI_HEADER_LEN		36	/* 5.2.6, table 5.4 */
#define ACPI_CREATOR_ID		"HYVM"
#define ACPI_CREATOR_REV	1
#define ACPI_OEM_REV		1

/* Generic Address Structure (5.2.3.2): address space and access sizes. */
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1
#define GAS_ACCESS_WORD		2
#define GAS_ACCESS_DWORD	3

/* FADT (5.2.9): revision 6 and the 6.4 minor version, 276 bytes. */
#define FADT_REVISION		6
#define FADT_MINOR		4
#define FADT_LEN		276
/* Fixed feature flags (table 5.10). */
#define FADT_WBINVD		(1u << 0)
#define FADT_PROC_C1		(1u << 2)
/* PWR_BUTTON (bit 4) stays 0: the fixed power button exists (PM1 PWRBTN,
 * QMP system_powerdown), as in QEMU's pc FADT */
#define FADT_SLP_BUTTON		(1u << 5)	/* 1: no fixed sleep button */
#define FADT_FIX_RTC		(1u << 6)	/* 1: no RTC wake status */
#define FADT_TMR_VAL_EXT	(1u << 8)	/* 32-bit PM timer */
#define FADT_RESET_REG_SUP	(1u << 10)
/* C2/C3 latencies that say "not supported" (> 100 and > 1000 us). */
#define FADT_NO_C2		0x0fff
#define FADT_NO_C3		0xffff

#define FACS_LEN		64	/* 5.2.10, table 5.14 */
#define FACS_VERSION		2
/* MADT (5.2.12): revision 5 in ACPI 6.4; flags (table 5.20). */
#define MADT_REVISION		5
#define MADT_PCAT_COMPAT	1u
/* Interrupt controller structure types (table 5.21). */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4 };
#define MADT_LAPIC_ENABLED	1u	/* table 5.23 */
#define MADT_ALL_PROCESSORS	0xff	/* local APIC NMI: every processor */
#define DSDT_REVISION		2	/* 2 and up: 64-bit AML integers */

/* The system description table header (5.2.6); length and checksum are
 * filled by finish(). */
static void header(struct fw_buf *b, const char *sig, uint8_t rev, const struct fw_machine *m)
{
	fw_bytes(b, sig, 4);
	fw_u32(b, 0);			/* length */
	fw_u8(b, rev);
	fw_u8(b, 0);			/* checksum */
	fw_str(b, m->oem_id, 6);
	fw_str(b, m->product_id, 8);
	fw_u32(b, ACPI_OEM_REV);
	fw_bytes(b, ACPI_CREATOR_ID, 4);
	fw_u32(b, ACPI_CREATOR_REV);
}

static void finish(struct fw_buf *b)
{
	if (b->overflow)
		return;
	fw_put32(b->b + 4, b->len);
	b->b[9] = fw_checksum(b->b, b->len);
}

static void gas_io(struct fw_buf *b, uint16_t port, uint8_t bytes, uint8_t access)
{
	fw_u8(b, port ? GAS_SYSTEM_IO : 0);
	fw_u8(b, port ? (uint8_t)(bytes * 8) : 0);	/* register bit width */
	fw_u8(b, 0);					/* bit offset */
	fw_u8(b, port ? access : 0);
	fw_u64(b, port);
}

/* FACS (5.2.10): no checksum; the waking vector stays 0 (no S3). */
static void build_facs(struct fw_buf *b)
{
	fw_bytes(b, "FACS", 4);
	fw_u32(b, FACS_LEN);
	fw_u32(b, 0);			/* hardware signature */
	fw_u32(b, 0);			/* firmware waking vector */
	fw_u32(b, 0);			/* global lock */
	fw_u32(b, 0);			/* flags */
	fw_u64(b, 0);			/* X firmware waking vector */
	fw_u8(b, FACS_VERSION);
	fw_grow(b, FACS_LEN - 33);	/* reserved, OSPM flags, reserved */
}

/* DSDT (5.2.11.1): Scope (\) { Name (_S5, Package (4) { typ, typ, 0, 0 }) }
 * (7.4.2: SLP_TYPa, SLP_TYPb, reserved), as QEMU's pc says it; with PCI,
 * Scope (\_SB) { Device (PCI0) { ... } } (acpi_pci.c). */
static void build_dsdt(const struct fw_machine *m, struct fw_buf *b)
{
	struct fw_buf root = { .len = 0 };
	const uint64_t s5[4] = { m->pm.s5_slp_typ, m->pm.s5_slp_typ, 0, 0 };

	header(b, "DSDT", DSDT_REVISION, m);
	aml_name_package(&root, "_S5", s5, 4);
	aml_scope(b, "\\", &root);
	if (m->pci) {
		struct fw_buf *sb = &(struct fw_buf){ .len = 0 };
		acpi_pci_device(m, sb);
		aml_scope(b, "\\_SB", sb);
	}
	finish(b);
}

/* FADT (5.2.9, table 5.9), offsets in the comments. */
static void build_fadt(const struct fw_machine *m, uint32_t facs, uint32_t dsdt, struct fw_buf *b)
{
	header(b, "FACP", FADT_REVISION, m);
	fw_u32(b, facs);			/*  36 FIRMWARE_CTRL */
	fw_u32(b, dsdt);			/*  40 DSDT */
	fw_u8(b, 0);				/*  44 reserved */
	fw_u8(b, 0);				/*  45 Preferred_PM_Profile: unspecified */
	fw_u16(b, m->pm.sci_irq);		/*  46 SCI_INT */
	fw_u32(b, 0);				/*  48 SMI_CMD: none, already in ACPI mode */
	fw_u8(b, 0);				/*  52 ACPI_ENABLE */
	fw_u8(b, 0);				/*  53 ACPI_DISABLE */
	fw_u8(b, 0);				/*  54 S4BIOS_REQ */
	fw_u8(b, 0);				/*  55 PSTATE_CNT */
	fw_u32(b, m->pm.evt_blk);		/*  56 PM1a_EVT_BLK */
	fw_u32(b, 0);				/*  60 PM1b_EVT_BLK */
	fw_u32(b, m->pm.cnt_blk);		/*  64 PM1a_CNT_BLK */
	fw_u32(b, 0);				/*  68 PM1b_CNT_BLK */
	fw_u32(b, 0);				/*  72 PM2_CNT_BLK */
	fw_u32(b, m->pm.tmr_blk);		/*  76 PM_TMR_BLK */
	fw_u32(b, 0);				/*  80 GPE0_BLK: no GPEs */
	fw_u32(b, 0);				/*  84 GPE1_BLK */
	fw_u8(b, m->pm.evt_len);		/*  88 PM1_EVT_LEN */
	fw_u8(b, m->pm.cnt_len);		/*  89 PM1_CNT_LEN */
	fw_u8(b, 0);				/*  90 PM2_CNT_LEN */
	fw_u8(b, m->pm.tmr_len);		/*  91 PM_TMR_LEN */
	fw_u8(b, 0);				/*  92 GPE0_BLK_LEN */
	fw_u8(b, 0);				/*  93 GPE1_BLK_LEN */
	fw_u8(b, 0);				/*  94 GPE1_BASE */
	fw_u8(b, 0);				/*  95 CST_CNT */
	fw_u16(b, FADT_NO_C2);			/*  96 P_LVL2_LAT */
	fw_u16(b, FADT_NO_C3);			/*  98 P_LVL3_LAT */
	fw_u16(b, 0);				/* 100 FLUSH_SIZE */
	fw_u16(b, 0);				/* 102 FLUSH_STRIDE */
	fw_u8(b, 0);				/* 104 DUTY_OFFSET */
	fw_u8(b, 0);				/* 105 DUTY_WIDTH */
	fw_u8(b, 0);				/* 106 DAY_ALRM */
	fw_u8(b, 0);				/* 107 MON_ALRM */
	fw_u8(b, m->rtc_century);		/* 108 CENTURY */
	fw_u16(b, m->boot_arch);		/* 109 IAPC_BOOT_ARCH */
	fw_u8(b, 0);				/* 111 reserved */
	fw_u32(b, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
		  FADT_FIX_RTC | (m->pm.tmr_32bit ? FADT_TMR_VAL_EXT : 0) |
		  (m->reset.port ? FADT_RESET_REG_SUP : 0));	/* 112 Flags */
	gas_io(b, m->reset.port, 1, GAS_ACCESS_BYTE);	/* 116 RESET_REG */
	fw_u8(b, m->reset.value);		/* 128 RESET_VALUE */
	fw_u16(b, 0);				/* 129 ARM_BOOT_ARCH */
	fw_u8(b, FADT_MINOR);			/* 131 FADT minor version */
	fw_u64(b, 0);				/* 132 X_FIRMWARE_CTRL: for a FACS above
						 * 4 GiB only; with both set ACPICA
						 * installs the FACS twice */
	fw_u64(b, dsdt);			/* 140 X_DSDT */
	gas_io(b, m->pm.evt_blk, m->pm.evt_len, GAS_ACCESS_WORD);	/* 148 X_PM1a_EVT_BLK */
	gas_io(b, 0, 0, 0);			/* 160 X_PM1b_EVT_BLK */
	gas_io(b, m->pm.cnt_blk, m->pm.cnt_len, GAS_ACCESS_WORD);	/* 172 X_PM1a_CNT_BLK */
	gas_io(b, 0, 0, 0);			/* 184 X_PM1b_CNT_BLK */
	gas_io(b, 0, 0, 0);			/* 196 X_PM2_CNT_BLK */
	gas_io(b, m->pm.tmr_blk, m->pm.tmr_len, GAS_ACCESS_DWORD);	/* 208 X_PM_TMR_BLK */
	gas_io(b, 0, 0, 0);			/* 220 X_GPE0_BLK */
	gas_io(b, 0, 0, 0);			/* 232 X_GPE1_BLK */
	gas_io(b, 0, 0, 0);			/* 244 SLEEP_CONTROL_REG (HW-reduced only) */
	gas_io(b, 0, 0, 0);			/* 256 SLEEP_STATUS_REG */
	fw_bytes(b, "hyvmhyvm", 8);		/* 268 Hypervisor Vendor Identity */
	finish(b);
}

/* MADT (5.2.12): processor local APICs (5.2.12.2), the I/O APIC
 * (5.2.12.3), an interrupt source override (5.2.12.5) for each ISA IRQ
 * that is not identity-mapped and bus-conforming, the local APIC NMI
 * (5.2.12.7). */
static void build_madt(const struct fw_machine *m, struct fw_buf *b)
{
	header(b, "APIC", MADT_REVISION, m);
	fw_u32(b, m->lapic_addr);
	fw_u32(b, MADT_PCAT_COMPAT);		/* dual 8259s as well */
	for (unsigned c = 0; c < m->nr_cpus; c++) {
		fw_u8(b, MADT_LAPIC);
		fw_u8(b, 8);
		fw_u8(b, (uint8_t)c);		/* ACPI processor UID */
		fw_u8(b, m->apic_id[c]);
		fw_u32(b, MADT_LAPIC_ENABLED);
	}
	fw_u8(b, MADT_IOAPIC);
	fw_u8(b, 12);
	fw_u8(b, m->ioapic.id);
	fw_u8(b, 0);
	fw_u32(b, m->ioapic.addr);
	fw_u32(b, m->ioapic.gsi_base);
	for (unsigned irq = 0; irq < FW_ISA_IRQS; irq++) {
		const struct fw_isa_irq *r = &m->isa_irq[irq];
		if (r->gsi == FW_NO_GSI || (r->gsi == irq && r->flags == FW_INTI_CONFORMS))
			continue;
		fw_u8(b, MADT_ISO);
		fw_u8(b, 10);
		fw_u8(b, 0);			/* bus: ISA */
		fw_u8(b, (uint8_t)irq);		/* source */
		fw_u32(b, r->gsi);
		fw_u16(b, r->flags);
	}
	fw_u8(b, MADT_LAPIC_NMI);
	fw_u8(b, 6);
	fw_u8(b, MADT_ALL_PROCESSORS);
	fw_u16(b, FW_INTI_CONFORMS);
	fw_u8(b, m->lint_nmi);
	finish(b);
}

/* RSDT (5.2.7) with 32-bit and XSDT (5.2.8) with 64-bit entries. */
static void build_sdt(const struct fw_machine *m, const char *sig, const uint32_t *tables,
		      unsigned n, bool wide, struct fw_buf *b)
{
	header(b, sig, 1, m);
	for (unsigned i = 0; i < n; i++) {
		if (wide)
			fw_u64(b, tables[i]);
		else
			fw_u32(b, tables[i]);
	}
	finish(b);
}

/* RSDP (5.2.5.3, table 5.3): revision 2, 36 bytes; the first checksum
 * covers the ACPI 1.0 part (20 bytes), the extended one all of it. */
static void build_rsdp(const struct fw_machine *m, uint32_t rsdt, uint32_t xsdt, struct fw_buf *b)
{
	fw_bytes(b, "RSD PTR ", 8);
	fw_u8(b, 0);			/*  8 checksum */
	fw_str(b, m->oem_id, 6);	/*  9 OEMID */
	fw_u8(b, 2);			/* 15 revision */
	fw_u32(b, rsdt);		/* 16 RsdtAddress */
	fw_u32(b, 36);			/* 20 length */
	fw_u64(b, xsdt);		/* 24 XsdtAddress */
	fw_u8(b, 0);			/* 32 extended checksum */
	fw_grow(b, 3);			/* 33 reserved */
	if (b->overflow)
		return;
	b->b[8] = fw_checksum(b->b, 20);
	b->b[32] = fw_checksum(b->b, 36);
}

int acpi_tables_build(const struct fw_machine *m, struct fw_area *a, struct fw_layout *out)
{
	struct fw_buf b;

#define PLACE(field, align, ...) do {				\
		b = (struct fw_buf){ .len = 0 };		\
		__VA_ARGS__;					\
		if (!(out->field = fw_place(a, &b, align)))	\
			return -1;				\
	} while (0)

	PLACE(facs, 64, build_facs(&b));		/* 64-byte aligned (5.2.10) */
	PLACE(dsdt, 16, build_dsdt(m, &b));
	PLACE(fadt, 16, build_fadt(m, out->facs, out->dsdt, &b));
	PLACE(madt, 16, build_madt(m, &b));
	const uint32_t tables[] = { out->fadt, out->madt };
	const unsigned n = sizeof(tables) / sizeof(tables[0]);
	PLACE(rsdt, 16, build_sdt(m, "RSDT", tables, n, false, &b));
	PLACE(xsdt, 16, build_sdt(m, "XSDT", tables, n, true, &b));
	PLACE(rsdp, 16, build_rsdp(m, out->rsdt, out->xsdt, &b));	/* 16-byte boundary (5.2.5.1) */
#undef PLACE
	return 0;
}

/*
 * The ACPI fixed-hardware PM block of hyvm's PC (acpi_pm.c), where QEMU's
 * pc machine (PIIX4 PM, hw/acpi/piix4.c) has it: base 0x600, PM1a event
 * block (status, enable) at +0, PM1a control at +4, the PM timer at +8,
 * the SCI on ISA IRQ 9. The firmware tables (userspace/firmware/) read the
 * same constants, so the FADT describes exactly this device.
 */
#ifndef HYVM_ACPI_PM_H
#define HYVM_ACPI_PM_H

#define ACPI_PM_BASE		0x600
#define ACPI_PM1A_EVT		(ACPI_PM_BASE + 0)	/* PM1_STS (2) + PM1_EN (2) */
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1A_CNT		(ACPI_PM_BASE + 4)
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM_TMR		(ACPI_PM_BASE + 8)
#define ACPI_PM_TMR_LEN		4
#define ACPI_PM_LEN		12			/* 0x600-0x60b */
#define ACPI_PM_TMR_HZ		3579545ull		/* ACPI 6.4, 4.8.3.3 */
#define ACPI_PM_SCI_IRQ		9			/* ISA IRQ (= GSI) of the SCI */

/* PM1 status/enable bits (ACPI 6.4, 4.8.3.1, tables 4.16/4.17). */
#define ACPI_PM1_TMR		0x0001
#define ACPI_PM1_GBL		0x0020
#define ACPI_PM1_PWRBTN		0x0100
#define ACPI_PM1_SLPBTN		0x0200
#define ACPI_PM1_RTC		0x0400
#define ACPI_PM1_WAK		0x8000		/* status only */
/* PM1 control bits (4.8.3.2.1, table 4.18). */
#define ACPI_PM1_SCI_EN		0x0001
#define ACPI_PM1_SLP_TYP_SHIFT	10
#define ACPI_PM1_SLP_TYP	0x1c00
#define ACPI_PM1_SLP_EN		0x2000		/* write-only: reads as 0 */

#endif

/*
 * The PCI host bridge in the DSDT, \_SB.PCI0 (ACPI 6.4, 6.1.5 _HID and
 * 6.2.2 _CRS; PCI Firmware 3.2, 4.1), as QEMU's pc describes its i440FX:
 *   _HID PNP0A03 (a PCI bus), _ADR 0, _UID 0;
 *   _CRS: bus numbers 0-255, the configuration ports 0xcf8-0xcff
 *     consumed, the I/O windows 0-0xcf7 and 0xd00-0xffff and the 32-bit
 *     memory window (the PCI hole of the memory map) produced;
 *   _PRT: for every slot and pin, the GSI it arrives at (source 0: no
 *     link device, 6.2.13), which is also the 8259 IRQ when the OS runs
 *     the PIC (devices/pci/pci_intx.c says why that works in both modes).
 */
#include "firmware/acpi_aml.h"
#include "firmware/fw_tables.h"

/* Resource descriptors (6.4.2 small, 6.4.3 large). */
#define RES_IO_PORT		0x47
#define RES_END_TAG		0x79
#define RES_DWORD_ADDRESS	0x87
#define RES_WORD_ADDRESS	0x88
/* Address space descriptors' resource type and general flags (6.4.3.5). */
#define RES_TYPE_MEMORY		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2
#define RES_MIN_FIXED		0x04
#define RES_MAX_FIXED		0x08
#define RES_IO_ENTIRE_RANGE	0x03	/* type-specific: ISA and non-ISA ports */
#define RES_MEM_READ_WRITE	0x01	/* type-specific: read/write, non-cacheable */

#define PCI_CONFIG_PORTS	0xcf8
#define PCI_CONFIG_PORTS_LEN	8
#define PCI_IO_TOP		0xffff
#define PCI_IO_AFTER_CONFIG	0xd00	/* QEMU's pc leaves 0xd00 on to PCI */

static void word_address(struct fw_buf *b, uint8_t type, uint8_t specific, uint16_t min,
			 uint16_t max)
{
	fw_u8(b, RES_WORD_ADDRESS);
	fw_u16(b, 13);				/* length after these 3 bytes */
	fw_u8(b, type);
	fw_u8(b, RES_MIN_FIXED | RES_MAX_FIXED);	/* a producer: bit 0 clear */
	fw_u8(b, specific);
	fw_u16(b, 0);				/* granularity */
	fw_u16(b, min);
	fw_u16(b, max);
	fw_u16(b, 0);				/* translation */
	fw_u16(b, (uint16_t)(max - min + 1));
}

static void dword_memory(struct fw_buf *b, uint32_t base, uint32_t size)
{
	fw_u8(b, RES_DWORD_ADDRESS);
	fw_u16(b, 23);
	fw_u8(b, RES_TYPE_MEMORY);
	fw_u8(b, RES_MIN_FIXED | RES_MAX_FIXED);
	fw_u8(b, RES_MEM_READ_WRITE);
	fw_u32(b, 0);				/* granularity */
	fw_u32(b, base);
	fw_u32(b, base + size - 1);
	fw_u32(b, 0);				/* translation */
	fw_u32(b, size);
}

static void crs(const struct fw_machine *m, struct fw_buf *b)
{
	word_address(b, RES_TYPE_BUS, 0, 0, 0xff);
	fw_u8(b, RES_IO_PORT);			/* IO (Decode16, 0xcf8, 0xcf8, 1, 8) */
	fw_u8(b, 1);
	fw_u16(b, PCI_CONFIG_PORTS);
	fw_u16(b, PCI_CONFIG_PORTS);
	fw_u8(b, 1);
	fw_u8(b, PCI_CONFIG_PORTS_LEN);
	word_address(b, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0, PCI_CONFIG_PORTS - 1);
	word_address(b, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, PCI_IO_AFTER_CONFIG, PCI_IO_TOP);
	if (m->pci_mem_size)
		dword_memory(b, m->pci_mem_base, m->pci_mem_size);
	fw_u8(b, RES_END_TAG);
	fw_u8(b, 0);				/* checksum 0: "treated as correct" */
}

/* Package () { Package () { 0xSSSSffff, pin, 0, gsi }, ... } (6.2.13):
 * the address is the slot in the high word, any function. */
static void prt(const struct fw_machine *m, struct fw_buf *b)
{
	struct fw_buf *all = &(struct fw_buf){ .len = 0 };
	unsigned n = 0;

	for (unsigned slot = 0; slot < FW_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++, n++) {
			struct fw_buf entry = { .len = 0 };
			aml_integer(&entry, (uint64_t)slot << 16 | 0xffff);
			aml_integer(&entry, pin);
			aml_integer(&entry, 0);
			aml_integer(&entry, m->pci_intx_gsi[slot][pin]);
			aml_package(all, &entry, 4);
		}
	fw_u8(b, AML_NAME_OP);
	aml_name_string(b, "_PRT");
	aml_package(b, all, n);
}

void acpi_pci_device(const struct fw_machine *m, struct fw_buf *b)
{
	struct fw_buf *body = &(struct fw_buf){ .len = 0 };
	struct fw_buf *res = &(struct fw_buf){ .len = 0 };

	aml_name_integer(body, "_HID", aml_eisa_id("PNP0A03"));
	aml_name_integer(body, "_ADR", 0);
	aml_name_integer(body, "_UID", 0);
	crs(m, res);
	aml_name_buffer(body, "_CRS", res);
	prt(m, body);
	aml_device(b, "PCI0", body);
}

/* The firmware tables (userspace/firmware/) for the pc machine: checksums
 * of every table, the RSDP and MP floating pointer found by the scans
 * Linux does, the MADT, MP entries and FADT fields, the DSDT's \_S5 bytes,
 * the AML encoder's edges, --no-acpi, a --rom BIOS keeping the area, and
 * the PM block's event registers and timer (devices/acpi/acpi_pm.c). */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/acpi/acpi_pm.h"
#include "firmware/acpi_aml.h"
#include "firmware/fw_tables.h"
#include "devices/pci/pci.h"

#define AREA_GPA 0xf0000u
#define AREA_SIZE 0x10000u

static uint8_t area[AREA_SIZE];
static struct fw_layout L;
static struct fw_machine M;

static const uint8_t *at(uint32_t gpa)
{
	CU_ASSERT_FATAL(gpa >= AREA_GPA && gpa < AREA_GPA + AREA_SIZE);
	return area + (gpa - AREA_GPA);
}

static void build(bool acpi)
{
	char err[256];

	fw_machine_pc(&M, NULL);
	CU_ASSERT_EQUAL_FATAL(fw_tables_build(&M, acpi, area, AREA_GPA, AREA_SIZE, &L, err,
					      sizeof(err)), 0);
}

/* An ACPI table at gpa with signature sig and a good checksum: its length. */
static uint32_t acpi_table(uint32_t gpa, const char *sig)
{
	const uint8_t *t = at(gpa);
	CU_ASSERT_FATAL(memcmp(t, sig, 4) == 0);
	uint32_t len = fw_get32(t + 4);
	CU_ASSERT_FATAL(len >= 36 && gpa + len <= AREA_GPA + AREA_SIZE);
	CU_ASSERT_EQUAL(fw_sum(t, len), 0);
	CU_ASSERT_EQUAL(memcmp(t + 10, "HYVM  ", 6), 0);
	return len;
}

static void test_checksums(void)
{
	build(true);
	CU_ASSERT_EQUAL(fw_sum(at(L.rsdp), 20), 0);
	CU_ASSERT_EQUAL(fw_sum(at(L.rsdp), 36), 0);
	CU_ASSERT_EQUAL(at(L.rsdp)[15], 2);
	CU_ASSERT_EQUAL(fw_get32(at(L.rsdp) + 16), L.rsdt);
	CU_ASSERT_EQUAL(fw_get64(at(L.rsdp) + 24), L.xsdt);
	acpi_table(L.rsdt, "RSDT");
	acpi_table(L.xsdt, "XSDT");
	CU_ASSERT_EQUAL(acpi_table(L.fadt, "FACP"), 276);
	acpi_table(L.madt, "APIC");
	acpi_table(L.dsdt, "DSDT");
	CU_ASSERT_EQUAL(memcmp(at(L.facs), "FACS", 4), 0);
	CU_ASSERT_EQUAL(fw_get32(at(L.facs) + 4), 64);
	CU_ASSERT_EQUAL(L.facs % 64, 0);
	/* MP: 16 * length bytes of the floating pointer, the base table */
	CU_ASSERT_EQUAL(fw_sum(at(L.mpf), 16u * at(L.mpf)[8]), 0);
	CU_ASSERT_EQUAL(fw_sum(at(L.mpc), fw_get16(at(L.mpc) + 4)), 0);
	/* RSDT and XSDT list the FADT and MADT, in that order */
	CU_ASSERT_EQUAL(fw_get32(at(L.rsdt) + 4), 36 + 2 * 4);
	CU_ASSERT_EQUAL(fw_get32(at(L.rsdt) + 36), L.fadt);
	CU_ASSERT_EQUAL(fw_get32(at(L.rsdt) + 40), L.madt);
	CU_ASSERT_EQUAL(fw_get64(at(L.xsdt) + 36), L.fadt);
	CU_ASSERT_EQUAL(fw_get64(at(L.xsdt) + 44), L.madt);
}

/* As Linux's acpi_find_root_pointer and smp_scan_config: 16-byte steps. */
static uint32_t scan(uint32_t from, uint32_t to, const char *sig, unsigned siglen,
		     uint32_t sumlen)
{
	for (uint32_t a = from; a < to; a += 16) {
		const uint8_t *p = at(a);
		uint32_t n = sumlen ? sumlen : 16u * p[8];
		if (!memcmp(p, sig, siglen) && n && fw_sum(p, n) == 0)
			return a;
	}
	return 0;
}

static void test_scans_find_them(void)
{
	build(true);
	CU_ASSERT_EQUAL(scan(AREA_GPA, AREA_GPA + AREA_SIZE, "RSD PTR ", 8, 20), L.rsdp);
	CU_ASSERT_EQUAL(scan(AREA_GPA, AREA_GPA + AREA_SIZE, "_MP_", 4, 0), L.mpf);
	CU_ASSERT_EQUAL(L.rsdp % 16, 0);
	CU_ASSERT_EQUAL(L.mpf % 16, 0);
}

static void test_madt_entries(void)
{
	build(true);
	const uint8_t *t = at(L.madt);
	uint32_t len = fw_get32(t + 4);
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	CU_ASSERT_EQUAL(fw_get32(t + 36), 0xfee00000u);
	CU_ASSERT_EQUAL(fw_get32(t + 40), 1);		/* PCAT_COMPAT */
	for (uint32_t o = 44; o < len; o += t[o + 1]) {
		const uint8_t *e = t + o;
		CU_ASSERT_FATAL(e[1] >= 2 && o + e[1] <= len);
		switch (e[0]) {
		case 0:
			CU_ASSERT_EQUAL(e[1], 8);
			CU_ASSERT_EQUAL(e[3], 0);	/* APIC ID */
			CU_ASSERT_EQUAL(fw_get32(e + 4), 1);
			lapics++;
			break;
		case 1:
			CU_ASSERT_EQUAL(e[1], 12);
			CU_ASSERT_EQUAL(e[2], 1);	/* IOAPIC ID */
			CU_ASSERT_EQUAL(fw_get32(e + 4), 0xfec00000u);
			CU_ASSERT_EQUAL(fw_get32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			CU_ASSERT_EQUAL(e[1], 10);
			CU_ASSERT_EQUAL(e[2], 0);	/* ISA */
			if (e[3] == 0) {
				CU_ASSERT_EQUAL(fw_get32(e + 4), 2);
				CU_ASSERT_EQUAL(fw_get16(e + 8), 0);
			} else {
				CU_ASSERT_EQUAL(e[3], 9);
				CU_ASSERT_EQUAL(fw_get32(e + 4), 9);
				CU_ASSERT_EQUAL(fw_get16(e + 8), 0xd);	/* level, active high */
			}
			isos++;
			break;
		case 4:
			CU_ASSERT_EQUAL(e[1], 6);
			CU_ASSERT_EQUAL(e[2], 0xff);
			CU_ASSERT_EQUAL(e[5], 1);	/* LINT1 */
			nmis++;
			break;
		default:
			CU_FAIL("unexpected MADT entry");
		}
	}
	CU_ASSERT(lapics == 1 && ioapics == 1 && isos == 2 && nmis == 1);
}

static void test_mptable_entries(void)
{
	build(true);
	const uint8_t *f = at(L.mpf), *c;
	CU_ASSERT_EQUAL(f[8], 1);
	CU_ASSERT_EQUAL(f[9], 4);
	CU_ASSERT_EQUAL(f[11], 0);			/* a table, not a default config */
	CU_ASSERT_EQUAL(fw_get32(f + 4), L.mpc);
	c = at(L.mpc);
	CU_ASSERT_EQUAL(memcmp(c, "PCMP", 4), 0);
	CU_ASSERT_EQUAL(c[6], 4);
	CU_ASSERT_EQUAL(fw_get32(c + 36), 0xfee00000u);
	uint16_t len = fw_get16(c + 4), count = fw_get16(c + 34);
	unsigned seen[5] = { 0 }, irq_mask = 0, pci_entries = 0;
	const uint8_t *e = c + 44;
	int last_type = -1;
	for (unsigned i = 0; i < count; i++) {
		CU_ASSERT_FATAL(e[0] <= 4 && e < c + len);
		CU_ASSERT(e[0] >= last_type);		/* sorted by type (4.3) */
		last_type = e[0];
		seen[e[0]]++;
		if (e[0] == 0) {
			CU_ASSERT_EQUAL(e[1], 0);
			CU_ASSERT_EQUAL(e[2], 0x14);
			CU_ASSERT_EQUAL(e[3], 3);	/* enabled, BSP */
			e += 20;
			continue;
		}
		if (e[0] == 1)	/* PCI 0, ISA 1 */
			CU_ASSERT_EQUAL(memcmp(e + 2, seen[1] == 1 ? "PCI   " : "ISA   ", 6), 0);
		if (e[0] == 2) {
			CU_ASSERT_EQUAL(e[1], 1);
			CU_ASSERT_EQUAL(e[2], 0x20);
			CU_ASSERT_EQUAL(e[3], 1);
			CU_ASSERT_EQUAL(fw_get32(e + 4), 0xfec00000u);
		}
		if (e[0] == 3 && e[4] == 0) {	/* PCI: slot << 2 | pin, level, low */
			pci_entries++;
			CU_ASSERT_EQUAL(fw_get16(e + 2), 0xf);
			CU_ASSERT_EQUAL(e[6], 1);
			CU_ASSERT_EQUAL(e[7], pci_intx_line(e[5] >> 2, (e[5] & 3) + 1));
		} else if (e[0] == 3) {
			CU_ASSERT_EQUAL(e[4], 1);	/* ISA */
			irq_mask |= 1u << e[5];
			CU_ASSERT_EQUAL(e[6], 1);	/* to IOAPIC 1 */
			CU_ASSERT_EQUAL(e[7], e[5] == 0 ? 2 : e[5]);
			CU_ASSERT_EQUAL(fw_get16(e + 2), e[5] == 9 ? 0xd : 0);
		}
		if (e[0] == 4) {
			CU_ASSERT_EQUAL(e[1], seen[4] == 1 ? 3 : 1);	/* ExtINT, NMI */
			CU_ASSERT_EQUAL(e[7], seen[4] == 1 ? 0 : 1);	/* LINT0, LINT1 */
			CU_ASSERT_EQUAL(e[6], seen[4] == 1 ? 0 : 0xff);
		}
		e += 8;
	}
	CU_ASSERT_PTR_EQUAL(e, c + len);
	CU_ASSERT(seen[0] == 1 && seen[1] == 2 && seen[2] == 1 && seen[3] == 128 + 13 &&
		  seen[4] == 2);
	CU_ASSERT_EQUAL(pci_entries, 128);		/* 32 slots, INTA#-INTD# */
	CU_ASSERT_EQUAL(irq_mask, 0xf3fb);		/* all but IRQ 2 and PCI's 10, 11 */
}

static void test_fadt_fields(void)
{
	build(true);
	const uint8_t *f = at(L.fadt);
	CU_ASSERT_EQUAL(f[8], 6);			/* revision */
	CU_ASSERT_EQUAL(f[131], 4);			/* minor */
	CU_ASSERT_EQUAL(fw_get32(f + 36), L.facs);
	CU_ASSERT_EQUAL(fw_get32(f + 40), L.dsdt);
	CU_ASSERT_EQUAL(fw_get64(f + 132), 0);		/* X_FIRMWARE_CTRL: FACS below 4 GiB */
	CU_ASSERT_EQUAL(fw_get64(f + 140), L.dsdt);
	CU_ASSERT_EQUAL(fw_get16(f + 46), 9);		/* SCI_INT */
	CU_ASSERT_EQUAL(fw_get32(f + 48), 0);		/* no SMI_CMD */
	CU_ASSERT_EQUAL(fw_get32(f + 56), ACPI_PM1A_EVT);
	CU_ASSERT_EQUAL(fw_get32(f + 64), ACPI_PM1A_CNT);
	CU_ASSERT_EQUAL(fw_get32(f + 76), ACPI_PM_TMR);
	CU_ASSERT(f[88] == 4 && f[89] == 2 && f[91] == 4);
	CU_ASSERT_EQUAL(f[108], 0x32);			/* CENTURY */
	CU_ASSERT_EQUAL(fw_get16(f + 109), 0x7);	/* legacy, 8042, no VGA; MSI works */
	uint32_t flags = fw_get32(f + 112);
	CU_ASSERT(flags & (1u << 10));			/* RESET_REG_SUP */
	CU_ASSERT(flags & (1u << 8));			/* TMR_VAL_EXT */
	CU_ASSERT_FALSE(flags & (1u << 20));		/* not HW_REDUCED */
	static const uint8_t reset_gas[12] = { 1, 8, 0, 1, 0x64 };
	CU_ASSERT_EQUAL(memcmp(f + 116, reset_gas, 12), 0);
	CU_ASSERT_EQUAL(f[128], 0xfe);
	static const uint8_t cnt_gas[12] = { 1, 16, 0, 2, 0x04, 0x06 };
	CU_ASSERT_EQUAL(memcmp(f + 172, cnt_gas, 12), 0);
	static const uint8_t evt_gas[12] = { 1, 32, 0, 2, 0x00, 0x06 };
	CU_ASSERT_EQUAL(memcmp(f + 148, evt_gas, 12), 0);
	static const uint8_t tmr_gas[12] = { 1, 32, 0, 3, 0x08, 0x06 };
	CU_ASSERT_EQUAL(memcmp(f + 208, tmr_gas, 12), 0);
}

/* Scope (\) { Name (_S5, Package (4) { 0, 0, 0, 0 }) } */
static void test_dsdt_s5_bytes(void)
{
	static const uint8_t want[] = {
		0x10, 0x0f, 0x5c, 0x00,			/* ScopeOp, PkgLength 15, \ */
		0x08, '_', 'S', '5', '_',		/* NameOp _S5_ */
		0x12, 0x06, 0x04,			/* PackageOp, PkgLength 6, 4 elements */
		0x00, 0x00, 0x00, 0x00,			/* SLP_TYPa, SLP_TYPb, reserved x2 */
	};
	build(true);
	const uint8_t *d = at(L.dsdt);
	CU_ASSERT(fw_get32(d + 4) > 36 + sizeof(want));	/* \_SB.PCI0 follows */
	CU_ASSERT_EQUAL(d[8], 2);
	CU_ASSERT_EQUAL(memcmp(d + 36, want, sizeof(want)), 0);
}

static const uint8_t *find(const uint8_t *p, size_t len, const void *what, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(p + i, what, n))
			return p + i;
	return NULL;
}

/* Scope (\_SB) { Device (PCI0) { _HID PNP0A03, _CRS, _PRT } } */
static void test_dsdt_pci(void)
{
	build(true);
	const uint8_t *d = at(L.dsdt);
	uint32_t len = fw_get32(d + 4);
	static const uint8_t scope_sb[] = { 0x10 };
	const uint8_t *sb = find(d + 36 + 16, len - 52, scope_sb, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sb);
	/* two-byte PkgLength, then \_SB_, then ExtOp Device */
	CU_ASSERT_EQUAL(sb[1] >> 6, 1);
	CU_ASSERT_EQUAL(memcmp(sb + 3, "\\_SB_\x5b\x82", 7), 0);
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	CU_ASSERT_PTR_NOT_NULL(find(d, len, hid, sizeof(hid)));
	CU_ASSERT_PTR_NOT_NULL(find(d, len, "PCI0", 4));
	CU_ASSERT_EQUAL(aml_eisa_id("PNP0A03"), 0x030ad041u);
	/* _CRS: the bus range, ports 0xcf8-0xcff, the memory window */
	static const uint8_t bus[] = { 0x88, 13, 0, 2, 0x0c, 0, 0, 0, 0, 0, 0xff, 0 };
	CU_ASSERT_PTR_NOT_NULL(find(d, len, bus, sizeof(bus)));
	static const uint8_t cfg[] = { 0x47, 1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8 };
	CU_ASSERT_PTR_NOT_NULL(find(d, len, cfg, sizeof(cfg)));
	static const uint8_t io_hi[] = { 0x88, 13, 0, 1, 0x0c, 3, 0, 0, 0x00, 0x0d, 0xff, 0xff };
	CU_ASSERT_PTR_NOT_NULL(find(d, len, io_hi, sizeof(io_hi)));
	static const uint8_t mem[] = { 0x87, 23, 0, 0, 0x0c, 1, 0, 0, 0, 0,
				       0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe };
	CU_ASSERT_PTR_NOT_NULL(find(d, len, mem, sizeof(mem)));
	/* _PRT: 128 entries, the first slot 0 INTA# -> GSI 10 */
	const uint8_t *prt = find(d, len, "_PRT", 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(prt);
	CU_ASSERT_EQUAL(prt[4], 0x12);
	CU_ASSERT_EQUAL(prt[5] >> 6, 1);			/* two-byte PkgLength */
	CU_ASSERT_EQUAL(prt[7], 128);
	/* slot 0's address 0xffff is a word */
	static const uint8_t first[] = { 0x12, 9, 4, 0x0b, 0xff, 0xff, 0, 0, 0x0a, 10 };
	CU_ASSERT_EQUAL(memcmp(prt + 8, first, sizeof(first)), 0);
	/* slot 5 INTB#: (5 + 1) mod 4 = PIRQC */
	static const uint8_t s5b[] = { 0x12, 11, 4, 0x0c, 0xff, 0xff, 5, 0, 1, 0, 0x0a };
	const uint8_t *e = find(d, len, s5b, sizeof(s5b));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e[sizeof(s5b)], pci_intx_line(5, 2));
}

static void test_aml_encoder(void)
{
	struct fw_buf b = { .len = 0 };

	aml_pkg_length(&b, 62);				/* 63 in one byte */
	aml_pkg_length(&b, 63);				/* 65: 0x41, 0x04 */
	aml_pkg_length(&b, 4093);			/* 4095: 0x4f, 0xff */
	aml_pkg_length(&b, 4094);			/* 4097: 0x81, 0x00, 0x01 */
	static const uint8_t lens[] = { 0x3f, 0x41, 0x04, 0x4f, 0xff, 0x81, 0x00, 0x01 };
	CU_ASSERT_EQUAL(b.len, sizeof(lens));
	CU_ASSERT_EQUAL(memcmp(b.b, lens, sizeof(lens)), 0);
	CU_ASSERT_EQUAL(aml_pkg_length(&b, 1u << 28), -1);

	b = (struct fw_buf){ .len = 0 };
	aml_integer(&b, 0);
	aml_integer(&b, 1);
	aml_integer(&b, 5);
	aml_integer(&b, 0x1234);
	aml_integer(&b, 0x12345678);
	aml_integer(&b, 0x100000000ull);
	static const uint8_t ints[] = {
		0x00, 0x01, 0x0a, 0x05, 0x0b, 0x34, 0x12, 0x0c, 0x78, 0x56, 0x34, 0x12,
		0x0e, 0, 0, 0, 0, 1, 0, 0, 0,
	};
	CU_ASSERT_EQUAL(b.len, sizeof(ints));
	CU_ASSERT_EQUAL(memcmp(b.b, ints, sizeof(ints)), 0);

	b = (struct fw_buf){ .len = 0 };
	aml_name_string(&b, "\\_SB");
	CU_ASSERT_EQUAL(b.len, 5);
	CU_ASSERT_EQUAL(memcmp(b.b, "\\_SB_", 5), 0);
}

static void test_no_acpi_keeps_mp(void)
{
	build(false);
	CU_ASSERT_NOT_EQUAL(L.mpf, 0);
	CU_ASSERT(L.rsdp == 0 && L.rsdt == 0 && L.fadt == 0 && L.madt == 0);
	CU_ASSERT_EQUAL(scan(AREA_GPA, AREA_GPA + AREA_SIZE, "RSD PTR ", 8, 20), 0);
	CU_ASSERT_EQUAL(scan(AREA_GPA, AREA_GPA + AREA_SIZE, "_MP_", 4, 0), L.mpf);
}

static void test_too_small(void)
{
	char err[256];
	fw_machine_pc(&M, NULL);
	CU_ASSERT_EQUAL(fw_tables_build(&M, true, area, AREA_GPA, 256, &L, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "the MP table does not fit"));
	/* room for the MP table (32 slots x 4 PCI entries), not the DSDT */
	CU_ASSERT_EQUAL(fw_tables_build(&M, true, area, AREA_GPA, 2048, &L, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "the ACPI tables do not fit"));
}

/* The memory map's area is the reserved BIOS RAM; a --rom alias there
 * takes it (the ROM brings its own tables) and install writes nothing. */
static void test_install_and_rom(void)
{
	struct memory_map m;
	uint64_t gpa, size, off;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 2 << 20, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(memory_map_firmware_tables(&m, &gpa, &size));
	CU_ASSERT(gpa == 0xf0000 && size == 0x10000);
	uint8_t *ram = calloc(1, 2 << 20);
	CU_ASSERT_FATAL(ram != NULL);
	CU_ASSERT_EQUAL(fw_tables_install(&m, ram, "pentium3", true, err, sizeof(err)), 0);
	uint32_t mpf = 0;
	for (uint32_t a = 0xf0000; a < 0x100000 && !mpf; a += 16)
		if (!memcmp(ram + a, "_MP_", 4))
			mpf = a;
	CU_ASSERT_FATAL(mpf != 0);
	const uint8_t *cpu = ram + fw_get32(ram + mpf + 4) + 44;
	CU_ASSERT_EQUAL(cpu[0], 0);
	CU_ASSERT_NOT_EQUAL(fw_get32(cpu + 4), 0);	/* CPUID.1 signature of the model */
	CU_ASSERT_EQUAL(fw_tables_install(&m, ram, "no-such-cpu", true, err, sizeof(err)), -1);

	CU_ASSERT_EQUAL_FATAL(memory_map_add_rom(&m, 0xfffe0000, 0x20000, "bios", &off, err,
						 sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(memory_map_alias_rom(&m, 0xe0000, 0x20000, off, "bios-alias", err,
						   sizeof(err)), 0);
	CU_ASSERT_FALSE(memory_map_firmware_tables(&m, &gpa, &size));
	memset(ram, 0, 2 << 20);
	CU_ASSERT_EQUAL(fw_tables_install(&m, ram, NULL, true, err, sizeof(err)), 0);
	for (uint32_t a = 0xe0000; a < 0x100000; a++)
		if (ram[a]) {
			CU_FAIL("install wrote under a ROM alias");
			break;
		}
	free(ram);
}

static uint32_t pio_in32(struct fake_env *f, uint16_t port)
{
	uint8_t d[4];
	bus_access(&f->pio, port, d, 4, false);
	return fw_get32(d);
}

/* PM1 status (write 1 to clear), enable (only defined bits), the 32-bit
 * timer at 3.579545 MHz of the VM's clock, the SCI low. */
static void test_pm_block(void)
{
	struct fake_env f;
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&f, 64 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&f, "acpi_pm"));
	f.now = 0;
	CU_ASSERT_EQUAL(pio_in32(&f, ACPI_PM_TMR), 0);
	f.now = 1000000000ull;
	CU_ASSERT_EQUAL(pio_in32(&f, ACPI_PM_TMR), 3579545);
	f.now = 2000000000ull;
	CU_ASSERT_EQUAL(pio_in32(&f, ACPI_PM_TMR), 7159090);
	pio_out32(&f, ACPI_PM_TMR, 0);				/* read-only */
	CU_ASSERT_EQUAL(pio_in32(&f, ACPI_PM_TMR), 7159090);
	CU_ASSERT_EQUAL(pio_in16(&f, ACPI_PM1A_EVT), 0);	/* nothing pending */
	pio_out16(&f, ACPI_PM1A_EVT + 2, 0xffff);
	CU_ASSERT_EQUAL(pio_in16(&f, ACPI_PM1A_EVT + 2), 0x0721);
	pio_out16(&f, ACPI_PM1A_EVT, 0xffff);			/* clears nothing set */
	CU_ASSERT_EQUAL(pio_in16(&f, ACPI_PM1A_EVT), 0);
	CU_ASSERT_FALSE(f.line[ACPI_PM_SCI_IRQ]);
	CU_ASSERT_EQUAL(pio_in16(&f, ACPI_PM1A_CNT) & ACPI_PM1_SCI_EN, ACPI_PM1_SCI_EN);
	CU_ASSERT_EQUAL(f.nr_stops, 0);
	fake_env_fini(&f);
}

UNIT_SUITE(firmware_tables, NULL, NULL,
	   UNIT_TEST(test_checksums),
	   UNIT_TEST(test_scans_find_them),
	   UNIT_TEST(test_madt_entries),
	   UNIT_TEST(test_mptable_entries),
	   UNIT_TEST(test_fadt_fields),
	   UNIT_TEST(test_dsdt_s5_bytes),
	   UNIT_TEST(test_dsdt_pci),
	   UNIT_TEST(test_aml_encoder),
	   UNIT_TEST(test_no_acpi_keeps_mp),
	   UNIT_TEST(test_too_small),
	   UNIT_TEST(test_install_and_rom),
	   UNIT_TEST(test_pm_block))

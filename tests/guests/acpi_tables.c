/* The firmware tables a kernel looks for, found as Linux finds them: the
 * MP floating pointer (MP spec 1.4, 4.1: the EBDA's first KiB, the last
 * KiB of base memory, 0xf0000-0xfffff) and the ACPI RSDP (ACPI 6.4,
 * 5.2.5.1: the EBDA's first KiB, 0xe0000-0xfffff), on 16-byte boundaries.
 * Checks structure, not bytes (QEMU's SeaBIOS tables are the oracle):
 * checksums, the MP configuration table's entries, RSDT/XSDT -> FADT,
 * MADT, FADT -> DSDT and FACS, the MADT's local APIC, IOAPIC at
 * 0xfec00000 and IRQ 0 override, the DSDT's \_S5 package; then powers off
 * through PM1a_CNT with SLP_TYPa from \_S5 | SLP_EN. What the tables say
 * is printed on "fw: " lines (tests/bt/differential.sh leaves them out:
 * they are the firmware's, not a translation result). */
#include "guest.h"

GUEST("acpi_tables", "");

#define IOAPIC_ADDR	0xfec00000u
#define LAPIC_ADDR	0xfee00000u
#define SLP_EN		0x2000
#define SLP_TYP_SHIFT	10

static uint32_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

static uint8_t sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static bool same(const uint8_t *p, const char *sig, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] != (uint8_t)sig[i])
			return false;
	return true;
}

/* The first 16-byte-aligned sig in [start, start + len) whose first
 * sumlen bytes (sumlen16: 16 * byte 8, the MP floating pointer) sum to 0. */
static const uint8_t *scan(uint32_t start, uint32_t len, const char *sig, uint32_t sumlen,
			   bool sumlen16)
{
	for (uint32_t a = start; a + 16 <= start + len; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		uint32_t n = sumlen16 ? 16u * p[8] : sumlen;
		if (same(p, sig, 4) && n && sum(p, n) == 0)
			return p;
	}
	return NULL;
}

/* Physical memory at a (paging is off): laundered, so the compiler does
 * not take a constant address for an empty object. */
static const uint8_t *phys(uint32_t a)
{
	const uint8_t *p = (const uint8_t *)a;
	asm("" : "+r"(p));
	return p;
}

/* The EBDA's segment, from the BIOS data area (0x40e). */
static uint32_t ebda(void)
{
	return rd16(phys(0x40e)) << 4;
}

static const uint8_t *find_mpf(void)
{
	const uint8_t *p = NULL;
	if (ebda())
		p = scan(ebda(), 1024, "_MP_", 0, true);
	if (!p)
		p = scan(639 * 1024, 1024, "_MP_", 0, true);
	if (!p)
		p = scan(0xf0000, 0x10000, "_MP_", 0, true);
	return p;
}

static const uint8_t *find_rsdp(void)
{
	const uint8_t *p = NULL;
	if (ebda())
		p = scan(ebda(), 1024, "RSD ", 20, false);
	if (!p)
		p = scan(0xe0000, 0x20000, "RSD ", 20, false);
	return p && same(p, "RSD PTR ", 8) ? p : NULL;
}

/* MP configuration table entries (MP spec 4.3). */
static void check_mptable(void)
{
	check_begin("mptable");
	const uint8_t *f = find_mpf();
	if (!check(f != NULL, "no MP floating pointer with a good checksum")) {
		check_end();
		return;
	}
	check(f[9] == 1 || f[9] == 4, "MP spec revision %u", f[9]);
	check(f[11] == 0, "MP default configuration %u instead of a table", f[11]);
	const uint8_t *c = (const uint8_t *)rd32(f + 4);
	uint32_t len = rd16(c + 4), count = rd16(c + 34);
	printf_serial("fw: MP floating pointer at %p, rev 1.%u, table at %p, %u bytes, %u entries, "
		      "local APIC 0x%x\n", f, f[9], c, len, count, rd32(c + 36));
	if (!check(c && same(c, "PCMP", 4), "no PCMP table at %p", c) ||
	    !check(sum(c, len) == 0, "PCMP checksum") ||
	    !check(len >= 44 && len < 0x10000, "PCMP length %u", len)) {
		check_end();
		return;
	}
	check_eq("PCMP local APIC address", rd32(c + 36), LAPIC_ADDR);
	unsigned cpus = 0, bsp = 0, isa = 0, ioapics = 0, ioints = 0, lints = 0;
	uint8_t ioapic_id = 0xff;
	const uint8_t *e = c + 44;
	for (uint32_t i = 0; i < count && e < c + len; i++) {
		switch (e[0]) {
		case 0:
			cpus += e[3] & 1;
			bsp += (e[3] & 3) == 3;
			printf_serial("fw: MP cpu apic %u ver 0x%x flags %u sig 0x%x\n", e[1], e[2], e[3],
				      rd32(e + 4));
			e += 20;
			continue;
		case 1:
			isa += same(e + 2, "ISA   ", 6);
			break;
		case 2:
			if (rd32(e + 4) == IOAPIC_ADDR && (e[3] & 1)) {
				ioapics++;
				ioapic_id = e[1];
			}
			printf_serial("fw: MP ioapic id %u ver 0x%x at 0x%x\n", e[1], e[2], rd32(e + 4));
			break;
		case 3:
			ioints++;
			if (e[1] == 0 && e[5] == 0)
				printf_serial("fw: MP irq 0 -> ioapic %u pin %u\n", e[6], e[7]);
			break;
		case 4:
			lints++;
			printf_serial("fw: MP local int type %u -> apic 0x%x lint%u\n", e[1], e[6], e[7]);
			break;
		default:
			check(false, "MP entry type %u", e[0]);
			i = count;
			continue;
		}
		e += 8;
	}
	check(cpus >= 1 && bsp == 1, "%u enabled CPUs, %u BSPs", cpus, bsp);
	check(isa == 1, "%u ISA buses", isa);
	check(ioapics == 1, "%u enabled IOAPICs at 0x%x", ioapics, IOAPIC_ADDR);
	check(ioapic_id != 0xff, "no IOAPIC ID");
	check(ioints >= 10, "%u I/O interrupt entries", ioints);	/* SeaBIOS: 13 */
	check(lints == 2, "%u local interrupt entries", lints);
	check_end();
}

/* A system description table at a, checksummed; NULL if not. */
static const uint8_t *table(uint32_t a, const char *sig)
{
	const uint8_t *t = (const uint8_t *)a;
	if (!a || !check(same(t, sig, 4), "no %s at 0x%x", sig, a))
		return NULL;
	uint32_t len = rd32(t + 4);
	if (!check(len >= 36 && len < 0x10000 && sum(t, len) == 0, "%s at 0x%x: length %u, bad "
		   "checksum", sig, a, len))
		return NULL;
	printf_serial("fw: ACPI %c%c%c%c at 0x%x, %u bytes, rev %u, OEM %c%c%c%c%c%c\n", t[0], t[1],
		      t[2], t[3], a, len, t[8], t[10], t[11], t[12], t[13], t[14], t[15]);
	return t;
}

/* Where the firmware put them: not guest state (kept out of the CRC). */
static const uint8_t *fadt VOLATILE_STATE, *madt VOLATILE_STATE;

/* RSDP -> RSDT (and XSDT) -> the tables (ACPI 6.4, 5.2.5-5.2.8). */
static void check_rsdp(void)
{
	check_begin("rsdp");
	const uint8_t *r = find_rsdp();
	if (!check(r != NULL, "no RSDP with a good checksum")) {
		check_end();
		return;
	}
	printf_serial("fw: RSDP at %p, rev %u, RSDT 0x%x\n", r, r[15], rd32(r + 16));
	const uint8_t *rsdt = table(rd32(r + 16), "RSDT");
	if (r[15] >= 2) {
		check(rd32(r + 20) >= 36 && sum(r, rd32(r + 20)) == 0, "RSDP extended checksum");
		check(rd32(r + 28) == 0, "XSDT above 4 GiB");
		const uint8_t *x = table(rd32(r + 24), "XSDT");
		if (x && rsdt)
			check((rd32(x + 4) - 36) / 8 == (rd32(rsdt + 4) - 36) / 4,
			      "the XSDT and RSDT list different numbers of tables");
	}
	if (rsdt)
		for (uint32_t o = 36; o + 4 <= rd32(rsdt + 4); o += 4) {
			const uint8_t *t = (const uint8_t *)rd32(rsdt + o);
			if (same(t, "FACP", 4))
				fadt = table(rd32(rsdt + o), "FACP");
			else if (same(t, "APIC", 4))
				madt = table(rd32(rsdt + o), "APIC");
			else
				table(rd32(rsdt + o), (const char *)t);
		}
	check(fadt != NULL, "no FADT in the RSDT");
	check(madt != NULL, "no MADT in the RSDT");
	check_end();
}

/* MADT interrupt controller structures (5.2.12). */
static void check_madt(void)
{
	check_begin("madt");
	if (!madt) {
		check(false, "no MADT");
		check_end();
		return;
	}
	check_eq("MADT local APIC address", rd32(madt + 36), LAPIC_ADDR);
	check(rd32(madt + 40) & 1, "PCAT_COMPAT clear");
	unsigned lapics = 0, ioapics = 0, irq0 = 0, nmis = 0;
	for (uint32_t o = 44; o + 2 <= rd32(madt + 4); o += madt[o + 1]) {
		const uint8_t *e = madt + o;
		if (!check(e[1] >= 2, "MADT entry of length %u", e[1]))
			break;
		switch (e[0]) {
		case 0:
			lapics += rd32(e + 4) & 1;
			printf_serial("fw: MADT local APIC uid %u id %u flags %u\n", e[2], e[3], rd32(e + 4));
			break;
		case 1:
			ioapics += rd32(e + 4) == IOAPIC_ADDR;
			printf_serial("fw: MADT IOAPIC id %u at 0x%x gsi %u\n", e[2], rd32(e + 4), rd32(e + 8));
			break;
		case 2:
			irq0 += e[3] == 0 && rd32(e + 4) == 2;
			printf_serial("fw: MADT override irq %u -> gsi %u flags 0x%x\n", e[3], rd32(e + 4),
				      rd16(e + 8));
			break;
		case 4:
			nmis++;
			printf_serial("fw: MADT local APIC NMI uid 0x%x lint%u\n", e[2], e[5]);
			break;
		}
	}
	check(lapics >= 1, "no enabled local APIC");
	check(ioapics == 1, "%u IOAPICs at 0x%x", ioapics, IOAPIC_ADDR);
	check(irq0 == 1, "no override of IRQ 0 to GSI 2");
	check(nmis >= 1, "no local APIC NMI");
	check_end();
}

/* The DSDT's Name (_S5, Package () { SLP_TYPa, ... }) (ACPI 6.4, 7.4.2),
 * decoded as AML (20.2): -1 if not there. */
static int s5_slp_typ(const uint8_t *dsdt)
{
	uint32_t len = rd32(dsdt + 4);
	for (uint32_t o = 37; o + 8 <= len; o++) {
		const uint8_t *p = dsdt + o;
		if (!same(p, "_S5_", 4) || (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08)) ||
		    p[4] != 0x12)
			continue;
		p += 5 + 1 + (p[5] >> 6);	/* PackageOp, PkgLength */
		p++;				/* NumElements */
		switch (p[0]) {
		case 0x00: return 0;		/* ZeroOp */
		case 0x01: return 1;		/* OneOp */
		case 0x0a: return p[1];		/* BytePrefix */
		case 0x0b: return (int)rd16(p + 1);	/* WordPrefix */
		default: return -1;
		}
	}
	return -1;
}

static uint16_t pm1a_cnt VOLATILE_STATE, slp_typ VOLATILE_STATE;

/* FADT (5.2.9): DSDT, FACS, PM1a_CNT, SCI; the DSDT's \_S5. */
static void check_fadt(void)
{
	check_begin("fadt");
	if (!fadt) {
		check(false, "no FADT");
		check_end();
		return;
	}
	uint32_t len = rd32(fadt + 4);
	uint32_t dsdt_at = rd32(fadt + 40), facs_at = rd32(fadt + 36);
	if (len >= 148 && rd32(fadt + 140))
		dsdt_at = rd32(fadt + 140);	/* X_DSDT */
	if (len >= 140 && rd32(fadt + 132))
		facs_at = rd32(fadt + 132);	/* X_FIRMWARE_CTRL */
	pm1a_cnt = (uint16_t)rd32(fadt + 64);
	printf_serial("fw: FADT rev %u: SCI %u, SMI_CMD 0x%x, PM1a_EVT 0x%x, PM1a_CNT 0x%x, PM_TMR 0x%x, "
		      "flags 0x%x, boot arch 0x%x\n", fadt[8], rd16(fadt + 46), rd32(fadt + 48),
		      rd32(fadt + 56), pm1a_cnt, rd32(fadt + 76), rd32(fadt + 112), rd16(fadt + 109));
	check(pm1a_cnt != 0 && fadt[89] >= 2, "PM1a_CNT 0x%x, length %u", pm1a_cnt, fadt[89]);
	check(rd32(fadt + 56) != 0 && fadt[88] >= 4, "PM1a_EVT 0x%x, length %u", rd32(fadt + 56),
	      fadt[88]);
	check(rd16(fadt + 46) != 0, "SCI_INT 0");
	const uint8_t *facs = (const uint8_t *)facs_at;
	check(facs_at && (facs_at & 63) == 0 && same(facs, "FACS", 4) && rd32(facs + 4) >= 64,
	      "no FACS at 0x%x", facs_at);
	const uint8_t *dsdt = table(dsdt_at, "DSDT");
	int typ = dsdt ? s5_slp_typ(dsdt) : -1;
	if (check(typ >= 0 && typ < 8, "no \\_S5 package in the DSDT")) {
		slp_typ = (uint16_t)typ;
		printf_serial("fw: DSDT \\_S5 SLP_TYPa %u\n", slp_typ);
	}
	/* Legacy mode (SeaBIOS): ACPI_ENABLE to SMI_CMD, then SCI_EN comes
	 * on (ACPI 6.4, 4.8.2.1.1); hyvm's FADT has no SMI_CMD, it is on. */
	uint32_t smi_cmd = rd32(fadt + 48);
	if (!(inw(pm1a_cnt) & 1) && smi_cmd) {
		outb((uint16_t)smi_cmd, fadt[52]);
		for (unsigned i = 0; i < 100000 && !(inw(pm1a_cnt) & 1); i++)
			;
	}
	check(inw(pm1a_cnt) & 1, "SCI_EN clear: not in ACPI mode");
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	check_mptable();
	check_rsdp();
	check_madt();
	check_fadt();
	guest_exit_poweroff(pm1a_cnt, (uint16_t)(slp_typ << SLP_TYP_SHIFT | SLP_EN));
}

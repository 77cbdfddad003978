/* The decimal adjustments AAA, AAS, DAA, DAS, AAM (bases 10 and 16), AAD
 * (bases 10 and 7) and SALC (D6): known answers from SDM Vol. 2A's
 * examples, AAM 0's #DE, and every AL with AH in {00, 7f, ff} and each
 * CF/AF combination stored in a bss table whose CRC the STATE line
 * carries, so tests/bt/differential.sh compares every result with QEMU's.
 * Only flags the SDM defines are stored: AAA/AAS CF, AF; DAA/DAS CF, AF,
 * SF, ZF, PF; AAM/AAD SF, ZF, PF; SALC changes none (all kept). */
#include "guest.h"

GUEST("bcd", "bcd-cpl0");

#define CF EFLAGS_CF
#define AF EFLAGS_AF
#define SZP (EFLAGS_SF | EFLAGS_ZF | EFLAGS_PF)

enum { AAA, AAS, DAA, DAS, AAM10, AAM16, AAD10, AAD7, SALC, NR_OPS };
static const uint32_t defined[NR_OPS] = {
	[AAA] = CF | AF, [AAS] = CF | AF, [DAA] = CF | AF | SZP, [DAS] = CF | AF | SZP,
	[AAM10] = SZP, [AAM16] = SZP, [AAD10] = SZP, [AAD7] = SZP, [SALC] = EFLAGS_ARITH,
};
static const uint8_t ah_values[3] = { 0x00, 0x7f, 0xff };

/* op on AX with flags_in; returns AX, the flags in *flags */
#define RUN(insn) asm volatile("pushl %[fi]\n\tpopfl\n\t" insn "\n\tpushfl\n\tpopl %[fo]" \
			       : "+a"(ax), [fo] "=&r"(f) : [fi] "r"(flags_in | 2) : "cc")
static uint32_t run(int op, uint32_t ax, uint32_t flags_in, uint32_t *flags)
{
	uint32_t f;

	switch (op) {
	case AAA: RUN("aaa"); break;
	case AAS: RUN("aas"); break;
	case DAA: RUN("daa"); break;
	case DAS: RUN("das"); break;
	case AAM10: RUN("aam"); break;
	case AAM16: RUN("aam $16"); break;
	case AAD10: RUN("aad"); break;
	case AAD7: RUN("aad $7"); break;
	default: RUN(".byte 0xd6"); break;	/* SALC */
	}
	*flags = f;
	return ax;
}

struct result {
	uint16_t ax;
	uint8_t flags;	/* the defined ones: CF PF AF ZF SF in bits 0-7, OF in bit 3 */
	uint8_t of;
};
static struct result results[NR_OPS][3][256][4];

static void known_answers(void)
{
	uint32_t f, ax;

	check_begin("known");
	/* SDM DAA: 79h + 35h = AEh; DAA gives 14h, CF = AF = 1 */
	ax = run(DAA, 0xae, 0, &f);
	check_eq("daa ae", ax & 0xff, 0x14);
	check_eq("daa ae: CF AF", f & (CF | AF), CF | AF);
	/* SDM DAS: 35h - 47h = EEh with CF = AF = 1; DAS gives 88h, CF = AF = 1 */
	ax = run(DAS, 0xee, CF | AF, &f);
	check_eq("das ee", ax & 0xff, 0x88);
	check_eq("das ee: CF AF", f & (CF | AF), CF | AF);
	/* 6 + 7 = 0dh; AAA gives AX 0103h, CF = AF = 1 */
	ax = run(AAA, 0x000d, 0, &f);
	check_eq("aaa 0d", ax & 0xffff, 0x0103);
	check_eq("aaa 0d: CF AF", f & (CF | AF), CF | AF);
	ax = run(AAA, 0x0105, 0, &f);
	check_eq("aaa 05", ax & 0xffff, 0x0105);
	check_eq("aaa 05: CF AF", f & (CF | AF), 0);
	/* 108h - 9 = 1ffh with AF = 1; AAS gives AX 0009h, CF = AF = 1 */
	ax = run(AAS, 0x01ff, AF | CF, &f);
	check_eq("aas ff", ax & 0xffff, 0x0009);
	check_eq("aas ff: CF AF", f & (CF | AF), CF | AF);
	ax = run(AAM10, 0x004f, 0, &f);	/* 79 */
	check_eq("aam 79", ax & 0xffff, 0x0709);
	ax = run(AAD10, 0x0709, 0, &f);
	check_eq("aad 0709", ax & 0xffff, 0x004f);
	check_eq("aad 0709: ZF", f & EFLAGS_ZF, 0);
	ax = run(AAD7, 0x0203, 0, &f);
	check_eq("aad 7: 0203", ax & 0xffff, 0x0011);
	ax = run(SALC, 0x1234, CF, &f);
	check_eq("salc CF", ax & 0xffff, 0x12ff);
	ax = run(SALC, 0x1234, AF, &f);
	check_eq("salc no CF", ax & 0xffff, 0x1200);
	check_eq("salc flags", f & EFLAGS_ARITH, AF);
	check_end();
}

FAULTING_INSN(aam_zero, "", ".byte 0xd4, 0x00", "eax", "cc")

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	known_answers();
	check_begin("divide");
	expect_fault("aam 0", aam_zero_raise, VEC_DE, NO_ERROR_CODE, aam_zero);
	check_end();
	check_begin("table");
	for (int op = 0; op < NR_OPS; op++)
		for (int h = 0; h < 3; h++)
			for (uint32_t al = 0; al < 256; al++)
				for (uint32_t fl = 0; fl < 4; fl++) {
					uint32_t f, ax = run(op, (uint32_t)ah_values[h] << 8 | al,
							     (fl & 1 ? CF : 0) | (fl & 2 ? AF : 0), &f);
					struct result *r = &results[op][h][al][fl];

					r->ax = (uint16_t)ax;
					r->flags = (uint8_t)(f & defined[op]);
					r->of = (uint8_t)((f & defined[op] & EFLAGS_OF) != 0);
				}
	check(1, "table");
	check_end();
}

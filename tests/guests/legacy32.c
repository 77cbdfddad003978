/* Instructions 64-bit mode dropped: ARPL (register and memory, ZF),
 * BOUND (in range, #BR both sides, 16- and
 * 32-bit), and the decimal adjustments AAA, AAS, DAA, DAS, AAM (bases 10
 * and 16), AAD (bases 10 and 7) and SALC (D6): known answers from SDM Vol. 2A's
 * examples, AAM 0's #DE, and every AL with AH in {00, 7f, ff} and each
 * CF/AF combination stored in a bss table whose CRC the STATE line
 * carries, so tests/bt/differential.sh compares every result with QEMU's.
 * Only flags the SDM defines are stored: AAA/AAS CF, AF; DAA/DAS CF, AF,
 * SF, ZF, PF; AAM/AAD SF, ZF, PF; SALC changes none (all kept). */
#include "guest.h"

GUEST("legacy32", "bcd-cpl0");

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

int32_t bounds32[2] = { -5, 100 };	/* named by the asm below */
int16_t bounds16[2] = { 10, 20 };
FAULTING_INSN(bound_low, "movl $-6, %%eax", "boundl %%eax, bounds32", "eax")
FAULTING_INSN(bound_high, "movl $101, %%eax", "boundl %%eax, bounds32", "eax")
FAULTING_INSN(bound_high16, "movw $21, %%ax", "boundw %%ax, bounds16", "eax")

static void arpl_bound(void)
{
	uint32_t f, v;
	uint16_t m;

	check_begin("arpl");
	v = 0x1231;	/* RPL 1 raised to 3 */
	asm volatile("movw $3, %%cx\n\tarpl %%cx, %w0\n\tpushfl\n\tpopl %1"
		     : "+r"(v), "=r"(f) : : "ecx", "cc");
	check_eq("arpl reg", v, 0x1233);
	check_eq("arpl reg ZF", f & EFLAGS_ZF, EFLAGS_ZF);
	v = 0x1232;	/* RPL 2 kept against 1 */
	asm volatile("movw $1, %%cx\n\tarpl %%cx, %w0\n\tpushfl\n\tpopl %1"
		     : "+r"(v), "=r"(f) : : "ecx", "cc");
	check_eq("arpl reg kept", v, 0x1232);
	check_eq("arpl reg kept ZF", f & EFLAGS_ZF, 0);
	m = 0x0010;
	asm volatile("movw $2, %%cx\n\tarpl %%cx, %0\n\tpushfl\n\tpopl %1"
		     : "+m"(m), "=r"(f) : : "ecx", "cc");
	check_eq("arpl mem", m, 0x0012);
	check_eq("arpl mem ZF", f & EFLAGS_ZF, EFLAGS_ZF);
	check_end();

	check_begin("bound");
	v = 7;
	asm volatile("boundl %0, bounds32" : : "r"(v));
	v = (uint32_t)-5;
	asm volatile("boundl %0, bounds32" : : "r"(v));
	v = 100;
	asm volatile("boundl %0, bounds32" : : "r"(v));
	expect_fault("bound below", bound_low_raise, VEC_BR, NO_ERROR_CODE, bound_low);
	expect_fault("bound above", bound_high_raise, VEC_BR, NO_ERROR_CODE, bound_high);
	expect_fault("bound16 above", bound_high16_raise, VEC_BR, NO_ERROR_CODE, bound_high16);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	arpl_bound();
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

/*
 * The emulator's shifts and rotates on memory: group 2 (C0, C1, D0-D3:
 * ROL, ROR, RCL, RCR, SHL/SAL, SHR, SAR by 1, imm8 or CL) and SHLD/SHRD
 * (0F A4/A5/AC/AD), as SDM Vol. 2B describes them ("RCL/RCR/ROL/ROR",
 * "SAL/SAR/SHL/SHR", "SHLD", "SHRD"). The operand is read, the result
 * written back (always, as for the other read-modify-writes: the processor
 * writes the destination even for a count of 0), then flags are set.
 *
 * Flags the SDM leaves undefined are set as QEMU TCG 7.2 sets them, so a
 * guest ends the same on bt and in the oracle: AF cleared by a shift with
 * a non-zero count; OF from the last single-bit step (SHL: MSB(r) ^ CF;
 * SHR: 0 past a count of 1; SAR: 0; RCL/RCR: MSB(old ^ new); ROL/ROR and
 * SHLD/SHRD by their count-1 formulas); a 16-bit SHLD/SHRD count past 16
 * shifts the 48 bits d:s:d, as Intel processors and QEMU do.
 */
#include "emul/emul_internal.h"

#define ROTATE_FLAGS (EFLAGS_CF | EFLAGS_OF)

static uint64_t msb(uint64_t v, unsigned bits)
{
	return (v >> (bits - 1)) & 1;
}

/* ROL/ROR/RCL/RCR: only CF and OF change, and only for a non-zero
 * masked count. */
static uint64_t rotate(ZydisMnemonic mn, uint64_t a, unsigned cnt, unsigned bits, uint64_t *flags)
{
	uint64_t m = emul_mask_bits(bits), r = a, cf = *flags & EFLAGS_CF ? 1 : 0;
	unsigned n;

	switch (mn) {
	case ZYDIS_MNEMONIC_ROL:
		n = cnt % bits;
		r = n ? ((a << n) | (a >> (bits - n))) & m : a;
		cf = r & 1;
		*flags = (cf ? EFLAGS_CF : 0) | ((msb(r, bits) ^ cf) ? EFLAGS_OF : 0);
		return r;
	case ZYDIS_MNEMONIC_ROR:
		n = cnt % bits;
		r = n ? ((a >> n) | (a << (bits - n))) & m : a;
		*flags = (msb(r, bits) ? EFLAGS_CF : 0) |
			 ((msb(r, bits) ^ msb(r, bits - 1)) ? EFLAGS_OF : 0);
		return r;
	case ZYDIS_MNEMONIC_RCL:
		/* through CF: a rotation of bits + 1 bits, one bit at a time; a
		 * count that is a multiple of bits + 1 changes nothing */
		if (!(n = cnt % (bits + 1)))
			return a;
		for (; n; n--) {
			uint64_t out = msb(r, bits);

			r = ((r << 1) | cf) & m;
			cf = out;
		}
		*flags = (cf ? EFLAGS_CF : 0) | (msb(a ^ r, bits) ? EFLAGS_OF : 0);
		return r;
	default:	/* RCR */
		if (!(n = cnt % (bits + 1)))
			return a;
		for (; n; n--) {
			uint64_t out = r & 1;

			r = (r >> 1) | (cf << (bits - 1));
			cf = out;
		}
		*flags = (cf ? EFLAGS_CF : 0) | (msb(a ^ r, bits) ? EFLAGS_OF : 0);
		return r;
	}
}

/* SHL/SHR/SAR: CF is the last bit shifted out, SF/ZF/PF from the result. */
static uint64_t shift(ZydisMnemonic mn, uint64_t a, unsigned cnt, unsigned bits, uint64_t *flags)
{
	uint64_t m = emul_mask_bits(bits), r, cf;

	switch (mn) {
	case ZYDIS_MNEMONIC_SHL:
		r = cnt >= 64 ? 0 : (a << cnt) & m;
		cf = cnt > bits ? 0 : (a >> (bits - cnt)) & 1;
		*flags = (msb(r, bits) ^ cf) ? EFLAGS_OF : 0;
		break;
	case ZYDIS_MNEMONIC_SHR:
		r = cnt >= 64 ? 0 : a >> cnt;
		cf = cnt > bits ? 0 : (a >> (cnt - 1)) & 1;
		*flags = cnt == 1 && msb(a, bits) ? EFLAGS_OF : 0;
		break;
	default: {	/* SAR: the sign fills in (a count is at most 63) */
		int64_t sa = (int64_t)(a << (64 - bits)) >> (64 - bits);

		r = (uint64_t)(sa >> cnt) & m;
		cf = (uint64_t)(sa >> (cnt - 1)) & 1;
		*flags = 0;	/* OF cleared */
		break;
	}
	}
	*flags |= emul_flags_szp(r, bits) | (cf ? EFLAGS_CF : 0);
	return r;
}

/* SHLD d, s, n: d shifted left, the vacated bits filled from s's top;
 * SHRD: right, filled from s's bottom. Done as one shift of the operands
 * side by side (d:s for SHLD, s:d for SHRD; d:s:d for 16-bit operands),
 * with the value one step short giving CF and OF. */
static uint64_t double_shift(bool left, uint64_t a, uint64_t b, unsigned cnt, unsigned bits,
			     uint64_t *flags)
{
	typedef unsigned __int128 u128;
	uint64_t m = emul_mask_bits(bits), r, last;	/* last: one step short */
	unsigned width = bits == 16 ? 48 : 2 * bits;
	u128 w;

	if (bits == 16)
		w = ((u128)a << 32) | ((u128)b << 16) | a;
	else
		w = left ? ((u128)a << bits) | b : ((u128)b << bits) | a;
	if (left) {
		r = (uint64_t)(w >> (width - bits - cnt)) & m;
		last = (uint64_t)(w >> (width - bits - cnt + 1)) & m;
		*flags = msb(last, bits) ? EFLAGS_CF : 0;
	} else {
		r = (uint64_t)(w >> cnt) & m;
		last = (uint64_t)(w >> (cnt - 1)) & m;
		*flags = last & 1 ? EFLAGS_CF : 0;
	}
	*flags |= emul_flags_szp(r, bits) | (msb(last ^ r, bits) ? EFLAGS_OF : 0);
	return r;
}

static unsigned shift_count(struct emul *e, const ZydisDecodedOperand *o, unsigned bits)
{
	uint64_t c = o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? o->imm.value.u
							     : emul_reg_read(e, o->reg.value);

	return (unsigned)(c & (bits == 64 ? 0x3f : 0x1f));	/* the count is masked first */
}

enum step emul_exec_shift(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0];
	ZydisMnemonic mn = e->insn.mnemonic;
	bool dbl = mn == ZYDIS_MNEMONIC_SHLD || mn == ZYDIS_MNEMONIC_SHRD;
	const ZydisDecodedOperand *cnt_op = &e->op[dbl ? 2 : 1];
	unsigned bits = d->size, cnt;
	uint64_t a = 0, b = 0, r, f = e->st.rflags, mask;
	enum step s;

	if (d->type != ZYDIS_OPERAND_TYPE_MEMORY ||
	    (cnt_op->type != ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	     cnt_op->type != ZYDIS_OPERAND_TYPE_REGISTER) ||
	    (dbl && e->op[1].type != ZYDIS_OPERAND_TYPE_REGISTER))
		return emul_fail(e, "unsupported operands");
	cnt = shift_count(e, cnt_op, bits);
	if (dbl)
		b = emul_reg_read(e, e->op[1].reg.value);
	if ((s = emul_operand_rw(e, d, false, &a)))
		return s;
	switch (mn) {
	case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR:
	case ZYDIS_MNEMONIC_RCL: case ZYDIS_MNEMONIC_RCR:
		r = cnt ? rotate(mn, a, cnt, bits, &f) : a;
		mask = ROTATE_FLAGS;
		break;
	case ZYDIS_MNEMONIC_SHL:	/* SAL, D0-D3 /4 and /6 */
	case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
		r = cnt ? shift(mn, a, cnt, bits, &f) : a;
		mask = EFLAGS_ARITH;
		break;
	case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD:
		r = cnt ? double_shift(mn == ZYDIS_MNEMONIC_SHLD, a, b, cnt, bits, &f) : a;
		mask = EFLAGS_ARITH;
		break;
	default:
		return emul_fail(e, "not an instruction the MMIO emulator handles");
	}
	if ((s = emul_operand_rw(e, d, true, &r)))
		return s;
	if (cnt)	/* a masked count of 0 changes no flag */
		e->st.rflags = (e->st.rflags & ~mask) | (f & mask);
	return STEP_OK;
}

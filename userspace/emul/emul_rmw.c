/*
 * The emulator's read-modify-write instructions on memory beyond the
 * plain ALU forms (mmio_emulate.c's exec_alu): CMPXCHG, XADD, INC, DEC,
 * NOT, NEG, ADC, SBB. A guest may aim any of them at a device register or
 * at unbacked space, and hardware finishes each; so does the emulator.
 * Every handler reads, then writes, then updates registers and flags, so
 * replaying it after each answered access never applies a change twice.
 */
#include "emul/emul_internal.h"

static bool reg_operand(const ZydisDecodedOperand *o)
{
	unsigned idx, shift, bits;

	return o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       emul_gpr_ref(o->reg.value, &idx, &shift, &bits);
}

uint64_t emul_arith_flags(uint64_t a, uint64_t b, unsigned c, uint64_t r, unsigned bits,
			    bool sub)
{
	uint64_t m = emul_mask_bits(bits), f;
	bool carry;

	f = (r == 0 ? EFLAGS_ZF : 0) | ((r >> (bits - 1)) & 1 ? EFLAGS_SF : 0) |
	    (__builtin_popcount(r & 0xff) & 1 ? 0 : EFLAGS_PF) |
	    ((a ^ b ^ r) & 0x10 ? EFLAGS_AF : 0);
	if (sub) {
		carry = (unsigned __int128)a < (unsigned __int128)b + c;
		f |= ((((a ^ b) & (a ^ r)) >> (bits - 1)) & 1) ? EFLAGS_OF : 0;
	} else {
		carry = (unsigned __int128)a + b + c > m;
		f |= ((((a ^ r) & (b ^ r)) >> (bits - 1)) & 1) ? EFLAGS_OF : 0;
	}
	return f | (carry ? EFLAGS_CF : 0);
}

static void set_flags(struct emul *e, uint64_t mask, uint64_t f)
{
	e->st.rflags = (e->st.rflags & ~mask) | (f & mask);
}

/* CMPXCHG m, r (SDM Vol. 2A): compare the accumulator with m; equal: m = r,
 * ZF; else the accumulator = m, and m is written back with its own value
 * (the processor always writes the destination). */
static enum step cmpxchg(struct emul *e, const ZydisDecodedOperand *d,
			 const ZydisDecodedOperand *src)
{
	unsigned bits = d->size;
	uint64_t m = emul_mask_bits(bits), old = 0, acc = e->st.gpr[0] & m, w;	/* AL, AX, EAX or RAX */
	enum step s;

	if ((s = emul_operand_rw(e, d, false, &old)))
		return s;
	w = old == acc ? emul_source_value(e, src, bits) : old;
	if ((s = emul_operand_rw(e, d, true, &w)))
		return s;
	if (old != acc) {
		/* the accumulator of the operand's size (AL, AX, EAX or RAX;
		 * EAX zero-extends into RAX in 64-bit mode) */
		static const ZydisRegister accs[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX,
						      ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_RAX };
		emul_reg_write(e, accs[bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3], old);
	}
	set_flags(e, EFLAGS_ARITH, emul_arith_flags(acc, old, 0, (acc - old) & m, bits, true));
	return STEP_OK;
}

enum step emul_exec_rmw(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	ZydisMnemonic mn = e->insn.mnemonic;
	unsigned bits = d->size, cf = e->st.rflags & EFLAGS_CF ? 1 : 0;
	uint64_t m = emul_mask_bits(bits), a = 0, b = 0, r, f, mask = EFLAGS_ARITH;
	enum step s;

	if (d->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return emul_fail(e, "unsupported operands");
	switch (mn) {
	case ZYDIS_MNEMONIC_CMPXCHG:
		if (!reg_operand(src))
			return emul_fail(e, "unsupported operands");
		return cmpxchg(e, d, src);
	case ZYDIS_MNEMONIC_XADD:
	case ZYDIS_MNEMONIC_ADC: case ZYDIS_MNEMONIC_SBB:
		if (!reg_operand(src) && src->type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return emul_fail(e, "unsupported operands");
		b = emul_source_value(e, src, bits) & m;
		break;
	default:
		break;
	}
	if ((s = emul_operand_rw(e, d, false, &a)))
		return s;
	switch (mn) {
	case ZYDIS_MNEMONIC_INC:
		r = (a + 1) & m;
		f = emul_arith_flags(a, 1, 0, r, bits, false);
		mask &= ~(uint64_t)EFLAGS_CF;	/* INC/DEC leave CF alone */
		break;
	case ZYDIS_MNEMONIC_DEC:
		r = (a - 1) & m;
		f = emul_arith_flags(a, 1, 0, r, bits, true);
		mask &= ~(uint64_t)EFLAGS_CF;
		break;
	case ZYDIS_MNEMONIC_NOT:
		r = ~a & m;
		f = 0;
		mask = 0;		/* NOT changes no flag */
		break;
	case ZYDIS_MNEMONIC_NEG:
		r = (0 - a) & m;
		f = emul_arith_flags(0, a, 0, r, bits, true);	/* CF = (a != 0) */
		break;
	case ZYDIS_MNEMONIC_ADC:
		r = (a + b + cf) & m;
		f = emul_arith_flags(a, b, cf, r, bits, false);
		break;
	case ZYDIS_MNEMONIC_SBB:
		r = (a - b - cf) & m;
		f = emul_arith_flags(a, b, cf, r, bits, true);
		break;
	case ZYDIS_MNEMONIC_XADD:
		r = (a + b) & m;
		f = emul_arith_flags(a, b, 0, r, bits, false);
		break;
	default:
		return emul_fail(e, "not an instruction the MMIO emulator handles");
	}
	if ((s = emul_operand_rw(e, d, true, &r)))
		return s;
	if (mn == ZYDIS_MNEMONIC_XADD)
		emul_reg_write(e, src->reg.value, a);	/* the source gets the old value */
	set_flags(e, mask, f);
	return STEP_OK;
}

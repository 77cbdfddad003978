/*
 * The emulator's multiplications and divisions with a memory operand
 * (SDM Vol. 2A/2B "MUL", "IMUL", "DIV", "IDIV"): the one-operand forms on
 * AL/AX/EAX/RAX and AH/DX/EDX/RDX (F6/F7 /4-7), and IMUL r, m (0F AF) and
 * IMUL r, m, imm (69, 6B). MUL/IMUL set CF = OF when the product does not
 * fit its low half; SF, ZF, PF and AF, undefined, are QEMU's: from the
 * low half, AF = 0. A zero divisor or a quotient too large for its
 * register raises #DE with nothing changed (SDM Vol. 3A 6.15, interrupt
 * 0); division leaves the flags alone (undefined; QEMU leaves them too).
 */
#include "emul/emul_internal.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static const ZydisRegister low_reg[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX,
					 ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_RAX };
static const ZydisRegister high_reg[] = { ZYDIS_REGISTER_AH, ZYDIS_REGISTER_DX,
					  ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_RDX };

static unsigned size_index(unsigned bits)
{
	return bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
}

static s128 sign_extend(uint64_t v, unsigned bits)
{
	return (s128)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static enum step divide_error(struct emul *e)
{
	e->st.event.type = HYVM_EVENT_EXCEPTION;
	e->st.event.vector = VEC_DE;
	e->st.event.has_error_code = 0;
	return STEP_FAULT;	/* RIP stays at the DIV: #DE is a fault */
}

static void set_mul_flags(struct emul *e, uint64_t low, unsigned bits, bool overflow)
{
	uint64_t f = (emul_flags_szp(low, bits) & (EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF)) |
		     (overflow ? EFLAGS_CF | EFLAGS_OF : 0);

	e->st.rflags = (e->st.rflags & ~(uint64_t)EFLAGS_ARITH) | f;
}

/* DIV/IDIV of the double-width accumulator by v. */
static enum step divide(struct emul *e, uint64_t v, unsigned bits)
{
	unsigned i = size_index(bits);
	uint64_t m = emul_mask_bits(bits);
	u128 dividend = bits == 8 ? emul_reg_read(e, ZYDIS_REGISTER_AX)
				  : ((u128)emul_reg_read(e, high_reg[i]) << bits) |
				    emul_reg_read(e, low_reg[i]);
	uint64_t q, r;

	if ((v & m) == 0)
		return divide_error(e);
	if (e->insn.mnemonic == ZYDIS_MNEMONIC_DIV) {
		u128 uq = dividend / v;

		if (uq > m)
			return divide_error(e);
		q = (uint64_t)uq;
		r = (uint64_t)(dividend % v);
	} else {
		/* the dividend is signed at twice the width; at 64 bits the
		 * 128-bit quotient's range check still fits an s128 */
		s128 n = bits == 64 ? (s128)dividend
				    : (s128)(((s128)(dividend << (128 - 2 * bits))) >> (128 - 2 * bits));
		s128 dv = sign_extend(v, bits), sq, lim = (s128)1 << (bits - 1);

		if (bits == 64 && n == (s128)((u128)1 << 127) && dv == -1)
			return divide_error(e);
		sq = n / dv;
		if (sq >= lim || sq < -lim)
			return divide_error(e);
		q = (uint64_t)sq & m;
		r = (uint64_t)(n % dv) & m;
	}
	emul_reg_write(e, low_reg[i], q);
	emul_reg_write(e, high_reg[i], r);
	return STEP_OK;
}

enum step emul_exec_muldiv(struct emul *e)
{
	const ZydisDecodedOperand *o = &e->op[0];
	ZydisMnemonic mn = e->insn.mnemonic;
	unsigned bits, i;
	uint64_t v = 0, a, m, low;
	enum step s;

	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && mn == ZYDIS_MNEMONIC_IMUL) {
		/* IMUL r, m [, imm]: a product as wide as r */
		const ZydisDecodedOperand *src = &e->op[1], *imm = &e->op[2];
		s128 p;

		bits = o->size;
		m = emul_mask_bits(bits);
		if (src->type != ZYDIS_OPERAND_TYPE_MEMORY)
			return emul_fail(e, "unsupported operands");
		if ((s = emul_operand_rw(e, src, false, &v)))
			return s;
		a = e->insn.operand_count_visible == 3 ? imm->imm.value.u & m
						       : emul_reg_read(e, o->reg.value);
		p = sign_extend(a, bits) * sign_extend(v, bits);
		low = (uint64_t)p & m;
		emul_reg_write(e, o->reg.value, low);
		set_mul_flags(e, low, bits, p != sign_extend(low, bits));
		return STEP_OK;
	}
	if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return emul_fail(e, "unsupported operands");
	bits = o->size;
	i = size_index(bits);
	m = emul_mask_bits(bits);
	if ((s = emul_operand_rw(e, o, false, &v)))
		return s;
	if (mn == ZYDIS_MNEMONIC_DIV || mn == ZYDIS_MNEMONIC_IDIV)
		return divide(e, v, bits);
	a = emul_reg_read(e, low_reg[i]);
	if (mn == ZYDIS_MNEMONIC_MUL) {
		u128 p = (u128)a * v;

		low = (uint64_t)p & m;
		set_mul_flags(e, low, bits, (p >> bits) != 0);
		if (bits == 8) {
			emul_reg_write(e, ZYDIS_REGISTER_AX, (uint64_t)p);
		} else {
			emul_reg_write(e, low_reg[i], low);
			emul_reg_write(e, high_reg[i], (uint64_t)(p >> bits));
		}
		return STEP_OK;
	}
	s128 p = sign_extend(a, bits) * sign_extend(v, bits);	/* IMUL m */

	low = (uint64_t)p & m;
	set_mul_flags(e, low, bits, p != sign_extend(low, bits));
	if (bits == 8) {
		emul_reg_write(e, ZYDIS_REGISTER_AX, (uint64_t)p);
	} else {
		emul_reg_write(e, low_reg[i], low);
		emul_reg_write(e, high_reg[i], (uint64_t)((u128)p >> bits));
	}
	return STEP_OK;
}

/*
 * PUSH and POP with an operand the emulator must finish: a memory source
 * or destination outside RAM, or a stack outside RAM (SDM Vol. 2B, PUSH,
 * POP). The stack pointer's width is the stack's (SS.B, or 64 in 64-bit
 * mode), not the instruction's address size.
 */
#include "emul/emul_internal.h"

static unsigned stack_bits(struct emul *e)
{
	if (guest_is_64bit(&e->st))
		return 64;
	return (e->st.seg[HYVM_SS].attrib & HYVM_SEG_DB) ? 32 : 16;
}

static uint64_t sp_read(struct emul *e)
{
	return e->st.gpr[HYVM_RSP] & emul_mask_bits(stack_bits(e));
}

static void sp_write(struct emul *e, uint64_t v)
{
	uint64_t m = emul_mask_bits(stack_bits(e));

	e->st.gpr[HYVM_RSP] = (e->st.gpr[HYVM_RSP] & ~m) | (v & m);
}

/* The value first (it may be an MMIO read), then the store below the
 * stack pointer; RSP changes only once both are done, so a replay after
 * an answered access repeats nothing. */
enum step emul_exec_push(struct emul *e)
{
	const ZydisDecodedOperand *src = &e->op[0];
	unsigned bits = e->insn.operand_width, size = bits / 8;
	uint64_t v = 0, sp = sp_read(e) - size;
	enum step s;

	switch (src->type) {
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if ((s = emul_operand_rw(e, src, false, &v)))
			return s;
		break;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		v = src->imm.value.u & emul_mask_bits(bits);	/* Zydis sign-extended it */
		break;
	case ZYDIS_OPERAND_TYPE_REGISTER:
		if (ZydisRegisterGetClass(src->reg.value) != ZYDIS_REGCLASS_GPR32 &&
		    ZydisRegisterGetClass(src->reg.value) != ZYDIS_REGCLASS_GPR16 &&
		    ZydisRegisterGetClass(src->reg.value) != ZYDIS_REGCLASS_GPR64)
			return emul_fail(e, "PUSH of a segment register");
		v = emul_reg_read(e, src->reg.value);
		break;
	default:
		return emul_fail(e, "unsupported operands");
	}
	if ((s = emul_mem_rw(e, HYVM_SS, sp & emul_mask_bits(stack_bits(e)), size, true, &v)))
		return s;
	sp_write(e, sp);
	return STEP_OK;
}

/* POP computes a memory destination's address with the incremented
 * stack pointer (SDM: "If the ESP register is used as a base register
 * ..."), so RSP is set before the store and restored if the store must
 * wait for the VMM or faults. */
enum step emul_exec_pop(struct emul *e)
{
	const ZydisDecodedOperand *dst = &e->op[0];
	unsigned bits = e->insn.operand_width, size = bits / 8;
	uint64_t v = 0, sp = sp_read(e), old = e->st.gpr[HYVM_RSP];
	enum step s;

	if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(dst->reg.value) != ZYDIS_REGCLASS_GPR32 &&
	    ZydisRegisterGetClass(dst->reg.value) != ZYDIS_REGCLASS_GPR16 &&
	    ZydisRegisterGetClass(dst->reg.value) != ZYDIS_REGCLASS_GPR64)
		return emul_fail(e, "POP to a segment register");
	if ((s = emul_mem_rw(e, HYVM_SS, sp, size, false, &v)))
		return s;
	sp_write(e, sp + size);
	if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		emul_reg_write(e, dst->reg.value, v);
		return STEP_OK;
	}
	if (dst->type != ZYDIS_OPERAND_TYPE_MEMORY) {
		e->st.gpr[HYVM_RSP] = old;
		return emul_fail(e, "unsupported operands");
	}
	if ((s = emul_operand_rw(e, dst, true, &v)))
		e->st.gpr[HYVM_RSP] = old;
	return s;
}

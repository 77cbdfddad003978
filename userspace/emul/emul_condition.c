/*
 * The emulator's conditional instructions with a memory operand: SETcc m8
 * (0F 90-9F) and CMOVcc r, m (0F 40-4F). The condition is the opcode's low
 * nibble (SDM Vol. 1 Appendix B, "EFLAGS Condition Codes"). CMOVcc reads
 * its source whatever the condition (SDM Vol. 2A "CMOVcc": the load may
 * fault even when no move happens), and a 32-bit destination in 64-bit
 * mode is zero-extended either way.
 */
#include "emul/emul_internal.h"

static bool condition(uint64_t fl, unsigned cc)
{
	bool cf = fl & EFLAGS_CF, zf = fl & EFLAGS_ZF, sf = fl & EFLAGS_SF,
	     of = fl & EFLAGS_OF, pf = fl & EFLAGS_PF, r;

	switch (cc >> 1) {
	case 0: r = of; break;			/* O */
	case 1: r = cf; break;			/* B */
	case 2: r = zf; break;			/* E */
	case 3: r = cf || zf; break;		/* BE */
	case 4: r = sf; break;			/* S */
	case 5: r = pf; break;			/* P */
	case 6: r = sf != of; break;		/* L */
	default: r = zf || sf != of; break;	/* LE */
	}
	return (cc & 1) ? !r : r;		/* odd codes are the negations */
}

enum step emul_exec_condition(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	bool set = e->insn.opcode >= 0x90 && e->insn.opcode <= 0x9f;
	bool cond = condition(e->st.rflags, e->insn.opcode & 0xf);
	uint64_t v = 0;
	enum step s;

	if (set) {
		if (d->type != ZYDIS_OPERAND_TYPE_MEMORY)
			return emul_fail(e, "unsupported operands");
		v = cond;
		return emul_operand_rw(e, d, true, &v);
	}
	if (d->type != ZYDIS_OPERAND_TYPE_REGISTER || src->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return emul_fail(e, "unsupported operands");
	if ((s = emul_operand_rw(e, src, false, &v)))
		return s;
	emul_reg_write(e, d->reg.value, cond ? v : emul_reg_read(e, d->reg.value));
	return STEP_OK;
}

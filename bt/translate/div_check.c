/*
 * Adaptive #DE (Adams & Agesen 2006, "adaptive binary translation"): a
 * DIV or IDIV that keeps dividing by zero costs a host SIGFPE and a
 * sigreturn each time (~5,000 cycles here, docs/perf/bt-exits.md). After
 * BT_DIV_CHECK_AFTER such faults at one guest address the instruction is
 * retranslated with a zero test of its divisor in front, which leaves the
 * block through a stub that raises #DE at the DIV (BT_EXIT_DIV0) without
 * a host fault. A quotient too large still faults on the host, as before.
 * Only register divisors are checked: a memory divisor would need the
 * operand rewriting of translate_insn.c twice for a rare case.
 */
#include "bt/translate/translate.h"

/* A direct-mapped table of guest linear addresses that faulted: the
 * count saturates at the threshold, a colliding address takes the slot
 * over (losing a count, never checking the wrong address: the check is
 * only emitted on a DIV/IDIV decoded there, and is exact anyway). */
static unsigned div_slot(uint32_t lin)
{
	return (lin ^ (lin >> 9) ^ (lin >> 17)) % BT_DIV_SITES;
}

bool div_fault_note(struct bt_vm *vm, uint32_t lin)
{
	struct bt_div_site *s = &vm->div_sites[div_slot(lin)];

	if (s->lin != lin || !s->count) {
		s->lin = lin;
		s->count = 0;
	}
	/* true once, at the threshold: a DIV the check cannot take (memory
	 * divisor) or that overflows keeps faulting without retranslations */
	if (s->count >= BT_DIV_CHECK_AFTER)
		return false;
	return ++s->count == BT_DIV_CHECK_AFTER;
}

static bool div_checked(const struct bt_vm *vm, uint32_t lin)
{
	const struct bt_div_site *s = &vm->div_sites[div_slot(lin)];

	return s->lin == lin && s->count >= BT_DIV_CHECK_AFTER;
}

/* The divisor register, if the check can take it: not ESP (r14 on the
 * host; nobody divides by the stack pointer). */
static ZydisRegister divisor_reg(const struct bt_insn *d)
{
	const ZydisDecodedOperand *o = &d->ops[0];

	if ((d->insn.mnemonic != ZYDIS_MNEMONIC_DIV && d->insn.mnemonic != ZYDIS_MNEMONIC_IDIV) ||
	    o->type != ZYDIS_OPERAND_TYPE_REGISTER)
		return ZYDIS_REGISTER_NONE;
	switch (o->reg.value) {
	case ZYDIS_REGISTER_ESP: case ZYDIS_REGISTER_SP: case ZYDIS_REGISTER_SPL:
		return ZYDIS_REGISTER_NONE;
	default:
		return o->reg.value;
	}
}

/*
 *	mov r13, rcx;  mov/movzx ecx, divisor;  jrcxz zero
 *	mov rcx, r13;  jmp div
 * zero: mov rcx, r13;  jmp <stub: eip = the DIV's, BT_EXIT_DIV0>
 * div:  (the DIV as translate_one emits it)
 * No flag changes (MOV, MOVZX, JRCXZ, JMP), so a #DE leaves the guest's
 * flags as the DIV found them (SDM Vol. 3A 6.15, interrupt 0: a fault,
 * no state changed). r13 is free between instructions (translate.h).
 */
bool div_check_emit(struct tx *t, const struct bt_insn *d, uint32_t eip)
{
	struct bt_emitter *e = &t->e;
	ZydisRegister r = divisor_reg(d);
	uint8_t *zero, *skip, *site;

	if (r == ZYDIS_REGISTER_NONE || (t->b->mode & BT_MODE_CODE16) ||
	    !div_checked(t->cpu->vm, cs_linear(t->cpu, eip)))
		return true;	/* no check: the DIV as usual */
	bool narrow = d->ops[0].size < 32;
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(R13), R(RCX)) &&
	      emit2(e, narrow ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOV, R(ECX), op_reg(r)) &&
	      (zero = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R13)) &&
	      (skip = emit_branch8(e, ZYDIS_MNEMONIC_JMP, false))))
		return false;
	patch_rel8(zero, e->pos);
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R13)) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
	patch_rel8(skip, e->pos);
	t->cpu->stats.div_checks_translated++;
	return add_exit(t, site, BT_EXIT_DIV0, eip, false);
}

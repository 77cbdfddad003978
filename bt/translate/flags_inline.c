/*
 * CLI and PUSHFD at CPL0 in 32-bit code, inline on the virtual EFLAGS
 * (cpu->eflags holds IF, IOPL and the other system flags; RFLAGS holds
 * the arithmetic ones while translated code runs): no callout, no block
 * exit. Neither can make an interrupt deliverable, so nothing needs the
 * dispatcher. At CPL0 neither is IOPL-sensitive (SDM Vol. 2A CLI; Vol.
 * 2B PUSHF: only virtual-8086 mode with IOPL < 3 faults, and v86 runs at
 * CPL3 here). STI and POPF can enable interrupts and stay callouts, as do
 * both at other CPLs, in 16-bit code and on a 16-bit stack.
 */
#include "bt/translate/translate.h"

bool flags_inline_wanted(const struct tx *t, const struct bt_insn *d)
{
	if ((t->b->mode & 3) || (t->b->mode & (BT_MODE_CODE16 | BT_MODE_STACK16)))
		return false;
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_CLI:
		return true;
	case ZYDIS_MNEMONIC_PUSHFD:
		return d->insn.operand_width == 32;
	default:
		return false;
	}
}

/*
 * CLI:	pushfq;  and dword [r15+eflags], ~IF;  popfq
 * PUSHFD (the image has VM and RF clear, SDM Vol. 2B PUSHF):
 *	<stack limit check>;  pushfq;  pop r9;  mov r11, r9
 *	mov r10d, [r15+eflags];  and r10d, ~(live|VM|RF);  and r11d, live
 *	or r10d, r11d;  push r9;  popfq;  mov gs:[r14d-4], r10d;  lea r14d, [r14-4]
 * The guest's flags are back in RFLAGS before the store, which is the
 * one thing that can fault (the signal handler takes them from there).
 */
bool flags_inline_emit(struct tx *t, const struct bt_insn *d)
{
	struct bt_emitter *e = &t->e;

	t->cpu->stats.flags_inline_translated++;
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_CLI)
		return emit0(e, ZYDIS_MNEMONIC_PUSHFQ) &&
		       emit2(e, ZYDIS_MNEMONIC_AND, op_ctx(BT_OFF(eflags), 4),
			     op_imm((int32_t)~EFLAGS_IF)) &&
		       emit0(e, ZYDIS_MNEMONIC_POPFQ);
	return check_stack(t, ZYDIS_REGISTER_R14D, -4) &&
	       emit0(e, ZYDIS_MNEMONIC_PUSHFQ) && emit1(e, ZYDIS_MNEMONIC_POP, R(R9)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), R(R9)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(R10D), op_ctx(BT_OFF(eflags), 4)) &&
	       emit2(e, ZYDIS_MNEMONIC_AND, R(R10D),
		     op_imm((int32_t)~(BT_EFLAGS_LIVE | EFLAGS_VM | EFLAGS_RF))) &&
	       emit2(e, ZYDIS_MNEMONIC_AND, R(R11D), op_imm((int32_t)BT_EFLAGS_LIVE)) &&
	       emit2(e, ZYDIS_MNEMONIC_OR, R(R10D), R(R11D)) &&
	       emit1(e, ZYDIS_MNEMONIC_PUSH, R(R9)) && emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	       emit_guest(e, ZYDIS_MNEMONIC_MOV, stack_mem(t, -4), R(R10D)) &&
	       emit_lea32(e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, -4);
}

/*
 * PUSHFD at CPL0 in 32-bit code, inline on the virtual EFLAGS (cpu->eflags
 * holds IF, IOPL and the other system flags; RFLAGS holds the arithmetic
 * ones while translated code runs): no callout, no block exit. At CPL0 it
 * is not IOPL-sensitive (SDM Vol. 2B PUSHF: only virtual-8086 mode with
 * IOPL < 3 faults, and v86 runs at CPL3 here).
 * CLI stays a callout: it closes an interrupt window, and the dispatcher
 * must see the boundary before it with IF set. After STI the shadow
 * covers one instruction (SDM Vol. 3A 6.8.3), so in `sti; pause; cli`
 * the CLI's callout is the only point where a pending interrupt can be
 * taken; inline, that loop never took one (tests/guests/pci_scan's
 * wait_intx). STI and POPF can enable interrupts and stay callouts too,
 * as does PUSHFD at other CPLs, in 16-bit code and on a 16-bit stack.
 */
#include "bt/translate/translate.h"

bool flags_inline_wanted(const struct tx *t, const struct bt_insn *d)
{
	if ((t->b->mode & 3) || (t->b->mode & (BT_MODE_CODE16 | BT_MODE_STACK16)))
		return false;
	return d->insn.mnemonic == ZYDIS_MNEMONIC_PUSHFD && d->insn.operand_width == 32;
}

/*
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

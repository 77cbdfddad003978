/*
 * Control transfers that change privilege or flags (SYSENTER, SYSEXIT,
 * INT n, IRET, far RET, POPF), INVLPG and MOV from CRn without a trip through the dispatcher: the
 * callout's block calls the CPU layer's cpu->callout_in_block
 * (cpu/callout_in_block.c), which emulates the instruction as the
 * callout would, does what the dispatcher would do before the next block
 * (its checks, the lookup), and answers where the block goes on: the
 * next block's kick poll, the dispatcher (BT_EXIT_RESUME: it has work, or
 * the next block is not translated yet), or the callout stub (not done;
 * nothing changed). Each was a block exit, a dispatcher round trip and a
 * block entry: 70-80% of a SYSENTER round trip and half of an INT 0x80
 * one (docs/perf/bt-exits.md). Part of translation, as io_call.c: the
 * block calls through a pointer, nothing in bt/cpu/.
 */
#include "bt/translate/translate.h"

/* The callouts that can never want a VMM exit (callouts.c: no I/O, HLT,
 * MSR or MMIO among them): the transfers, and the flag and segment-register
 * instructions Linux runs at every kernel entry and exit (CLI and PUSHFD
 * around its locks, DS/ES/FS loads: ~1,200 per fork+exec, each a
 * dispatcher round trip before). Not STI, MOV SS, POP SS or LSS: the
 * interrupt shadow they open covers the next instruction (SDM Vol. 3A
 * 6.8.3), and the next block is entered at its kick poll, where an exit
 * would come before that instruction (tests/guests/sti_shadow.c). */
static bool in_block_wanted(const struct tx *t, const struct bt_insn *d)
{
	if ((t->b->mode & (BT_MODE_SINGLE | BT_MODE_CODE16 | BT_MODE_STACK16)) ||
	    !t->cpu->callout_in_block || !t->b->callout)
		return false;
	if (t->b->pt_callout)
		return true;	/* callout_pt_write_in_block picks what it does */
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_POPFD: case ZYDIS_MNEMONIC_PUSHFD:
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS:
		return true;
	case ZYDIS_MNEMONIC_INVLPG:
		/* a shadow and soft-TLB drop of one page (cpu_invlpg): no
		 * VMM exit, and no block dies of it, so the next block is
		 * looked up as after any callout; half the dispatcher round
		 * trips of a page-table rewrite (the ptwrite storm, Linux's
		 * flush_tlb_one) */
		return true;
	case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_POP:
		/* MOV from a control register (a #PF handler's MOV from
		 * CR2: one of the four round trips of a demand fault) */
		if (d->insn.mnemonic == ZYDIS_MNEMONIC_MOV &&
		    d->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(d->ops[1].reg.value) == ZYDIS_REGCLASS_CONTROL)
			return true;
		/* to a segment register but SS (MOV to CS is #UD, raised
		 * there too) */
		return d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		       ZydisRegisterGetClass(d->ops[0].reg.value) == ZYDIS_REGCLASS_SEGMENT &&
		       d->ops[0].reg.value != ZYDIS_REGISTER_SS;
	case ZYDIS_MNEMONIC_RET:
		return d->insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	default:
		return false;
	}
}

static bool guest_regs(struct bt_emitter *e, bool store)
{
	bool ok = true;

	for (int i = 0; i < 8; i++) {
		ZydisEncoderOperand r = op_reg(i == 4 ? ZYDIS_REGISTER_R14D : reg32(i));
		ok &= store ? emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(i), 4), r)
			    : emit2(e, ZYDIS_MNEMONIC_MOV, r, op_ctx(BT_OFF_GPR(i), 4));
	}
	return ok;
}

/*
 * The call to C that may go on elsewhere, shared by the in-block callouts
 * and the soft TLB's in-block #PF (soft_tlb_emit.c):
 *	mov [r15+gpr], eax..edi, r14d;  pushfq;  pop [r15+host_flags];  cld
 *	mov r13, rsp;  and rsp, -16;  mov rdi, r15;  mov rsi, block;  mov edx, arg
 *	mov r11, fn;  call r11;  mov rsp, r13
 *	push [r15+host_flags];  popfq		(the flags the callout left)
 *	mov r12, [r15+view_base];  mov r8, [r15+neg_view_base]	(CPL changes the view)
 *	mov rcx, [r15+callout_target];  jrcxz not_done
 *	mov r13d, [r15+eip];  mov eax..edi, r14d, [r15+gpr];  jmp [r15+callout_target]
 * not_done: mov eax..edi, r14d, [r15+gpr]	(the caller's stub follows)
 * fn answers in cpu->callout_target: 0 = nothing done, else where to go
 * on. The C call may clobber rax-rdx, rsi, rdi, r8-r11; rbx, rbp, r12-r15
 * survive it (as in io_call.c).
 */
bool callout_call_emit_transfer(struct tx *t, uintptr_t fn, uint32_t arg)
{
	struct bt_emitter *e = &t->e;
	uint8_t *not_done;

	if (!(guest_regs(e, true) &&
	      emit0(e, ZYDIS_MNEMONIC_PUSHFQ) &&
	      emit1(e, ZYDIS_MNEMONIC_POP, op_ctx(BT_OFF(host_flags), 8)) &&
	      emit0(e, ZYDIS_MNEMONIC_CLD) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R13), R(RSP)) &&
	      emit2(e, ZYDIS_MNEMONIC_AND, R(RSP), op_imm(-16)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RDI), R(R15)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RSI), op_imm((int64_t)(uintptr_t)t->b)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(EDX), op_imm((int32_t)arg)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)fn)) &&
	      emit1(e, ZYDIS_MNEMONIC_CALL, R(R11)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RSP), R(R13)) &&
	      emit1(e, ZYDIS_MNEMONIC_PUSH, op_ctx(BT_OFF(host_flags), 8)) &&
	      emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R12), op_ctx(BT_OFF(view_base), 8)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R8), op_ctx(BT_OFF(neg_view_base), 8)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), op_ctx(BT_OFF(callout_target), 8)) &&
	      (not_done = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R13D), op_ctx(BT_OFF(eip), 4)) &&
	      guest_regs(e, false) &&
	      emit1(e, ZYDIS_MNEMONIC_JMP, op_ctx(BT_OFF(callout_target), 8))))
		return false;
	patch_rel8(not_done, e->pos);
	return guest_regs(e, false);
}

bool callout_call_emit(struct tx *t, const struct bt_insn *d, uint32_t eip)
{
	struct bt_emitter *e = &t->e;
	uint8_t *site;

	if (!in_block_wanted(t, d))
		return false;
	/* SYSENTER/SYSEXIT: the transfer without C when it can be */
	if (!sys_fast_emit(t, d))
		goto fail;
	if (!callout_call_emit_transfer(t, (uintptr_t)t->cpu->callout_in_block, 0))
		goto fail;
	if (!((site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_CALLOUT, eip, false)))
		goto fail;
	return true;
fail:
	t->failed = true;
	return true;
}

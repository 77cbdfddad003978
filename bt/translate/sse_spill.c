/*
 * The guest's SSE registers around a C call from translated code
 * (io_call.c's bt_io_call, translate_insn.c's bt_cpuid). While a block
 * runs, the guest's x87/SSE state is in the host's registers (dispatch.c
 * from the block's first FPU instruction on: cpu->fpu_loaded, cpu/fpu_lazy.c), and the C
 * ABI lets any function clobber XMM0-15 (System V AMD64 ABI 3.2.1: none
 * is callee-saved): the VMM's device code and glibc's memcpy do. An IN
 * or OUT must leave the guest's XMM registers and MXCSR as they were (SDM
 * Vol. 1 10.2), so the call keeps XMM0-7 (all a 32-bit guest has) and
 * MXCSR aside, and runs the C code on the host's MXCSR, not the guest's
 * rounding and exception masks. Eight moves each way, not FXSAVE: a
 * Linux guest's kernel does port I/O with the interrupted process's SSE
 * state live, hundreds of times a second. tests/guests/sse_io fails
 * without it. The x87 stack is left as the guest had it: hyvm's C code
 * does no x87 arithmetic (no long double).
 *
 * Flags are clobbered (CMP): callers emit these after saving the guest's
 * flags and before giving them back.
 */
#include "bt/translate/translate.h"

#define SPILLED_XMM 8

static bool emit_if_fpu_loaded(struct bt_emitter *e, bool save)
{
	uint8_t *skip;

	if (!(emit2(e, ZYDIS_MNEMONIC_CMP, op_ctx(BT_OFF(fpu_loaded), 1), op_imm(0)) &&
	      (skip = emit_branch8(e, ZYDIS_MNEMONIC_JZ, false))))
		return false;
	for (int i = 0; i < SPILLED_XMM; i++) {
		ZydisEncoderOperand mem = op_ctx(BT_OFF(sse_spill) + 16 * i, 16);
		ZydisEncoderOperand reg = op_reg((ZydisRegister)(ZYDIS_REGISTER_XMM0 + i));
		if (!(save ? emit2(e, ZYDIS_MNEMONIC_MOVUPS, mem, reg)
			   : emit2(e, ZYDIS_MNEMONIC_MOVUPS, reg, mem)))
			return false;
	}
	if (save) {
		if (!(emit1(e, ZYDIS_MNEMONIC_STMXCSR, op_ctx(BT_OFF(sse_spill_mxcsr), 4)) &&
		      emit1(e, ZYDIS_MNEMONIC_LDMXCSR, op_ctx(BT_OFF(host_mxcsr), 4))))
			return false;
	} else if (!emit1(e, ZYDIS_MNEMONIC_LDMXCSR, op_ctx(BT_OFF(sse_spill_mxcsr), 4))) {
		return false;
	}
	patch_rel8(skip, e->pos);
	return true;
}

bool sse_spill_emit_save(struct bt_emitter *e)
{
	return emit_if_fpu_loaded(e, true);
}

bool sse_spill_emit_restore(struct bt_emitter *e)
{
	return emit_if_fpu_loaded(e, false);
}

/* fn(cpu, arg) called from translated code (io_call.c, soft_tlb_emit.c):
 * EAX, ECX and EDX go to the context first (the C may read them there
 * and may change them), the guest's flags, RSI, RDI, R8 and XMM0-7 are
 * kept around the call, DF is clear and the stack 16-byte aligned in it
 * (the ABI); EAX and EDX are read back after. ECX is the caller's: it
 * picks the way on from the context before reloading it. */
bool sse_spill_emit_c_call(struct bt_emitter *e, uintptr_t fn, uint32_t arg)
{
	return emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(0), 4), R(EAX)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(1), 4), R(ECX)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(2), 4), R(EDX)) &&
	       emit0(e, ZYDIS_MNEMONIC_PUSHFQ) && emit0(e, ZYDIS_MNEMONIC_CLD) &&
	       emit1(e, ZYDIS_MNEMONIC_PUSH, R(RSI)) && emit1(e, ZYDIS_MNEMONIC_PUSH, R(RDI)) &&
	       emit1(e, ZYDIS_MNEMONIC_PUSH, R(R8)) && sse_spill_emit_save(e) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(R13), R(RSP)) &&
	       emit2(e, ZYDIS_MNEMONIC_AND, R(RSP), op_imm(-16)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(RDI), R(R15)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(ESI), op_imm((int64_t)arg)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)fn)) &&
	       emit1(e, ZYDIS_MNEMONIC_CALL, R(R11)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(RSP), R(R13)) && sse_spill_emit_restore(e) &&
	       emit1(e, ZYDIS_MNEMONIC_POP, R(R8)) && emit1(e, ZYDIS_MNEMONIC_POP, R(RDI)) &&
	       emit1(e, ZYDIS_MNEMONIC_POP, R(RSI)) && emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(EAX), op_ctx(BT_OFF_GPR(0), 4)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(EDX), op_ctx(BT_OFF_GPR(2), 4));
}

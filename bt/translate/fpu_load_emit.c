/*
 * The lazy load of the guest's x87/SSE registers (cpu/fpu_lazy.c), the
 * translated side. In front of a block's first x87, MMX or SSE
 * instruction:
 *	call [r15+fpu_enter]
 * which is one of two runtime routines:
 *	fpu_ready:	ret
 *	fpu_load:	fxrstor64 [r15+fx_guest];  mov byte [r15+fpu_loaded], 1
 *			push rax;  mov rax, fpu_ready;  mov [r15+fpu_enter], rax
 *			pop rax;  ret
 * A call and a return through a pointer touch no flag (the guest's are
 * live in RFLAGS) and no register, and cost a few cycles once loaded;
 * the rest of the block needs no check, as nothing in a block gives the
 * registers back: C called from it keeps XMM0-7 aside (sse_spill.c), a
 * callout is alone in its block, and a signal handler's return restores
 * them. Blocks without FPU instructions pay nothing.
 */
#include "bt/translate/translate.h"

bool fpu_runtime_generate(struct bt_emitter *e, struct bt_runtime *rt)
{
	rt->fpu_ready = e->pos;
	if (!emit0(e, ZYDIS_MNEMONIC_RET))
		return false;
	rt->fpu_load = e->pos;
	return emit1(e, ZYDIS_MNEMONIC_FXRSTOR64, op_ctx(BT_OFF(fx_guest), 512)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(fpu_loaded), 1), op_imm(1)) &&
	       emit1(e, ZYDIS_MNEMONIC_PUSH, R(RAX)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(RAX), op_imm((int64_t)(uintptr_t)rt->fpu_ready)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(fpu_enter), 8), R(RAX)) &&
	       emit1(e, ZYDIS_MNEMONIC_POP, R(RAX)) &&
	       emit0(e, ZYDIS_MNEMONIC_RET);
}

bool fpu_load_emit(struct tx *t)
{
	if (t->fpu_loaded)
		return true;
	t->fpu_loaded = true;
	return emit1(&t->e, ZYDIS_MNEMONIC_CALL, op_ctx(BT_OFF(fpu_enter), 8));
}

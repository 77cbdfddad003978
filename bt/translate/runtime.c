/*
 * The handful of routines that sit between C and translated code, generated
 * into the start of the translation cache with the same encoder as blocks,
 * so that blocks reach them with rel32 jumps and the context offsets come
 * from offsetof rather than from a hand-kept assembler file.
 */
#include "bt/translate/translator.h"

#define R(x) op_reg(ZYDIS_REGISTER_##x)

static const int callee_saved[] = {
	ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_R12,
	ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
};
#define NR_SAVED 6

static bool load_guest_regs(struct bt_emitter *e)
{
	bool ok = true;

	for (int i = 0; i < 8; i++)
		ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_reg(i == 4 ? ZYDIS_REGISTER_R14D : reg32(i)),
			    op_ctx(BT_OFF_GPR(i), 4));
	return ok;
}

static bool store_guest_regs(struct bt_emitter *e)
{
	bool ok = true;

	for (int i = 0; i < 8; i++)
		ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(i), 4),
			    op_reg(i == 4 ? ZYDIS_REGISTER_R14D : reg32(i)));
	return ok;
}

/* Leaves through a descriptor: mov r11, desc; jmp common_exit. */
static bool emit_exit_via(struct bt_emitter *e, struct bt_runtime *rt,
			  const struct bt_exit_desc *d)
{
	if (!emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)d)))
		return false;
	uint8_t *site = emit_branch32(e, ZYDIS_MNEMONIC_JMP);
	if (!site)
		return false;
	patch_rel32(site, rt->common_exit);
	return true;
}

int runtime_generate(struct bt_emitter *e, struct bt_runtime *rt)
{
	bool ok = true;

	/* void enter(struct bt_cpu *cpu [rdi], const void *code [rsi]) */
	rt->enter = (void (*)(struct bt_cpu *, const void *))e->pos;
	for (int i = 0; i < NR_SAVED; i++)
		ok &= emit1(e, ZYDIS_MNEMONIC_PUSH, op_reg(callee_saved[i]));
	ok &= emit2(e, ZYDIS_MNEMONIC_SUB, R(RSP), op_imm(8));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_mem(ZYDIS_REGISTER_RDI, 0, 0, BT_OFF(host_rsp), 8), R(RSP));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R15), R(RDI));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), R(RSI));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R12), op_ctx(BT_OFF(view_base), 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R8), op_ctx(BT_OFF(neg_view_base), 8));
	ok &= emit1(e, ZYDIS_MNEMONIC_PUSH, op_ctx(BT_OFF(host_flags), 8));
	ok &= emit0(e, ZYDIS_MNEMONIC_POPFQ);
	ok &= load_guest_regs(e);
	ok &= emit1(e, ZYDIS_MNEMONIC_JMP, R(R11));

	/* common_exit: r11 = exit descriptor, guest state in registers */
	rt->common_exit = e->pos;
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(exit_desc), 8), R(R11));
	ok &= store_guest_regs(e);
	ok &= emit0(e, ZYDIS_MNEMONIC_PUSHFQ);
	ok &= emit1(e, ZYDIS_MNEMONIC_POP, op_ctx(BT_OFF(host_flags), 8));
	ok &= emit0(e, ZYDIS_MNEMONIC_CLD);	/* the C ABI wants DF clear */

	/* fault_exit: the signal handler saved the guest state already */
	rt->fault_exit = e->pos;
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(RSP), op_ctx(BT_OFF(host_rsp), 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_ADD, R(RSP), op_imm(8));
	for (int i = NR_SAVED - 1; i >= 0; i--)
		ok &= emit1(e, ZYDIS_MNEMONIC_POP, op_reg(callee_saved[i]));
	ok &= emit0(e, ZYDIS_MNEMONIC_RET);

	/*
	 * jc_miss: where an empty jump-cache slot points; r13 = target eip.
	 * indirect: look r13 up in the jump cache without touching RFLAGS:
	 * ecx = slot_eip - target by lea with the one's complement, and
	 * jrcxz is the only flag-free conditional branch.
	 */
	rt->miss_desc.kind = BT_EXIT_INDIRECT;
	rt->fault_desc.kind = BT_EXIT_FAULT;
	rt->request_desc.kind = BT_EXIT_REQUEST;
	rt->resume_desc.kind = BT_EXIT_RESUME;
	rt->resume_exit = e->pos;
	ok &= emit_exit_via(e, rt, &rt->resume_desc);
	rt->jc_miss = e->pos;
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eip), 4), R(R13D));
	ok &= emit_exit_via(e, rt, &rt->miss_desc);

	rt->indirect = e->pos;
	/* r11 = the address of the first slot of r13d's pair in the set in
	 * use (jump_cache.c's jc_slot, computed flag-free: BSWAP, LEA,
	 * MOVZX; slots are 16 bytes, host then eip), kept for the hit's
	 * jump; r10 = ~target */
	const int32_t eip_at = offsetof(struct bt_jc_slot, eip);
	const int32_t pair_base = offsetof(struct bt_jc, slot);
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R9), R(RCX));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R11D), R(R13D));
	ok &= emit1(e, ZYDIS_MNEMONIC_BSWAP, R(R11D));
	ok &= emit2(e, ZYDIS_MNEMONIC_LEA, R(R11D), op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R13, 1, 0, 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_LEA, R(R11D), op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R11, 1, 0, 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOVZX, R(R11D), R(R11W));
	ok &= emit2(e, ZYDIS_MNEMONIC_LEA, R(R11), op_mem(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_R11, 8, 0, 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R10), op_ctx(BT_OFF(jc), 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_LEA, R(R11), op_mem(ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11, 2, pair_base, 8));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(R10D), R(R13D));
	ok &= emit1(e, ZYDIS_MNEMONIC_NOT, R(R10D));
	uint8_t *hit[2];
	for (int w = 0; w < 2; w++) {
		ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX),
			    op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, 16 * w + eip_at, 4));
		ok &= emit2(e, ZYDIS_MNEMONIC_LEA, R(ECX),
			    op_mem(ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_R10, 1, 1, 8));
		hit[w] = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false);
		ok &= hit[w] != NULL;
	}
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9));
	ok &= emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eip), 4), R(R13D));
	ok &= emit_exit_via(e, rt, &rt->miss_desc);
	for (int w = 1; w >= 0; w--) {
		if (hit[w])
			patch_rel8(hit[w], e->pos);
		ok &= emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9));
		ok &= emit1(e, ZYDIS_MNEMONIC_JMP,
			    op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, 16 * w, 8));
	}
	ok &= smc_runtime_generate(e, rt);
	ok &= fpu_runtime_generate(e, rt);
	return ok && !e->overflow ? 0 : -1;
}

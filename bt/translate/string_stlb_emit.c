/*
 * REP MOVS and REP STOS at a soft-TLB site (memory/soft_tlb_string.c
 * says when and why) call C from their block before the native
 * instruction, which does whatever C left:
 *	mov [r15+gpr6], esi;  mov [r15+gpr7], edi
 *	pushfq;  pop [r15+host_flags]		(DF, for C)
 *	<soft_tlb_string(cpu, op) as sse_spill.c calls C>
 *	mov esi, [r15+gpr6];  mov edi, [r15+gpr7]	(advanced)
 *	mov ecx, [r15+stlb_call_ok];  jrcxz rest
 *	mov ecx, [r15+gpr1];  jmp <after the native instruction>
 * rest: mov ecx, [r15+gpr1]			(the count left)
 *	<the native instruction, tx_string>
 * Flags are the guest's throughout (MOVS and STOS change none).
 */
#include "bt/translate/translate.h"
#include "bt/memory/soft_tlb.h"

bool string_stlb_wanted(const struct tx *t, const struct bt_insn *d)
{
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
		break;
	default:
		return false;
	}
	return (t->b->mode & BT_MODE_PAGING) && !(t->b->mode & (BT_MODE_SINGLE | BT_MODE_CODE16)) &&
	       d->insn.address_width == 32 && (d->insn.attributes & ZYDIS_ATTRIB_HAS_REP) &&
	       soft_tlb_site(t->cpu->vm, cs_linear(t->cpu, t->eip));
}

bool string_stlb_emit(struct tx *t, const struct bt_insn *d, int src_seg, uint8_t **done)
{
	struct bt_emitter *e = &t->e;
	bool movs = d->insn.mnemonic == ZYDIS_MNEMONIC_MOVSB || d->insn.mnemonic == ZYDIS_MNEMONIC_MOVSW ||
		    d->insn.mnemonic == ZYDIS_MNEMONIC_MOVSD;
	uint32_t op = (d->insn.operand_width / 8u) | (movs ? BT_STR_MOVS : 0) |
		      ((uint32_t)src_seg << BT_STR_SEG_SHIFT);
	uint8_t *rest;

	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(HYVM_RSI), 4), R(ESI)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(HYVM_RDI), 4), R(EDI)) &&
	      emit0(e, ZYDIS_MNEMONIC_PUSHFQ) &&
	      emit1(e, ZYDIS_MNEMONIC_POP, op_ctx(BT_OFF(host_flags), 8)) &&
	      sse_spill_emit_c_call(e, (uintptr_t)soft_tlb_string, op) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ESI), op_ctx(BT_OFF_GPR(HYVM_RSI), 4)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(EDI), op_ctx(BT_OFF_GPR(HYVM_RDI), 4)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF(stlb_call_ok), 4)) &&
	      (rest = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(HYVM_RCX), 4)) &&
	      (*done = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
	patch_rel8(rest, e->pos);
	if (!emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(HYVM_RCX), 4)))
		return false;
	t->cpu->stats.stlb_translated++;
	return true;
}

/*
 * The soft TLB's inline lookup (memory/soft_tlb.c says when and why): an
 * ordinary instruction whose memory operand kept faulting on the view
 * (BT_STLB_AFTER guest #PFs or shadow fills at its address) has the
 * operand's linear address looked up in cpu->stlb in front of it, and
 * runs on the host address a hit gives:
 *
 * start: lea r11d, [base + index*scale + disp]	; linear (segment base in disp)
 *	pushfq					; the guest's flags (host stack)
 *	lea  r10d, [r11 + size - 1]		; the access's last byte ...
 *	and  r10d, ~0xfff			; ... its page: across a page misses
 *	mov  r13d, r11d
 *	shr  r13d, 7
 *	and  r13d, (BT_STLB_SIZE - 1) << 5	; the entry's offset (32 bytes each)
 *	cmp  r10d, [r15 + r13 + stlb.tag[view][write]]
 *	je   hit
 *	popfq
 *	mov  [r15 + stlb_miss_lin], r11d
 *	<fill from the block: fill_call below; back to start when it hit>
 *	<its #PF raised from the block: fault_call below; on at the handler>
 *	jmp  <stub: BT_EXIT_STLB at the instruction, size and write in vector>
 * hit:	add  r11, [r15 + r13 + stlb.addend]
 *	popfq
 *	<the instruction, its operand [r11], no segment, 64-bit addressing>
 *
 * Nothing guest-visible changes before the instruction, and a miss
 * leaves with the guest's registers and flags as they were (the SDM's
 * fault semantics, Vol. 3A 6.15: the #PF the dispatcher may raise sees
 * the instruction not started). The segment limit check, if any, was
 * emitted in front already (tx_native).
 */
#include "bt/translate/translate.h"
#include "bt/memory/soft_tlb.h"

/* The one memory operand the lookup can take, or -1: ordinary
 * instructions of 32-bit paged code at a soft-TLB site, a single visible
 * operand of 1-16 bytes (not FXSAVE's 512). */
static int stlb_operand(const struct tx *t, const struct bt_insn *d)
{
	int found = -1;

	if (!(t->b->mode & BT_MODE_PAGING) || (t->b->mode & (BT_MODE_SINGLE | BT_MODE_CODE16)) ||
	    !soft_tlb_site(t->cpu->vm, cs_linear(t->cpu, t->eip)))
		return -1;
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
			continue;
		if (found >= 0 || i >= d->insn.operand_count_visible)
			return -1;
		found = (int)i;
	}
	if (found < 0 || !d->ops[found].size || d->ops[found].size > 128 || d->ops[found].size % 8)
		return -1;
	return found;
}

bool soft_tlb_wanted(const struct tx *t, const struct bt_insn *d)
{
	return stlb_operand(t, d) >= 0;
}

/*
 * A miss's fill from the block (soft_tlb_fill_in_block, memory/soft_tlb.c),
 * as io_call.c calls C:
 *	mov [r15+gpr0/1/2], eax/ecx/edx;  pushfq;  cld;  push rsi/rdi/r8
 *	<guest XMM0-7, MXCSR aside: sse_spill.c>
 *	mov r13, rsp;  and rsp, -16;  mov rdi, r15;  mov esi, op;  call
 *	mov rsp, r13;  <XMM0-7, MXCSR back>;  pop r8/rdi/rsi;  popfq
 *	mov eax/edx, [r15+gpr0/2];  mov ecx, [r15+stlb_call_ok];  jrcxz out
 *	mov ecx, [r15+gpr1];  jmp start	(the entry hits now)
 * out:	mov ecx, [r15+gpr1]		(on to the BT_EXIT_STLB stub)
 * Nothing guest-visible changes on either way out (the flags and
 * registers are put back), so the exit stub's state is the one the
 * dispatcher always saw at a miss. The C call may clobber rax-rdx, rsi,
 * rdi, r8-r11; r10, r11 and r13 are the lookup's own scratch, computed
 * again from start.
 */
static bool fill_call(struct bt_emitter *e, uint32_t op, const uint8_t *start)
{
	uint8_t *out, *back;

	if (!(sse_spill_emit_c_call(e, (uintptr_t)soft_tlb_fill_in_block, op) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF(stlb_call_ok), 4)) &&
	      (out = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) &&
	      (back = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
	patch_rel32(back, start);
	patch_rel8(out, e->pos);
	return emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4));
}

/*
 * A fill that did not fill: when its walk failed, the #PF is raised and
 * delivered from the block and the block goes on at the handler's
 * (cpu/callout_in_block.c, stlb_fault_in_block; callout_call.c emits the
 * call and the jump), else on to the BT_EXIT_STLB stub with the
 * registers and flags as at the miss. Not in 16-bit stack code, as the
 * in-block callouts (callout_call.c).
 */
static bool fault_call(struct tx *t)
{
	if ((t->b->mode & BT_MODE_STACK16) || !t->cpu->stlb_fault_in_block)
		return true;
	return callout_call_emit_transfer(t, (uintptr_t)t->cpu->stlb_fault_in_block, t->eip);
}

bool soft_tlb_emit(struct tx *t, const struct bt_insn *d, ZydisEncoderRequest *req)
{
	struct bt_emitter *e = &t->e;
	int i = stlb_operand(t, d);
	ZydisEncoderOperand *m = &req->operands[i];
	unsigned size = d->ops[i].size / 8;
	bool write = (d->ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
	unsigned view = (t->b->mode & BT_MODE_CPL_MASK) == 3 ? 1 : 0;
	int32_t tag = BT_OFF(stlb) + (int32_t)offsetof(struct bt_stlb_entry, tag[view][write]);
	int32_t addend = BT_OFF(stlb) + (int32_t)offsetof(struct bt_stlb_entry, addend);
	uint8_t *hit, *site, *start = e->pos;
	uint32_t op = size | (write ? BT_STLB_INFO_WRITE : 0) | (view ? BT_STLB_INFO_USER : 0);
	bool ok;

	if (m->mem.base == ZYDIS_REGISTER_NONE && m->mem.index == ZYDIS_REGISTER_NONE) {
		ok = emit2(e, ZYDIS_MNEMONIC_MOV, R(R11D), op_imm((int32_t)m->mem.displacement));
	} else {
		ZydisEncoderRequest r = emit_req(ZYDIS_MNEMONIC_LEA, 2);
		r.operands[0] = R(R11D);
		r.operands[1] = op_mem(m->mem.base, m->mem.index, m->mem.scale,
				       (int32_t)m->mem.displacement, 4);
		r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
		ok = emit_request(e, &r);
	}
	ZydisEncoderRequest last = emit_req(ZYDIS_MNEMONIC_LEA, 2);
	last.operands[0] = R(R10D);
	last.operands[1] = op_mem(ZYDIS_REGISTER_R11D, ZYDIS_REGISTER_NONE, 0, size - 1, 4);
	last.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	if (!(ok && emit0(e, ZYDIS_MNEMONIC_PUSHFQ) && emit_request(e, &last) &&
	      emit2(e, ZYDIS_MNEMONIC_AND, R(R10D), op_imm(-4096)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R13D), R(R11D)) &&
	      emit2(e, ZYDIS_MNEMONIC_SHR, R(R13D), op_imm(7)) &&
	      emit2(e, ZYDIS_MNEMONIC_AND, R(R13D), op_imm((BT_STLB_SIZE - 1) << 5)) &&
	      emit2(e, ZYDIS_MNEMONIC_CMP, R(R10D),
		    op_mem(ZYDIS_REGISTER_R15, ZYDIS_REGISTER_R13, 1, tag, 4)) &&
	      (hit = emit_branch32(e, ZYDIS_MNEMONIC_JZ)) &&
	      emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(stlb_miss_lin), 4), R(R11D)) &&
	      fill_call(e, op, start) &&
	      fault_call(t) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_STLB, t->eip, false)))
		return false;
	t->exits[t->nr_exits - 1].desc->vector = (uint8_t)(size | (write ? BT_STLB_INFO_WRITE : 0));
	patch_rel32(hit, e->pos);	/* the fill's call is past rel8's reach */
	if (!(emit2(e, ZYDIS_MNEMONIC_ADD, R(R11),
		    op_mem(ZYDIS_REGISTER_R15, ZYDIS_REGISTER_R13, 1, addend, 8)) &&
	      emit0(e, ZYDIS_MNEMONIC_POPFQ)))
		return false;
	m->mem.base = ZYDIS_REGISTER_R11;
	m->mem.index = ZYDIS_REGISTER_NONE;
	m->mem.scale = 0;
	m->mem.displacement = 0;
	req->prefixes &= ~(ZydisInstructionAttributes)ZYDIS_ATTRIB_HAS_SEGMENT;
	req->address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_64;
	t->cpu->stats.stlb_translated++;
	return emit_request(e, req);
}

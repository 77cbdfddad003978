/*
 * One guest instruction's host code: memory operands made view-relative
 * (GS override, 32-bit addressing, segment bases folded in), ESP renamed
 * to r14d, stack sequences, string instructions on rebased rsi/rdi, and
 * the segment limit checks in front of them (seglimit.c).
 *
 * Precision rule every sequence here keeps: within one guest instruction's
 * host code, any host instruction that can fault comes before the first
 * change to guest-visible state, or the insn map records how to undo it
 * (string-op rebasing, a spilled register). A fault therefore leaves the
 * guest exactly as at the start of its instruction.
 */
#include "bt/translate/translate.h"

/* A gs:[base + index*scale + disp] operand with 32-bit addressing. */
static ZydisEncoderOperand gmem(ZydisRegister base, int64_t disp, int size)
{
	return op_mem(base, ZYDIS_REGISTER_NONE, 0, disp, size);
}

bool emit_guest(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
		       ZydisEncoderOperand b)
{
	ZydisEncoderRequest r = emit_req(m, 2);

	r.operands[0] = a;
	r.operands[1] = b;
	r.prefixes = ZYDIS_ATTRIB_HAS_SEGMENT_GS;
	r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	return emit_request(e, &r);
}

/* lea dst32, [base64 + disp]: 32-bit arithmetic without touching RFLAGS. */
bool emit_lea32(struct bt_emitter *e, ZydisRegister dst, ZydisRegister base, int64_t disp)
{
	return emit2(e, ZYDIS_MNEMONIC_LEA, op_reg(dst), op_mem(base, ZYDIS_REGISTER_NONE, 0, disp, 8));
}

/* Every segment whose base or limit goes into the code is marked used:
 * the block is looked up (tc_same_segments) by those (translate.c). */
static uint32_t seg_base_used(const struct tx *t, int seg)
{
	t->b->seg_used |= (uint8_t)(1u << seg);
	t->b->seg_based |= (uint8_t)(1u << seg);
	return t->b->seg_base[seg];
}

static uint32_t seg_base(const struct tx *t, ZydisRegister seg)
{
	return seg_base_used(t, x86_seg_index(seg));
}

/* A segment base folds into the displacement: 32-bit address arithmetic
 * wraps exactly as base + offset does. */
static int64_t disp_with_base(int64_t disp, uint32_t base)
{
	return (int32_t)((uint32_t)disp + base);
}

/*
 * An absolute address at or above 2 GiB cannot stay a bare disp32: with no
 * 32-bit register in the operand the encoder picks 64-bit addressing, which
 * sign-extends it. Such an operand gets a scratch base register instead.
 */
static bool needs_abs_base(const ZydisEncoderOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.base == ZYDIS_REGISTER_NONE &&
	       o->mem.index == ZYDIS_REGISTER_NONE && (uint32_t)o->mem.displacement >= 0x80000000u;
}

static bool abs_base(struct tx *t, ZydisEncoderOperand *o, ZydisRegister scratch32)
{
	if (!needs_abs_base(o))
		return true;
	if (!emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(scratch32), op_imm((int32_t)o->mem.displacement)))
		return false;
	o->mem.base = scratch32;
	o->mem.displacement = 0;
	return true;
}

static ZydisRegister map_reg(ZydisRegister r, bool *r14, bool *high8)
{
	switch (r) {
	case ZYDIS_REGISTER_ESP: *r14 = true; return ZYDIS_REGISTER_R14D;
	case ZYDIS_REGISTER_SP: *r14 = true; return ZYDIS_REGISTER_R14W;
	case ZYDIS_REGISTER_AH: case ZYDIS_REGISTER_CH:
	case ZYDIS_REGISTER_DH: case ZYDIS_REGISTER_BH:
		*high8 = true;
		return r;
	default:
		return r;
	}
}

static int gpr_id(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_COMPAT_32, r);

	if (ZydisRegisterGetClass(big) != ZYDIS_REGCLASS_GPR32)
		return -1;
	return ZydisRegisterGetId(big);
}

/* A guest register no operand of d mentions, to stand in for r14. */
static int free_low_reg(const struct bt_insn *d)
{
	unsigned used = 1u << 4;

	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		int ids[3] = { -1, -1, -1 };
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
			ids[0] = gpr_id(o->reg.value);
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			ids[1] = gpr_id(o->mem.base);
			ids[2] = gpr_id(o->mem.index);
		}
		for (int k = 0; k < 3; k++)
			if (ids[k] >= 0)
				used |= 1u << ids[k];
	}
	for (int r = 0; r < 8; r++)
		if (!(used & (1u << r)))
			return r;
	return -1;
}

static ZydisRegister swap_r14(ZydisRegister r, int tmp)
{
	if (r == ZYDIS_REGISTER_R14D)
		return reg32(tmp);
	if (r == ZYDIS_REGISTER_R14W)
		return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, tmp);
	return r;
}

/*
 * A limit check for an access of size bytes at seg:[base + index*scale +
 * disp] (disp without the segment base), in front of the instruction's
 * host code, so a violation leaves with nothing of it done: #SS(0) for SS,
 * #GP(0) otherwise. Segments that are flat for this block get nothing.
 */
bool limit_check(struct tx *t, int seg, ZydisRegister base, ZydisRegister index,
		 uint8_t scale, int64_t disp, unsigned size)
{
	uint8_t *site;

	t->b->seg_used |= (uint8_t)(1u << seg);
	if (t->b->seg_check[seg] == BT_SEGCHK_NONE)
		return true;
	if (!emit_limit_check(&t->e, t->b->seg_check[seg], t->b->seg_limit[seg], base, index, scale,
			      disp, size, &site) ||
	    !add_exit(t, site, BT_EXIT_LIMIT, t->eip, false))
		return false;
	t->exits[t->nr_exits - 1].desc->vector = seg == HYVM_SS ? VEC_SS : VEC_GP;
	return true;
}

bool check_stack(struct tx *t, ZydisRegister base, int64_t disp)
{
	return limit_check(t, HYVM_SS, base, ZYDIS_REGISTER_NONE, 0, disp, 4);
}

/* The limit check for decoded memory operand o; extra_esp is added when
 * ESP is its base (POP [ESP+x] addresses with ESP after the pop). */
bool check_operand(struct tx *t, const ZydisDecodedOperand *o, int64_t extra_esp)
{
	bool r14 = false, high8 = false;

	if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
		return true;
	ZydisRegister base = map_reg(o->mem.base, &r14, &high8);
	return limit_check(t, x86_seg_index(o->mem.segment), base, map_reg(o->mem.index, &r14, &high8),
			   o->mem.scale, o->mem.disp.value + (base == ZYDIS_REGISTER_R14D ? extra_esp : 0),
			   o->size / 8);
}

/*
 * The ordinary case: the guest instruction itself, with memory operands
 * made view-relative (GS, 32-bit addressing) and ESP renamed to r14d.
 * AH..BH cannot be encoded next to a REX prefix, so an instruction that
 * names both gets a free low register to stand in for r14 around it.
 */
static bool tx_native(struct tx *t, const struct bt_insn *d, uint8_t *fixup)
{
	ZydisEncoderRequest req;
	bool r14 = false, high8 = false, has_mem = false, has_addr = false;
	bool a16 = d->insn.address_width == 16, ea_in_r11 = false;
	int gs_op = -1;

	for (unsigned i = 0; i < d->insn.operand_count_visible; i++) {
		if (a16 && d->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (!a16_offset(t, &d->ops[i], &ea_in_r11))
				return false;
			continue;
		}
		if (!check_operand(t, &d->ops[i], 0))
			return false;
	}
	if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
		    &d->insn, d->ops, d->insn.operand_count_visible, &req)))
		return false;
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	if (a16)	/* 16-bit addressing has no 64-bit mode encoding */
		req.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_NONE;
	for (unsigned i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
			o->reg.value = map_reg(o->reg.value, &r14, &high8);
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && a16) {
			/* the offset a16_offset left in r11d, or a constant */
			o->mem.displacement = (uint16_t)d->ops[i].mem.disp.value;
			if (ea_in_r11)
				o->mem.displacement = 0;
			o->mem.base = ea_in_r11 ? ZYDIS_REGISTER_R11D : ZYDIS_REGISTER_NONE;
			o->mem.index = ZYDIS_REGISTER_NONE;
			o->mem.scale = 0;
			if (d->ops[i].mem.type == ZYDIS_MEMOP_TYPE_AGEN)
				o->mem.size = 4;	/* LEA's "size" is the address size */
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			o->mem.base = map_reg(o->mem.base, &r14, &high8);
			o->mem.index = map_reg(o->mem.index, &r14, &high8);
		}
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			has_addr = true;
			if (d->ops[i].mem.type != ZYDIS_MEMOP_TYPE_AGEN) {
				has_mem = true;
				if (!a16 && d->ops[i].mem.segment == ZYDIS_REGISTER_GS)
					gs_op = (int)i;	/* its base below */
				else
					o->mem.displacement = disp_with_base(o->mem.displacement,
									     seg_base(t, d->ops[i].mem.segment));
			}
		}
	}
	/* an operand that kept faulting on the view: the soft TLB's lookup */
	if (has_mem && !a16 && gs_op < 0 && !high8 && soft_tlb_wanted(t, d))
		return soft_tlb_emit(t, d, &req);
	if (gs_op >= 0 && high8) {
		ZydisEncoderOperand *o = &req.operands[gs_op];
		o->mem.displacement = disp_with_base(o->mem.displacement, seg_base_used(t, HYVM_GS));
	} else if (gs_op >= 0 && !gs_base_at_run_time(t, &req.operands[gs_op])) {
		return false;
	}
	req.prefixes &= ~(ZydisInstructionAttributes)ZYDIS_ATTRIB_HAS_SEGMENT;
	if (has_mem)
		req.prefixes |= ZYDIS_ATTRIB_HAS_SEGMENT_GS;
	if (has_addr)
		req.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	for (unsigned i = 0; i < req.operand_count; i++)
		if (needs_abs_base(&req.operands[i])) {
			if (high8)
				return false;	/* AH..BH and r13 do not mix; rare enough for #UD */
			if (!abs_base(t, &req.operands[i], ZYDIS_REGISTER_R13D))
				return false;
		}
	if (high8 && ea_in_r11) {
		/* AH..BH cannot sit next to r11's REX prefix: a free low
		 * register holds the offset around the instruction */
		int tmp = free_low_reg(d);
		if (tmp < 0 || r14)
			return false;
		for (unsigned i = 0; i < req.operand_count; i++)
			if (req.operands[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
				req.operands[i].mem.base = reg32(tmp);
		*fixup = BT_FIXUP_SPILL | (uint8_t)(tmp << BT_FIXUP_REG_SHIFT);
		return emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(spill), 8), op_reg(reg64(tmp))) &&
		       emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(reg32(tmp)), R(R11D)) &&
		       emit_request(&t->e, &req) &&
		       emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(reg64(tmp)), op_ctx(BT_OFF(spill), 8));
	}
	if (!(r14 && high8))
		return emit_request(&t->e, &req);

	int tmp = free_low_reg(d);
	if (tmp < 0)
		return false;
	for (unsigned i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			if (swap_r14(o->reg.value, tmp) != o->reg.value)
				return false;	/* ESP as a register next to AH: no such insn */
		}
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			o->mem.base = swap_r14(o->mem.base, tmp);
			o->mem.index = swap_r14(o->mem.index, tmp);
		}
	}
	*fixup = BT_FIXUP_SPILL | (uint8_t)(tmp << BT_FIXUP_REG_SHIFT);
	return emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(spill), 8), op_reg(reg64(tmp))) &&
	       emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(reg32(tmp)), R(R14D)) &&
	       emit_request(&t->e, &req) &&
	       emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(reg64(tmp)), op_ctx(BT_OFF(spill), 8));
}

/* The guest memory operand of d (ESP renamed), for stack sequences. */
static bool guest_mem_operand(const struct tx *t, const ZydisDecodedOperand *o,
			      int64_t extra_disp, ZydisEncoderOperand *out)
{
	bool r14 = false, high8 = false;
	ZydisRegister base = map_reg(o->mem.base, &r14, &high8);

	*out = op_mem(base, map_reg(o->mem.index, &r14, &high8), o->mem.scale,
		      disp_with_base(o->mem.disp.value + (base == ZYDIS_REGISTER_R14D ? extra_disp : 0),
				     seg_base(t, o->mem.segment)),
		      o->size / 8);
	return true;
}

/* gs:[r14d + disp] through SS. */
ZydisEncoderOperand stack_mem(const struct tx *t, int64_t disp)
{
	return gmem(ZYDIS_REGISTER_R14D, disp_with_base(disp, seg_base_used(t, HYVM_SS)), 4);
}

/* A memory operand addressed by 32-bit registers (or none): not 16-bit
 * addressing, which 64-bit code cannot encode. */
static bool addr32_regs(const ZydisDecodedOperand *o)
{
	return (o->mem.base == ZYDIS_REGISTER_NONE ||
		ZydisRegisterGetClass(o->mem.base) == ZYDIS_REGCLASS_GPR32) &&
	       (o->mem.index == ZYDIS_REGISTER_NONE ||
		ZydisRegisterGetClass(o->mem.index) == ZYDIS_REGCLASS_GPR32);
}

/* Loads the value of operand o (32-bit register, immediate or memory) into r13d. */
bool load_r13(struct tx *t, const ZydisDecodedOperand *o)
{
	bool r14 = false, high8 = false;
	ZydisEncoderOperand m;

	switch (o->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		return emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D),
			     op_reg(map_reg(o->reg.value, &r14, &high8)));
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		return emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), op_imm((int32_t)o->imm.value.u));
	case ZYDIS_OPERAND_TYPE_MEMORY:
		/* glibc's syscalls are call gs:[0x10] (the TCB's vsyscall
		 * pointer): GS's base at run time here too (gs_base.c) */
		if (o->mem.segment == ZYDIS_REGISTER_GS && addr32_regs(o)) {
			m = op_mem(map_reg(o->mem.base, &r14, &high8), map_reg(o->mem.index, &r14, &high8),
				   o->mem.scale, o->mem.disp.value, o->size / 8);
			return gs_base_at_run_time(t, &m) &&
			       emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), m);
		}
		return guest_mem_operand(t, o, 0, &m) && abs_base(t, &m, ZYDIS_REGISTER_R13D) &&
		       emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), m);
	default:
		return false;
	}
}

static bool tx_push(struct tx *t, const struct bt_insn *d)
{
	const ZydisDecodedOperand *src = &d->ops[0];
	bool r14 = false, high8 = false;
	bool ok;

	if (!check_operand(t, src, 0) || !check_stack(t, ZYDIS_REGISTER_R14D, -4))
		return false;
	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER)
		ok = emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, stack_mem(t, -4),
				op_reg(map_reg(src->reg.value, &r14, &high8)));
	else if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		ok = emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, stack_mem(t, -4),
				op_imm((int32_t)src->imm.value.s));
	else
		ok = load_r13(t, src) &&
		     emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, stack_mem(t, -4), R(R13D));
	return ok && emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, -4);
}

static bool tx_pop(struct tx *t, const struct bt_insn *d)
{
	const ZydisDecodedOperand *dst = &d->ops[0];
	bool r14 = false, high8 = false;
	ZydisEncoderOperand m;

	if (!check_stack(t, ZYDIS_REGISTER_R14D, 0) || !check_operand(t, dst, 4) ||
	    !emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), stack_mem(t, 0)))
		return false;
	if (dst->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		ZydisRegister r = map_reg(dst->reg.value, &r14, &high8);
		if (r == ZYDIS_REGISTER_R14D)	/* pop esp: the loaded value wins */
			return emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R14D), R(R13D));
		return emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, 4) &&
		       emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(r), R(R13D));
	}
	/* pop [esp+x] addresses with ESP after the pop (SDM POP) */
	return guest_mem_operand(t, dst, 4, &m) && abs_base(t, &m, ZYDIS_REGISTER_R9D) &&
	       emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, m, R(R13D)) &&
	       emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, 4);
}

static bool tx_leave(struct tx *t)
{
	return check_stack(t, ZYDIS_REGISTER_EBP, 0) &&
	       emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), gmem(ZYDIS_REGISTER_EBP, disp_with_base(0, seg_base_used(t, HYVM_SS)), 4)) &&
	       emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_RBP, 4) &&
	       emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(EBP), R(R13D));
}

/* The caller checks the stack limit first (see check_stack). */
bool push_return(struct tx *t, uint32_t ret)
{
	return emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, stack_mem(t, -4),
			  op_imm((int32_t)ret)) &&
	       emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, -4);
}

/* The segment of d's memory operand addressed through base (ESI or EDI). */
static int string_seg(const struct bt_insn *d, ZydisRegister base)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++)
		if (d->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && d->ops[i].mem.base == base)
			return x86_seg_index(d->ops[i].mem.segment);
	return HYVM_DS;
}

/* reg64 = view + (reg32 + base) mod 2^32, the host address of seg:reg. */
static bool string_rebase(struct tx *t, ZydisRegister r32, ZydisRegister r64, uint32_t base)
{
	return (!base || emit_lea32(&t->e, r32, r64, (int32_t)base)) &&
	       emit2(&t->e, ZYDIS_MNEMONIC_LEA, op_reg(r64), op_mem(r64, ZYDIS_REGISTER_R12, 1, 0, 8));
}

/* The inverse: reg32 = reg64 - view - base, upper half zero. */
static bool string_unbase(struct tx *t, ZydisRegister r32, ZydisRegister r64, uint32_t base)
{
	return emit2(&t->e, ZYDIS_MNEMONIC_LEA, op_reg(r64), op_mem(r64, ZYDIS_REGISTER_R8, 1, 0, 8)) &&
	       (base ? emit_lea32(&t->e, r32, r64, -(int64_t)(int32_t)base)
		     : emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(r32), op_reg(r32)));
}

/*
 * String instructions cannot take GS on ES:EDI, so rsi/rdi briefly hold
 * host addresses (view + segment base + guest offset) and run with 64-bit
 * addressing. The source segment (DS or an override) is recorded in the
 * fixup so the fault handler can take its base off again; the destination
 * is always ES.
 */
static bool tx_string(struct tx *t, const struct bt_insn *d, uint8_t *fixup)
{
	ZydisEncoderRequest req;
	bool si = string_uses_rsi(d->insn.mnemonic), di = string_uses_rdi(d->insn.mnemonic);
	int sseg = string_seg(d, ZYDIS_REGISTER_ESI);
	uint32_t sbase = seg_base_used(t, sseg), dbase = seg_base_used(t, HYVM_ES);
	bool ok = true;

	if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
		    &d->insn, d->ops, d->insn.operand_count_visible, &req)))
		return false;
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	req.prefixes &= ~(ZydisInstructionAttributes)ZYDIS_ATTRIB_HAS_SEGMENT;
	req.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_64;
	for (unsigned i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		o->mem.base = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->mem.base);
	}
	*fixup = (si ? BT_FIXUP_RSI | (uint8_t)(sseg << BT_FIXUP_REG_SHIFT) : 0) |
		 (di ? BT_FIXUP_RDI : 0);
	uint8_t *done = NULL;
	if (string_stlb_wanted(t, d) && !string_stlb_emit(t, d, sseg, &done))
		return false;
	if (si)
		ok &= string_rebase(t, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_RSI, sbase);
	if (di)
		ok &= string_rebase(t, ZYDIS_REGISTER_EDI, ZYDIS_REGISTER_RDI, dbase);
	ok &= emit_request(&t->e, &req);
	if (si)
		ok &= string_unbase(t, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_RSI, sbase);
	if (di)
		ok &= string_unbase(t, ZYDIS_REGISTER_EDI, ZYDIS_REGISTER_RDI, dbase);
	if (done)
		patch_rel32(done, t->e.pos);
	return ok;
}
bool translate_one(struct tx *t, const struct bt_insn *d, enum insn_class c,
			  uint32_t eip, uint8_t *fixup)
{
	switch (c) {
	case IC_NATIVE:
		if (insn_uses_fpu(d) && !fpu_load_emit(t))
			return false;
		return tcg_flags_barrier(t, d) && tx_native(t, d, fixup);
	case IC_PUSH:
		return tx_push(t, d);
	case IC_POP:
		return tx_pop(t, d);
	case IC_LEAVE:
		return tx_leave(t);
	case IC_STRING:
		return tx_string(t, d, fixup);
	case IC_NOP:
		return true;
	case IC_CPUID:
		return cpuid_emit(t);
	case IC_FLAGS:
		return flags_inline_emit(t, d);
	case IC_CR_READ:
		return cr_read_inline_emit(t, d);
	default:
		return false;
	}
}

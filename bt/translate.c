/*
 * Block building: decodes guest instructions from cpu->eip up to the first
 * control transfer, callout or page end, and writes their host version into
 * the translation cache.
 *
 * Precision rule every sequence here keeps: within one guest instruction's
 * host code, any host instruction that can fault comes before the first
 * change to guest-visible state, or the insn map records how to undo it
 * (string-op rebasing, a spilled register). A fault therefore leaves the
 * guest exactly as at the start of its instruction.
 */
#include <stdlib.h>
#include <string.h>
#include "bt.h"
#include "decode.h"
#include "mmu.h"

/* two exits at the end, and a segment-limit exit per checked access */
#define MAX_EXITS (8 + 2 * BT_MAX_BLOCK_INSNS)

struct pending_exit {
	uint8_t *site;
	struct bt_exit_desc *desc;
	bool indirect_eip;	/* target eip is in r13, not an immediate */
};

struct tx {
	struct bt_cpu *cpu;
	struct bt_tc *tc;
	struct bt_emitter e;
	struct bt_block *b;
	struct pending_exit exits[MAX_EXITS];
	int nr_exits;
	struct bt_insn_map map[BT_MAX_BLOCK_INSNS];
	uint32_t eip;		/* of the instruction being translated */
	bool failed;
};

#define R(x) op_reg(ZYDIS_REGISTER_##x)

/* A gs:[base + index*scale + disp] operand with 32-bit addressing. */
static ZydisEncoderOperand gmem(ZydisRegister base, int64_t disp, int size)
{
	return op_mem(base, ZYDIS_REGISTER_NONE, 0, disp, size);
}

static bool emit_guest(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
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
static bool emit_lea32(struct bt_emitter *e, ZydisRegister dst, ZydisRegister base, int64_t disp)
{
	return emit2(e, ZYDIS_MNEMONIC_LEA, op_reg(dst), op_mem(base, ZYDIS_REGISTER_NONE, 0, disp, 8));
}

static bool add_exit(struct tx *t, uint8_t *site, enum bt_exit_kind kind, uint32_t target,
		     bool indirect_eip)
{
	struct bt_exit_desc *d;

	if (!site || t->nr_exits == MAX_EXITS ||
	    !(d = tc_alloc_data(t->tc, sizeof(*d)))) {
		t->failed = true;
		return false;
	}
	d->kind = kind;
	d->target_eip = target;
	d->patch_site = kind == BT_EXIT_BRANCH ? site : NULL;
	d->from = t->b;
	t->exits[t->nr_exits++] = (struct pending_exit){ site, d, indirect_eip };
	return true;
}

/*
 * A limit check for an access of size bytes at seg:[base + index*scale +
 * disp] (disp without the segment base), in front of the instruction's
 * host code, so a violation leaves with nothing of it done: #SS(0) for SS,
 * #GP(0) otherwise. Segments that are flat for this block get nothing.
 */
static bool limit_check(struct tx *t, int seg, ZydisRegister base, ZydisRegister index,
			uint8_t scale, int64_t disp, unsigned size)
{
	uint8_t *site;

	if (t->b->seg_check[seg] == BT_SEGCHK_NONE)
		return true;
	if (!emit_limit_check(&t->e, t->b->seg_check[seg], t->b->seg_limit[seg], base, index, scale,
			      disp, size, &site) ||
	    !add_exit(t, site, BT_EXIT_LIMIT, t->eip, false))
		return false;
	t->exits[t->nr_exits - 1].desc->vector = seg == HYVM_SS ? VEC_SS : VEC_GP;
	return true;
}

static void exit_jump(struct tx *t, enum bt_exit_kind kind, uint32_t target)
{
	add_exit(t, emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP), kind, target, false);
}

static void jump_indirect(struct tx *t)
{
	uint8_t *site = emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP);

	if (site)
		patch_rel32(site, t->tc->rt.indirect);
	else
		t->failed = true;
}

static int seg_index(ZydisRegister seg)
{
	switch (seg) {
	case ZYDIS_REGISTER_ES: return HYVM_ES;
	case ZYDIS_REGISTER_CS: return HYVM_CS;
	case ZYDIS_REGISTER_SS: return HYVM_SS;
	case ZYDIS_REGISTER_FS: return HYVM_FS;
	case ZYDIS_REGISTER_GS: return HYVM_GS;
	default: return HYVM_DS;
	}
}

static uint32_t seg_base(const struct tx *t, ZydisRegister seg)
{
	return t->b->seg_base[seg_index(seg)];
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

static bool check_stack(struct tx *t, ZydisRegister base, int64_t disp)
{
	return limit_check(t, HYVM_SS, base, ZYDIS_REGISTER_NONE, 0, disp, 4);
}

/* The limit check for decoded memory operand o; extra_esp is added when
 * ESP is its base (POP [ESP+x] addresses with ESP after the pop). */
static bool check_operand(struct tx *t, const ZydisDecodedOperand *o, int64_t extra_esp)
{
	bool r14 = false, high8 = false;

	if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
		return true;
	ZydisRegister base = map_reg(o->mem.base, &r14, &high8);
	return limit_check(t, seg_index(o->mem.segment), base, map_reg(o->mem.index, &r14, &high8),
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

	for (unsigned i = 0; i < d->insn.operand_count_visible; i++)
		if (!check_operand(t, &d->ops[i], 0))
			return false;
	if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
		    &d->insn, d->ops, d->insn.operand_count_visible, &req)))
		return false;
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	for (unsigned i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
			o->reg.value = map_reg(o->reg.value, &r14, &high8);
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			o->mem.base = map_reg(o->mem.base, &r14, &high8);
			o->mem.index = map_reg(o->mem.index, &r14, &high8);
			has_addr = true;
			if (d->ops[i].mem.type != ZYDIS_MEMOP_TYPE_AGEN) {
				has_mem = true;
				o->mem.displacement = disp_with_base(o->mem.displacement,
								     seg_base(t, d->ops[i].mem.segment));
			}
		}
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
static ZydisEncoderOperand stack_mem(const struct tx *t, int64_t disp)
{
	return gmem(ZYDIS_REGISTER_R14D, disp_with_base(disp, t->b->seg_base[HYVM_SS]), 4);
}

/* Loads the value of operand o (32-bit register, immediate or memory) into r13d. */
static bool load_r13(struct tx *t, const ZydisDecodedOperand *o)
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
	       emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), gmem(ZYDIS_REGISTER_EBP, disp_with_base(0, t->b->seg_base[HYVM_SS]), 4)) &&
	       emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_RBP, 4) &&
	       emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(EBP), R(R13D));
}

/* The caller checks the stack limit first (see check_stack). */
static bool push_return(struct tx *t, uint32_t ret)
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
			return seg_index(d->ops[i].mem.segment);
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
	uint32_t sbase = t->b->seg_base[sseg], dbase = t->b->seg_base[HYVM_ES];
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
	if (si)
		ok &= string_rebase(t, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_RSI, sbase);
	if (di)
		ok &= string_rebase(t, ZYDIS_REGISTER_EDI, ZYDIS_REGISTER_RDI, dbase);
	ok &= emit_request(&t->e, &req);
	if (si)
		ok &= string_unbase(t, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_RSI, sbase);
	if (di)
		ok &= string_unbase(t, ZYDIS_REGISTER_EDI, ZYDIS_REGISTER_RDI, dbase);
	return ok;
}

static uint32_t branch_target(const struct bt_insn *d, uint32_t eip)
{
	return eip + d->insn.length + (uint32_t)d->ops[0].imm.value.s;
}

/* Returns true when the instruction ended the block. */
static bool tx_control(struct tx *t, const struct bt_insn *d, enum insn_class c, uint32_t eip)
{
	uint32_t next = eip + d->insn.length;

	switch (c) {
	case IC_JMP_REL:
		exit_jump(t, BT_EXIT_BRANCH, branch_target(d, eip));
		break;
	case IC_CALL_REL:
		if (!check_stack(t, ZYDIS_REGISTER_R14D, -4) || !push_return(t, next))
			t->failed = true;
		exit_jump(t, BT_EXIT_BRANCH, branch_target(d, eip));
		break;
	case IC_JMP_IND:
		if (!check_operand(t, &d->ops[0], 0) || !load_r13(t, &d->ops[0]))
			t->failed = true;
		jump_indirect(t);
		break;
	case IC_CALL_IND:
		/* both checks before the load: they clobber r13 */
		if (!check_operand(t, &d->ops[0], 0) || !check_stack(t, ZYDIS_REGISTER_R14D, -4) ||
		    !load_r13(t, &d->ops[0]) || !push_return(t, next))
			t->failed = true;
		jump_indirect(t);
		break;
	case IC_RET: {
		int64_t pop = 4 + (d->insn.operand_count_visible ? d->ops[0].imm.value.u : 0);
		if (!check_stack(t, ZYDIS_REGISTER_R14D, 0) ||
		    !emit_guest(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D), stack_mem(t, 0)) ||
		    !emit_lea32(&t->e, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R14, pop))
			t->failed = true;
		jump_indirect(t);
		break;
	}
	case IC_JCC:
		add_exit(t, emit_branch32(&t->e, d->insn.mnemonic), BT_EXIT_BRANCH,
			 branch_target(d, eip), false);
		exit_jump(t, BT_EXIT_BRANCH, next);
		break;
	case IC_LOOP: {
		/* loop/jecxz have only rel8: hop over the fall-through jump */
		uint8_t *short_site = emit_branch8(&t->e, d->insn.mnemonic, true);
		exit_jump(t, BT_EXIT_BRANCH, next);
		if (short_site)
			patch_rel8(short_site, t->e.pos);
		else
			t->failed = true;
		exit_jump(t, BT_EXIT_BRANCH, branch_target(d, eip));
		break;
	}
	default:
		return false;
	}
	return true;
}

/* Stub per exit: store the guest eip, leave the descriptor in r11. */
static void emit_stubs(struct tx *t)
{
	for (int i = 0; i < t->nr_exits; i++) {
		struct pending_exit *p = &t->exits[i];
		uint8_t *stub = t->e.pos;
		bool ok = emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eip), 4),
				op_imm((int32_t)p->desc->target_eip)) &&
			  emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R11),
				op_imm((int64_t)(uintptr_t)p->desc));
		uint8_t *j = emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP);
		if (!ok || !j) {
			t->failed = true;
			return;
		}
		patch_rel32(j, t->tc->rt.common_exit);
		patch_rel32(p->site, stub);
		p->desc->stub = stub;
	}
}

/* The kick poll: one load from the poll page (see tc_kick); it touches
 * neither guest registers nor RFLAGS. */
static void emit_check(struct tx *t, uint32_t eip)
{
	(void)eip;
	if (!emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R9D),
		   op_mem(ZYDIS_REGISTER_RIP, ZYDIS_REGISTER_NONE, 0, 0, 4))) {
		t->failed = true;
		return;
	}
	patch_rel32(t->e.pos - 4, t->tc->poll);
}

static bool translate_one(struct tx *t, const struct bt_insn *d, enum insn_class c,
			  uint32_t eip, uint8_t *fixup)
{
	switch (c) {
	case IC_NATIVE:
		if (insn_uses_fpu(d))
			t->cpu->fpu_live = true;
		return tx_native(t, d, fixup);
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
	default:
		return false;
	}
}

struct bt_block *translate_block(struct bt_cpu *cpu, uint32_t phys, uint32_t mode)
{
	struct bt_tc *tc = cpu->vm->tc;
	struct tx t = { .cpu = cpu, .tc = tc };
	uint32_t eip = cpu->eip;
	bool ended = false;

	if (tc->size - tc->used < 65536 || tc->data_size - tc->data_used < 65536)
		return NULL;
	struct bt_block *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	t.b = b;
	b->eip = eip;
	b->phys = phys;
	b->mode = mode;
	for (int s = 0; s < 6; s++)
		b->seg_base[s] = (uint32_t)cpu->arch.seg[s].base;
	seg_check_key(cpu, b->seg_limit, b->seg_check);
	emit_init(&t.e, tc->mem + tc->used, tc->size - tc->used);
	b->check_entry = t.e.pos;
	emit_check(&t, eip);
	b->body = t.e.pos;

	while (!ended && !t.failed) {
		uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
		unsigned got = 0;
		struct bt_insn d;
		uint8_t fixup = 0;
		bool first = b->nr_insns == 0;

		mem_fetch(cpu, cs_linear(cpu, eip), bytes, sizeof(bytes), &got);
		enum insn_class c = IC_CALLOUT;
		unsigned len = 1;
		bool decoded = false;
		if (got && !decode_insn(&cpu->vm->decoder, bytes, got, &d)) {
			c = insn_classify(&d);
			len = d.insn.length;
			decoded = true;
		} else if (!first) {
			break;	/* let the next block meet the fault or #UD */
		}
		bool ptw = decoded && !(mode & BT_MODE_SINGLE) && (mode & BT_MODE_PAGING) &&
			   shadow_is_pt_writer(cpu->vm, cs_linear(cpu, eip));
		if (ptw)
			c = IC_CALLOUT;	/* kept trapping on page-table writes */
		if ((c == IC_CALLOUT || c == IC_UNSUPPORTED) && !first)
			break;	/* a callout starts its own block */

		uint8_t *insn_start = t.e.pos;
		int exits_before = t.nr_exits;
		t.eip = eip;
		t.map[b->nr_insns] = (struct bt_insn_map){
			.host_off = (uint16_t)(insn_start - b->body),
			.len = (uint8_t)len,
			.eip = eip,
		};
		b->nr_insns++;
		if (c == IC_CALLOUT || c == IC_UNSUPPORTED) {
			/* keep the decoded instruction: the block dies with its bytes */
			if (decoded && (b->callout = malloc(sizeof(d))))
				*b->callout = d;
			b->pt_callout = ptw;
			exit_jump(&t, BT_EXIT_CALLOUT, eip);
			ended = true;
			eip += len;
		} else if (tx_control(&t, &d, c, eip)) {
			ended = true;
			eip += d.insn.length;
		} else if (translate_one(&t, &d, c, eip, &fixup)) {
			t.map[b->nr_insns - 1].fixup = fixup;
			eip += d.insn.length;
		} else if (first) {
			/* the encoder refused it: the callout gives #UD */
			t.e.pos = insn_start;
			t.nr_exits = exits_before;
			exit_jump(&t, BT_EXIT_CALLOUT, eip);
			ended = true;
			eip += d.insn.length;
		} else {
			t.e.pos = insn_start;
			t.nr_exits = exits_before;	/* limit exits of the dropped code */
			b->nr_insns--;
			break;
		}
		if (b->nr_insns == BT_MAX_BLOCK_INSNS ||
		    (cs_linear(cpu, eip) >> 12) != (cs_linear(cpu, b->eip) >> 12) ||
		    (mode & BT_MODE_SINGLE))
			break;
	}
	if (!ended && !t.failed)
		exit_jump(&t, BT_EXIT_BRANCH, eip);
	if (!t.failed)
		emit_stubs(&t);
	b->map = tc_alloc_data(tc, b->nr_insns * sizeof(*b->map));
	if (t.failed || t.e.overflow || !b->map) {
		free(b);
		return NULL;
	}
	memcpy(b->map, t.map, b->nr_insns * sizeof(*b->map));
	b->guest_len = eip - b->eip;
	b->host_len = (uint32_t)(t.e.pos - b->check_entry);
	b->valid = true;
	tc->used = ((size_t)(t.e.pos - tc->mem) + 15) & ~(size_t)15;
	tc_insert(tc, b);
	dump_block(cpu, b);
	cpu->stats.blocks_translated++;
	cpu->stats.tc_bytes = tc->used;
	return b;
}

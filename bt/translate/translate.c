/*
 * Block building: decodes guest instructions from cpu->eip up to the first
 * control transfer, callout or page end, and writes their host version into
 * the translation cache: control transfers and block exits here, each
 * other instruction's sequence in translate_insn.c.
 */
#include <stdlib.h>
#include <string.h>
#include "bt/translate/translate.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"

bool add_exit(struct tx *t, uint8_t *site, enum bt_exit_kind kind, uint32_t target,
		     bool indirect_eip)
{
	struct bt_exit_desc *d;

	if (!site || t->nr_exits == MAX_EXITS ||
	    !(d = tc_alloc_data(t->tc, sizeof(*d)))) {
		t->failed = true;
		return false;
	}
	/* With paging a direct branch chains only within its page (the
	 * dispatcher's chain_allowed); one to another page looks its target up
	 * in the jump cache like an indirect branch, which the dispatcher
	 * keeps exact for the current address space (CR3 loads, INVLPG and
	 * dropped mappings empty it), instead of returning to the dispatcher
	 * every time. A single-instruction block always returns there. */
	bool via_jc = kind == BT_EXIT_BRANCH && !indirect_eip &&
		      (t->b->mode & BT_MODE_PAGING) && !(t->b->mode & BT_MODE_SINGLE) &&
		      (target >> 12) != (t->b->eip >> 12);
	d->kind = kind;
	d->target_eip = target;
	d->patch_site = kind == BT_EXIT_BRANCH && !via_jc ? site : NULL;
	d->from = t->b;
	t->exits[t->nr_exits++] = (struct pending_exit){ site, d, indirect_eip, via_jc };
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

/* A near relative target wraps to the operand size: IP in 16-bit code
 * (SDM Vol. 2A, JMP and Jcc: "EIP <- EIP AND 0000FFFFH"). */
static uint32_t branch_target(const struct bt_insn *d, uint32_t eip)
{
	uint32_t t = eip + d->insn.length + (uint32_t)d->ops[0].imm.value.s;

	return d->insn.operand_width == 16 ? t & 0xffff : t;
}

/* Stack sequences here use r14d as ESP; a 16-bit stack (SS.B = 0) wraps
 * SP at 64 KiB instead, which the callouts do (operands.c: sp_mask). */
static enum insn_class stack16_class(enum insn_class c)
{
	switch (c) {
	case IC_PUSH: case IC_POP: case IC_LEAVE: case IC_CALL_REL: case IC_CALL_IND: case IC_RET:
		return IC_CALLOUT;
	default:
		return c;
	}
}

/* Returns true when the instruction ended the block. */
static bool tx_control(struct tx *t, const struct bt_insn *d, enum insn_class c, uint32_t eip)
{
	uint32_t next = (eip + d->insn.length) & bt_ip_mask(t->cpu);

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
		if (p->via_jc) {
			/* mov r13d, target; jmp indirect (r9-r11, r13 are free here) */
			uint8_t *j = NULL;
			if (emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R13D),
				  op_imm((int32_t)p->desc->target_eip)))
				j = emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP);
			if (!j) {
				t->failed = true;
				return;
			}
			patch_rel32(j, t->tc->rt.indirect);
			patch_rel32(p->site, stub);
			p->desc->stub = stub;
			continue;
		}
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

/* An instruction at lin of len bytes that runs onto the next linear page,
 * which holds self-checking code: its block must check itself too. */
static bool straddles_into_checking(struct bt_cpu *cpu, uint32_t lin, unsigned len)
{
	uint32_t phys2;

	return cpu->vm->nr_smc_checking && (lin & 4095) + len > 4096 &&
	       !mem_linear_to_phys(cpu, lin + len - 1, false, bt_cpl(cpu) == 3, &phys2, false) &&
	       smc_page_checking(cpu->vm, phys2 >> 12);
}

/* The physical address of the block's bytes past its first page (its last
 * instruction may run onto the next one), 0 when it has none. */
static uint32_t block_phys2(struct bt_cpu *cpu, const struct bt_block *b)
{
	uint32_t first = cs_linear(cpu, b->eip), last = first + b->guest_len - 1, phys2 = 0;

	if (b->guest_len && (last >> 12) != (first >> 12))
		mem_linear_to_phys(cpu, last & ~4095u, false, bt_cpl(cpu) == 3, &phys2, false);
	return phys2;
}

/* *redo: it met an instruction running onto a self-checking page while
 * not translating a self-checking block (smc_check.c) */
static struct bt_block *translate_try(struct bt_cpu *cpu, uint32_t phys, uint32_t mode,
				      bool self_check, bool *redo)
{
	struct bt_tc *tc = cpu->vm->tc;
	struct tx t = { .cpu = cpu, .tc = tc };
	uint32_t eip = cpu->eip;
	uint32_t ip_mask = bt_ip_mask(cpu), wrapped_len = 0;
	bool ended = false;

	if (!tc_has_room(tc))
		return NULL;
	/* a refused translation takes back what it allocated */
	size_t data_mark = tc->data_used;
	struct bt_block *b = tc_alloc_data(tc, sizeof(*b));
	if (!b)
		return NULL;
	t.b = b;
	b->eip = eip;
	b->phys = phys;
	b->mode = mode;
	for (int s = 0; s < 6; s++)
		b->seg_base[s] = (uint32_t)cpu->arch.seg[s].base;
	seg_check_key(cpu, b->seg_limit, b->seg_check);
	/* GS keys the block only if its code uses GS: Linux leaves the user's
	 * TLS base there in the kernel, so kernel code (and user code that
	 * does not touch TLS) is shared by all processes. The other segments
	 * always key it, so a chain (dispatch.c: chain_allowed) is refused
	 * only into a block using GS from one that does not. */
	b->seg_used = (uint8_t)(0x3fu & ~(1u << HYVM_GS));
	b->seg_based = b->seg_used;
	b->debug_stop = cpu->dbg.nr_bp && bt_debug_is_bp(cpu, cs_linear(cpu, eip));
	emit_init(&t.e, tc->mem + tc->used, TC_BLOCK_ROOM);	/* tc_has_room: there is that much */
	b->check_entry = t.e.pos;
	emit_check(&t, eip);
	b->body = t.e.pos;
	if (self_check && !smc_check_reserve(&t))
		t.failed = true;

	while (!ended && !t.failed) {
		uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
		unsigned got = 0;
		struct bt_insn d;
		uint8_t fixup = 0;
		bool first = b->nr_insns == 0;

		/* a debugger's breakpoint starts a block of its own (cpu/debug.c) */
		if (!first && cpu->dbg.nr_bp && bt_debug_is_bp(cpu, cs_linear(cpu, eip)))
			break;

		mem_fetch(cpu, cs_linear(cpu, eip), bytes, sizeof(bytes), &got);
		enum insn_class c = IC_CALLOUT;
		unsigned len = 1;
		bool decoded = false;
		if (got && !decode_insn(bt_decoder(cpu), bytes, got, &d)) {
			c = insn_classify(&d);
			if (mode & BT_MODE_STACK16)
				c = stack16_class(c);
			len = d.insn.length;
			decoded = true;
		} else if (!first) {
			break;	/* let the next block meet the fault or #UD */
		}
		bool ptw = decoded && !(mode & BT_MODE_SINGLE) && (mode & BT_MODE_PAGING) &&
			   shadow_is_pt_writer(cpu->vm, cs_linear(cpu, eip));
		if (ptw)
			c = IC_CALLOUT;	/* kept trapping on page-table writes */
		else if (c == IC_CALLOUT && decoded && flags_inline_wanted(&t, &d))
			c = IC_FLAGS;
		else if (c == IC_CALLOUT && decoded && cr_read_inline_wanted(&t, &d))
			c = IC_CR_READ;
		if ((c == IC_CALLOUT || c == IC_UNSUPPORTED) && !first)
			break;	/* a callout starts its own block */
		/* an instruction running onto a self-checking page: a block
		 * of its own, translated self-checking. Not the whole block
		 * again self-checking: that pass ends after its first store
		 * (below), so it could end before this instruction with no
		 * byte on a checking page, which smc_check_emit refuses, on
		 * every retry ("cannot translate the block", seen in Linux's
		 * /init at a page end) */
		if (!self_check && straddles_into_checking(cpu, cs_linear(cpu, eip), len)) {
			if (!first)
				break;
			*redo = true;
			t.failed = true;
			break;
		}

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
			if (decoded && (b->callout = tc_alloc_data(tc, sizeof(d))))
				*b->callout = d;
			b->pt_callout = ptw;
			if (!decoded ||
			    (ptw ? !callout_call_emit(&t, &d, eip) :
			     (!io_call_emit(&t, &d, eip, (eip + len) & bt_ip_mask(cpu)) &&
			      !callout_call_emit(&t, &d, eip))))
				exit_jump(&t, BT_EXIT_CALLOUT, eip);
			ended = true;
			eip += len;
		} else if (tx_control(&t, &d, c, eip)) {
			ended = true;
			eip += d.insn.length;
		} else if (div_check_emit(&t, &d, eip) && translate_one(&t, &d, c, eip, &fixup)) {
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
		if ((eip & ip_mask) != eip) {
			/* IP wrapped at 64 KiB: the next instruction is at
			 * offset 0, which a new block starts */
			wrapped_len = eip - b->eip;
			eip &= ip_mask;
			if (!ended && !t.failed)
				exit_jump(&t, BT_EXIT_BRANCH, eip);
			ended = true;
			break;
		}
		/* a self-checking block ends after a store: what follows is
		 * checked afresh at its own entry (smc_check.c) */
		if (b->nr_insns == BT_MAX_BLOCK_INSNS ||
		    (cs_linear(cpu, eip) >> 12) != (cs_linear(cpu, b->eip) >> 12) ||
		    (mode & BT_MODE_SINGLE) || (self_check && decoded && smc_insn_writes_memory(&d)))
			break;
	}
	if (!ended && !t.failed)
		exit_jump(&t, BT_EXIT_BRANCH, eip);
	if (!t.failed)
		emit_stubs(&t);
	b->guest_len = wrapped_len ? wrapped_len : eip - b->eip;
	b->smc_checked = self_check;
	if (self_check && !t.failed && !smc_check_emit(&t, block_phys2(cpu, b)))
		t.failed = true;
	b->map = tc_alloc_data(tc, b->nr_insns * sizeof(*b->map));
	if (t.failed || t.e.overflow || !b->map) {
		tc->data_used = data_mark;
		return NULL;
	}
	memcpy(b->map, t.map, b->nr_insns * sizeof(*b->map));
	b->host_len = (uint32_t)(t.e.pos - b->check_entry);
	b->valid = true;
	/* blocks start on a 64-byte line: a small loop's block then sits in
	 * one line (bench-bt's matmul inner loop, 45 host bytes at ...120,
	 * ran 1.41x native where its start was 16-aligned across a line
	 * and 1.01x on one line; which it got depended on what was
	 * translated before it) */
	tc->used = ((size_t)(t.e.pos - tc->mem) + 63) & ~(size_t)63;
	tc_insert(tc, b);
	dump_block(cpu, b);
	cpu->stats.blocks_translated++;
	cpu->stats.tc_bytes = tc_bytes_used(tc);
	return b;
}

struct bt_block *translate_block(struct bt_cpu *cpu, uint32_t phys, uint32_t mode)
{
	bool redo = false;
	struct bt_block *b = translate_try(cpu, phys, mode,
					   smc_page_checking(cpu->vm, phys >> 12), &redo);

	if (!b && redo)
		b = translate_try(cpu, phys, mode, true, &redo);
	return b;
}

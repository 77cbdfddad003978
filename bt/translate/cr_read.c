/*
 * MOV from CR0, CR2, CR3 or CR4 at CPL0 in 32-bit code, inline from the
 * virtual control registers (cpu->arch): no callout. A #PF handler reads
 * CR2 first thing (Linux's exc_page_fault, the pgfault nano's handler),
 * and the in-block callout it was cost about a fifth of a demand fault's
 * round trip in C (the emulation, then the next block's lookup and keys:
 * docs/perf/bt-exits.md, 2026-12-05). The callout reads the same fields
 * (callouts.c, do_mov_cr); CR1 and CR5-CR7 (#UD) and writes stay callouts.
 *
 * The jump cache holds no CPL, so a block translated for CPL0 can be
 * reached from CPL3 (guest jc_cpl): the CPL is checked at run time, and at
 * CPL > 0 the block leaves with nothing done and #GP(0) is raised, as the
 * callout's need_cpl0 does (SDM Vol. 2B MOV—Move to/from Control
 * Registers: #GP(0) if the CPL is not 0). Paged 32-bit code only (CR0.PE
 * set, and EFLAGS.VM clear in a CPL0 block's code: the CPL is CS's RPL):
 *	pushfq;  test byte [r15+cs.selector], 3;  jz fast
 *	popfq;  jmp <stub: BT_EXIT_LIMIT, #GP(0)>
 * fast: popfq;  mov reg32, [r15+crN]
 */
#include "bt/translate/translate.h"

static int cr_number(const struct bt_insn *d)
{
	if (d->insn.mnemonic != ZYDIS_MNEMONIC_MOV || d->insn.operand_count_visible != 2 ||
	    d->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    d->ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    ZydisRegisterGetClass(d->ops[1].reg.value) != ZYDIS_REGCLASS_CONTROL ||
	    ZydisRegisterGetClass(d->ops[0].reg.value) != ZYDIS_REGCLASS_GPR32)
		return -1;
	int n = ZydisRegisterGetId(d->ops[1].reg.value);
	return n == 0 || n == 2 || n == 3 || n == 4 ? n : -1;
}

bool cr_read_inline_wanted(const struct tx *t, const struct bt_insn *d)
{
	/* paged: the block then never runs without CR0.PE (PG is in its
	 * key), where CS's RPL would not be the CPL */
	if ((t->b->mode & BT_MODE_CPL_MASK) || !(t->b->mode & BT_MODE_PAGING) ||
	    (t->b->mode & (BT_MODE_CODE16 | BT_MODE_STACK16 | BT_MODE_SINGLE)))
		return false;
	return cr_number(d) >= 0;
}

bool cr_read_inline_emit(struct tx *t, const struct bt_insn *d)
{
	struct bt_emitter *e = &t->e;
	int n = cr_number(d);
	int32_t cr = n == 0 ? BT_OFF(arch.cr0) : n == 2 ? BT_OFF(arch.cr2) :
		     n == 3 ? BT_OFF(arch.cr3) : BT_OFF(arch.cr4);
	ZydisRegister dst = d->ops[0].reg.value == ZYDIS_REGISTER_ESP ? ZYDIS_REGISTER_R14D
								       : d->ops[0].reg.value;
	uint8_t *fast, *site;

	if (n < 0 ||
	    !(emit0(e, ZYDIS_MNEMONIC_PUSHFQ) &&
	      emit2(e, ZYDIS_MNEMONIC_TEST, op_ctx(BT_OFF(arch.seg[HYVM_CS].selector), 1),
		    op_imm(3)) &&
	      (fast = emit_branch8(e, ZYDIS_MNEMONIC_JZ, false)) &&
	      emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_LIMIT, t->eip, false)))
		return false;
	/* BT_EXIT_LIMIT: the stub stored this instruction's eip; the
	 * dispatcher raises the vector with error code 0 */
	t->exits[t->nr_exits - 1].desc->vector = VEC_GP;
	patch_rel8(fast, e->pos);
	t->cpu->stats.cr_read_inline_translated++;
	return emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_reg(dst), op_ctx(cr, 4));
}

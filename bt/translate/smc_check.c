/*
 * Self-checking translations for pages whose code keeps being rewritten
 * (VMware's BT and Valgrind's --smc-check do the same).
 *
 * A page with translations is read-only in the views, so a store into it
 * faults, its blocks die and the store runs alone (dispatch.c): a host
 * signal, two mprotects and the retranslation of the page's blocks per
 * rewrite, ~13 us here (docs/perf/bt-shadow.md). Once a RAM page has
 * taken more than SMC_CHECK_AFTER such faults it is left writable and its
 * blocks are translated as self-checking instead:
 *
 *  - on entry, a block compares its guest bytes (read from the VMM's
 *    mapping of RAM, by physical address: no view, no fault) with the copy
 *    taken when it was translated, and leaves through a BT_EXIT_SMC_STALE
 *    stub on a mismatch, before any guest state changed: the dispatcher
 *    kills it and translates the new bytes. This catches a store from
 *    another block, another page, a second virtual alias, a store that
 *    straddles two pages, REP MOVS, DMA and C writes alike, since the
 *    bytes themselves are compared;
 *  - a block on such a page ends after its first instruction that writes
 *    memory, so whatever follows a store is a block entered afresh and
 *    checked: a store into the rest of its own block is seen by the next
 *    instruction, as SDM Vol. 3A 8.1.3 ("Handling Self- and
 *    Cross-Modifying Code") requires of a store to code that is then
 *    executed. (Rather than a range check after each store: it needs no
 *    address computation for PUSH, CALL, string or FPU stores, and costs
 *    the same chained jump and entry check where a check would cost a
 *    flags save and compare.)
 *
 * Every entry into a block of the page counts down the page's quiet
 * counter; a mismatch sets it back. When it runs out (the code stopped
 * changing, or only data next to it is written) the page's blocks die and
 * it is write-protected again, so ordinary code keeps zero overhead. A
 * page that comes back gets a longer count each round.
 *
 * The check is one routine of the runtime (smc_runtime_generate), called
 * at the start of the block's body with the block's record in r11; it
 * runs with the guest's flags and EAX saved (PUSHFQ/POPFQ: the flags live
 * in RFLAGS) and r9-r11, r13, scratch at a block entry.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "bt/translate/translate.h"
#include "bt/memory/memory.h"

/* code-write faults a page takes before it is made self-checking (as the
 * 8 traps that make a page-table writer a callout) */
#define SMC_CHECK_AFTER		8
/* block entries without a mismatch before the page is protected again:
 * SMC_QUIET_BASE, doubled each time the page comes back, up to 64x */
#define SMC_QUIET_BASE		16384u
#define SMC_QUIET_MAX_SHIFT	6

static struct bt_smc_page *smc_page(const struct bt_vm *vm, uint32_t page)
{
	return vm->smc_pages && page < vm->nr_smc_pages ? &vm->smc_pages[page] : NULL;
}

bool smc_page_checking(const struct bt_vm *vm, uint32_t page)
{
	const struct bt_smc_page *p = vm->nr_smc_checking ? smc_page(vm, page) : NULL;

	return p && p->checking;
}

/* rounds >= 1 while the page is checking */
static uint32_t smc_quiet_count(const struct bt_smc_page *p)
{
	unsigned shift = p->rounds - 1u > SMC_QUIET_MAX_SHIFT ? SMC_QUIET_MAX_SHIFT : p->rounds - 1u;

	return SMC_QUIET_BASE << shift;
}

bool smc_note_code_write(struct bt_vm *vm, uint32_t page)
{
	/* one entry per page of RAM, allocated at the first code write: the
	 * blocks hold pointers to it, so it never moves (lazily zeroed host
	 * pages: only the entries touched are resident) */
	if (!vm->smc_pages) {
		uint32_t n = (uint32_t)(vm->ram_size >> 12);
		vm->smc_pages = calloc(n, sizeof(*vm->smc_pages));
		if (!vm->smc_pages)
			return false;
		vm->nr_smc_pages = n;
	}
	struct bt_smc_page *p = smc_page(vm, page);
	if (!p || p->checking || !phys_host(vm, (uint64_t)page << 12, 4096, true))
		return false;
	if (++p->writes <= SMC_CHECK_AFTER)
		return false;
	p->checking = 1;
	if (p->rounds < 255)
		p->rounds++;
	p->quiet = smc_quiet_count(p);
	vm->nr_smc_checking++;
	vm->cpu->stats.smc_check_pages++;
	return true;
}

bool smc_insn_writes_memory(const struct bt_insn *d)
{
	/* hidden operands included: PUSH, CALL, PUSHFD, STOS, MOVS name their
	 * destination only there */
	for (unsigned i = 0; i < d->insn.operand_count; i++)
		if (d->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    d->ops[i].mem.type != ZYDIS_MEMOP_TYPE_AGEN &&
		    (d->ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return true;
	return false;
}

/*
 * What a self-checking block's entry hands the check routine in r11: where
 * its guest bytes are (two runs at most: the last instruction may run onto
 * another page), the copy taken at translation, the quiet counter, and
 * the exits it leaves through.
 */
struct smc_record {
	const uint8_t *host[2];
	const uint8_t *copy;
	uint32_t *quiet;
	uint32_t len[2];
	struct bt_exit_desc stale, quiet_exit;
};
#define REC(f) ((int64_t)offsetof(struct smc_record, f))

/* len[part] bytes at host[part] against r10 (the copy, advanced): 8 at
 * a time, then byte by byte; rax is the guest's EAX, saved. */
static bool emit_compare_part(struct bt_emitter *e, int part, uint8_t **sites, unsigned *nr)
{
	const ZydisRegister R11 = ZYDIS_REGISTER_R11, R9 = ZYDIS_REGISTER_R9,
			    R10 = ZYDIS_REGISTER_R10, NONE = ZYDIS_REGISTER_NONE;
	bool ok = emit2(e, ZYDIS_MNEMONIC_MOV, R(R9), op_mem(R11, NONE, 0, REC(host[part]), 8)) &&
		  emit2(e, ZYDIS_MNEMONIC_MOV, R(R13D), op_mem(R11, NONE, 0, REC(len[part]), 4));
	uint8_t *loop8 = e->pos, *to_tail, *back8, *tail, *to_done, *back1;

	ok = ok && emit2(e, ZYDIS_MNEMONIC_CMP, R(R13), op_imm(8)) &&
	     (to_tail = emit_branch32(e, ZYDIS_MNEMONIC_JB)) &&
	     emit2(e, ZYDIS_MNEMONIC_MOV, R(RAX), op_mem(R9, NONE, 0, 0, 8)) &&
	     emit2(e, ZYDIS_MNEMONIC_CMP, R(RAX), op_mem(R10, NONE, 0, 0, 8)) &&
	     (sites[(*nr)++] = emit_branch32(e, ZYDIS_MNEMONIC_JNZ)) &&
	     emit2(e, ZYDIS_MNEMONIC_ADD, R(R9), op_imm(8)) &&
	     emit2(e, ZYDIS_MNEMONIC_ADD, R(R10), op_imm(8)) &&
	     emit2(e, ZYDIS_MNEMONIC_SUB, R(R13), op_imm(8)) &&
	     (back8 = emit_branch32(e, ZYDIS_MNEMONIC_JMP));
	if (!ok)
		return false;
	patch_rel32(back8, loop8);
	tail = e->pos;
	patch_rel32(to_tail, tail);
	ok = emit2(e, ZYDIS_MNEMONIC_TEST, R(R13), R(R13)) &&
	     (to_done = emit_branch32(e, ZYDIS_MNEMONIC_JZ)) &&
	     emit2(e, ZYDIS_MNEMONIC_MOV, R(AL), op_mem(R9, NONE, 0, 0, 1)) &&
	     emit2(e, ZYDIS_MNEMONIC_CMP, R(AL), op_mem(R10, NONE, 0, 0, 1)) &&
	     (sites[(*nr)++] = emit_branch32(e, ZYDIS_MNEMONIC_JNZ)) &&
	     emit2(e, ZYDIS_MNEMONIC_ADD, R(R9), op_imm(1)) &&
	     emit2(e, ZYDIS_MNEMONIC_ADD, R(R10), op_imm(1)) &&
	     emit2(e, ZYDIS_MNEMONIC_SUB, R(R13), op_imm(1)) &&
	     (back1 = emit_branch32(e, ZYDIS_MNEMONIC_JMP));
	if (!ok)
		return false;
	patch_rel32(back1, tail);
	patch_rel32(to_done, e->pos);
	return true;
}

/* Leaves through the record's exit at offset desc_off: the flags and
 * EAX back, the call's return address dropped (LEA: no flags). */
static bool emit_leave(struct bt_emitter *e, const struct bt_runtime *rt, int64_t desc_off)
{
	const ZydisRegister R11 = ZYDIS_REGISTER_R11, NONE = ZYDIS_REGISTER_NONE;
	uint8_t *j = NULL;

	if (emit1(e, ZYDIS_MNEMONIC_POP, R(RAX)) && emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
	    emit2(e, ZYDIS_MNEMONIC_LEA, R(RSP), op_mem(ZYDIS_REGISTER_RSP, NONE, 0, 8, 8)) &&
	    emit2(e, ZYDIS_MNEMONIC_LEA, R(R11), op_mem(R11, NONE, 0, desc_off, 8)) &&
	    emit2(e, ZYDIS_MNEMONIC_MOV, R(R9D),
		  op_mem(R11, NONE, 0, (int64_t)offsetof(struct bt_exit_desc, target_eip), 4)) &&
	    emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eip), 4), R(R9D)))
		j = emit_branch32(e, ZYDIS_MNEMONIC_JMP);
	if (!j)
		return false;
	patch_rel32(j, rt->common_exit);
	return true;
}

/* The check every self-checking block calls at its entry (r11 = its
 * record), generated once with the runtime: one routine rather than the
 * compare inlined in each block, since such blocks are retranslated at
 * every change and their translation was the storm's cost. */
bool smc_runtime_generate(struct bt_emitter *e, struct bt_runtime *rt)
{
	const ZydisRegister R11 = ZYDIS_REGISTER_R11, NONE = ZYDIS_REGISTER_NONE;
	uint8_t *sites[4], *quiet_site = NULL;
	unsigned nr = 0;

	rt->smc_check = e->pos;
	bool ok = emit0(e, ZYDIS_MNEMONIC_PUSHFQ) && emit1(e, ZYDIS_MNEMONIC_PUSH, R(RAX)) &&
		  emit2(e, ZYDIS_MNEMONIC_MOV, R(R10), op_mem(R11, NONE, 0, REC(copy), 8)) &&
		  emit_compare_part(e, 0, sites, &nr) && emit_compare_part(e, 1, sites, &nr) &&
		  emit2(e, ZYDIS_MNEMONIC_MOV, R(R9), op_mem(R11, NONE, 0, REC(quiet), 8)) &&
		  emit1(e, ZYDIS_MNEMONIC_DEC, op_mem(ZYDIS_REGISTER_R9, NONE, 0, 0, 4)) &&
		  (quiet_site = emit_branch32(e, ZYDIS_MNEMONIC_JZ)) &&
		  emit1(e, ZYDIS_MNEMONIC_POP, R(RAX)) && emit0(e, ZYDIS_MNEMONIC_POPFQ) &&
		  emit0(e, ZYDIS_MNEMONIC_RET);
	if (!ok)
		return false;
	for (unsigned i = 0; i < nr; i++)
		patch_rel32(sites[i], e->pos);
	if (!emit_leave(e, rt, REC(stale)))
		return false;
	patch_rel32(quiet_site, e->pos);
	return emit_leave(e, rt, REC(quiet_exit));
}

/* The block's entry: mov r11, record; call the check. The record is
 * filled in once the block is translated (smc_check_emit). */
bool smc_check_reserve(struct tx *t)
{
	struct smc_record *r = tc_alloc_data(t->tc, sizeof(*r));
	uint8_t *site = NULL;

	if (r && emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)r)))
		site = emit_branch32(&t->e, ZYDIS_MNEMONIC_CALL);
	if (!site)
		return false;
	patch_rel32(site, t->tc->rt.smc_check);
	t->smc_record = r;
	return true;
}

static void smc_exit(struct bt_exit_desc *d, enum bt_exit_kind kind, struct bt_block *b)
{
	d->kind = (uint8_t)kind;
	d->target_eip = b->eip;	/* nothing of the block ran */
	d->from = b;
}

bool smc_check_emit(struct tx *t, uint32_t phys2)
{
	struct bt_block *b = t->b;
	struct bt_vm *vm = t->cpu->vm;
	struct smc_record *r = t->smc_record;
	uint32_t lin = cs_linear(t->cpu, b->eip);
	uint32_t n1 = 4096 - (lin & 4095);

	if (n1 > b->guest_len)
		n1 = b->guest_len;
	uint32_t n2 = b->guest_len - n1;
	const uint8_t *h1 = phys_host(vm, b->phys, n1, false);
	const uint8_t *h2 = n2 ? phys_host(vm, phys2, n2, false) : NULL;
	uint8_t *copy = tc_alloc_data(t->tc, b->guest_len ? b->guest_len : 1);
	/* the quiet counter of the checking page the block is on (its first
	 * if both are) */
	b->smc_page = smc_page_checking(vm, b->phys >> 12) || !n2 ? b->phys >> 12 : phys2 >> 12;
	struct bt_smc_page *p = smc_page_checking(vm, b->smc_page) ? smc_page(vm, b->smc_page) : NULL;
	if (!r || !b->guest_len || !h1 || (n2 && !h2) || !copy || !p)
		return false;
	memcpy(copy, h1, n1);
	if (n2)
		memcpy(copy + n1, h2, n2);
	r->host[0] = h1;
	r->host[1] = h2;
	r->len[0] = n1;
	r->len[1] = n2;
	r->copy = copy;
	r->quiet = &p->quiet;
	smc_exit(&r->stale, BT_EXIT_SMC_STALE, b);
	smc_exit(&r->quiet_exit, BT_EXIT_SMC_QUIET, b);
	return true;
}

/* The dispatcher's side: a mismatch (the block's bytes changed since it
 * was translated) kills the block, and the page keeps being checked. */
void smc_check_stale(struct bt_cpu *cpu, struct bt_block *b)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_smc_page *p = smc_page(vm, b->smc_page);

	cpu->stats.smc_check_stale++;
	if (b->valid)
		tc_invalidate_block(cpu, b);
	if (p && p->checking)
		p->quiet = smc_quiet_count(p);
}

/* The quiet counter ran out at an entry into b: the page is protected
 * again (by the next translation on it, dispatch.c) and its blocks, all
 * self-checking, die (b among them). */
void smc_check_quiet(struct bt_cpu *cpu, struct bt_block *b)
{
	struct bt_vm *vm = cpu->vm;
	uint32_t pg = b->smc_page;
	struct bt_smc_page *p = smc_page(vm, pg);

	if (p && p->checking && !p->quiet) {
		p->checking = 0;
		p->writes = 0;
		vm->nr_smc_checking--;
		cpu->stats.smc_check_reverts++;
		tc_invalidate_phys_range(cpu, pg << 12, (pg << 12) + 4096);
	}
	if (b->valid)
		tc_invalidate_block(cpu, b);
}

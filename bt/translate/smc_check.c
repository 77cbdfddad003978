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
 * The check runs with the guest's flags saved (PUSHFQ/POPFQ: they live in
 * RFLAGS) in r9-r11, scratch at a block entry. It sits after the block's
 * stubs, reached by a jump at the start of the body, since the block's
 * length is known only once it is translated.
 */
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

bool smc_check_reserve(struct tx *t)
{
	t->smc_site = emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP);
	return t->smc_site != NULL;
}

/* An exit stub after POPFQ: eip stays the block's (nothing of it ran). */
static uint8_t *smc_exit_stub(struct tx *t, enum bt_exit_kind kind)
{
	struct bt_exit_desc *d = tc_alloc_data(t->tc, sizeof(*d));
	uint8_t *stub = t->e.pos, *j = NULL;

	if (!d)
		return NULL;
	d->kind = (uint8_t)kind;
	d->target_eip = t->b->eip;
	d->from = t->b;
	d->stub = stub;
	if (emit0(&t->e, ZYDIS_MNEMONIC_POPFQ) &&
	    emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eip), 4), op_imm((int32_t)t->b->eip)) &&
	    emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)d)))
		j = emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP);
	if (!j)
		return NULL;
	patch_rel32(j, t->tc->rt.common_exit);
	return stub;
}

/* Compares n bytes at host (the guest's RAM) with copy: loads of 8, 4, 2
 * or 1 bytes, the last one overlapping the one before rather than reading
 * past the end. Each mismatch site goes into sites[]. */
static bool emit_compare(struct tx *t, const uint8_t *host, const uint8_t *copy, uint32_t n,
			 uint8_t **sites, unsigned *nr_sites, unsigned max_sites)
{
	static const ZydisRegister r9[] = { [1] = ZYDIS_REGISTER_R9B, [2] = ZYDIS_REGISTER_R9W,
					    [4] = ZYDIS_REGISTER_R9D, [8] = ZYDIS_REGISTER_R9 };
	unsigned size = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;

	if (!emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R10), op_imm((int64_t)(uintptr_t)host)) ||
	    !emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)copy)))
		return false;
	for (uint32_t off = 0; off < n; off += size) {
		uint32_t at = off + size <= n ? off : n - size;
		if (*nr_sites == max_sites ||
		    !emit2(&t->e, ZYDIS_MNEMONIC_MOV, op_reg(r9[size]),
			   op_mem(ZYDIS_REGISTER_R10, ZYDIS_REGISTER_NONE, 0, at, (int)size)) ||
		    !emit2(&t->e, ZYDIS_MNEMONIC_CMP, op_reg(r9[size]),
			   op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, at, (int)size)) ||
		    !(sites[(*nr_sites)++] = emit_branch32(&t->e, ZYDIS_MNEMONIC_JNZ)))
			return false;
	}
	return true;
}

bool smc_check_emit(struct tx *t, uint32_t phys2)
{
	struct bt_block *b = t->b;
	struct bt_vm *vm = t->cpu->vm;
	uint32_t lin = cs_linear(t->cpu, b->eip);
	uint32_t n1 = 4096 - (lin & 4095);
	uint8_t *sites[2 + 4096 / 8 + 2];
	unsigned nr = 0;

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
	if (!b->guest_len || !h1 || (n2 && !h2) || !copy || !p)
		return false;
	memcpy(copy, h1, n1);
	if (n2)
		memcpy(copy + n1, h2, n2);

	uint8_t *check = t->e.pos, *quiet_site = NULL;
	bool ok = emit0(&t->e, ZYDIS_MNEMONIC_PUSHFQ) &&
		  emit_compare(t, h1, copy, n1, sites, &nr, sizeof(sites) / sizeof(sites[0])) &&
		  (!n2 || emit_compare(t, h2, copy + n1, n2, sites, &nr, sizeof(sites) / sizeof(sites[0]))) &&
		  emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R10), op_imm((int64_t)(uintptr_t)&p->quiet)) &&
		  emit1(&t->e, ZYDIS_MNEMONIC_DEC,
			op_mem(ZYDIS_REGISTER_R10, ZYDIS_REGISTER_NONE, 0, 0, 4)) &&
		  (quiet_site = emit_branch32(&t->e, ZYDIS_MNEMONIC_JZ)) &&
		  emit0(&t->e, ZYDIS_MNEMONIC_POPFQ);
	uint8_t *back = ok ? emit_branch32(&t->e, ZYDIS_MNEMONIC_JMP) : NULL;
	uint8_t *stale = back ? smc_exit_stub(t, BT_EXIT_SMC_STALE) : NULL;
	uint8_t *quiet = stale ? smc_exit_stub(t, BT_EXIT_SMC_QUIET) : NULL;
	if (!quiet)
		return false;
	patch_rel32(back, t->smc_site + 4);	/* the body after the reserved jump */
	patch_rel32(t->smc_site, check);
	for (unsigned i = 0; i < nr; i++)
		patch_rel32(sites[i], stale);
	patch_rel32(quiet_site, quiet);
	return true;
}

/* The dispatcher's side: a mismatch (the block's bytes changed since it
 * was translated) kills the block, and the page keeps being checked. */
void smc_check_stale(struct bt_cpu *cpu, struct bt_block *b)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_smc_page *p = smc_page(vm, b->phys >> 12);

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

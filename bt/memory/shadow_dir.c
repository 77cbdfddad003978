/*
 * The top-level tables of address spaces that are not loaded. Such a
 * space is used by nothing until its next CR3 load, whose flush comes
 * first (shadow_stale.c), so a write to one of its top-level entries
 * need not mark the mappings built from it stale at once: the space's
 * table is remembered as it was when the space was last current, and at
 * its next load each entry whose value differs has its mappings marked
 * stale then, to be judged by that load's flush. An entry written and
 * written back in between costs nothing.
 *
 * Linux's 2-level directories are where this pays: a directory is a page
 * whose kernel half (~10 entries, ~1,500 mappings of the direct map in
 * that space's view) Linux zeroes when it takes the page again and copies
 * back in pgd_ctor, or zeroes as data after the process exited. Marked
 * stale at the zeroing, that whole kernel half was judged again at the
 * space's next load, found exact, and kept: ~3,000 records touched twice
 * per fork+exec of /bin/true, the biggest part of bt's own time in it.
 *
 * Such a page need not even stay traced while its space is not loaded:
 * the load compares every entry with the remembered ones, whoever wrote
 * them. So a trapped write to it stops its tracing as soon as nothing
 * else was built from it (the untrace rule of shadow_pt_write.c, with the
 * deferred space's mappings left out), and it is written as data
 * without a trap; the load traces it again.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/shadow_index.h"

void dir_snapshot(struct bt_vm *vm, unsigned s)
{
	struct shadow_space *sp = &vm->shadow->space[s];
	bool pae = shadow_entry_width(vm) == 8;
	uint32_t base = pae ? (uint32_t)sp->cr3 & ~0x1fu : (uint32_t)sp->cr3 & ~0xfffu;
	uint32_t len = pae ? 32 : 4096;

	sp->dir_snapped = false;
	sp->dir_deferred = false;
	sp->dir_untraced = false;
	if (!sp->used || !vm->cpu || !(vm->cpu->arch.cr0 & CR0_PG) ||
	    sp->cr3 >> 32 || (uint64_t)base + len > vm->ram_size)
		return;
	memcpy(sp->dir_snap, vm->ram + base, len);
	sp->dir_base = base;
	sp->dir_len = len;
	sp->dir_snapped = true;
}

int dir_space_of(const struct bt_shadow *sh, uint32_t e)
{
	for (unsigned s = 0; s < BT_NR_SPACES; s++) {
		const struct shadow_space *sp = &sh->space[s];
		if (s != sh->cur && sp->dir_snapped && e - sp->dir_base < sp->dir_len)
			return (int)s;
	}
	return -1;
}

void dir_judge(struct bt_vm *vm, unsigned s)
{
	struct shadow_space *sp = &vm->shadow->space[s];
	uint32_t width = shadow_entry_width(vm);

	if (!sp->dir_deferred)
		return;
	sp->dir_deferred = false;
	for (uint32_t off = 0; off < sp->dir_len; off += width) {
		const uint8_t *now = vm->ram + sp->dir_base + off;
		if (!memcmp(sp->dir_snap + off, now, width))
			continue;
		stale_from_entry(vm, sp->dir_base + off, -1);
		memcpy(sp->dir_snap + off, now, width);
	}
	if (sp->dir_untraced) {
		/* traced again, write-protected wherever it is mapped */
		uint32_t e = sp->dir_base;
		sp->dir_untraced = false;
		trace_entry_pages(vm, &e, 1);
	}
}

bool dir_only_deferred(struct bt_vm *vm, uint32_t page)
{
	struct bt_shadow *sh = vm->shadow;
	uint32_t deferred = 0, spaces = 0;

	for (unsigned s = 0; s < BT_NR_SPACES; s++) {
		const struct shadow_space *sp = &sh->space[s];
		if (s != sh->cur && sp->dir_deferred && sp->dir_base >> 12 == page) {
			deferred += sp->nonstale;
			spaces |= 1u << s;
		}
	}
	/* each of those spaces' records has exactly one entry node in its
	 * top-level table; any other node left here is someone else's */
	if (!spaces || sh->ent_count[page] - sh->ent_stale[page] != deferred)
		return false;
	for (unsigned s = 0; s < BT_NR_SPACES; s++)
		if (spaces >> s & 1)
			sh->space[s].dir_untraced = true;
	return true;
}

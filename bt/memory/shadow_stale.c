/*
 * The shadow MMU's deferred drops. A write to a guest entry that leaves a
 * mapping without a successful A-set walk (cleared P, a new frame with A
 * clear, rights taken away) used to unmap that page at once, one mmap per
 * page: Linux's exit and exec clear every PTE of a process one after the
 * other (zap_pte_range), ~1,300 unmaps per fork+exec of /bin/true.
 *
 * The processor may go on using a translation after the entry it came
 * from changed, until the TLB entry is invalidated: INVLPG, a MOV to CR3
 * (CR0/CR4 changes too), SDM Vol. 3A 4.10.4.2 and 4.10.4.3 ("the
 * processor may use the old translation"). Linux relies on no more: it
 * frees a page only after that flush (mmu_gather). So such a mapping is
 * marked stale and kept, and all stale mappings are unmapped at the next
 * INVLPG, CR3 load or CR4.PGE change, neighbouring linear pages of one
 * view with one mmap. A stale record stays in every index until then: a write to its
 * entry still finds it (and maps it again if the walk now succeeds), and
 * protecting its physical page (it became code or a page table) still
 * reaches it. QEMU's soft TLB keeps such translations until the flush
 * too. At the flush a stale mapping that a fill would make again as it
 * is (the entry was written back as it was) is kept. Not in signal
 * context.
 *
 * Each address space keeps its own stale list, and a flush (INVLPG, a
 * CR4.PGE change) looks at the current space's only; a CR3 load looks at
 * the list of the space it loads. A space that is not loaded is used by
 * nothing (translated code runs in the current space's views), so its
 * stale mappings wait for its next CR3 load, whose flush comes first:
 * the processor could not use them before that either. This matters for
 * a directory Linux frees at exit: the page is soon handed out zeroed
 * (a page table, a process's data), which marks that space's whole
 * kernel half stale, and a flush then found every kernel entry clear and
 * unmapped it all (~1,100 mappings per fork+exec of /bin/true), to fault
 * back in after the page became a directory again (pgd_ctor copies the
 * kernel entries back). Judged at the load instead, the kernel half is
 * whole again and kept.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/shadow_index.h"

static void flush_space(struct bt_vm *vm, unsigned s);

void rec_drop_later(struct bt_vm *vm, uint32_t id)
{
	struct bt_shadow *sh = vm->shadow;
	struct shadow_rec *r = rec_of(sh, id);
	unsigned s = (id - 1) / BT_SHADOW_RECS;
	struct shadow_space *sp = &sh->space[s];

	if (!r->live || r->stale)
		return;
	if (sp->nr_stale == BT_STALE_MAX)
		flush_space(vm, s);
	rec_set_stale(sh, s, r, true);
	sp->stale[sp->nr_stale++] = id;
}

/* (space, view, linear page) as one sortable key */
static uint64_t stale_key(const struct bt_shadow *sh, uint32_t id)
{
	const struct shadow_rec *r = &sh->space[(id - 1) / BT_SHADOW_RECS].rec[(id - 1) % BT_SHADOW_RECS];

	return ((uint64_t)((id - 1) / BT_SHADOW_RECS * BT_NR_VIEWS + r->view) << 32) | r->lin_page;
}

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether the pages of keys [from, to) (one view of space s, a short
 * way) hold no mapping: no record, and not the traced page-table page
 * (mapped without one, shadow_pt_write.c). Such a gap is PROT_NONE
 * already, so the stale runs on both sides go in one mmap: a process's
 * pages die in clusters with holes (its text as far as it ran, its heap,
 * its stack), one mmap per piece was ~24 per fork+exec of /bin/true. */
#define BT_GAP_MAX	64	/* pages looked up in a gap at most */
static bool gap_empty(struct bt_vm *vm, unsigned s, uint64_t from, uint64_t to)
{
	struct bt_shadow *sh = vm->shadow;
	unsigned view = (unsigned)(from >> 32) % BT_NR_VIEWS;
	const struct shadow_trace *t = &sh->trace;

	if (to - from > BT_GAP_MAX || (from >> 32) != (to >> 32))
		return false;
	for (uint64_t key = from; key < to; key++) {
		uint32_t page = (uint32_t)key;
		if (rec_find(&sh->space[s], page, view) >= 0 ||
		    (t->active && t->space == s && t->view == view && t->lin >> 12 == page))
			return false;
	}
	return true;
}

/* Unmaps [lin_page, lin_page + n) of one view of one space. */
static void unmap_run(struct bt_vm *vm, uint64_t key, uint32_t n)
{
	unsigned sv = (unsigned)(key >> 32);

	mmap(view_space_base(vm, sv / BT_NR_VIEWS, (int)(sv % BT_NR_VIEWS)) +
	     ((key & 0xffffffffu) << 12), (uint64_t)n << 12, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (vm->cpu)
		vm->cpu->stats.shadow_stale_unmaps++;
}

/* The last walk still_exact made in this flush: a record built from the
 * same entries at another linear page lies in the same large page (one
 * leaf entry maps both), so that walk's answer holds for it, its frame
 * that many pages on. RAM does not change during a flush. Linux's
 * pgd_alloc stales a space's whole kernel half (~1,500 records, 64 KiB
 * runs of 16 from the direct map's large pages): one walk per run. */
struct exact_memo {
	bool valid, ok, writable_dirty;
	unsigned space;
	struct shadow_rec rec;		/* its lin_page, view, entries */
	uint32_t phys_page;		/* the walk's frame for rec.lin_page */
};

static bool same_leaf(const struct exact_memo *m, unsigned s, const struct shadow_rec *r)
{
	return m->valid && m->space == s && m->rec.view == r->view &&
	       m->rec.nentries == r->nentries && m->rec.lin_page != r->lin_page &&
	       !memcmp(m->rec.entry, r->entry, sizeof(r->entry[0]) * r->nentries);
}

/* Whether a stale record's mapping is what a fill would make now: the
 * walk in its space's tables succeeds with A set everywhere, through the
 * same entries to the same page, granting the write it was mapped with
 * (D set); m answers for the rest of a large page's run. */
static bool still_exact(struct bt_vm *vm, unsigned s, const struct shadow_rec *r,
			struct exact_memo *m)
{
	const struct shadow_space *sp = &vm->shadow->space[s];
	struct bt_cpu *cpu = vm->cpu;
	struct mmu_walk w;

	if (!cpu || !(cpu->arch.cr0 & CR0_PG) || !sp->used)
		return false;
	if (!same_leaf(m, s, r)) {
		m->valid = true;
		m->space = s;
		m->rec = *r;
		m->ok = !mmu_walk_accessed_in(cpu, sp->cr3, r->lin_page << 12, r->view == 1, &w) &&
			w.nentries == r->nentries &&
			!memcmp(w.entry, r->entry, sizeof(w.entry[0]) * w.nentries);
		m->phys_page = m->ok ? w.phys >> 12 : 0;
		m->writable_dirty = m->ok && w.writable && w.dirty;
	}
	return m->ok && r->phys_page == m->phys_page + (r->lin_page - m->rec.lin_page) &&
	       (!r->writable || m->writable_dirty);
}

/* Unmaps space s's stale mappings (those a fill would not make again). */
static void flush_space(struct bt_vm *vm, unsigned s)
{
	struct bt_shadow *sh = vm->shadow;
	struct shadow_space *sp = &sh->space[s];
	static uint64_t keys[BT_STALE_MAX];	/* one vCPU thread flushes */
	struct exact_memo memo = { .valid = false };
	uint32_t n = 0;

	for (uint32_t k = 0; k < sp->nr_stale; k++) {
		uint32_t id = sp->stale[k];
		struct shadow_rec *r = rec_of(sh, id);
		if (!r->live || !r->stale)
			continue;	/* refilled, updated or forgotten since */
		rec_set_stale(sh, s, r, false);
		if (still_exact(vm, s, r, &memo)) {
			/* a page only stale mappings came from may have
			 * stopped being traced (shadow_trace_begin) */
			trace_entry_pages(vm, r->entry, r->nentries);
			if (vm->cpu)
				vm->cpu->stats.shadow_stale_kept++;
			continue;
		}
		keys[n++] = stale_key(sh, id);
		uint32_t lin = r->lin_page << 12;
		rec_unlink(sh, s, (id - 1) % BT_SHADOW_RECS);
		if (s == sh->cur && vm->cpu)
			vm->hooks.mapping_dropped(vm->cpu, lin);
		if (vm->cpu)
			vm->cpu->stats.shadow_drops++;
	}
	sp->nr_stale = 0;
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	for (uint32_t k = 0; k < n;) {
		uint32_t run = 1;
		uint64_t end = keys[k] + 1;	/* one past the run's last page */
		while (k + run < n) {
			uint64_t next = keys[k + run];
			if (next == end && (next & 0xffffffffu) != 0) {
				end = next + 1;
				run++;
			} else if (next > end && gap_empty(vm, s, end, next)) {
				end = next + 1;
				run++;
			} else {
				break;
			}
		}
		unmap_run(vm, keys[k], (uint32_t)(end - keys[k]));
		k += run;
	}
}

void stale_from_entry(struct bt_vm *vm, uint32_t e, int skip)
{
	static uint32_t many[BT_STALE_MAX];	/* one vCPU thread writes page tables */
	struct bt_shadow *sh = vm->shadow;
	unsigned n = recs_from_entry(sh, e, many, BT_STALE_MAX);

	if (n <= BT_STALE_MAX) {
		for (unsigned k = 0; k < n; k++)
			if ((int)((many[k] - 1) / BT_SHADOW_RECS) != skip)
				rec_drop_later(vm, many[k]);
		return;
	}
	for (uint32_t id; (id = rec_from_entry(sh, e));)
		rec_drop(vm, (id - 1) / BT_SHADOW_RECS, (id - 1) % BT_SHADOW_RECS);
}

void shadow_flush_stale(struct bt_vm *vm)
{
	if (vm->shadow && vm->shadow->space[vm->shadow->cur].nr_stale)
		flush_space(vm, vm->shadow->cur);
}


/*
 * The shadow MMU. Each view is a shadow page table: a linear page is mapped
 * (mmap of the RAM memfd at the guest-physical page) when translated code
 * first touches it, with the rights the guest tables grant to that view,
 * and a record remembers which guest entries (PDPTE, PDE, PTE) it came
 * from. Because every page-table page behind a mapping is write-protected
 * in every view and writes to it are traced, mappings stay exact without
 * the guest's help, so:
 *  - the views of the last BT_NR_SPACES CR3 values are kept: a CR3 load
 *    switches to a cached address space instead of starting empty;
 *  - a write to a page table concerns only the mappings built from the
 *    entries it changed (a before/after diff of the page): it maps them
 *    again at once when their walk would set no A (shadow_pt_write.c),
 *    or marks them stale, unmapped at the next INVLPG or CR3 load
 *    (shadow_stale.c); INVLPG has nothing else to drop;
 *  - an instruction that keeps trapping on page-table writes (Adams &
 *    Agesen) is retranslated as a callout that makes the page writable,
 *    runs it alone and diffs, without a host fault.
 * A and D bits are set at fill time; a clean page is mapped read-only so
 * the first write comes back here to set D. A fault inside a large page
 * maps 64 KiB of it (map_large_run); one on a 4K page, the neighbours
 * that would be mapped the same way (shadow_pte_run.c).
 *
 * Fills, drops and protections run in the SIGSEGV handler too: nothing
 * here allocates; records are fixed arrays, and a full one drops its
 * address space. Records are indexed (mmu.h, shadow_index.c), so a fill,
 * a protection or a page-table write costs the mappings it concerns, not
 * a scan of all.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/shadow_index.h"
#include "bt/memory/soft_tlb.h"

_Static_assert(BT_VIEW_BYTES == (1ull << 32) * BT_NR_VIEWS * BT_NR_SPACES,
	       "bt.h's view reservation matches mmu.h's spaces");

void unmap_page(struct bt_vm *vm, unsigned space, unsigned view, uint32_t lin_page)
{
	mmap(view_space_base(vm, space, (int)view) + ((uint64_t)lin_page << 12), 4096, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

int shadow_init(struct bt_vm *vm, char *err, size_t errlen)
{
	void *p = mmap(NULL, sizeof(struct bt_shadow), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "bt: shadow MMU: out of memory");
		return -1;
	}
	vm->shadow = p;
	return 0;
}

void shadow_destroy(struct bt_vm *vm)
{
	if (vm->shadow && vm->shadow->phys_head)
		munmap(vm->shadow->phys_head, vm->shadow->npages * BT_INDEX_ARRAYS * sizeof(uint32_t));
	if (vm->shadow)
		munmap(vm->shadow, sizeof(struct bt_shadow));
	vm->shadow = NULL;
}

static void space_drop(struct bt_vm *vm, unsigned s)
{
	struct shadow_space *sp = &vm->shadow->space[s];

	if (sp->used || sp->nr)
		view_clear_space(vm, s);
	space_forget(vm->shadow, s);
	sp->used = false;
	sp->dir_snapped = sp->dir_deferred = sp->dir_untraced = false;
}

void shadow_reset(struct bt_vm *vm)
{
	struct bt_shadow *sh = vm->shadow;

	if (!sh)
		return;
	for (unsigned s = 0; s < BT_NR_SPACES; s++)
		space_drop(vm, s);
	index_size(vm);		/* after the drops: every head is 0 again */
	view_clear_space(vm, 0);	/* the flat view lives there */
	if (vm->pt_pages)
		memset(vm->pt_pages, 0, vm->ram_size >> 12);
	sh->trace.active = false;
	soft_tlb_flush(vm->cpu);	/* CR0/CR4/EFER paging changes */
	sh->cur = 0;
	sh->space[0].used = true;
	sh->space[0].cr3 = vm->cpu ? vm->cpu->arch.cr3 : 0;
	sh->space[0].last_use = ++sh->tick;
}

void shadow_cr3_loaded(struct bt_cpu *cpu)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_shadow *sh = vm->shadow;
	unsigned victim = 0;

	shadow_trace_end(cpu);
	soft_tlb_flush(cpu);
	dir_snapshot(vm, sh->cur);	/* the space being left */
	for (unsigned s = 0; s < BT_NR_SPACES; s++) {
		struct shadow_space *sp = &sh->space[s];
		if (sp->used && sp->cr3 == cpu->arch.cr3) {
			sh->cur = s;
			sp->last_use = ++sh->tick;
			cpu->stats.cr3_hits++;
			dir_judge(vm, s);
			/* a CR3 load flushes the TLB: the space's stale
			 * mappings, kept while it was not loaded, go now */
			shadow_flush_stale(vm);
			return;
		}
		if (!sp->used)
			victim = s;
		else if (sh->space[victim].used && sp->last_use < sh->space[victim].last_use)
			victim = s;
	}
	cpu->stats.cr3_misses++;
	space_drop(vm, victim);
	sh->space[victim].used = true;
	sh->space[victim].cr3 = cpu->arch.cr3;
	sh->space[victim].last_use = ++sh->tick;
	sh->cur = victim;
}

bool shadow_is_pt_page(const struct bt_vm *vm, uint32_t page)
{
	return vm->pt_pages && page < (vm->ram_size >> 12) && vm->pt_pages[page];
}

/* Whether record id is the traced page-table page's (shadow_pt_write.c):
 * mapped writable for one instruction, its record saying read-only. */
static bool traced_window(const struct bt_shadow *sh, uint32_t id, const struct shadow_rec *r)
{
	const struct shadow_trace *t = &sh->trace;

	return t->active && t->space == (id - 1) / BT_SHADOW_RECS && t->view == r->view &&
	       t->lin >> 12 == r->lin_page;
}

/* Every mapping of a physical page, in every address space, read-only.
 * Those mapped read-only already cost nothing: a page table Linux frees
 * and takes again (a PTE page at each fork) stops being traced when it is
 * zeroed, becomes writable in the space that zeroed it only, and was
 * protected again in every space that maps it (the kernel's direct map
 * in each cached space): 65 mprotects per fork+exec of /bin/true, 9 now. */
static void protect_everywhere(struct bt_vm *vm, uint32_t page)
{
	struct bt_shadow *sh = vm->shadow;

	/* the soft TLB gives no write to such a page (soft_tlb.c) */
	soft_tlb_drop_writes(vm->cpu, page);
	if (!page_indexed(sh, page))
		return;		/* above the indexed pages: never code or a page table */
	for (uint32_t id = sh->phys_head[page]; id; id = rec_of(sh, id)->phys_next) {
		struct shadow_rec *r = rec_of(sh, id);
		if (!r->writable && !traced_window(sh, id, r))
			continue;
		r->writable = false;
		mprotect(view_space_base(vm, (id - 1) / BT_SHADOW_RECS, r->view) +
			 ((uint64_t)r->lin_page << 12), 4096, PROT_READ);
		if (vm->cpu)
			vm->cpu->stats.shadow_protects++;
	}
}

void shadow_protect_phys_page(struct bt_vm *vm, uint32_t page)
{
	protect_everywhere(vm, page);
}

void trace_entry_pages(struct bt_vm *vm, const uint32_t *entry, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t pt = entry[i] >> 12;
		if (pt < (vm->ram_size >> 12) && !vm->pt_pages[pt]) {
			vm->pt_pages[pt] = 1;
			protect_everywhere(vm, pt);
		}
	}
}

/* Maps linear page lin_page of a view of the current space after walk w,
 * with the rights the walk grants (read-only while D is clear, or the
 * page holds code or a page table), replacing the page's record (a
 * refill: made read-only, D was clear, or the entry changed). Signal
 * context too. false if the mapping failed (nothing mapped then). */
bool map_walked(struct bt_vm *vm, unsigned view, uint32_t lin_page,
		       const struct mmu_walk *w, const struct bt_phys_region *region)
{
	struct bt_shadow *sh = vm->shadow;
	struct shadow_space *sp = &sh->space[sh->cur];
	uint32_t page = w->phys >> 12;

	int64_t old = rec_find(sp, lin_page, view);
	if (old >= 0)
		rec_unlink(sh, sh->cur, (uint32_t)old);
	if (!sp->free && sp->nr == BT_SHADOW_RECS) {
		view_clear_space(vm, sh->cur);	/* forget, rather than grow */
		space_forget(sh, sh->cur);
	}
	/* the entries behind this mapping become traced page-table pages */
	trace_entry_pages(vm, w->entry, w->nentries);
	int prot = PROT_READ;
	if (w->writable && w->dirty && !vm->code_pages[page] && !vm->pt_pages[page] &&
	    !region->readonly)
		prot |= PROT_WRITE;
	uint8_t *at = view_base(vm, (int)view) + ((uint64_t)lin_page << 12);
	/* not MAP_POPULATE: it saved the host page fault that follows a
	 * fill, but its get_user_pages cost more (8% of a fork+exec loop's
	 * samples against 3% for those faults) */
	if (mmap(at, 4096, prot, MAP_SHARED | MAP_FIXED, vm->memfd,
		 phys_memfd_offset(region, w->phys & ~0xfffu)) == MAP_FAILED) {
		unmap_page(vm, sh->cur, view, lin_page);	/* no mapping without a record */
		return false;
	}
	struct shadow_rec *r = rec_add(sh, sh->cur, lin_page, view, page, w);
	if (r)
		r->writable = prot & PROT_WRITE;
	return true;
}

#define BT_LARGE_RUN 16	/* 4K pages mapped at once inside a 2M/4M page: 64 KiB */

/* A fault inside a large page maps the aligned 64 KiB around it with one
 * mmap: the large page has one leaf entry, whose A (and D, on a write)
 * this walk has just set, so each neighbour's own walk would find the
 * same entries and change nothing; mapping it now is invisible to the
 * guest and saves its host fault (Linux's direct map of low memory is
 * 4M pages). Not when a writable run would hold a code or page-table
 * page (those stay read-only), nor near a full space. Signal context. */
static bool map_large_run(struct bt_vm *vm, unsigned view, uint32_t lin,
			  const struct mmu_walk *w, const struct bt_phys_region *region)
{
	struct bt_shadow *sh = vm->shadow;
	struct shadow_space *sp = &sh->space[sh->cur];
	uint32_t lin0 = (lin >> 12) & ~(BT_LARGE_RUN - 1u);
	uint64_t phys0 = (w->phys & ~0xfffull) - (uint64_t)((lin >> 12) - lin0) * 4096;
	bool writable = w->writable && w->dirty && !region->readonly;
	const struct shadow_trace *t = &sh->trace;

	if (t->active && t->space == sh->cur && t->view == view && (t->lin >> 12) - lin0 < BT_LARGE_RUN)
		return false;	/* the traced page's writable window stays */
	if (!w->large || sp->nr + BT_LARGE_RUN > BT_SHADOW_RECS ||
	    (phys0 >> 12) + BT_LARGE_RUN > sh->npages ||
	    phys_region(vm, phys0, BT_LARGE_RUN * 4096) != region)
		return false;
	trace_entry_pages(vm, w->entry, w->nentries);
	for (uint32_t p = (uint32_t)(phys0 >> 12); writable && p < (phys0 >> 12) + BT_LARGE_RUN; p++)
		if (vm->code_pages[p] || vm->pt_pages[p])
			return false;
	for (uint32_t i = 0; i < BT_LARGE_RUN; i++) {
		int64_t old = rec_find(sp, lin0 + i, view);
		if (old >= 0)
			rec_unlink(sh, sh->cur, (uint32_t)old);
	}
	uint8_t *at = view_base(vm, (int)view) + ((uint64_t)lin0 << 12);
	if (mmap(at, BT_LARGE_RUN * 4096, PROT_READ | (writable ? PROT_WRITE : 0),
		 MAP_SHARED | MAP_FIXED, vm->memfd, phys_memfd_offset(region, phys0)) == MAP_FAILED) {
		mmap(at, BT_LARGE_RUN * 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		return false;	/* nothing mapped, no record: the single page then */
	}
	for (uint32_t i = 0; i < BT_LARGE_RUN; i++) {
		struct shadow_rec *r = rec_add(sh, sh->cur, lin0 + i, view,
					       (uint32_t)(phys0 >> 12) + i, w);
		if (r)
			r->writable = writable;
	}
	return true;
}

/* The guest's #PF at lin, which invalidates the translations of that
 * address (SDM Vol. 3A 4.10.4.1): a stale mapping of it goes. Signal
 * context too. */
void shadow_pf_drop_stale(struct bt_cpu *cpu, uint32_t lin)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_shadow *sh = vm->shadow;
	unsigned view = bt_cpl(cpu) == 3 ? 1 : 0;
	int64_t i = rec_find(&sh->space[sh->cur], lin >> 12, view);

	if (i >= 0 && sh->space[sh->cur].rec[i].stale)
		rec_drop(vm, sh->cur, (uint32_t)i);
}

/* Signal context (async-signal-safe: reads RAM, calls mmap). */
bool shadow_fill(struct bt_cpu *cpu, uint32_t lin, bool write)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_shadow *sh = vm->shadow;
	int view = bt_cpl(cpu) == 3 ? 1 : 0;
	struct mmu_walk w;

	if (!sh->phys_head)
		return false;			/* no index (out of memory): unresolvable */
	if (mmu_walk(cpu, lin, write ? MMU_WRITE : 0, view == 1, &w)) {
		shadow_pf_drop_stale(cpu, lin);
		return false;
	}
	uint32_t page = w.phys >> 12;
	const struct bt_phys_region *region = phys_region(vm, w.phys, 1);
	if (!region || (write && region->readonly))
		return false;			/* MMIO, or a write to ROM */
	if (write && (vm->code_pages[page] || vm->pt_pages[page]))
		return false;			/* self-modifying code, page-table write */
	if (!map_large_run(vm, (unsigned)view, lin, &w, region) &&
	    !map_pte_run(vm, (unsigned)view, lin, &w, region) &&
	    !map_walked(vm, (unsigned)view, lin >> 12, &w, region))
		return false;
	cpu->stats.hidden_faults++;
	return true;
}

void rec_drop(struct bt_vm *vm, unsigned s, uint32_t i)
{
	struct shadow_rec r = vm->shadow->space[s].rec[i];

	unmap_page(vm, s, r.view, r.lin_page);
	rec_unlink(vm->shadow, s, i);
	if (s == vm->shadow->cur && vm->cpu)
		vm->hooks.mapping_dropped(vm->cpu, r.lin_page << 12);
	if (vm->cpu)
		vm->cpu->stats.shadow_drops++;
}

/* Unmaps one linear page of one view with its record. A record always
 * names a live mapping (or protecting it would make an anonymous zero
 * page readable there), and every mapping has a record but the traced
 * page-table page (shadow_trace_end unmaps that itself): so no record,
 * nothing mapped, and no system call. An INVLPG of a page the views never
 * mapped cost two mmap calls before (ptemod: 77% of its time). */
void drop_lin(struct bt_vm *vm, unsigned s, unsigned view, uint32_t lin_page)
{
	int64_t i = rec_find(&vm->shadow->space[s], lin_page, view);

	if (i >= 0)
		rec_drop(vm, s, (uint32_t)i);
}

/* Every write to an entry a mapping was built from has already updated
 * that mapping or marked it stale (traced, emulated, or reported by C and
 * DMA), so INVLPG unmaps the stale ones (all of them, as neighbours are
 * unmapped together: Linux clears a range's PTEs, then INVLPGs each page)
 * and has nothing else to drop; dropping
 * anyway would undo an update made at the PTE write (set_pte, then
 * flush_tlb_page) and cost a host fault and a fill at the next touch.
 * The exception: entries outside the indexed RAM, whose writes nothing
 * reports. */
void shadow_invlpg(struct bt_cpu *cpu, uint32_t lin)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_shadow *sh = vm->shadow;
	unsigned s = sh->cur;

	shadow_flush_stale(vm);
	soft_tlb_flush_page(cpu, lin);
	for (unsigned v = 0; v < BT_NR_VIEWS; v++) {
		int64_t i = rec_find(&sh->space[s], lin >> 12, v);
		if (i < 0)
			continue;
		const struct shadow_rec *r = &sh->space[s].rec[i];
		bool indexed = true;
		for (unsigned k = 0; k < r->nentries; k++)
			indexed = indexed && page_indexed(sh, r->entry[k] >> 12);
		if (!indexed)
			rec_drop(vm, s, (uint32_t)i);
	}
}

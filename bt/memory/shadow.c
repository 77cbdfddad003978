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
 *  - a write to a page table drops only the mappings built from the
 *    entries it changed (a before/after diff of the page), or maps them
 *    again at once when their walk would set no A (rec_update); INVLPG
 *    then has nothing left to drop;
 *  - an instruction that keeps trapping on page-table writes (Adams &
 *    Agesen) is retranslated as a callout that makes the page writable,
 *    runs it alone and diffs, without a host fault.
 * A and D bits are set at fill time; a clean page is mapped read-only so
 * the first write comes back here to set D. A fault inside a large page
 * maps 64 KiB of it (map_large_run).
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

_Static_assert(BT_VIEW_BYTES == (1ull << 32) * BT_NR_VIEWS * BT_NR_SPACES,
	       "bt.h's view reservation matches mmu.h's spaces");

static void unmap_page(struct bt_vm *vm, unsigned space, unsigned view, uint32_t lin_page)
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
		munmap(vm->shadow->phys_head, vm->shadow->npages * 2 * sizeof(uint32_t));
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
	for (unsigned s = 0; s < BT_NR_SPACES; s++) {
		struct shadow_space *sp = &sh->space[s];
		if (sp->used && sp->cr3 == cpu->arch.cr3) {
			sh->cur = s;
			sp->last_use = ++sh->tick;
			cpu->stats.cr3_hits++;
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

/* Every mapping of a physical page, in every address space, read-only. */
static void protect_everywhere(struct bt_vm *vm, uint32_t page)
{
	struct bt_shadow *sh = vm->shadow;

	if (!page_indexed(sh, page))
		return;		/* above the indexed pages: never code or a page table */
	for (uint32_t id = sh->phys_head[page]; id; id = rec_of(sh, id)->phys_next) {
		const struct shadow_rec *r = rec_of(sh, id);
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

/* Maps linear page lin_page of a view of the current space after walk w,
 * with the rights the walk grants (read-only while D is clear, or the
 * page holds code or a page table), replacing the page's record (a
 * refill: made read-only, D was clear, or the entry changed). Signal
 * context too. false if the mapping failed (nothing mapped then). */
static bool map_walked(struct bt_vm *vm, unsigned view, uint32_t lin_page,
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
	for (unsigned i = 0; i < w->nentries; i++) {
		uint32_t pt = w->entry[i] >> 12;
		if (pt < (vm->ram_size >> 12) && !vm->pt_pages[pt]) {
			vm->pt_pages[pt] = 1;
			protect_everywhere(vm, pt);
		}
	}
	int prot = PROT_READ;
	if (w->writable && w->dirty && !vm->code_pages[page] && !vm->pt_pages[page] &&
	    !region->readonly)
		prot |= PROT_WRITE;
	uint8_t *at = view_base(vm, (int)view) + ((uint64_t)lin_page << 12);
	if (mmap(at, 4096, prot, MAP_SHARED | MAP_FIXED, vm->memfd,
		 phys_memfd_offset(region, w->phys & ~0xfffu)) == MAP_FAILED) {
		unmap_page(vm, sh->cur, view, lin_page);	/* no mapping without a record */
		return false;
	}
	rec_add(sh, sh->cur, lin_page, view, page, w);
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
	for (unsigned i = 0; i < w->nentries; i++) {
		uint32_t pt = w->entry[i] >> 12;
		if (pt < (vm->ram_size >> 12) && !vm->pt_pages[pt]) {
			vm->pt_pages[pt] = 1;
			protect_everywhere(vm, pt);
		}
	}
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
	for (uint32_t i = 0; i < BT_LARGE_RUN; i++)
		rec_add(sh, sh->cur, lin0 + i, view, (uint32_t)(phys0 >> 12) + i, w);
	return true;
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
	if (mmu_walk(cpu, lin, write ? MMU_WRITE : 0, view == 1, &w))
		return false;			/* the guest's #PF */
	uint32_t page = w.phys >> 12;
	const struct bt_phys_region *region = phys_region(vm, w.phys, 1);
	if (!region || (write && region->readonly))
		return false;			/* MMIO, or a write to ROM */
	if (write && (vm->code_pages[page] || vm->pt_pages[page]))
		return false;			/* self-modifying code, page-table write */
	if (!map_large_run(vm, (unsigned)view, lin, &w, region) &&
	    !map_walked(vm, (unsigned)view, lin >> 12, &w, region))
		return false;
	cpu->stats.hidden_faults++;
	return true;
}

static void rec_drop(struct bt_vm *vm, unsigned s, uint32_t i)
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
static void drop_lin(struct bt_vm *vm, unsigned s, unsigned view, uint32_t lin_page)
{
	int64_t i = rec_find(&vm->shadow->space[s], lin_page, view);

	if (i >= 0)
		rec_drop(vm, s, (uint32_t)i);
}

/* Every write to an entry a mapping was built from has already dropped
 * or updated that mapping (traced, emulated, or reported by C and DMA),
 * so a mapping is never stale and INVLPG has nothing to drop; dropping
 * anyway would undo an update made at the PTE write (set_pte, then
 * flush_tlb_page) and cost a host fault and a fill at the next touch.
 * The exception: entries outside the indexed RAM, whose writes nothing
 * reports. */
void shadow_invlpg(struct bt_cpu *cpu, uint32_t lin)
{
	struct bt_vm *vm = cpu->vm;
	struct bt_shadow *sh = vm->shadow;
	unsigned s = sh->cur;

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

/* After a write to one of its entries: a mapping of the current space
 * whose walk now succeeds with A already set everywhere (Linux's PTEs
 * carry A from the start) is mapped again at once, one mmap where
 * dropping it cost an unmap, a host fault and a fill; otherwise dropped,
 * and the next touch walks (setting A as the CPU would). */
static void rec_update(struct bt_vm *vm, uint32_t id)
{
	struct bt_shadow *sh = vm->shadow;
	unsigned s = (id - 1) / BT_SHADOW_RECS;
	uint32_t i = (id - 1) % BT_SHADOW_RECS;
	struct shadow_rec r = sh->space[s].rec[i];
	struct bt_cpu *cpu = vm->cpu;
	struct mmu_walk w;
	const struct bt_phys_region *region;

	if (!r.live)
		return;		/* named twice (a directory mapping itself), gone */
	if (cpu && s == sh->cur && (cpu->arch.cr0 & CR0_PG) &&
	    !mmu_walk_accessed(cpu, r.lin_page << 12, r.view == 1, &w) &&
	    (region = phys_region(vm, w.phys, 1)) &&
	    (sh->space[s].free || sh->space[s].nr < BT_SHADOW_RECS)) {
		if (map_walked(vm, r.view, r.lin_page, &w, region)) {
			vm->hooks.mapping_dropped(cpu, r.lin_page << 12);
			cpu->stats.shadow_updates++;
			return;
		}
		return;		/* map_walked unmapped it and dropped its record */
	}
	rec_drop(vm, s, i);
}

#define BT_UPDATE_MAX 8	/* more mappings from one entry (a PDE): dropped */

/* Drops or updates the mappings built from entries in [phys, phys + len),
 * which lies in one page: each entry it covers is looked up in the entry
 * index. The ids are taken first: an update adds a record built from the
 * same entry. */
static void entries_changed(struct bt_vm *vm, uint32_t phys, uint32_t len)
{
	struct bt_shadow *sh = vm->shadow;
	uint32_t width = vm->cpu && (vm->cpu->arch.cr4 & CR4_PAE) ? 8 : 4;
	uint32_t page = phys >> 12;

	if (!page_indexed(sh, page))
		return;
	for (uint32_t e = phys & ~(width - 1); e < phys + len && sh->ent_count[page]; e += width) {
		uint32_t ids[BT_UPDATE_MAX];
		unsigned n = recs_from_entry(sh, e, ids, BT_UPDATE_MAX);
		if (n > BT_UPDATE_MAX) {
			for (uint32_t id; (id = rec_from_entry(sh, e));)
				rec_drop(vm, (id - 1) / BT_SHADOW_RECS, (id - 1) % BT_SHADOW_RECS);
			continue;
		}
		for (unsigned k = 0; k < n; k++)
			rec_update(vm, ids[k]);
	}
}

void shadow_phys_written(struct bt_vm *vm, uint64_t phys, unsigned len)
{
	if (!vm->shadow || vm->view_flat)
		return;
	for (uint64_t p = phys >> 12; p <= (phys + len - 1) >> 12; p++)
		if (shadow_is_pt_page(vm, (uint32_t)p)) {
			uint64_t lo = p << 12 > phys ? p << 12 : phys;
			uint64_t hi = ((p + 1) << 12) < phys + len ? (p + 1) << 12 : phys + len;
			entries_changed(vm, (uint32_t)lo, (uint32_t)(hi - lo));
		}
}

/* Counts page-table traps per instruction; a hot one becomes a callout. */
static void note_trap(struct bt_cpu *cpu)
{
	struct bt_shadow *sh = cpu->vm->shadow;
	uint32_t lin = cs_linear(cpu, cpu->eip);
	unsigned h = (lin * 0x9e3779b1u) >> 24;
	uint32_t phys;

	if (sh->hot[h].lin != lin) {
		sh->hot[h].lin = lin;
		sh->hot[h].traps = 0;
		sh->hot[h].callout = false;
	}
	if (++sh->hot[h].traps < BT_PTW_CALLOUT_AFTER || sh->hot[h].callout)
		return;
	sh->hot[h].callout = true;
	if (mem_linear_to_phys(cpu, lin, false, bt_cpl(cpu) == 3, &phys, false))
		return;
	cpu->vm->hooks.retranslate_at(cpu, phys);
}

bool shadow_is_pt_writer(const struct bt_vm *vm, uint32_t lin)
{
	const struct bt_shadow *sh = vm->shadow;
	unsigned h = (lin * 0x9e3779b1u) >> 24;

	return sh && sh->hot[h].lin == lin && sh->hot[h].callout;
}

bool shadow_trace_begin(struct bt_cpu *cpu, uint32_t lin, uint32_t phys, bool trapped)
{
	struct bt_vm *vm = cpu->vm;
	struct shadow_trace *t = &vm->shadow->trace;
	uint32_t page = phys >> 12;
	int view = bt_cpl(cpu) == 3 ? 1 : 0;

	/* No mapping is built from this page any more: it stops being traced
	 * at this write, which the retry makes through a writable refill. Not
	 * when its last mapping went: a table rewritten and walked again in
	 * turn (a fresh PTE, touched) was untraced at each write and traced
	 * again at each walk, an mprotect of each mapping of it every time. */
	if (trapped && page_indexed(vm->shadow, page) && !vm->shadow->ent_count[page]) {
		vm->pt_pages[page] = 0;
		return false;
	}
	if (trapped) {
		cpu->stats.pt_write_traps++;
		note_trap(cpu);
	}
	if (t->active) {
		/* one instruction writing two page tables: the second one is
		 * no longer traced; what was built from it goes */
		entries_changed(vm, page << 12, 4096);
		vm->pt_pages[page] = 0;
		drop_lin(vm, vm->shadow->cur, (unsigned)view, lin >> 12);
		return false;
	}
	const struct bt_phys_region *region = phys_region(vm, phys, 1);
	if (!region || region->readonly)
		return false;		/* ROM tables stay read-only: writes go as MMIO */
	t->active = true;
	t->lin = lin & ~0xfffu;
	t->page = page;
	t->view = (uint8_t)view;
	t->space = (uint8_t)vm->shadow->cur;
	memcpy(t->before, vm->ram + ((uint64_t)page << 12), 4096);
	mmap(view_base(vm, view) + t->lin, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
	     vm->memfd, phys_memfd_offset(region, (uint64_t)page << 12));
	return true;
}

void shadow_trace_end(struct bt_cpu *cpu)
{
	struct bt_vm *vm = cpu->vm;
	struct shadow_trace *t = &vm->shadow->trace;

	if (!t->active)
		return;
	t->active = false;
	/* refilled read-only on the next touch; the writable mapping the
	 * trace made has no record of its own */
	drop_lin(vm, t->space, t->view, t->lin >> 12);
	unmap_page(vm, t->space, t->view, t->lin >> 12);
	const uint8_t *now = vm->ram + ((uint64_t)t->page << 12);
	for (uint32_t off = 0; off < 4096; off += 8) {
		uint32_t end = off;
		while (end < 4096 && memcmp(now + end, t->before + end, 8))
			end += 8;
		if (end > off) {
			entries_changed(vm, (t->page << 12) + off, end - off);
			off = end;
		}
	}
}

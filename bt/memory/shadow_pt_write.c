/*
 * The shadow MMU's page-table writes: what a changed guest entry does to
 * the mappings built from it (dropped, or mapped again at once when the
 * walk would set no A bit; a fresh entry next to a mapped one mapped
 * ahead), the tracing of a translated write to a page table (the page
 * opened for one instruction, a before/after diff), and the count of
 * traps per instruction that makes a hot writer a callout
 * (callouts_pt_write.c). Not in signal context.
 */
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/shadow_index.h"
#include "bt/memory/soft_tlb.h"

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
	rec_drop_later(vm, id);	/* the old translation may serve until a flush */
}

#define BT_UPDATE_MAX 8	/* more mappings from one entry (a PDE): dropped */
#define BT_SIBLING_SPAN 8	/* entries either side looked at by map_new_entry */

/* A not-present leaf entry made present with A set (Linux's set_pte at a
 * demand fault): its linear page is known from a neighbour in the same
 * table that maps a page of the current space, and mapping it now spares
 * the guest's retry its host fault. The walk must end at this entry and
 * set nothing, so the mapping is what a fill at that touch would make. */
static void map_new_entry(struct bt_vm *vm, uint32_t e, uint32_t width)
{
	struct bt_shadow *sh = vm->shadow;
	struct bt_cpu *cpu = vm->cpu;
	const uint8_t *value = phys_host(vm, e, 4, false);
	unsigned levels = width == 8 ? 3 : 2, per_table_log2 = width == 8 ? 9 : 10;

	if (!cpu || !(cpu->arch.cr0 & CR0_PG) || !value || (*value & 0x21) != 0x21)
		return;
	for (unsigned d = 1; d <= BT_SIBLING_SPAN; d++)
		for (int side = -1; side <= 1; side += 2) {
			int64_t se = (int64_t)e + side * (int64_t)(d * width);
			uint32_t id;
			if (se >> 12 != e >> 12 || !recs_from_entry(sh, (uint32_t)se, &id, 1))
				continue;
			const struct shadow_rec *r = rec_of(sh, id);
			if ((id - 1) / BT_SHADOW_RECS != sh->cur || r->nentries != levels ||
			    r->entry[levels - 1] != (uint32_t)se)
				continue;	/* not a 4K leaf of this address space */
			uint32_t lin_page = (r->lin_page & ~((1u << per_table_log2) - 1)) |
					    ((e & 0xfff) / width);
			unsigned view = r->view;
			struct shadow_space *sp = &sh->space[sh->cur];
			struct mmu_walk w;
			const struct bt_phys_region *region;
			if (!mmu_walk_accessed(cpu, lin_page << 12, view == 1, &w) &&
			    w.nentries == levels && w.entry[levels - 1] == e &&
			    (region = phys_region(vm, w.phys, 1)) &&
			    (sp->free || sp->nr < BT_SHADOW_RECS) &&
			    map_walked(vm, view, lin_page, &w, region)) {
				vm->hooks.mapping_dropped(cpu, lin_page << 12);
				cpu->stats.shadow_mapped_ahead++;
			}
			return;
		}
}

/* Drops or (update) updates the mappings built from entries in [phys,
 * phys + len), which lies in one page: each entry it covers is looked up
 * in the entry index. The ids are taken first: an update adds a record
 * built from the same entry. Drops wait for the next TLB flush
 * (shadow_stale.c). Not update: the page stops being traced, so nothing
 * may be built from it again, and what was is dropped at once. */
static void entries_changed(struct bt_vm *vm, uint32_t phys, uint32_t len, bool update)
{
	struct bt_shadow *sh = vm->shadow;
	uint32_t width = shadow_entry_width(vm);
	uint32_t page = phys >> 12;

	if (!page_indexed(sh, page))
		return;
	for (uint32_t e = phys & ~(width - 1); e < phys + len && sh->ent_count[page]; e += width) {
		uint32_t ids[BT_UPDATE_MAX];
		unsigned n = recs_from_entry(sh, e, ids, BT_UPDATE_MAX);
		/* a top-level entry of a space that is not loaded: its own
		 * mappings are judged at its load (shadow_dir.c) */
		int later = update ? dir_space_of(sh, e) : -1;
		if (later >= 0)
			sh->space[later].dir_deferred = true;
		if (n > BT_UPDATE_MAX && update) {
			stale_from_entry(vm, e, later);
			continue;
		}
		if (!update) {
			for (uint32_t id; (id = rec_from_entry(sh, e));)
				rec_drop(vm, (id - 1) / BT_SHADOW_RECS, (id - 1) % BT_SHADOW_RECS);
			continue;
		}
		if (!n)
			map_new_entry(vm, e, width);
		for (unsigned k = 0; k < n; k++)
			if ((int)((ids[k] - 1) / BT_SHADOW_RECS) != later)
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
			entries_changed(vm, (uint32_t)lo, (uint32_t)(hi - lo), true);
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
	 * again at each walk, an mprotect of each mapping of it every time.
	 * Nor while some are stale only: a table Linux freed and reused as
	 * data (a directory: its space's stale list waits for that space's
	 * next CR3 load, shadow_stale.c), written again and again. A stale
	 * mapping needs no tracing: the flush that ends it walks it afresh,
	 * and traces its tables again if it is kept. Nor one whose only
	 * other mappings are a not-loaded space's whose top-level table lies
	 * here: that space's load compares the table (shadow_dir.c). */
	if (trapped && page_indexed(vm->shadow, page) &&
	    (!vm->shadow->ent_count[page] || only_stale_from(vm->shadow, page) ||
	     dir_only_deferred(vm, page))) {
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
		entries_changed(vm, page << 12, 4096, false);
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
			entries_changed(vm, (t->page << 12) + off, end - off, true);
			off = end;
		}
	}
}

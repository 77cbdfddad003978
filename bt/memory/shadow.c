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
 *    entries it changed (a before/after diff of the page);
 *  - an instruction that keeps trapping on page-table writes (Adams &
 *    Agesen) is retranslated as a callout that makes the page writable,
 *    runs it alone and diffs, without a host fault.
 * A and D bits are set at fill time; a clean page is mapped read-only so
 * the first write comes back here to set D.
 *
 * Fills, drops and protections run in the SIGSEGV handler too: nothing
 * here allocates; records are fixed arrays, and a full one drops its
 * address space. Records are indexed (mmu.h), so a fill, a protection or
 * a page-table write costs the mappings it concerns, not a scan of all.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"

_Static_assert(BT_VIEW_BYTES == (1ull << 32) * BT_NR_VIEWS * BT_NR_SPACES,
	       "bt.h's view reservation matches mmu.h's spaces");

static void unmap_page(struct bt_vm *vm, unsigned space, unsigned view, uint32_t lin_page)
{
	mmap(view_space_base(vm, space, (int)view) + ((uint64_t)lin_page << 12), 4096, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* --- the record index (mmu.h): ids and nodes are 1-based, 0 is none --- */

static struct shadow_rec *rec_of(struct bt_shadow *sh, uint32_t id)
{
	return &sh->space[(id - 1) / BT_SHADOW_RECS].rec[(id - 1) % BT_SHADOW_RECS];
}

static uint32_t rec_id(unsigned s, uint32_t i)
{
	return s * BT_SHADOW_RECS + i + 1;
}

static uint32_t lin_bucket(uint32_t lin_page, unsigned view)
{
	return ((lin_page * 2 + view) * 0x9e3779b1u) % BT_SHADOW_HASH;
}

/* The entry node's links: node = (id - 1) * 3 + k + 1. */
static uint32_t *ent_next_of(struct bt_shadow *sh, uint32_t node)
{
	return &rec_of(sh, (node - 1) / 3 + 1)->ent_next[(node - 1) % 3];
}

static uint32_t *ent_prev_of(struct bt_shadow *sh, uint32_t node)
{
	return &rec_of(sh, (node - 1) / 3 + 1)->ent_prev[(node - 1) % 3];
}

static bool page_indexed(const struct bt_shadow *sh, uint32_t page)
{
	return sh->phys_head && page < sh->npages;
}

/* The index of the live record mapping lin_page in view, or -1. */
static int64_t rec_find(struct shadow_space *sp, uint32_t lin_page, unsigned view)
{
	for (uint32_t i = sp->lin_head[lin_bucket(lin_page, view)]; i; i = sp->rec[i - 1].lin_next)
		if (sp->rec[i - 1].lin_page == lin_page && sp->rec[i - 1].view == view)
			return i - 1;
	return -1;
}

/* Takes record i of space s out of all three indexes and frees it. */
static void rec_unlink(struct bt_shadow *sh, unsigned s, uint32_t i)
{
	struct shadow_space *sp = &sh->space[s];
	struct shadow_rec *r = &sp->rec[i];

	for (uint32_t *pp = &sp->lin_head[lin_bucket(r->lin_page, r->view)]; *pp;
	     pp = &sp->rec[*pp - 1].lin_next)
		if (*pp == i + 1) {
			*pp = r->lin_next;
			break;
		}
	if (page_indexed(sh, r->phys_page)) {
		if (r->phys_prev)
			rec_of(sh, r->phys_prev)->phys_next = r->phys_next;
		else
			sh->phys_head[r->phys_page] = r->phys_next;
		if (r->phys_next)
			rec_of(sh, r->phys_next)->phys_prev = r->phys_prev;
	}
	for (unsigned k = 0; k < r->nentries; k++) {
		uint32_t page = r->entry[k] >> 12;
		if (!page_indexed(sh, page))
			continue;
		if (r->ent_prev[k])
			*ent_next_of(sh, r->ent_prev[k]) = r->ent_next[k];
		else
			sh->ent_head[page] = r->ent_next[k];
		if (r->ent_next[k])
			*ent_prev_of(sh, r->ent_next[k]) = r->ent_prev[k];
	}
	r->live = false;
	r->lin_next = sp->free;
	sp->free = i + 1;
}

/* A new record in space s, linked everywhere; NULL if the space is full. */
static struct shadow_rec *rec_add(struct bt_shadow *sh, unsigned s, uint32_t lin_page,
				  unsigned view, uint32_t phys_page, const struct mmu_walk *w)
{
	struct shadow_space *sp = &sh->space[s];
	uint32_t i;

	if (sp->free) {
		i = sp->free - 1;
		sp->free = sp->rec[i].lin_next;
	} else if (sp->nr < BT_SHADOW_RECS) {
		i = sp->nr++;
	} else {
		return NULL;
	}
	struct shadow_rec *r = &sp->rec[i];
	uint32_t id = rec_id(s, i);
	memset(r, 0, sizeof(*r));
	r->lin_page = lin_page;
	r->phys_page = phys_page;
	r->view = (uint8_t)view;
	r->live = true;
	r->nentries = (uint8_t)w->nentries;
	memcpy(r->entry, w->entry, sizeof(r->entry));
	uint32_t b = lin_bucket(lin_page, view);
	r->lin_next = sp->lin_head[b];
	sp->lin_head[b] = i + 1;
	if (page_indexed(sh, phys_page)) {
		r->phys_next = sh->phys_head[phys_page];
		if (r->phys_next)
			rec_of(sh, r->phys_next)->phys_prev = id;
		sh->phys_head[phys_page] = id;
	}
	for (unsigned k = 0; k < r->nentries; k++) {
		uint32_t page = r->entry[k] >> 12, node = (id - 1) * 3 + k + 1;
		if (!page_indexed(sh, page))
			continue;
		r->ent_next[k] = sh->ent_head[page];
		if (r->ent_next[k])
			*ent_prev_of(sh, r->ent_next[k]) = node;
		sh->ent_head[page] = node;
	}
	return r;
}

/* Forgets every record of space s (its views are cleared by the caller). */
static void space_forget(struct bt_shadow *sh, unsigned s)
{
	struct shadow_space *sp = &sh->space[s];

	for (uint32_t i = 0; i < sp->nr; i++)
		if (sp->rec[i].live) {
			sp->lin_head[lin_bucket(sp->rec[i].lin_page, sp->rec[i].view)] = 0;
			rec_unlink(sh, s, i);
		}
	sp->nr = 0;
	sp->free = 0;
}

/* Sizes the per-page heads to the physical space (not in signal context:
 * from view_reset, when memory is mapped or the paging mode changes). */
static void index_size(struct bt_vm *vm)
{
	struct bt_shadow *sh = vm->shadow;
	uint64_t pages = (vm->ram_size >> 12) + 1;

	if (sh->phys_head && sh->npages == pages)
		return;
	if (sh->phys_head)
		munmap(sh->phys_head, sh->npages * 2 * sizeof(uint32_t));
	sh->npages = 0;
	sh->phys_head = sh->ent_head = NULL;
	/* zero pages until touched: 8 bytes of address space per 4K page */
	void *p = mmap(NULL, pages * 2 * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;		/* unindexed: no record is linked by page */
	sh->phys_head = p;
	sh->ent_head = sh->phys_head + pages;
	sh->npages = pages;
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
	struct shadow_space *sp = &sh->space[sh->cur];
	/* a refill (the mapping was made read-only, or D was clear) replaces
	 * the page's record */
	int64_t old = rec_find(sp, lin >> 12, (unsigned)view);
	if (old >= 0)
		rec_unlink(sh, sh->cur, (uint32_t)old);
	if (!sp->free && sp->nr == BT_SHADOW_RECS) {
		view_clear_space(vm, sh->cur);	/* forget, rather than grow */
		space_forget(sh, sh->cur);
	}
	/* the entries behind this mapping become traced page-table pages */
	for (unsigned i = 0; i < w.nentries; i++) {
		uint32_t pt = w.entry[i] >> 12;
		if (pt < (vm->ram_size >> 12) && !vm->pt_pages[pt]) {
			vm->pt_pages[pt] = 1;
			protect_everywhere(vm, pt);
		}
	}
	int prot = PROT_READ;
	if (w.writable && w.dirty && !vm->code_pages[page] && !vm->pt_pages[page] &&
	    !region->readonly)
		prot |= PROT_WRITE;
	uint8_t *at = view_base(vm, view) + (lin & ~0xfffu);
	if (mmap(at, 4096, prot, MAP_SHARED | MAP_FIXED, vm->memfd,
		 phys_memfd_offset(region, w.phys & ~0xfffu)) == MAP_FAILED) {
		unmap_page(vm, sh->cur, (unsigned)view, lin >> 12);	/* no mapping without a record */
		return false;
	}
	rec_add(sh, sh->cur, lin >> 12, (unsigned)view, page, &w);
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

/* Unmaps one linear page of one view with its records: a record must
 * always name a live mapping, or protecting it would make an anonymous
 * zero page readable there. */
static void drop_lin(struct bt_vm *vm, unsigned s, unsigned view, uint32_t lin_page)
{
	int64_t i = rec_find(&vm->shadow->space[s], lin_page, view);

	if (i >= 0)
		rec_drop(vm, s, (uint32_t)i);
	unmap_page(vm, s, view, lin_page);
}

void shadow_invlpg(struct bt_cpu *cpu, uint32_t lin)
{
	struct bt_vm *vm = cpu->vm;
	unsigned s = vm->shadow->cur;

	for (unsigned v = 0; v < BT_NR_VIEWS; v++)
		drop_lin(vm, s, v, lin >> 12);
}

/* Drops the mappings built from entries in [phys, phys + len), which
 * lies in one page: the records linked from that page's entry chain. */
static void entries_changed(struct bt_vm *vm, uint32_t phys, uint32_t len)
{
	struct bt_shadow *sh = vm->shadow;
	uint32_t width = vm->cpu && (vm->cpu->arch.cr4 & CR4_PAE) ? 8 : 4;
	uint32_t page = phys >> 12;

	if (!page_indexed(sh, page))
		return;
	uint32_t prev = 0;	/* the last node kept */
	for (uint32_t node = sh->ent_head[page]; node;) {
		uint32_t id = (node - 1) / 3 + 1, e = rec_of(sh, id)->entry[(node - 1) % 3];
		if (!(e < phys + len && e + width > phys)) {
			prev = node;
			node = *ent_next_of(sh, node);
			continue;
		}
		rec_drop(vm, (id - 1) / BT_SHADOW_RECS, (id - 1) % BT_SHADOW_RECS);
		/* the drop unlinked every node of that record: go on after the
		 * last node kept, unless it was one of them */
		if (prev && (prev - 1) / 3 + 1 == id)
			prev = 0;
		node = prev ? *ent_next_of(sh, prev) : sh->ent_head[page];
	}
}

/* No mapping is built from this page any more: stop tracing it. */
static void maybe_untrace(struct bt_vm *vm, uint32_t page)
{
	if (page_indexed(vm->shadow, page) && !vm->shadow->ent_head[page])
		vm->pt_pages[page] = 0;	/* read-only mappings upgrade on their next write */
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
			maybe_untrace(vm, (uint32_t)p);
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
	/* refilled read-only on the next touch */
	drop_lin(vm, t->space, t->view, t->lin >> 12);
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
	maybe_untrace(vm, t->page);
}

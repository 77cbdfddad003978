/*
 * The shadow MMU's 4K runs: a fault on a page mapped by a 4K entry maps,
 * with the same one mmap, the neighbours in its aligned group of 16
 * entries that would be filled exactly the same way: present, A already
 * set, the same rights, caching and D bits as the faulting entry now has,
 * and frames that continue its frame (so one contiguous range of the RAM
 * memfd backs the run). Their walks would go through the same upper
 * entries and change nothing (A set everywhere), so mapping them now is
 * invisible to the guest: a translation cached ahead of its use, which
 * the processor may do (SDM Vol. 3A 4.10.2.3). Each gets its own record,
 * so a later write to its entry updates or drops it as any other.
 *
 * Linux maps its own text and read-only data with 4K entries over
 * contiguous frames (the rest of the direct map uses 4M pages); a new
 * address space took one host fault per 4K kernel page it touched. Signal
 * context: no allocation.
 */
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/shadow_index.h"

#define BT_PTE_RUN 16	/* entries in a group: 64 KiB */
/* what must match: P, R/W, U/S, PWT, PCD, A, D, PAT and PAE's XD (bit 63) */
#define RUN_SAME_BITS	(0x8000000000000000ull | PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD | \
			 PTE_A | PTE_D | PTE_PS)
#define FRAME_MASK	0x0000000ffffff000ull	/* MAXPHYADDR 36 */

static bool read_entry64(struct bt_vm *vm, uint32_t addr, unsigned width, uint64_t *v)
{
	const uint8_t *p = phys_host(vm, addr, width, false);

	if (!p)
		return false;
	*v = 0;
	memcpy(v, p, width);
	return true;
}

/* Whether entry j of the group, at entry address e_j, continues the run
 * of the faulting entry (value v0 at index i0). */
static bool continues(struct bt_vm *vm, uint32_t e_j, unsigned width, int delta, uint64_t v0)
{
	uint64_t v;

	return read_entry64(vm, e_j, width, &v) && (v & RUN_SAME_BITS) == (v0 & RUN_SAME_BITS) &&
	       (v & FRAME_MASK) == (v0 & FRAME_MASK) + (uint64_t)(int64_t)delta * 4096;
}

bool map_pte_run(struct bt_vm *vm, unsigned view, uint32_t lin, const struct mmu_walk *w,
		 const struct bt_phys_region *region)
{
	struct bt_shadow *sh = vm->shadow;
	struct shadow_space *sp = &sh->space[sh->cur];
	const struct shadow_trace *t = &sh->trace;
	unsigned width = vm->cpu->arch.cr4 & CR4_PAE ? 8 : 4;
	uint64_t v0;

	if (w->large || w->nentries < 2 || vm->a20_off || sp->nr + BT_PTE_RUN > BT_SHADOW_RECS)
		return false;
	uint32_t e0 = w->entry[w->nentries - 1];
	if (!read_entry64(vm, e0, width, &v0) || (v0 & FRAME_MASK) != (w->phys & ~0xfffull))
		return false;
	unsigned i0 = (e0 & 0xfff) / width, first = i0, last = i0;
	unsigned group = i0 & ~(BT_PTE_RUN - 1u);
	while (first > group && continues(vm, e0 - (i0 - first + 1) * width, width,
					  -(int)(i0 - first + 1), v0))
		first--;
	while (last + 1 < group + BT_PTE_RUN && continues(vm, e0 + (last + 1 - i0) * width, width,
							  (int)(last + 1 - i0), v0))
		last++;
	if (first == last)
		return false;
	uint32_t n = last - first + 1, lin0 = (lin >> 12) - (i0 - first);
	uint64_t phys0 = (w->phys & ~0xfffull) - (uint64_t)(i0 - first) * 4096;
	if ((phys0 >> 12) + n > sh->npages || phys_region(vm, phys0, (uint64_t)n * 4096) != region)
		return false;
	if (t->active && t->space == sh->cur && t->view == view && (t->lin >> 12) - lin0 < n)
		return false;	/* the traced page's writable window stays */
	/* the walk's own tables first: the run's frames may hold its own
	 * page table (a table mapping itself among contiguous frames), which
	 * must then not be mapped writable */
	trace_entry_pages(vm, w->entry, w->nentries);
	bool writable = w->writable && w->dirty && !region->readonly;
	for (uint32_t p = (uint32_t)(phys0 >> 12); writable && p < (phys0 >> 12) + n; p++)
		if (vm->code_pages[p] || vm->pt_pages[p])
			return false;	/* those stay read-only: the single page then */
	for (uint32_t i = 0; i < n; i++) {
		int64_t old = rec_find(sp, lin0 + i, view);
		if (old >= 0)
			rec_unlink(sh, sh->cur, (uint32_t)old);
	}
	uint8_t *at = view_base(vm, (int)view) + ((uint64_t)lin0 << 12);
	if (mmap(at, (size_t)n * 4096, PROT_READ | (writable ? PROT_WRITE : 0),
		 MAP_SHARED | MAP_FIXED, vm->memfd, phys_memfd_offset(region, phys0)) == MAP_FAILED) {
		mmap(at, (size_t)n * 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
		return false;	/* nothing mapped, no record: the single page then */
	}
	struct mmu_walk wj = *w;
	for (uint32_t i = 0; i < n; i++) {
		wj.entry[w->nentries - 1] = e0 - (i0 - first) * width + i * width;
		struct shadow_rec *r = rec_add(sh, sh->cur, lin0 + i, view,
					       (uint32_t)(phys0 >> 12) + i, &wj);
		if (r)
			r->writable = writable;
	}
	if (vm->cpu)
		vm->cpu->stats.shadow_pte_runs++;
	return true;
}

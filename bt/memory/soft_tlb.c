/*
 * The soft TLB: adaptive translation of the memory accesses that keep
 * faulting on the views (Adams & Agesen 2006; QEMU's softmmu TLB is the
 * model of the lookup). Every view fault costs a host SIGSEGV and a
 * sigreturn (~15,000 cycles here), and a fill an mmap besides: a demand
 * fault (not present, the guest handler sets P, the retry) is two signals
 * and an mmap, a PTE rewritten with A clear and read again one signal and
 * two mmaps (docs/perf/bt-shadow.md). So an instruction whose accesses
 * ended BT_STLB_AFTER times as a guest #PF or a shadow fill is translated
 * again (translate/soft_tlb_emit.c) with its one memory operand checked
 * in a small per-vCPU TLB in front of it: a hit addresses guest RAM
 * through the VMM's RAM mapping; a miss leaves the block (BT_EXIT_STLB)
 * and comes here, where the walk either fills the entry or raises the
 * guest's #PF, with no host fault either way.
 *
 * What an entry may hold, so that a hit is what the view would have done:
 *  - the rights the guest's tables give for this view (supervisor or
 *    user: CPL, CR0.WP and U/S as page_walk applies them, SDM Vol. 3A
 *    4.6); the read tag after any successful walk, the write tag only
 *    once D is set (a write walk sets it, SDM 4.8), so the first write
 *    to a clean page misses and walks;
 *  - RAM only: MMIO and ROM writes go through the view as before, and so
 *    do writes to a page holding translated code or a page table (the
 *    SMC and page-table-write paths must see them): such a page never
 *    gets a write tag, and a page that becomes one flushes the TLB
 *    (shadow.c, protect_everywhere).
 * Flushed (soft_tlb_flush*) where the processor's TLB must be: MOV CR3,
 * INVLPG (the one page), CR0/CR4 paging changes (shadow_reset), a #PF at
 * the address (SDM Vol. 3A 4.10.4.1); not at a guest page-table write,
 * which the processor need not honour before one of those (4.10.4.2,
 * "the processor may use the old translation"; QEMU's softmmu TLB keeps
 * it too), though bt's views do at once. Flushing there too, ~900 times
 * per fork+exec of /bin/true (every PTE Linux writes), made the entries
 * of Linux's hot kernel accesses miss again after each, ~3,000 misses per
 * fork+exec, each a walk from C. A page that becomes code or a page
 * table loses its write tags only (soft_tlb_drop_writes).
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/soft_tlb.h"

static unsigned site_slot(uint32_t lin)
{
	return (lin * 0x9e3779b1u) >> (32 - BT_STLB_SITE_BITS);
}

/* Counts a view fault at the instruction at linear lin; true once, when
 * it reaches the threshold (its block is to be translated again). A
 * colliding instruction wears the holder's count down and takes the slot
 * over at 0 (a majority vote, Misra and Gries): when it took the slot
 * over at once, the instructions that fault once in each fork+exec of
 * /bin/true (a few hundred) kept resetting the ones that fault ten times
 * in each (Linux's clear_page), which never got there. A site past the
 * threshold is worn down too (its translated blocks keep their form): a
 * converted site that kept its slot for good shut out the instruction
 * of a later hot loop that collided with it (touching 256 MiB went from
 * 0.7 s to 1.1 s, every page a host fault). */
bool soft_tlb_note(struct bt_vm *vm, uint32_t lin)
{
	struct bt_div_site *s = &vm->stlb_sites[site_slot(lin)];

	if (s->lin != lin) {
		if (s->count) {
			s->count--;
			return false;
		}
		s->lin = lin;
	}
	if (s->count >= BT_STLB_AFTER)
		return false;
	return ++s->count == BT_STLB_AFTER;
}

bool soft_tlb_site(const struct bt_vm *vm, uint32_t lin)
{
	const struct bt_div_site *s = &vm->stlb_sites[site_slot(lin)];

	return s->lin == lin && s->count >= BT_STLB_AFTER;
}

static void entry_clear(struct bt_stlb_entry *e)
{
	e->tag[0][0] = e->tag[0][1] = e->tag[1][0] = e->tag[1][1] = BT_STLB_NONE;
	e->pt_store[0] = e->pt_store[1] = BT_STLB_NONE;
}

/* Clears the entries filled since the last flush (all of them once more
 * than BT_STLB_SIZE fills were listed). */
void soft_tlb_flush(struct bt_cpu *cpu)
{
	if (cpu && cpu->itlb_used) {
		memset(cpu->itlb_lin, 0, sizeof(cpu->itlb_lin));
		cpu->itlb_used = false;
	}
	if (!cpu || !cpu->nr_stlb_filled)
		return;
	if (cpu->nr_stlb_filled > BT_STLB_SIZE)
		for (unsigned i = 0; i < BT_STLB_SIZE; i++)
			entry_clear(&cpu->stlb[i]);
	else
		for (unsigned i = 0; i < cpu->nr_stlb_filled; i++)
			entry_clear(&cpu->stlb[cpu->stlb_filled[i]]);
	cpu->nr_stlb_filled = 0;
	cpu->stats.stlb_flushes++;
}

/* No entry writes physical page pfn any more (it became code or a page
 * table, whose writes must reach the view's paths): the write tags that
 * address its bytes go, in the entries filled since the last flush (all
 * when the list overflowed). Reads stay. Signal context too. */
void soft_tlb_drop_writes(struct bt_cpu *cpu, uint32_t pfn)
{
	if (!cpu || !cpu->nr_stlb_filled)
		return;
	uint8_t *host = phys_host(cpu->vm, (uint64_t)pfn << 12, 4096, false);
	if (!host)
		return;
	bool all = cpu->nr_stlb_filled > BT_STLB_SIZE;
	uint32_t n = all ? BT_STLB_SIZE : cpu->nr_stlb_filled;
	for (uint32_t k = 0; k < n; k++) {
		struct bt_stlb_entry *e = &cpu->stlb[all ? k : cpu->stlb_filled[k]];
		for (unsigned v = 0; v < 2; v++)
			if (e->tag[v][1] != BT_STLB_NONE &&
			    e->addend + e->tag[v][1] == (uint64_t)(uintptr_t)host)
				e->tag[v][1] = BT_STLB_NONE;
	}
}

/* The entry of linear page lin in both views (INVLPG invalidates the
 * translations of the page for every PCID and privilege, 4.10.4.1). */
void soft_tlb_flush_page(struct bt_cpu *cpu, uint32_t lin)
{
	if (cpu && cpu->nr_stlb_filled)
		entry_clear(&cpu->stlb[(lin >> 12) & (BT_STLB_SIZE - 1)]);
	if (cpu && cpu->itlb_used)
		cpu->itlb_lin[(lin >> 12) % BT_ITLB_SIZE] = 0;
}

/* The dispatcher's translation of the code address lin (a fetch, SDM
 * 4.6), remembered like an instruction TLB until the flushes above:
 * a walk per block entry from the dispatcher was a fifth of the
 * ptwrite storm's time (three or four per rewrite). Only successful
 * walks are kept (a fetch #PF is raised as before); the walk set A. */
bool soft_tlb_fetch_cached(const struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys,
			   bool *global)
{
	unsigned i = (lin >> 12) % BT_ITLB_SIZE;
	uint32_t key = (lin & ~0xfffu) | (user ? 1 : 0) | 2;

	/* itlb_phys: the physical page, bit 0 whether the translation is
	 * global (the jump cache keeps such slots across CR3 loads) */
	if (cpu->itlb_lin[i] != key)
		return false;
	*phys = (cpu->itlb_phys[i] & ~0xfffu) | (lin & 0xfff);
	if (global)
		*global = cpu->itlb_phys[i] & 1;
	return true;
}

int soft_tlb_fetch(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys, bool *global,
		   bool raise)
{
	unsigned i = (lin >> 12) % BT_ITLB_SIZE;
	uint32_t key = (lin & ~0xfffu) | (user ? 1 : 0) | 2;
	bool g = false;

	if (soft_tlb_fetch_cached(cpu, lin, user, phys, global))
		return 0;
	if (mmu_translate_fetch(cpu, lin, user, phys, &g, raise))
		return -1;
	if (global)
		*global = g;
	cpu->itlb_lin[i] = key;
	cpu->itlb_phys[i] = (*phys & ~0xfffu) | (g ? 1 : 0);
	cpu->itlb_used = true;
	return 0;
}

void soft_tlb_init(struct bt_cpu *cpu)
{
	cpu->nr_stlb_filled = BT_STLB_SIZE + 1;
	cpu->itlb_used = true;
	soft_tlb_flush(cpu);
	cpu->stats.stlb_flushes = 0;
}

/* The same #PF the view's fault path raises (dispatch.c, handle_fault:
 * mem_linear_to_phys on the faulting address, the access's W and the
 * CPL's U/S), and like a #PF there it invalidates the address's
 * translations (4.10.4.1). */
static void raise_pf(struct bt_cpu *cpu, uint32_t lin, uint32_t error)
{
	shadow_pf_drop_stale(cpu, lin);
	soft_tlb_flush_page(cpu, lin);
	cpu->vm->hooks.page_fault(cpu, lin, error);
}

static void entry_install(struct bt_cpu *cpu, uint32_t lin, unsigned view, uint8_t *host,
			  bool writable_dirty, bool special);

/* A page whose writes must go the view's ways: beyond RAM, holding
 * translated code, or a traced page table. */
static bool watched_page(const struct bt_vm *vm, uint64_t page)
{
	uint32_t pfn = (uint32_t)(page >> 12);

	return page >= vm->ram_size || vm->code_pages[pfn] || shadow_is_pt_page(vm, pfn);
}

/* Walks lin for an access from view (0 supervisor, 1 user) and fills
 * its entry; the #PF raised (if raise) when the walk fails, its error
 * code in *error. */
static enum stlb_result fill(struct bt_cpu *cpu, uint32_t lin, bool write, unsigned view,
			     bool raise, uint32_t *error)
{
	struct bt_vm *vm = cpu->vm;
	struct mmu_walk w;

	if (mmu_walk(cpu, lin, write ? MMU_WRITE : 0, view == 1, &w)) {
		if (raise)
			raise_pf(cpu, lin, w.error);
		if (error)
			*error = w.error;
		return STLB_FAULT;
	}
	uint64_t page = w.phys & ~0xfffull;
	const struct bt_phys_region *region = phys_region(vm, page, 4096);
	bool special = watched_page(vm, page);
	if (!region || w.phys > UINT32_MAX || (write && (region->readonly || special)))
		return STLB_VIEW;	/* MMIO, ROM, SMC, a page-table write: the view's paths */
	uint8_t *host = phys_host(vm, page, 4096, false);
	if (!host)
		return STLB_VIEW;
	entry_install(cpu, lin, view, host, w.writable && (w.dirty || write) && !region->readonly,
		      special);
	return STLB_FILLED;
}

/* The entry of lin for view after a successful walk to host: the read
 * tag; the write tag when the walk allows the write with D set (it set
 * it, or it was) and nothing watches the page's writes (special: code or
 * a page table), the page-table store tag when something does. */
static void entry_install(struct bt_cpu *cpu, uint32_t lin, unsigned view, uint8_t *host,
			  bool writable_dirty, bool special)
{
	unsigned idx = (lin >> 12) & (BT_STLB_SIZE - 1);
	struct bt_stlb_entry *e = &cpu->stlb[idx];
	uint32_t lpage = lin & ~0xfffu;

	if (e->addend != (uint64_t)(uintptr_t)host - lpage)
		entry_clear(e);
	if (cpu->nr_stlb_filled < BT_STLB_SIZE)
		cpu->stlb_filled[cpu->nr_stlb_filled] = (uint8_t)idx;
	if (cpu->nr_stlb_filled <= BT_STLB_SIZE)
		cpu->nr_stlb_filled++;	/* past the list: the next flush clears all */
	e->addend = (uint64_t)(uintptr_t)host - lpage;
	e->tag[view][0] = lpage;
	e->tag[view][1] = writable_dirty && !special ? lpage : BT_STLB_NONE;
	e->pt_store[view] = writable_dirty && special ? lpage : BT_STLB_NONE;
	cpu->stats.stlb_fills++;
}

/*
 * C's emulated store to a page table (cpu/callouts_pt_write.c, Linux's
 * set_pte and the pgfault handler's OR to a PTE): the physical address
 * from the entry's page-table store tag, else from a write walk (setting
 * A and D, SDM Vol. 3A 4.8) that fills the entry. The walk was a third of
 * the pgfault round trip's time and ~1,000 walks per fork+exec. -1, with
 * nothing raised, when the walk fails or the page is not writable RAM:
 * the caller's own path.
 */
int soft_tlb_pt_store(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys)
{
	struct bt_vm *vm = cpu->vm;
	const struct bt_stlb_entry *e = &cpu->stlb[(lin >> 12) & (BT_STLB_SIZE - 1)];
	unsigned view = user ? 1 : 0;
	uint32_t lpage = lin & ~0xfffu;
	struct mmu_walk w;

	if (e->pt_store[view] == lpage || e->tag[view][1] == lpage) {
		*phys = (uint32_t)((uint8_t *)(uintptr_t)(e->addend + lin) - vm->ram);
		return 0;
	}
	if (!(cpu->arch.cr0 & CR0_PG) || mmu_walk(cpu, lin, MMU_WRITE, user, &w) || w.phys > UINT32_MAX)
		return -1;
	uint64_t page = w.phys & ~0xfffull;
	const struct bt_phys_region *region = phys_region(vm, page, 4096);
	uint8_t *host = region && !region->readonly ? phys_host(vm, page, 4096, true) : NULL;
	if (!host)
		return -1;
	bool special = watched_page(vm, page);
	entry_install(cpu, lin, view, host, w.writable, special);
	*phys = (uint32_t)w.phys;
	return 0;
}

enum stlb_result soft_tlb_miss(struct bt_cpu *cpu, uint32_t lin, unsigned info)
{
	unsigned size = info & BT_STLB_INFO_SIZE;
	bool write = info & BT_STLB_INFO_WRITE;
	enum stlb_result r = STLB_VIEW;

	cpu->stats.stlb_misses++;
	/* across a page: which page faults first, and with which address,
	 * is the view's (the host's) business */
	if ((cpu->arch.cr0 & CR0_PG) && size && (lin & 0xfff) + size <= 4096)
		r = fill(cpu, lin, write, bt_cpl(cpu) == 3 ? 1 : 0, true, NULL);
	if (r == STLB_FAULT)
		cpu->stats.stlb_page_faults++;
	if (r == STLB_VIEW)
		cpu->stats.stlb_to_view++;
	return r;
}

/*
 * A miss filled from its block (translate/soft_tlb_emit.c calls this and
 * looks the entry up again when stlb_call_ok says it now hits), op the
 * access's BT_STLB_INFO_* with the block's view: the dispatcher round
 * trip a miss cost (a block exit, the dispatcher's lookup with its
 * segment keys, a block entry) was a third of a soft-TLB miss that fills.
 * Only a walk that fills takes this path: a #PF, an access across a page
 * or one for the view's paths leaves through the BT_EXIT_STLB stub as
 * before, nothing done (the walk's A and D bits aside, which the
 * processor sets even when it then faults on a later check, SDM Vol. 3A
 * 4.8), and soft_tlb_miss walks again there. A block translated for one
 * view that runs at the other CPL (the jump cache does not key on the
 * CPL) leaves too, so the retried lookup always hits: no loop.
 */
void soft_tlb_fill_in_block(struct bt_cpu *cpu, uint32_t op)
{
	uint32_t lin = cpu->stlb_miss_lin, lpage = lin & ~0xfffu;
	unsigned size = op & BT_STLB_INFO_SIZE, view = (op & BT_STLB_INFO_USER) ? 1 : 0;
	bool write = op & BT_STLB_INFO_WRITE;

	cpu->stlb_call_ok = 0;
	cpu->stlb_fault_ready = false;
	if (!(cpu->arch.cr0 & CR0_PG) || !size || (lin & 0xfff) + size > 4096 ||
	    (bt_cpl(cpu) == 3) != (view == 1))
		return;
	enum stlb_result r = fill(cpu, lin, write, view, false, &cpu->stlb_fault_error);
	/* the walk's verdict, for soft_tlb_fault_in_block next */
	cpu->stlb_fault_ready = r == STLB_FAULT;
	if (r != STLB_FILLED || cpu->stlb[(lin >> 12) & (BT_STLB_SIZE - 1)].tag[view][write] != lpage)
		return;
	cpu->stats.stlb_misses++;
	cpu->stats.stlb_fills_in_block++;
	cpu->stlb_call_ok = 1;
}

/*
 * The #PF of the in-block fill that just failed its walk
 * (soft_tlb_fill_in_block, at cpu->stlb_miss_lin), raised with that
 * walk's error code: nothing ran between the two, so a second walk (the
 * dispatcher's soft_tlb_miss) would find the same tables, set the same A
 * bits and give the same code. False, nothing done, when that fill did
 * not fault (across a page, the other view, MMIO...): the exit stub's
 * path, as before.
 */
bool soft_tlb_fault_from_fill(struct bt_cpu *cpu)
{
	if (!cpu->stlb_fault_ready)
		return false;
	cpu->stlb_fault_ready = false;
	cpu->stats.stlb_misses++;
	cpu->stats.stlb_page_faults++;
	cpu->stats.stlb_page_faults_in_block++;
	raise_pf(cpu, cpu->stlb_miss_lin, cpu->stlb_fault_error);
	return true;
}

/* Guest memory from C (mem_access_as: exception delivery, callouts) on
 * the same entries: exception delivery and the callouts of a #PF round
 * trip read the IDT, GDT and stack through a walk each (most of the
 * pgfault nano's time once its faults took no host signal). */
uint8_t *soft_tlb_host(struct bt_cpu *cpu, uint32_t lin, bool write, bool user, bool raise,
		       bool *fault)
{
	const struct bt_stlb_entry *e = &cpu->stlb[(lin >> 12) & (BT_STLB_SIZE - 1)];
	unsigned view = user ? 1 : 0;

	*fault = false;
	if (e->tag[view][write] == (lin & ~0xfffu))
		return (uint8_t *)(uintptr_t)(e->addend + lin);
	switch (fill(cpu, lin, write, view, raise, NULL)) {
	case STLB_FILLED:
		return (uint8_t *)(uintptr_t)(e->addend + lin);
	case STLB_FAULT:
		*fault = true;
		return NULL;
	default:
		return NULL;
	}
}

/*
 * bt's view of the guest page walk: the shared walker (x86/page_walk.c)
 * over bt's RAM, and #PF delivery for the callers that want it. The
 * shadow (shadow.c) fills views from these walks and remembers which
 * entries each mapping came from.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "x86/page_walk.h"

/* bt's CPUID has no leaf 0x80000008: MAXPHYADDR is 36 (SDM Vol. 3A, 4.1.4). */
#define BT_MAXPHYADDR 36

static uint8_t *table_ptr(void *opaque, uint64_t gpa, unsigned len)
{
	struct bt_vm *vm = opaque;

	return phys_host(vm, phys_a20(vm, gpa), len, false);
}

static bool table_readonly(void *opaque, uint64_t gpa)
{
	return !phys_host(opaque, phys_a20(opaque, gpa), 1, true);
}

/* The peek's tables: every entry "read-only", so the walk sets no A or D
 * (page_walk drops those updates as it does for tables in ROM). */
static bool table_untouched(void *opaque, uint64_t gpa)
{
	return true;
}

static int walk(struct bt_cpu *cpu, uint64_t cr3, uint32_t lin, unsigned access, bool user,
		struct mmu_walk *w, bool update)
{
	struct pw_context ctx = {
		.cr0 = cpu->arch.cr0, .cr3 = cr3, .cr4 = cpu->arch.cr4,
		.efer = cpu->arch.efer, .maxphyaddr = BT_MAXPHYADDR,
		.table_ptr = table_ptr, .table_readonly = update ? table_readonly : table_untouched,
		.opaque = cpu->vm,
	};
	enum pw_access how = access & MMU_WRITE ? PW_WRITE : access & MMU_FETCH ? PW_FETCH : PW_READ;
	struct pw_result r;

	page_walk(&ctx, lin, how, user, &r);
	memset(w, 0, sizeof(*w));
	if (r.status != PW_OK) {
		/* a table outside RAM reads as a not-present entry here */
		w->error = r.error;
		return -1;
	}
	w->phys = phys_a20(cpu->vm, r.phys);
	w->writable = r.writable;
	w->dirty = r.dirty;
	w->large = r.page_size > 4096;
	/* G (bit 8) of the entry that maps the page, in the low dword of a
	 * PAE entry too; it counts only with CR4.PGE set (SDM Vol. 3A
	 * 4.10.2.4). Without paging no entry was used. */
	if ((cpu->arch.cr4 & CR4_PGE) && r.nentries) {
		const uint8_t *leaf = table_ptr(cpu->vm, r.entry[r.nentries - 1], 4);
		w->global = leaf && (leaf[1] & 1);
	}
	/* the entries this translation depends on, for the shadow's write
	 * tracing; RAM is below 4 GiB, so they fit in 32 bits */
	for (unsigned i = 0; i < r.nentries && i < 3; i++)
		w->entry[w->nentries++] = (uint32_t)phys_a20(cpu->vm, r.entry[i]);
	return 0;
}

int mmu_walk(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user, struct mmu_walk *w)
{
	return walk(cpu, cpu->arch.cr3, lin, access, user, w, true);
}

int mmu_walk_peek(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  struct mmu_walk *w)
{
	return walk(cpu, cpu->arch.cr3, lin, access, user, w, false);
}

/* A (bit 5) in every entry the walk used but PAE's PDPTEs, which have
 * none (SDM Vol. 3A, 4.4.1, Table 4-8). */
static bool all_accessed(struct bt_cpu *cpu, const struct mmu_walk *w)
{
	bool pae = cpu->arch.cr4 & CR4_PAE;

	for (unsigned i = pae && w->nentries == 3 ? 1 : 0; i < w->nentries; i++) {
		const uint8_t *e = phys_host(cpu->vm, w->entry[i], 4, false);
		if (!e || !(*e & 0x20))
			return false;
	}
	return true;
}

int mmu_walk_accessed_in(struct bt_cpu *cpu, uint64_t cr3, uint32_t lin, bool user,
			 struct mmu_walk *w)
{
	if (walk(cpu, cr3, lin, 0, user, w, false))
		return -1;
	return all_accessed(cpu, w) ? 0 : -1;
}

int mmu_walk_accessed(struct bt_cpu *cpu, uint32_t lin, bool user, struct mmu_walk *w)
{
	return mmu_walk_accessed_in(cpu, cpu->arch.cr3, lin, user, w);
}

static int translate(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		     uint32_t *phys, bool raise, bool *global)
{
	struct mmu_walk w;

	if (mmu_walk(cpu, lin, access, user, &w)) {
		if (raise)
			cpu->vm->hooks.page_fault(cpu, lin, w.error);
		return -1;
	}
	if (global)
		*global = w.global;
	/* Above 4 GiB (PSE-36, PAE) is never RAM or a device here: give
	 * the top page, which reads as open bus, rather than a wrapped
	 * address that would alias RAM. */
	*phys = w.phys > UINT32_MAX ? 0xfffff000u | (uint32_t)(w.phys & 0xfff) : (uint32_t)w.phys;
	return 0;
}

int mmu_translate(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  uint32_t *phys, bool raise)
{
	return translate(cpu, lin, access, user, phys, raise, NULL);
}

int mmu_translate_fetch(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys,
			bool *global, bool raise)
{
	return translate(cpu, lin, MMU_FETCH, user, phys, raise, global);
}

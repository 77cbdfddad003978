/*
 * Guest page walks: 2-level 4K/4M and PAE 4K/2M, with A and D set as the
 * hardware's walker sets them. The shadow (shadow.c) fills views from
 * these walks and remembers which entries each mapping came from.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/mmu.h"

static uint8_t *phys_ptr(struct bt_vm *vm, uint64_t phys, unsigned size)
{
	return phys + size <= vm->ram_size ? vm->ram + phys : NULL;
}

/* Reads an entry, sets bits in it (A, D) the way the CPU's walker does. */
static bool entry_read(struct bt_vm *vm, uint64_t phys, bool wide, uint64_t *val)
{
	uint8_t *p = phys_ptr(vm, phys, wide ? 8 : 4);

	if (!p)
		return false;
	if (wide)
		memcpy(val, p, 8);
	else {
		uint32_t v;
		memcpy(&v, p, 4);
		*val = v;
	}
	return true;
}

static void entry_set(struct bt_vm *vm, uint64_t phys, uint32_t bits)
{
	uint8_t *p = phys_ptr(vm, phys, 4);
	uint32_t v;

	if (!p)
		return;
	memcpy(&v, p, 4);
	if ((v & bits) != bits) {
		v |= bits;
		memcpy(p, &v, 4);
	}
}

int mmu_walk(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user, struct mmu_walk *w)
{
	struct bt_vm *vm = cpu->vm;
	bool pae = cpu->arch.cr4 & CR4_PAE;
	bool write = access & MMU_WRITE;
	uint32_t err = (write ? PFERR_W : 0) | (user ? PFERR_U : 0) |
		       ((access & MMU_FETCH) && pae && (cpu->arch.efer & EFER_NXE) ? 0x10 : 0);
	uint64_t e, addr[3];
	unsigned levels = 0;
	uint32_t pdpte_at = 0;
	bool allow_w = true, allow_u = true, nx = false;
	uint64_t frame;
	uint32_t large = 0;

	memset(w, 0, sizeof(*w));
	if (pae) {
		uint64_t pdpte_addr = (cpu->arch.cr3 & ~0x1full) + ((lin >> 30) & 3) * 8;
		if (!entry_read(vm, pdpte_addr, true, &e) || !(e & PTE_P))
			goto fault;
		pdpte_at = (uint32_t)pdpte_addr;
		uint64_t pde_addr = (e & 0xffffff000ull) + ((lin >> 21) & 0x1ff) * 8;
		if (!entry_read(vm, pde_addr, true, &e) || !(e & PTE_P))
			goto fault;
		addr[levels++] = pde_addr;
		allow_w &= !!(e & PTE_W);
		allow_u &= !!(e & PTE_U);
		nx |= (e >> 63) & 1;
		if (e & PTE_PS) {
			large = 2u << 20;
			frame = (e & 0xfffe00000ull) | (lin & 0x1fffff);
		} else {
			uint64_t pte_addr = (e & 0xffffff000ull) + ((lin >> 12) & 0x1ff) * 8;
			if (!entry_read(vm, pte_addr, true, &e) || !(e & PTE_P))
				goto fault;
			addr[levels++] = pte_addr;
			allow_w &= !!(e & PTE_W);
			allow_u &= !!(e & PTE_U);
			nx |= (e >> 63) & 1;
			frame = (e & 0xffffff000ull) | (lin & 0xfff);
		}
		if (!(cpu->arch.efer & EFER_NXE))
			nx = false;
	} else {
		uint64_t pde_addr = (cpu->arch.cr3 & ~0xfffull) + (lin >> 22) * 4;
		if (!entry_read(vm, pde_addr, false, &e) || !(e & PTE_P))
			goto fault;
		addr[levels++] = pde_addr;
		allow_w &= !!(e & PTE_W);
		allow_u &= !!(e & PTE_U);
		if ((e & PTE_PS) && (cpu->arch.cr4 & CR4_PSE)) {
			large = 4u << 20;
			frame = (e & 0xffc00000u) | (lin & 0x3fffff);
		} else {
			uint64_t pte_addr = (e & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4;
			if (!entry_read(vm, pte_addr, false, &e) || !(e & PTE_P))
				goto fault;
			addr[levels++] = pte_addr;
			allow_w &= !!(e & PTE_W);
			allow_u &= !!(e & PTE_U);
			frame = (e & 0xfffff000u) | (lin & 0xfff);
		}
	}
	err |= PFERR_P;
	if (user && !allow_u)
		goto fault;
	if (write && !allow_w && (user || (cpu->arch.cr0 & CR0_WP)))
		goto fault;
	if ((access & MMU_FETCH) && nx)
		goto fault;
	/* the last entry read is the leaf; everything on the way gets A */
	for (unsigned i = 0; i < levels; i++)
		entry_set(vm, addr[i], PTE_A | (write && i == levels - 1 ? PTE_D : 0));
	w->phys = (uint32_t)frame;
	w->writable = allow_w || (!user && !(cpu->arch.cr0 & CR0_WP));
	w->dirty = write || (e & PTE_D);
	w->large_size = large;
	w->large_base = large ? lin & ~(large - 1) : 0;
	/* the entries this translation depends on, for the shadow's write
	 * tracing; RAM is below 4 GiB, so they fit in 32 bits */
	w->nentries = 0;
	if (pdpte_at)
		w->entry[w->nentries++] = pdpte_at;
	for (unsigned i = 0; i < levels; i++)
		w->entry[w->nentries++] = (uint32_t)addr[i];
	return 0;
fault:
	w->error = err;
	return -1;
}

int mmu_translate(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  uint32_t *phys, bool raise)
{
	struct mmu_walk w;

	if (mmu_walk(cpu, lin, access, user, &w)) {
		if (raise) {
			cpu->arch.cr2 = lin;
			cpu->stats.page_faults_guest++;
			guest_exception(cpu, VEC_PF, true, w.error);
		}
		return -1;
	}
	*phys = w.phys;
	return 0;
}

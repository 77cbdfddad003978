// SPDX-License-Identifier: GPL-2.0
/*
 * Extended page tables (SDM 28.3): guest-physical to host-physical, four
 * levels, filled lazily from the pinned RAM slots on EPT violations, 2 MiB
 * of neighbours at a time. A guest-physical address outside every slot is
 * never mapped, so its accesses exit and become MMIO. Entries only go from
 * not present to present while the VM lives; not-present entries are
 * never cached (SDM 28.3.3.1), so adding one needs no INVEPT.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include "vmx.h"

#define EPT_ADDR	0x000ffffffffff000ULL
#define EPT_TABLE	VMX_EPT_RWX_MASK
/* RAM: write-back, ignoring the guest's PAT like the host mapping (28.3.7) */
#define EPT_RAM		(VMX_EPT_RWX_MASK | (6ULL << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT)
/* the identity map: read-only to the guest */
#define EPT_IDMAP	(VMX_EPT_READABLE_MASK | (6ULL << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT)

int vmx_ept_init(struct vmx_vm *v)
{
	v->ept_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!v->ept_root)
		return -ENOMEM;
	/* SDM 24.6.11: WB paging structures, 4-level walk */
	v->eptp = __pa(v->ept_root) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
	if (!vmx_cfg.unrestricted) {
		u32 *pde;
		int i;

		v->idmap = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!v->idmap) {
			vmx_ept_free(v);
			return -ENOMEM;
		}
		/* SDM 4.3: 32-bit paging, 1024 PDEs of 4 MiB, P RW US A D PS */
		pde = page_address(v->idmap);
		for (i = 0; i < 1024; i++)
			pde[i] = ((u32)i << 22) | 0xe7;
	}
	return 0;
}

static void ept_free_table(u64 *table, int level)
{
	int i;

	if (level > 1)
		for (i = 0; i < 512; i++)
			if (table[i] & VMX_EPT_RWX_MASK)
				ept_free_table(__va(table[i] & EPT_ADDR), level - 1);
	free_page((unsigned long)table);
}

void vmx_ept_free(struct vmx_vm *v)
{
	if (v->ept_root)
		ept_free_table(v->ept_root, 4);
	if (v->idmap)
		__free_page(v->idmap);
	v->ept_root = NULL;
	v->idmap = NULL;
}

/* The level-1 table covering gpa, allocating the path to it. */
static u64 *ept_leaf_table(struct vmx_vm *v, u64 gpa)
{
	u64 *table = v->ept_root;
	int level;

	for (level = 4; level > 1; level--) {
		unsigned int idx = (gpa >> (12 + 9 * (level - 1))) & 511;

		if (!(table[idx] & VMX_EPT_RWX_MASK)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next)
				return NULL;
			WRITE_ONCE(table[idx], __pa(next) | EPT_TABLE);
		}
		table = __va(table[idx] & EPT_ADDR);
	}
	return table;
}

/*
 * EPT violation on a not-present gpa. 0: mapped (perhaps by another vCPU
 * meanwhile), retry the access; -ENOENT: not guest RAM (MMIO); -ENOMEM.
 */
int vmx_ept_map(struct hyvm_vm *vm, u64 gpa)
{
	struct vmx_vm *v = vm->backend;
	u64 base = gpa & ~((1ULL << 21) - 1);
	bool idmap = v->idmap && (gpa & PAGE_MASK) == VMX_IDMAP_GPA;
	u64 *leaf;
	int i, ret = 0;

	if (gpa >= HYVM_MAX_GPA || (!idmap && !hyvm_gpa_to_page(vm, gpa)))
		return -ENOENT;
	mutex_lock(&vm->lock);
	leaf = ept_leaf_table(v, gpa);
	if (!leaf) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 512; i++) {
		u64 a = base + ((u64)i << 12);
		struct page *page;

		if (leaf[i] & VMX_EPT_RWX_MASK)
			continue;
		page = hyvm_gpa_to_page(vm, a);
		if (page)
			WRITE_ONCE(leaf[i], page_to_phys(page) | EPT_RAM);
		else if (v->idmap && a == VMX_IDMAP_GPA)
			WRITE_ONCE(leaf[i], page_to_phys(v->idmap) | EPT_IDMAP);
	}
out:
	mutex_unlock(&vm->lock);
	return ret;
}

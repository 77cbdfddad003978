// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page table (AMD APM Vol. 2, 15.25): a 4-level long-mode table
 * that maps guest-physical to host-physical. Filled lazily from the
 * pinned RAM slots on nested page faults, 2 MiB at a time; a guest-
 * physical address outside every slot is never mapped, so its accesses
 * fault to us and become MMIO exits. Entries only ever go from not
 * present to present while the VM lives, so no TLB flush is needed.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/io.h>
#include "svm.h"

#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_LEAF	(NPT_P | NPT_RW | NPT_US | NPT_A | NPT_D)

int svm_npt_init(struct svm_vm *v)
{
	v->npt_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return v->npt_root ? 0 : -ENOMEM;
}

static void npt_free_table(u64 *table, int level)
{
	int i;

	if (level > 1)
		for (i = 0; i < 512; i++)
			if (table[i] & NPT_P)
				npt_free_table(__va(table[i] & NPT_ADDR), level - 1);
	free_page((unsigned long)table);
}

void svm_npt_free(struct svm_vm *v)
{
	if (v->npt_root)
		npt_free_table(v->npt_root, 4);
	v->npt_root = NULL;
}

/* The level-1 table covering gpa, allocating the path to it. */
static u64 *npt_leaf_table(struct svm_vm *v, u64 gpa)
{
	u64 *table = v->npt_root;
	int level;

	for (level = 4; level > 1; level--) {
		unsigned int idx = (gpa >> (12 + 9 * (level - 1))) & 511;

		if (!(table[idx] & NPT_P)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next)
				return NULL;
			WRITE_ONCE(table[idx], __pa(next) | NPT_TABLE);
		}
		table = __va(table[idx] & NPT_ADDR);
	}
	return table;
}

/*
 * Not-present nested page fault at gpa. 0: mapped (perhaps by another
 * vCPU meanwhile), retry the access; -ENOENT: not guest RAM (MMIO);
 * -ENOMEM.
 */
int svm_npt_fault(struct hyvm_vm *vm, u64 gpa)
{
	struct svm_vm *v = vm->backend;
	u64 base = gpa & ~((1ULL << 21) - 1);
	u64 *leaf;
	int i, ret = 0;

	if (gpa >= HYVM_MAX_GPA || !hyvm_gpa_to_page(vm, gpa))
		return -ENOENT;
	mutex_lock(&vm->lock);
	leaf = npt_leaf_table(v, gpa);
	if (!leaf) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 512; i++) {
		struct page *page;

		if (leaf[i] & NPT_P)
			continue;
		page = hyvm_gpa_to_page(vm, base + ((u64)i << 12));
		if (page)
			WRITE_ONCE(leaf[i], page_to_phys(page) | NPT_LEAF);
	}
out:
	mutex_unlock(&vm->lock);
	return ret;
}

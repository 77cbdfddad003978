// SPDX-License-Identifier: GPL-2.0
/*
 * The nested page table both backends use (hyvm_npt.h): guest-physical to
 * host-physical, filled on nested page faults (APM 15.25.6) or EPT
 * violations (SDM 28.3.3), 2 MiB of neighbours at a time. A guest-physical
 * address outside every slot is never mapped, so its accesses exit and
 * become MMIO. Entries only ever go from not present to present while the
 * VM lives, and neither vendor caches a not-present entry (APM 15.25,
 * SDM 28.3.3.1), so adding one needs no TLB flush. A HYVM_MEM_READONLY
 * slot's leaves lack the format's write bit: a guest write there faults
 * on a present entry, and the backend makes it an MMIO exit
 * (hyvm_gpa_is_rom).
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include "hyvm.h"
#include "hyvm_npt.h"

int hyvm_npt_init(struct hyvm_npt *npt, const struct hyvm_npt_format *fmt)
{
	npt->fmt = fmt;
	npt->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return npt->root ? 0 : -ENOMEM;
}

static void npt_free_table(const struct hyvm_npt_format *fmt, u64 *table, int level)
{
	int i;

	if (level > 1)
		for (i = 0; i < 512; i++)
			if ((table[i] & fmt->present) && !(table[i] & fmt->large))
				npt_free_table(fmt, __va(table[i] & HYVM_NPT_ADDR), level - 1);
	free_page((unsigned long)table);
}

/* The tables only: the extra page is the backend's. */
void hyvm_npt_free(struct hyvm_npt *npt)
{
	if (npt->root)
		npt_free_table(npt->fmt, npt->root, 4);
	npt->root = NULL;
}

/* The level-1 table covering gpa, allocating the path to it. */
static u64 *npt_leaf_table(struct hyvm_npt *npt, u64 gpa)
{
	const struct hyvm_npt_format *fmt = npt->fmt;
	u64 *table = npt->root;
	int level;

	for (level = 4; level > 1; level--) {
		unsigned int idx = (gpa >> (12 + 9 * (level - 1))) & 511;

		if (!(table[idx] & fmt->present)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next)
				return NULL;
			WRITE_ONCE(table[idx], __pa(next) | fmt->table);
		}
		table = __va(table[idx] & HYVM_NPT_ADDR);
	}
	return table;
}

static bool is_extra(const struct hyvm_npt *npt, u64 gpa)
{
	return npt->extra_page && (gpa & PAGE_MASK) == npt->extra_gpa;
}

/*
 * A not-present fault at gpa. 0: mapped (perhaps by another vCPU
 * meanwhile), retry the access; -ENOENT: not guest RAM (MMIO); -ENOMEM.
 * Sleeps (vm->lock, page allocation).
 */
int hyvm_npt_map(struct hyvm_vm *vm, struct hyvm_npt *npt, u64 gpa)
{
	const struct hyvm_npt_format *fmt = npt->fmt;
	u64 base = gpa & ~((1ULL << 21) - 1);
	u64 *leaf;
	int i, ret = 0;

	if (gpa >= HYVM_MAX_GPA || (!is_extra(npt, gpa) && !hyvm_gpa_to_page(vm, gpa, NULL)))
		return -ENOENT;
	mutex_lock(&vm->lock);
	leaf = npt_leaf_table(npt, gpa);
	if (!leaf) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 512; i++) {
		u64 a = base + ((u64)i << 12);
		struct page *page;
		bool ro = false;

		if (leaf[i] & fmt->present)
			continue;
		page = hyvm_gpa_to_page(vm, a, &ro);
		if (page)	/* ROM: read and execute, no write */
			WRITE_ONCE(leaf[i], page_to_phys(page) |
				   (ro ? fmt->leaf & ~fmt->write : fmt->leaf));
		else if (is_extra(npt, a))
			WRITE_ONCE(leaf[i], page_to_phys(npt->extra_page) | npt->extra_leaf);
	}
out:
	mutex_unlock(&vm->lock);
	return ret;
}

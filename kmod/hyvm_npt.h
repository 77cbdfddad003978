/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Nested paging, written once for both vendors: a 4-level table that maps
 * guest-physical to host-physical, filled lazily from the pinned RAM
 * slots. AMD's nested page table (APM Vol. 2, 15.25) and Intel's EPT (SDM
 * Vol. 3C, 28.3) walk the same radix tree (9 bits a level, 4 KiB leaves);
 * only the bits in an entry differ, and a vendor says which in a struct
 * hyvm_npt_format.
 */
#ifndef HYVM_NPT_H
#define HYVM_NPT_H

#include <linux/types.h>

struct hyvm_vm;
struct page;

#define HYVM_NPT_ADDR	0x000ffffffffff000ULL	/* bits 51:12, both formats */

struct hyvm_npt_format {
	u64 present;	/* any of these set: the entry maps something (NPT: P;
			 * EPT: R, W or X, SDM 28.3.2) */
	u64 table;	/* a non-leaf entry: permissions (and NPT's A) */
	u64 leaf;	/* a 4 KiB leaf for RAM: permissions, memory type, A/D */
	u64 write;	/* the bits of leaf a read-only (ROM) leaf lacks */
	u64 large;	/* PS: a present level-2/3 entry that is a leaf */
};

struct hyvm_npt {
	const struct hyvm_npt_format *fmt;
	u64 *root;			/* the level-4 table (PML4) */
	/* One page outside guest RAM the backend maps itself, or none
	 * (VMX's identity map for unpaged guests without unrestricted
	 * guest): its guest-physical address, page and leaf bits. */
	u64 extra_gpa;
	struct page *extra_page;
	u64 extra_leaf;
};

int hyvm_npt_init(struct hyvm_npt *npt, const struct hyvm_npt_format *fmt);
void hyvm_npt_free(struct hyvm_npt *npt);
int hyvm_npt_map(struct hyvm_vm *vm, struct hyvm_npt *npt, u64 gpa);

#endif

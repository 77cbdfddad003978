// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's own page tables walked in software, for the rare write the
 * module makes into guest memory by linear address (the single step by
 * TF hides the TF a PUSHF pushed: svm/svm_debug.c, vmx/vmx_step_tf.c),
 * and the read of the instruction a step is about to run. A debugger's walk: no
 * accessed or dirty bit is set, no permission checked beyond presence.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include "hyvm.h"

#define PTE_P		0x1ULL
#define PTE_PS		0x80ULL
#define PTE_ADDR	0x000ffffffffff000ULL	/* MAXPHYADDR 52 at most */

static int read_gpa(struct hyvm_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	struct page *page = hyvm_gpa_to_page(vm, gpa, NULL);
	void *p;

	if (!page || offset_in_page(gpa) + len > PAGE_SIZE)
		return -EFAULT;
	p = kmap_local_page(page);
	memcpy(buf, p + offset_in_page(gpa), len);
	kunmap_local(p);
	return 0;
}

static int read_entry(struct hyvm_vm *vm, u64 gpa, bool wide, u64 *e)
{
	u32 e32;

	if (wide)
		return read_gpa(vm, gpa, e, 8);
	if (read_gpa(vm, gpa, &e32, 4))
		return -EFAULT;
	*e = e32;
	return 0;
}

/* SDM Vol. 3A 4.3 (32-bit), 4.4 (PAE), 4.5 (4-level). 5-level paging
 * (CR4.LA57) is not offered to guests. */
static int linear_to_gpa(struct hyvm_vm *vm, const struct hyvm_paging *pg, u64 la, u64 *gpa)
{
	u64 e, table;
	int level, shift;

	if (!(pg->cr0 & X86_CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return 0;
	}
	if (pg->efer & EFER_LMA) {
		level = 4;
		table = pg->cr3 & PTE_ADDR;
	} else if (pg->cr4 & X86_CR4_PAE) {
		la &= 0xffffffffULL;
		if (read_entry(vm, (pg->cr3 & 0xffffffe0ULL) + 8 * (la >> 30), true, &e) ||
		    !(e & PTE_P))
			return -EFAULT;
		level = 2;
		table = e & PTE_ADDR;
	} else {
		la &= 0xffffffffULL;
		for (level = 2, table = pg->cr3 & 0xfffff000ULL; level > 0; level--) {
			shift = 12 + 10 * (level - 1);
			if (read_entry(vm, table + 4 * ((la >> shift) & 0x3ff), false, &e) ||
			    !(e & PTE_P))
				return -EFAULT;
			if (level == 2 && (e & PTE_PS) && (pg->cr4 & X86_CR4_PSE)) {
				/* 4 MiB page; PSE-36's bits 13-20 are 32-39 */
				*gpa = ((e & 0xffc00000ULL) | ((e & 0x1fe000ULL) << 19)) +
				       (la & 0x3fffff);
				return 0;
			}
			table = e & 0xfffff000ULL;
		}
		*gpa = table + (la & 0xfff);
		return 0;
	}
	for (; level > 0; level--) {
		shift = 12 + 9 * (level - 1);
		if (read_entry(vm, table + 8 * ((la >> shift) & 0x1ff), true, &e) || !(e & PTE_P))
			return -EFAULT;
		if (level > 1 && level < 4 && (e & PTE_PS)) {
			*gpa = (e & PTE_ADDR & ~((1ULL << shift) - 1)) + (la & ((1ULL << shift) - 1));
			return 0;
		}
		table = e & PTE_ADDR;
	}
	*gpa = table + (la & 0xfff);
	return 0;
}

int hyvm_guest_clear_byte_bits(struct hyvm_vm *vm, const struct hyvm_paging *pg, u64 la, u8 bits)
{
	struct page *page;
	bool readonly = false;
	u64 gpa;
	u8 *p;

	if (linear_to_gpa(vm, pg, la, &gpa))
		return -EFAULT;
	page = hyvm_gpa_to_page(vm, gpa, &readonly);
	if (!page || readonly)
		return -EFAULT;
	p = kmap_local_page(page);
	p[offset_in_page(gpa)] &= ~bits;
	kunmap_local(p);
	return 0;	/* the slot's pages are unpinned dirty (hyvm_vm.c) */
}

int hyvm_guest_read(struct hyvm_vm *vm, const struct hyvm_paging *pg, u64 la, void *buf,
		    unsigned int len)
{
	while (len) {
		unsigned int n = min_t(u64, len, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		u64 gpa;

		if (linear_to_gpa(vm, pg, la, &gpa) || read_gpa(vm, gpa, buf, n))
			return -EFAULT;
		la += n;
		buf += n;
		len -= n;
	}
	return 0;
}

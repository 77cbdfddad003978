/*
 * Views: the 4 GiB host regions that translated code reaches through GS.
 * Guest linear address L lives at view + L. With paging off the view maps
 * all of RAM at once (linear == physical); with paging on, pages are mapped
 * on first touch after a guest page-table walk (mmu.c). Pages holding
 * translated code are mapped read-only, so a guest write to them faults and
 * the dispatcher invalidates their translations.
 */
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "bt.h"
#include "mmu.h"

#define VIEW_SIZE (1ull << 32)

int view_init(struct bt_vm *vm, char *err, size_t errlen)
{
	vm->view = mmap(NULL, VIEW_SIZE * BT_NR_VIEWS, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->view == MAP_FAILED) {
		snprintf(err, errlen, "bt: reserving guest views: %s", strerror(errno));
		vm->view = NULL;
		return -1;
	}
	return 0;
}

uint8_t *view_base(struct bt_vm *vm, int index)
{
	return vm->view + (uint64_t)index * VIEW_SIZE;
}

/* Drops every mapping of one view (about 1 ms for thousands of pages). */
void view_clear(struct bt_vm *vm, int index)
{
	mmap(view_base(vm, index), VIEW_SIZE, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* Paging off: one mapping of all RAM, then code pages made read-only. */
void view_reset(struct bt_vm *vm)
{
	if (!vm->view || vm->memfd < 0)
		return;
	for (int i = 0; i < BT_NR_VIEWS; i++)
		view_clear(vm, i);
	vm->view_flat = !vm->cpu || !(vm->cpu->arch.cr0 & CR0_PG);
	if (vm->view_flat) {
		mmap(vm->view, vm->ram_size, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, vm->memfd, 0);
		for (uint64_t p = 0; p < vm->ram_size >> 12; p++)
			if (vm->code_pages[p])
				mprotect(vm->view + (p << 12), 4096, PROT_READ);
	}
	mmu_views_dropped(vm);
}

void view_protect_code_page(struct bt_vm *vm, uint32_t page)
{
	if (page >= vm->ram_size >> 12 || vm->code_pages[page])
		return;
	vm->code_pages[page] = 1;
	if (vm->view_flat)
		mprotect(vm->view + ((uint64_t)page << 12), 4096, PROT_READ);
	else
		mmu_protect_phys_page(vm, page);
}

/* Called after the translations of a code page died: writable again. */
void view_unprotect_code_page(struct bt_vm *vm, uint32_t page)
{
	if (vm->view_flat && page < vm->ram_size >> 12)
		mprotect(vm->view + ((uint64_t)page << 12), 4096, PROT_READ | PROT_WRITE);
	else
		mmu_unprotect_phys_page(vm, page);
}

/* Signal context: true if the access will succeed when retried. */
bool view_fault(struct bt_cpu *cpu, uint32_t lin, bool write)
{
	if (cpu->vm->view_flat)
		return false;	/* SMC or MMIO: both need the dispatcher */
	return mmu_shadow_fault(cpu, lin, write);
}

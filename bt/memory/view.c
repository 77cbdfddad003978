/*
 * Views: the 4 GiB host regions that translated code reaches through GS.
 * Guest linear address L lives at view + L. With paging off one view maps
 * all of RAM at once (linear == physical); with paging on, pages are mapped
 * on first touch after a guest page-table walk (shadow.c), and each cached
 * address space (CR3) has its own supervisor and user view, so a CR3
 * switch back to a recent address space finds its mappings still there.
 * Pages holding translated code are mapped read-only, so a guest write to
 * them faults and the dispatcher invalidates their translations.
 */
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"

#define VIEW_SIZE (1ull << 32)

int view_init(struct bt_vm *vm, char *err, size_t errlen)
{
	vm->view = mmap(NULL, BT_VIEW_BYTES, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->view == MAP_FAILED) {
		snprintf(err, errlen, "bt: reserving guest views: %s", strerror(errno));
		vm->view = NULL;
		return -1;
	}
	return shadow_init(vm, err, errlen);
}

uint8_t *view_space_base(struct bt_vm *vm, unsigned space, int index)
{
	return vm->view + ((uint64_t)space * BT_NR_VIEWS + (unsigned)index) * VIEW_SIZE;
}

uint8_t *view_base(struct bt_vm *vm, int index)
{
	return view_space_base(vm, vm->shadow ? vm->shadow->cur : 0, index);
}

/* Drops every mapping of one address space's views (about 1 ms for
 * thousands of pages). */
void view_clear_space(struct bt_vm *vm, unsigned space)
{
	mmap(view_space_base(vm, space, 0), VIEW_SIZE * BT_NR_VIEWS, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

#define MIB (1ull << 20)

/* The odd megabyte [odd, odd + 1 MiB) of a flat view with A20 off: what
 * the even one below holds (phys_a20), nothing where that is unbacked. */
static void alias_odd_megabyte(struct bt_vm *vm, uint64_t odd)
{
	uint64_t even = odd - MIB;

	mmap(vm->view + odd, MIB, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	for (unsigned i = 0; i < vm->nr_phys; i++) {
		const struct bt_phys_region *r = &vm->phys[i];
		uint64_t lo = r->gpa > even ? r->gpa : even;
		uint64_t hi = r->gpa + r->size < odd ? r->gpa + r->size : odd;
		if (lo >= hi)
			continue;
		mmap(vm->view + lo + MIB, hi - lo, PROT_READ | (r->readonly ? 0 : PROT_WRITE),
		     MAP_SHARED | MAP_FIXED, vm->memfd, phys_memfd_offset(r, lo));
		for (uint64_t p = lo >> 12; !r->readonly && p < hi >> 12; p++)
			if (vm->code_pages[p])
				mprotect(vm->view + (p << 12) + MIB, 4096, PROT_READ);
	}
}

/* With A20 off, every odd megabyte that a slot touches (itself or the
 * even one below) becomes the alias; the others stay unmapped. */
static void view_apply_a20(struct bt_vm *vm)
{
	for (uint64_t odd = MIB; odd < VIEW_SIZE; odd += 2 * MIB) {
		bool touched = false;
		for (unsigned i = 0; i < vm->nr_phys && !touched; i++)
			touched = vm->phys[i].gpa < odd + MIB &&
				  vm->phys[i].gpa + vm->phys[i].size > odd - MIB;
		if (touched)
			alias_odd_megabyte(vm, odd);
	}
}

/* The view page that aliases phys page `page` while A20 is off (pages of
 * even megabytes only: phys_a20 clears bit 20). */
static uint8_t *a20_alias(struct bt_vm *vm, uint32_t page)
{
	return vm->a20_off ? vm->view + ((uint64_t)page << 12) + MIB : NULL;
}

/* Paging off: each slot mapped at its guest-physical address (ROM
 * read-only), then code pages made read-only; with A20 off, the odd
 * megabytes alias the even ones. */
void view_reset(struct bt_vm *vm)
{
	if (!vm->view || vm->memfd < 0)
		return;
	shadow_reset(vm);
	vm->view_flat = !vm->cpu || !(vm->cpu->arch.cr0 & CR0_PG);
	if (vm->view_flat) {
		for (unsigned i = 0; i < vm->nr_phys; i++) {
			const struct bt_phys_region *r = &vm->phys[i];
			mmap(vm->view + r->gpa, r->size,
			     PROT_READ | (r->readonly ? 0 : PROT_WRITE),
			     MAP_SHARED | MAP_FIXED, vm->memfd, r->offset);
			for (uint64_t p = r->gpa >> 12; !r->readonly &&
			     p < (r->gpa + r->size) >> 12; p++)
				if (vm->code_pages[p])
					mprotect(vm->view + (p << 12), 4096, PROT_READ);
		}
		if (vm->a20_off)
			view_apply_a20(vm);
	}
}

void view_protect_code_page(struct bt_vm *vm, uint32_t page)
{
	if (page >= vm->ram_size >> 12 || vm->code_pages[page])
		return;
	vm->code_pages[page] = 1;
	if (vm->view_flat) {
		mprotect(vm->view + ((uint64_t)page << 12), 4096, PROT_READ);
		if (a20_alias(vm, page))
			mprotect(a20_alias(vm, page), 4096, PROT_READ);
	} else
		shadow_protect_phys_page(vm, page);
}

/* Called after the translations of a code page died: writable again. With
 * paging, the next write faults in a writable mapping. */
void view_unprotect_code_page(struct bt_vm *vm, uint32_t page)
{
	if (vm->view_flat && phys_host(vm, (uint64_t)page << 12, 4096, true)) {
		mprotect(vm->view + ((uint64_t)page << 12), 4096, PROT_READ | PROT_WRITE);
		if (a20_alias(vm, page))
			mprotect(a20_alias(vm, page), 4096, PROT_READ | PROT_WRITE);
	}
}

/* Signal context: true if the access will succeed when retried. */
bool view_fault(struct bt_cpu *cpu, uint32_t lin, bool write)
{
	if (cpu->vm->view_flat)
		return false;	/* SMC or MMIO: both need the dispatcher */
	return shadow_fill(cpu, lin, write);
}

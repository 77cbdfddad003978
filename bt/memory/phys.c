/*
 * The guest-physical space bt reaches: the slots the VMM's memory map gave
 * it (vmm/memory_map.h), RAM read-write and ROM read-only, all below
 * 4 GiB, mapped from the memfd at their guest-physical addresses in one
 * 4 GiB host range (vm->ram), so vm->ram + phys is the byte for any
 * backed phys. Everything else here asks phys_region/phys_host whether an
 * address is backed (else it is MMIO) and whether it may be written.
 * RAM above 4 GiB is refused: bt's page walk and views produce 32-bit
 * physical addresses, so PAE's 36-bit frames cannot reach it yet.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"

#define PHYS_SPACE (1ull << 32)

int phys_init(struct bt_vm *vm, char *err, size_t errlen)
{
	vm->ram = mmap(NULL, PHYS_SPACE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "bt: reserving guest-physical space: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void phys_destroy(struct bt_vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, PHYS_SPACE);
	vm->ram = NULL;
}

int phys_add(struct bt_vm *vm, uint64_t gpa, uint64_t size, int memfd, off_t offset,
	     bool readonly, char *err, size_t errlen)
{
	if (gpa >= PHYS_SPACE || size > PHYS_SPACE - gpa) {
		snprintf(err, errlen, "bt: %s at %#llx lies above 4 GiB: %s",
			 readonly ? "ROM" : "RAM", (unsigned long long)gpa, BT_NO_HIGH_RAM);
		return -1;
	}
	if (memfd < 0 || (vm->memfd >= 0 && memfd != vm->memfd) ||
	    vm->nr_phys == BT_PHYS_MAX || !size || ((gpa | size | (uint64_t)offset) & 0xfff)) {
		snprintf(err, errlen, "bt: memory must be page-aligned slots of one memfd, "
			 "at most %d", BT_PHYS_MAX);
		return -1;
	}
	for (unsigned i = 0; i < vm->nr_phys; i++)
		if (gpa < vm->phys[i].gpa + vm->phys[i].size && gpa + size > vm->phys[i].gpa) {
			snprintf(err, errlen, "bt: the slot at %#llx overlaps another",
				 (unsigned long long)gpa);
			return -1;
		}
	if (mmap(vm->ram + gpa, size, PROT_READ | (readonly ? 0 : PROT_WRITE),
		 MAP_SHARED | MAP_FIXED, memfd, offset) == MAP_FAILED) {
		snprintf(err, errlen, "bt: cannot map the slot at %#llx: %s",
			 (unsigned long long)gpa, strerror(errno));
		return -1;
	}
	vm->memfd = memfd;
	vm->phys[vm->nr_phys++] = (struct bt_phys_region){ gpa, size, offset, readonly };
	if (gpa + size > vm->ram_size)
		vm->ram_size = gpa + size;
	return 0;
}

/* Linear in the slots: a VM has a handful (one by default). */
const struct bt_phys_region *phys_region(const struct bt_vm *vm, uint64_t phys, uint64_t len)
{
	for (unsigned i = 0; i < vm->nr_phys; i++) {
		const struct bt_phys_region *r = &vm->phys[i];
		if (phys < r->gpa + r->size && phys + len > r->gpa)
			return phys >= r->gpa && phys + len <= r->gpa + r->size ? r : NULL;
	}
	return NULL;
}

uint8_t *phys_host(const struct bt_vm *vm, uint64_t phys, uint64_t len, bool write)
{
	const struct bt_phys_region *r = phys_region(vm, phys, len);

	return r && !(write && r->readonly) ? vm->ram + phys : NULL;
}

off_t phys_memfd_offset(const struct bt_phys_region *r, uint64_t phys)
{
	return r->offset + (off_t)(phys - r->gpa);
}

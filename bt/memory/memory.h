/* The guest-physical space (phys.c), guest memory as the C side sees it
 * (guest_mem.c) and the views
 * translated code uses (view.c): part of memory, with mmu.h. */
#ifndef HYVM_BT_MEMORY_H
#define HYVM_BT_MEMORY_H

#include "bt/bt.h"

/* --- phys.c: the guest-physical space: slots, lookup --- */
#define BT_NO_HIGH_RAM "bt's page walk and views produce 32-bit physical addresses, " \
		       "so PAE's frames above 4 GiB are out of its reach"
int phys_init(struct bt_vm *vm, char *err, size_t errlen);
void phys_destroy(struct bt_vm *vm);
int phys_add(struct bt_vm *vm, uint64_t gpa, uint64_t size, int memfd, off_t offset,
	     bool readonly, char *err, size_t errlen);
/* The slot holding all of [phys, phys + len); NULL: unbacked (MMIO). */
const struct bt_phys_region *phys_region(const struct bt_vm *vm, uint64_t phys, uint64_t len);
/* The A20 gate (PC AT; SDM Vol. 3A, 8.7.13.4 "A20M#"): with it off, the
 * CPU drives physical address bit 20 low, so the megabyte above 1 MiB (and
 * every odd megabyte) aliases the one below. Applied where a guest
 * address becomes physical: mem_linear_to_phys (paging off), mmu_walk
 * (page tables and the page it maps), and view_reset's flat view. */
static inline uint64_t phys_a20(const struct bt_vm *vm, uint64_t phys)
{
	return vm->a20_off ? phys & ~(1ull << 20) : phys;
}
/* vm->ram + phys if those bytes are backed and, for write, writable. */
uint8_t *phys_host(const struct bt_vm *vm, uint64_t phys, uint64_t len, bool write);
off_t phys_memfd_offset(const struct bt_phys_region *r, uint64_t phys);

/* --- guest_mem.c: guest memory as C sees it --- */
/* Translates a linear address for an access; 0, or -1 with a #PF raised
 * (through hooks.page_fault) if raise. */
int mem_linear_to_phys(struct bt_cpu *cpu, uint32_t lin, bool write, bool user,
		       uint32_t *phys, bool raise);
int mem_access_as(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, bool write,
		  bool user, bool raise);
int mem_read(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len);
int mem_write(struct bt_cpu *cpu, uint32_t lin, const void *buf, unsigned len);
int mem_fetch(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, unsigned *got);
void mem_note_phys_write(struct bt_vm *vm, uint64_t phys, unsigned len);

/* --- view.c: the 4 GiB views of guest memory translated code uses --- */
int view_init(struct bt_vm *vm, char *err, size_t errlen);
void view_reset(struct bt_vm *vm);
void view_protect_code_page(struct bt_vm *vm, uint32_t phys_page);
/* Handles a host fault inside the view; true if retrying will succeed. */
bool view_fault(struct bt_cpu *cpu, uint32_t lin, bool write);
uint8_t *view_base(struct bt_vm *vm, int index);
uint8_t *view_space_base(struct bt_vm *vm, unsigned space, int index);
void view_clear_space(struct bt_vm *vm, unsigned space);
void view_unprotect_code_page(struct bt_vm *vm, uint32_t page);

#endif

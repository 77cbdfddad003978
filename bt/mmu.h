/* The shadow MMU: guest page walks and on-demand view mappings. */
#ifndef HYVM_BT_MMU_H
#define HYVM_BT_MMU_H

#include <stdbool.h>
#include <stdint.h>

struct bt_cpu;
struct bt_vm;

#define BT_NR_VIEWS	2	/* 0: supervisor accesses, 1: user (CPL3) */
#define MMU_WRITE	0x1
#define MMU_FETCH	0x2

/* Page-fault error code bits (SDM Vol. 3, 4.7). */
#define PFERR_P	0x1
#define PFERR_W	0x2
#define PFERR_U	0x4

struct mmu_walk {
	uint32_t phys;		/* of the byte */
	bool writable;		/* the guest tables allow writes for this access */
	bool dirty;		/* D already set */
	uint32_t large_base;	/* 4M/2M page: linear base; 0 else */
	uint32_t large_size;
	uint32_t error;		/* #PF error code if it failed */
};

/* Walks the guest page tables (2-level 4K/4M, or PAE 4K/2M); sets A, and D
 * for writes, as the hardware would. 0 on success. */
int mmu_walk(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
	     struct mmu_walk *w);
int mmu_translate(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  uint32_t *phys, bool raise);
bool mmu_shadow_fault(struct bt_cpu *cpu, uint32_t lin, bool write);
void mmu_invlpg(struct bt_vm *vm, uint32_t lin);
void mmu_views_dropped(struct bt_vm *vm);
void mmu_protect_phys_page(struct bt_vm *vm, uint32_t page);
void mmu_unprotect_phys_page(struct bt_vm *vm, uint32_t page);
void mmu_note_phys_write(struct bt_vm *vm, uint32_t page);

uint8_t *view_base(struct bt_vm *vm, int index);
void view_clear(struct bt_vm *vm, int index);
void view_unprotect_code_page(struct bt_vm *vm, uint32_t page);

#endif

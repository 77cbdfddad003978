/* The soft TLB of the accesses that kept faulting on the views
 * (soft_tlb.c): part of memory; the translator emits its lookup
 * (translate/soft_tlb_emit.c), the dispatcher takes its misses. */
#ifndef HYVM_BT_SOFT_TLB_H
#define HYVM_BT_SOFT_TLB_H

#include "bt/bt.h"

/* A view fault (guest #PF or shadow fill) at the instruction at linear
 * lin; true once, at the threshold: translate its block again. */
bool soft_tlb_note(struct bt_vm *vm, uint32_t lin);
/* The instruction at lin goes through the soft TLB. */
bool soft_tlb_site(const struct bt_vm *vm, uint32_t lin);

void soft_tlb_init(struct bt_cpu *cpu);
/* Every entry (MOV CR3, CR0/CR4); one linear page's (INVLPG, a #PF
 * there). */
void soft_tlb_flush(struct bt_cpu *cpu);
void soft_tlb_flush_page(struct bt_cpu *cpu, uint32_t lin);
/* Physical page pfn became code or a page table: no entry writes it. */
void soft_tlb_drop_writes(struct bt_cpu *cpu, uint32_t pfn);

/* The dispatcher's code-fetch translation (paging on), cached until the
 * soft TLB's flushes; 0, or -1 with the #PF raised if raise (the
 * in-block callouts' next block does not raise: the dispatcher will).
 * global may be NULL. */
int soft_tlb_fetch(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys, bool *global,
		   bool raise);
/* The same translation when it is cached (true), with no walk and no
 * fault: callout_in_block.c's next block, where a miss walks quietly. */
bool soft_tlb_fetch_cached(const struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys,
			   bool *global);

enum stlb_result {
	STLB_FILLED,	/* run the instruction again: it hits */
	STLB_FAULT,	/* the guest's #PF was raised */
	STLB_VIEW,	/* run it alone through the view (MMIO, ROM, SMC,
			 * page-table write, across a page) */
};
/* A miss of an access of info (BT_STLB_INFO_*) at linear lin by the
 * instruction at cpu->eip. */
enum stlb_result soft_tlb_miss(struct bt_cpu *cpu, uint32_t lin, unsigned info);
/* The same miss from translated code (cpu->stlb_miss_lin, op: its
 * BT_STLB_INFO_* and the block's view): cpu->stlb_call_ok = 1 when the
 * entry was filled and now hits, 0 with nothing done otherwise. */
void soft_tlb_fill_in_block(struct bt_cpu *cpu, uint32_t op);
/* Right after a soft_tlb_fill_in_block whose walk failed: that #PF
 * raised (true); false with nothing done after any other outcome. */
bool soft_tlb_fault_from_fill(struct bt_cpu *cpu);

/* The physical address of C's emulated store at lin to a page table
 * (paging on): 0, or -1 with nothing raised (the caller's own path). */
int soft_tlb_pt_store(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys);

/* REP MOVS/STOS from its block at a soft-TLB site: as many elements as
 * the soft TLB reaches, ECX/ESI/EDI in cpu->gpr advanced;
 * cpu->stlb_call_ok = 1 when ECX reached 0 (the native instruction does
 * the rest otherwise). op: the element's bytes, BT_STR_MOVS, the source
 * segment (memory/soft_tlb_string.c). */
#define BT_STR_SIZE		0x7
#define BT_STR_MOVS		0x8
#define BT_STR_SEG_SHIFT	4
void soft_tlb_string(struct bt_cpu *cpu, uint32_t op);

/* C's access to one page's bytes at lin (paging on): the host address
 * from the soft TLB, walked and filled on a miss; NULL with *fault when
 * the walk failed (the #PF raised if raise), NULL otherwise when the
 * access is not plain RAM (MMIO, ROM, a code or page-table page written):
 * the caller's own path. */
uint8_t *soft_tlb_host(struct bt_cpu *cpu, uint32_t lin, bool write, bool user, bool raise,
		       bool *fault);

#endif

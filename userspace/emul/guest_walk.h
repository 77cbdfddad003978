/*
 * Guest memory as an instruction emulator sees it: guest-physical RAM
 * slots (the VMM's own mapping of the memfd) and the walk from a guest
 * linear address to a guest-physical one through the guest's page
 * tables (32-bit, PAE, 4-level), with the checks and accessed/dirty
 * updates the CPU would make. Engine-agnostic: svm and vmx use it to
 * finish accesses the hardware handed back (MMIO, INS/OUTS).
 */
#ifndef HYVM_GUEST_MEM_H
#define HYVM_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <hyvm/cpu_state.h>

#define GUEST_MEM_MAX_SLOTS 8

struct guest_mem {
	unsigned nr;
	struct { uint64_t gpa, size; uint8_t *host; bool readonly; } slot[GUEST_MEM_MAX_SLOTS];
	/* Optional: told of each RAM write the emulator makes, for an engine
	 * that caches what RAM holds (bt: translations, shadow page tables). */
	void (*ram_written)(void *opaque, uint64_t gpa, uint64_t len);
	void *opaque;
};

/* -1 if the table is full or the slot is empty. */
int guest_mem_add(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size);
/* A ROM slot: read as RAM; a write to it goes to the bus as an MMIO
 * write, which the VMM drops, so the ROM keeps its bytes. */
int guest_mem_add_rom(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size);
/* Host address of [gpa, gpa+len) when it lies in one RAM or ROM slot, else NULL. */
uint8_t *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* The same for a write: NULL for ROM too. */
uint8_t *guest_mem_ptr_write(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* How a linear address is used, for the page-table permission checks. */
enum gm_access { GM_READ, GM_WRITE, GM_FETCH };

enum gm_result {
	GM_OK,
	GM_PAGE_FAULT,		/* *pf_err holds the #PF error code */
	GM_TABLE_NOT_RAM,	/* a page table lies outside guest RAM */
};

/* The CPL the CPU would check with: 0 in real mode, 3 in virtual-8086
 * mode, else SS.DPL (APM Vol. 2, 4.9). */
unsigned guest_cpl(const struct hyvm_cpu_state *st);
/* 64-bit code: EFER.LMA and CS.L. */
bool guest_is_64bit(const struct hyvm_cpu_state *st);

/* Linear -> guest-physical, as CR0.PG/CR4.PAE/EFER.LMA select. Sets the
 * accessed bits (and dirty on a write) like the CPU's walker, since the
 * emulator does the access the CPU would have done. */
enum gm_result guest_translate(const struct guest_mem *m, const struct hyvm_cpu_state *st,
			       uint64_t linear, enum gm_access how, uint64_t *gpa,
			       uint32_t *pf_err);

#endif

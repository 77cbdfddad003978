/*
 * The one guest page walker: linear -> guest-physical through the guest's
 * own page tables (32-bit with PSE/PSE-36, PAE, 4-level; Intel SDM Vol.
 * 3A, 4.3-4.5; AMD APM Vol. 2, 5.2-5.4), with the permission and
 * reserved-bit checks and the accessed/dirty updates the CPU makes.
 *
 * It returns a fault instead of raising it: the caller decides whether
 * the #PF reaches the guest (bt delivers it, the instruction emulator
 * hands it to its engine, bt's shadow fill only asks). Pure and
 * async-signal-safe (bt walks from its SIGSEGV handler): no allocation,
 * no locks; entries are updated with atomic ORs because other vCPUs may
 * walk the same tables.
 */
#ifndef HYVM_X86_PAGE_WALK_H
#define HYVM_X86_PAGE_WALK_H

#include <stdbool.h>
#include <stdint.h>

enum pw_access { PW_READ, PW_WRITE, PW_FETCH };

enum pw_status {
	PW_OK,
	PW_FAULT,		/* vector/error hold the exception (#PF) */
	PW_TABLE_NOT_RAM,	/* a paging-structure entry lies outside RAM;
				 * error holds the not-present #PF it resembles */
};

/* What the walk depends on: the paging registers, and where the tables
 * are. table_ptr returns the host address of [gpa, gpa+len) in RAM, or
 * NULL. */
struct pw_context {
	uint64_t cr0, cr3, cr4, efer;
	unsigned maxphyaddr;	/* CPUID 0x80000008 EAX[7:0]; 36 without it (SDM 4.1.4) */
	uint8_t *(*table_ptr)(void *opaque, uint64_t gpa, unsigned len);
	/* Optional: true for an entry in ROM, whose A/D updates are dropped
	 * as the ROM drops every other write. */
	bool (*table_readonly)(void *opaque, uint64_t gpa);
	void *opaque;
};

#define PW_MAX_ENTRIES 4

struct pw_result {
	enum pw_status status;
	uint64_t phys;		/* of the byte at linear (PW_OK) */
	uint8_t vector;		/* VEC_PF when status is PW_FAULT */
	uint32_t error;		/* #PF error code (SDM 4.7) */
	bool writable;		/* the tables allow a write at this privilege (CR0.WP applied) */
	bool dirty;		/* the leaf's D is set (after this walk's update) */
	uint64_t page_size;	/* 4K, 2M, 4M or 1G */
	/* guest-physical addresses of the entries used, top level first
	 * (the PAE PDPTE included): what the translation depends on */
	uint64_t entry[PW_MAX_ENTRIES];
	unsigned nentries;
};

/* Walks for one access. user: a CPL 3 access (not an implicit supervisor
 * access such as a descriptor-table read). With CR0.PG clear the linear
 * address is the physical one. On PW_OK sets A in every entry used and D
 * in the leaf for a write; on a fault changes nothing. */
void page_walk(const struct pw_context *ctx, uint64_t linear, enum pw_access how, bool user,
	       struct pw_result *r);

#endif

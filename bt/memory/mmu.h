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

struct mmu_walk {
	uint64_t phys;		/* of the byte (PSE-36 and PAE reach above 4 GiB) */
	bool writable;		/* the guest tables allow writes for this access */
	bool dirty;		/* D already set */
	bool large;		/* a 2M or 4M page */
	bool global;		/* G in the leaf with CR4.PGE set: kept across CR3 loads
				 * (SDM Vol. 3A 4.10.2.4, 4.10.4.1) */
	uint32_t error;		/* #PF error code if it failed */
	uint32_t entry[3];	/* physical addresses of the entries used (PDPTE, PDE, PTE) */
	unsigned nentries;
};

/* Walks the guest page tables (2-level 4K/4M, or PAE 4K/2M) with the
 * shared walker (x86/page_walk.h); sets A, and D for writes, as the
 * hardware would. 0 on success; -1 with w->error on a #PF, not raised. */
int mmu_walk(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
	     struct mmu_walk *w);
/* mmu_walk that sets no A or D bit: the verdict and error code of an
 * access that was already tried and failed (exceptions.c's stack pushes). */
int mmu_walk_peek(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  struct mmu_walk *w);
/* A read walk that sets nothing, for mapping ahead of an access: 0 only
 * if it succeeds and every entry it used already has A set (an access
 * would change no entry, so mapping now is invisible to the guest). */
int mmu_walk_accessed(struct bt_cpu *cpu, uint32_t lin, bool user, struct mmu_walk *w);
/* The same in the tables of another CR3 (a cached address space's), the
 * paging mode being the current one. */
int mmu_walk_accessed_in(struct bt_cpu *cpu, uint64_t cr3, uint32_t lin, bool user,
			 struct mmu_walk *w);
int mmu_translate(struct bt_cpu *cpu, uint32_t lin, unsigned access, bool user,
		  uint32_t *phys, bool raise);
/* mmu_translate for an instruction fetch (raising #PF if raise), and
 * whether the translation is global (the dispatcher's jump-cache fills). */
int mmu_translate_fetch(struct bt_cpu *cpu, uint32_t lin, bool user, uint32_t *phys,
			bool *global, bool raise);

/* --- shadow.c: views as shadow page tables, cached per CR3 --- */
#define BT_NR_SPACES	16	/* address spaces (CR3 values) kept at once: the Linux
				 * session (a shell, pipes, 8 children) missed 0.9-1.9K
				 * times with 4, ~100 with 8; a fork+exec loop of the
				 * i386 kernel (a freed directory page is handed out
				 * again for anything, so CR3 values wander) 768 times
				 * in 3,000 forks with 8, each refilling the kernel
				 * half from empty (~100 fills), 44 with 16 */
#define BT_SHADOW_RECS	16384	/* mappings remembered per address space */
#define BT_PTW_HOT	256	/* instructions watched for page-table writes */
#define BT_PTW_CALLOUT_AFTER 8	/* traps before an instruction becomes a callout */
#define BT_STALE_MAX	4096	/* stale mappings kept until a TLB flush */

/* One shadow mapping: which guest entries it was built from. Records
 * are named by id = space * BT_SHADOW_RECS + index + 1 (0: none) and
 * linked three ways, so nothing scans every record:
 *  - by (linear page, view) in a hash per address space: one record per
 *    mapping, a refill replaces it;
 *  - by physical page (reverse map), for write-protecting a page that
 *    becomes code or a page table in every view that maps it;
 *  - by each guest entry it was built from, in a hash of entry addresses
 *    (node id * 3 + k, k-th entry, 0: none), for dropping what a
 *    page-table write changed: a write looks up the entries it covers,
 *    so its cost does not grow with the records built from the rest of
 *    the page (a 1024-entry table filled by a fault handler made each
 *    write scan up to 1024 records). */
struct shadow_rec {
	uint32_t lin_page;
	uint32_t phys_page;
	uint32_t entry[3];
	uint8_t nentries;
	uint8_t view;
	bool live;
	bool writable;		/* mapped with PROT_WRITE */
	bool stale;		/* its entry changed: unmapped at the next flush (shadow_stale.c) */
	uint32_t lin_next;		/* hash bucket (live), free list (dead); index + 1 */
	uint32_t phys_next, phys_prev;	/* ids */
	uint32_t ent_next[3], ent_prev[3];	/* nodes */
};

#define BT_SHADOW_HASH	(2 * BT_SHADOW_RECS)
#define BT_ENT_HASH_BITS 16
#define BT_ENT_HASH	(1u << BT_ENT_HASH_BITS)	/* entry chains */

struct shadow_space {
	bool used;
	uint64_t cr3;
	uint64_t last_use;
	uint32_t nr;		/* records ever used (high water); live ones below */
	uint32_t free;		/* dead records below nr, linked by lin_next; index + 1 */
	uint32_t lin_head[BT_SHADOW_HASH];	/* index + 1 */
	struct shadow_rec rec[BT_SHADOW_RECS];
	/* ids of this space's records dropped at its next flush (shadow_stale.c) */
	uint32_t nr_stale;
	uint32_t stale[BT_STALE_MAX];
	/* its top-level table (the directory, or PAE's four PDPTEs) as it
	 * was when the space was last current, and whether an entry of it
	 * was written since: judged at its next load (shadow_dir.c) */
	bool dir_snapped, dir_deferred;
	bool dir_untraced;	/* its page stopped being traced meanwhile */
	uint32_t dir_base, dir_len;
	uint32_t nonstale;	/* live records not stale */
	uint8_t dir_snap[4096];
};

/* A page-table write in flight: the page is writable at one linear
 * address while one guest instruction runs; the diff says what changed. */
struct shadow_trace {
	bool active;
	uint32_t lin;
	uint32_t page;
	uint8_t view;
	uint8_t space;
	uint8_t before[4096];
};

struct bt_shadow {
	unsigned cur;		/* address space of the current CR3 */
	uint64_t tick;
	struct shadow_trace trace;
	struct { uint32_t lin; uint16_t traps; bool callout; } hot[BT_PTW_HOT];
	struct shadow_space space[BT_NR_SPACES];
	/* per physical page below vm->ram_size (npages of them): the first
	 * record mapping it (0: none), how many entry nodes lie in it, and
	 * how many of those are stale records' (shadow_stale.c) */
	uint64_t npages;
	uint32_t *phys_head;
	uint32_t *ent_count;
	uint32_t *ent_stale;	/* of those nodes, how many are stale records' */
	uint32_t ent_bucket[BT_ENT_HASH];	/* first node of each entry chain */
};

int shadow_init(struct bt_vm *vm, char *err, size_t errlen);
void shadow_destroy(struct bt_vm *vm);
/* Every address space dropped; the current one keyed by the current CR3. */
void shadow_reset(struct bt_vm *vm);
/* MOV to CR3 with paging on (mode unchanged): switch to its cached views. */
void shadow_cr3_loaded(struct bt_cpu *cpu);
/* Signal context: fills a view page after a walk; false if the dispatcher
 * must see the fault (guest #PF, MMIO, SMC, page-table write). */
bool shadow_fill(struct bt_cpu *cpu, uint32_t lin, bool write);
void shadow_invlpg(struct bt_cpu *cpu, uint32_t lin);
/* A guest #PF at lin: a stale mapping of it is dropped (4.10.4.1). */
void shadow_pf_drop_stale(struct bt_cpu *cpu, uint32_t lin);
/* shadow_stale.c: unmaps the current space's stale mappings (a TLB flush:
 * INVLPG, CR3, CR4.PGE); other spaces' wait for their own CR3 load. */
void shadow_flush_stale(struct bt_vm *vm);
/* A page now holds translated code: every mapping of it turns read-only. */
void shadow_protect_phys_page(struct bt_vm *vm, uint32_t page);
/* Guest RAM changed by C (callouts, exception delivery). */
void shadow_phys_written(struct bt_vm *vm, uint64_t phys, unsigned len);
bool shadow_is_pt_page(const struct bt_vm *vm, uint32_t page);
/* A translated write hit a page table: run it alone, traced. false: the
 * page was untracked instead (already tracing); just retry. */
bool shadow_trace_begin(struct bt_cpu *cpu, uint32_t lin, uint32_t phys, bool trapped);
void shadow_trace_end(struct bt_cpu *cpu);
bool shadow_is_pt_writer(const struct bt_vm *vm, uint32_t lin);

#endif

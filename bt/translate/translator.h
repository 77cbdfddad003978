/* Translation as the other parts use it: the runtime routines, the
 * translation cache, segment-limit checks, block building, the dump. */
#ifndef HYVM_BT_TRANSLATOR_H
#define HYVM_BT_TRANSLATOR_H

#include "bt/bt.h"
#include "bt/translate/emit.h"

/* --- cpuid_call.c: CPUID from the VM's CPU model, called by translated code --- */
/* CPUID on the guest EAX/ECX in cpu->gpr: results in gpr EAX..EDX.
 * Called from translated code (translate_insn.c, tx_cpuid) on a miss of
 * the fast table, and by the CPUID callout. */
void bt_cpuid(struct bt_cpu *cpu);
/* translate/io_call.c: the inline IN/OUT's call */
void bt_io_call(struct bt_cpu *cpu, uint32_t op);
/* Rebuilds cpu->cpuid_fast from cpu->cpuid; after every change to it. */
void bt_cpuid_prepare(struct bt_cpu *cpu);

/* --- runtime.c: entry, exit and lookup routines generated into the TC --- */
struct bt_runtime {
	void (*enter)(struct bt_cpu *cpu, const void *code);
	uint8_t *common_exit;	/* r11 = exit descriptor */
	uint8_t *fault_exit;	/* registers already saved by the handler */
	uint8_t *indirect;	/* r13 = target eip */
	uint8_t *jc_miss;	/* initial jump-cache host target */
	uint8_t *resume_exit;	/* BT_EXIT_RESUME, guest state in registers */
	uint8_t *smc_check;	/* a self-checking block's entry check (smc_check.c) */
	uint8_t *fpu_load;	/* loads the guest's x87/SSE image (fpu_load_emit.c) */
	uint8_t *fpu_ready;	/* a bare RET: it is loaded */
	struct bt_exit_desc miss_desc, fault_desc, request_desc, resume_desc;
};
int runtime_generate(struct bt_emitter *e, struct bt_runtime *rt);
/* fpu_load_emit.c: rt->fpu_load and rt->fpu_ready */
bool fpu_runtime_generate(struct bt_emitter *e, struct bt_runtime *rt);
/* smc_check.c: the routine behind rt->smc_check (after common_exit) */
bool smc_runtime_generate(struct bt_emitter *e, struct bt_runtime *rt);

/* --- tcache.c --- */
#define TC_PAGE_BUCKETS 4096u	/* physical page mod this; neighbours differ */
/*
 * The translation cache's byte bound (QEMU's tb-size): host code plus
 * everything kept per block (the block itself, its exit descriptors,
 * instruction map, decoded callout, incoming-chain arrays) together stay
 * under it; a translation that would pass it flushes the whole cache
 * first (tc_flush, like QEMU's tb_flush when its code buffer is full).
 * 32 MiB: QEMU's fixed code buffer before 5.0 (it holds its TBs too);
 * Debian's i386 Linux boots and runs in ~20 MiB of it. HYVM_BT_TC_KIB
 * sets another, between TC_LIMIT_MIN and TC_LIMIT_MAX.
 */
#define TC_LIMIT_DEFAULT	(32u << 20)
#define TC_LIMIT_MIN		(256u << 10)
#define TC_LIMIT_MAX		(1024u << 20)
/* Room one block may take at most: a translation starts only with this
 * much left of the bound, in the code and the data region each. */
#define TC_BLOCK_ROOM		(64u << 10)
struct bt_tc {
	uint8_t *mem;
	uint8_t *poll;		/* readable page; PROT_NONE asks translated code to stop */
	size_t size, used;	/* code region: mapped size, bytes used */
	size_t runtime_end;	/* where blocks start (after the poll page and runtime) */
	size_t limit;		/* used + data_used never pass it (see above) */
	struct bt_runtime rt;
	struct bt_block **hash;
	unsigned hash_size;
	struct bt_block **blocks;	/* in host address order */
	/* blocks by the physical pages their guest bytes cover (two at most;
	 * longer ones on wide): what self-modifying code invalidates, found
	 * without a scan of every block */
	struct bt_block *page_head[TC_PAGE_BUCKETS];
	struct bt_block *wide;
	unsigned nr_blocks, cap_blocks;
	unsigned nr_dead;		/* invalidated blocks kept until the next flush */
	/* blocks, exit descriptors, insn maps, callouts, incoming arrays:
	 * bump-allocated, freed all at once by a flush */
	uint8_t *data_arena;
	size_t data_used, data_size;
};
/* A cache of limit bytes (TC_LIMIT_MIN..TC_LIMIT_MAX), NULL if it cannot
 * be mapped. */
struct bt_tc *tc_create(size_t limit);
/* The bound HYVM_BT_TC_KIB asks for (TC_LIMIT_DEFAULT without it); 0 and
 * one line in err if it is not a whole number of KiB in range. */
size_t tc_limit_from_env(char *err, size_t errlen);
void tc_destroy(struct bt_tc *tc);
void tc_flush(struct bt_vm *vm, const char *why);
/* Room for one more block within the bound. */
bool tc_has_room(const struct bt_tc *tc);
/* Code and metadata bytes in use (bt.tc_bytes). */
static inline size_t tc_bytes_used(const struct bt_tc *tc)
{
	return tc->used - tc->runtime_end + tc->data_used;
}
/* Dead blocks (self-modifying code, rewritten page tables) that make the
 * cache flush although it is not full: a dead block's bytes are only
 * reclaimed by a flush, and a page rewritten in a loop would otherwise
 * fill the whole bound with them (and each invalidation would scan ever
 * more dead blocks). */
#define TC_MAX_DEAD	16384u
static inline bool tc_too_many_dead(const struct bt_tc *tc)
{
	return tc->nr_dead >= TC_MAX_DEAD;
}
struct bt_block *tc_lookup(struct bt_tc *tc, const struct bt_cpu *cpu, uint32_t eip,
			   uint32_t phys, uint32_t mode);
bool tc_same_segments(const struct bt_block *b, const struct bt_cpu *cpu);
void tc_insert(struct bt_tc *tc, struct bt_block *b);
struct bt_block *tc_block_at_host(struct bt_tc *tc, const void *host_pc);
const struct bt_insn_map *tc_insn_at_host(const struct bt_block *b, const void *host_pc);
void *tc_alloc_data(struct bt_tc *tc, size_t size);
void tc_chain(struct bt_cpu *cpu, struct bt_exit_desc *d, struct bt_block *to);
void tc_invalidate_phys_page(struct bt_vm *vm, uint32_t page);
void tc_invalidate_block(struct bt_cpu *cpu, struct bt_block *b);
/* Every block with bytes in [lo, hi) of physical memory dies. */
void tc_invalidate_phys_range(struct bt_cpu *cpu, uint32_t lo, uint32_t hi);

/* --- smc_check.c: self-checking blocks on pages whose code keeps changing --- */
/* A write fault on a code page; true when it makes the page self-checking. */
bool smc_note_code_write(struct bt_vm *vm, uint32_t page);
/* The page is left writable and its blocks check their bytes on entry. */
bool smc_page_checking(const struct bt_vm *vm, uint32_t page);
/* The dispatcher's answers to BT_EXIT_SMC_STALE and BT_EXIT_SMC_QUIET. */
void smc_check_stale(struct bt_cpu *cpu, struct bt_block *b);
void smc_check_quiet(struct bt_cpu *cpu, struct bt_block *b);
/* A host #DE at guest linear lin (translate/div_check.c): true when this
 * one makes BT_DIV_CHECK_AFTER, so its block should be retranslated. */
bool div_fault_note(struct bt_vm *vm, uint32_t lin);
/* jump_cache.c: every set's filled slots (a change of paging mode or PGE) */
void jc_reset(struct bt_cpu *cpu);
/* Every set's slots of non-global translations (a CR3 load). */
void jc_cr3_loaded(struct bt_cpu *cpu);
/* Every slot, filled or not (a new vCPU, a new runtime). */
void jc_reset_all(struct bt_cpu *cpu);
/* Fills the slot of b's eip in the set in use (remembered, so jc_reset
 * clears only filled slots); global: its translation was global
 * (mmu_translate_fetch). */
void jc_set(struct bt_cpu *cpu, const struct bt_block *b, bool global);
/* Forgets the jump-cache slots of the linear page holding lin (INVLPG). */
void jc_drop_page(struct bt_cpu *cpu, uint32_t lin);
/* Forgets the slots holding a block's host entry, in every set. */
void jc_drop_block(struct bt_cpu *cpu, uint32_t eip, const void *host);
/* Drops every block holding the instruction at phys (memory's
 * retranslate_at hook). */
void tc_invalidate_blocks_at(struct bt_cpu *cpu, uint32_t phys);
/* kick(): the next block entry faults on the poll page; unkick undoes it */
void tc_kick(struct bt_tc *tc);
void tc_unkick(struct bt_tc *tc);

/* --- seglimit.c: limit checks on ordinary accesses --- */
enum { BT_SEGCHK_NONE, BT_SEGCHK_UP, BT_SEGCHK_DOWN32, BT_SEGCHK_DOWN16 };
/* Inline: the dispatcher asks twice per block it runs (the lookup's key
 * and the jump cache's), which perf showed at ~20% of a SYSENTER round
 * trip as calls. */
static inline uint8_t seg_check_kind(const struct hyvm_segment *s)
{
	if (s->attrib & HYVM_SEG_UNUSABLE)
		return BT_SEGCHK_NONE;	/* a null selector: not modelled here */
	if ((s->attrib & HYVM_SEG_S) && (s->attrib & 0xc) == 0x4)
		return (s->attrib & HYVM_SEG_DB) ? BT_SEGCHK_DOWN32 : BT_SEGCHK_DOWN16;
	return (uint32_t)s->limit == 0xffffffffu ? BT_SEGCHK_NONE : BT_SEGCHK_UP;
}
/* What a block's code is keyed by besides the bases. */
static inline void seg_check_key(const struct bt_cpu *cpu, uint32_t limit[6], uint8_t kind[6])
{
	for (int s = 0; s < 6; s++) {
		kind[s] = seg_check_kind(&cpu->arch.seg[s]);
		limit[s] = kind[s] == BT_SEGCHK_NONE ? 0 : (uint32_t)cpu->arch.seg[s].limit;
	}
}
/* Host code that leaves through *fail_site (a rel32 to patch) when the
 * access of size bytes at [base + index*scale + disp] (32-bit, the segment
 * base not included) is outside the segment; clobbers r9, r10, r13. */
bool emit_limit_check(struct bt_emitter *e, uint8_t kind, uint32_t limit, ZydisRegister base,
		      ZydisRegister index, uint8_t scale, int64_t disp, unsigned size,
		      uint8_t **fail_site);

/* --- translate.c --- */
/* Builds the block at cpu->eip; NULL only if the TC is full. */
struct bt_block *translate_block(struct bt_cpu *cpu, uint32_t phys, uint32_t mode);

/* --- dump.c: HYVM_BT_DUMP=1 --- */
void dump_block(struct bt_cpu *cpu, const struct bt_block *b);

#endif

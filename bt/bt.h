/*
 * The binary translator's shared types: the per-vCPU context that
 * translated code reaches through r15, blocks, exit descriptors, the VM.
 * Functions are declared in the header of the part that defines them
 * (see the end of this file).
 *
 * Host register convention while translated code runs:
 *   rax rcx rdx rbx rbp rsi rdi  guest EAX ECX EDX EBX EBP ESI EDI (same
 *                                encoding, so AH..BH keep working)
 *   r14  guest ESP (RSP stays the host stack, so signals and calls work)
 *   r15  struct bt_cpu *
 *   r12  view base, r8 minus view base (string instructions rebase)
 *   r9 r10 r11 r13  scratch
 *   RFLAGS  guest arithmetic flags and DF; IF/IOPL etc. are virtual
 * The upper halves of the guest registers are always zero: guest code
 * only writes 8/16/32-bit parts, and our own sequences restore them.
 */
#ifndef HYVM_BT_H
#define HYVM_BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <Zydis/Zydis.h>
#include <hyvm/cpu_state.h>
#include <hyvm/x86.h>
#include "bt/bt_stats.h"
#include "cpu/cpu_msr.h"
#include "engines/engine.h"

#define BT_JC_BITS	16
#define BT_JC_SIZE	(1u << BT_JC_BITS)
#define BT_JC_DIRTY	4096	/* fills a reset clears one by one (jc_reset) */
#define BT_JC_PAGE_BITS	4096	/* jc_pages: the filter of jc_drop_page */
#define BT_JC_SETS	4	/* jump caches kept, one per segment key (jump_cache.c):
				 * the kernel's, and a few processes' TLS bases */
#define BT_MAX_BLOCK_INSNS 64
#define BT_UD_KINDS	6	/* opcodes counted apart in #UD statistics */
#define BT_TC_SIZE	(64u << 20)
/* views: supervisor + user, for each cached address space (mmu.h) */
#define BT_VIEW_BYTES	((1ull << 32) * 2 * 16)

/* Flags that live in host RFLAGS while translated code runs. */
#define BT_EFLAGS_LIVE (EFLAGS_ARITH | EFLAGS_DF)

enum bt_exit_kind {
	BT_EXIT_BRANCH,		/* direct branch to target_eip; chainable */
	BT_EXIT_INDIRECT,	/* jump-cache miss; eip already stored */
	BT_EXIT_CALLOUT,	/* emulate the instruction at target_eip in C */
	BT_EXIT_REQUEST,	/* kick(): a block-entry poll faulted; eip is the block's */
	BT_EXIT_FAULT,		/* the signal handler stopped a faulting instruction */
	BT_EXIT_LIMIT,		/* a segment limit check failed: raise vector at target_eip */
	BT_EXIT_DIV0,		/* a checked DIV/IDIV's divisor is 0: #DE at target_eip
				 * (translate/div_check.c) */
	BT_EXIT_IO_STOP,	/* an inline IN/OUT is done and the VMM wants an exit
				 * (translate/io_call.c); eip = target_eip, after it */
	BT_EXIT_RESUME,		/* a callout done inside the block (translate/
				 * callout_call.c) left work for the dispatcher; eip
				 * stored: it goes on from there */
	BT_EXIT_SMC_STALE,	/* a self-checking block's guest bytes changed since
				 * its translation; nothing of it ran (translate/
				 * smc_check.c) */
	BT_EXIT_SMC_QUIET,	/* its page's quiet count ran out: protect it again;
				 * nothing of the block ran */
	BT_EXIT_STLB,		/* a soft-TLB miss at target_eip (memory/soft_tlb.c):
				 * the linear address in cpu->stlb_miss_lin, size and
				 * write in vector (BT_STLB_INFO_*) */
};

/* The per-vCPU software TLB of the instructions that kept faulting on
 * the views (memory/soft_tlb.c, translate/soft_tlb_emit.c): guest linear
 * page -> host address in the RAM mapping, one tag per view (supervisor,
 * user) and access (read, write), BT_STLB_NONE when empty. 32 bytes an
 * entry, so translated code indexes it with a shift. */
#define BT_STLB_BITS	8
#define BT_STLB_SIZE	(1u << BT_STLB_BITS)
#define BT_STLB_NONE	1u	/* never a page address */
#define BT_ITLB_SIZE	16
#define BT_STLB_INFO_SIZE	0x1f	/* a miss's exit: the access's bytes */
#define BT_STLB_INFO_WRITE	0x80	/* ... and whether it writes */
#define BT_STLB_INFO_USER	0x100	/* the block's view is the user one
					 * (soft_tlb_fill_in_block's op only) */
struct bt_stlb_entry {
	uint32_t tag[2][2];	/* [view][0 read, 1 write]: the linear page */
	uint64_t addend;	/* host address of the page minus its linear page */
	/* [view]: the tables allow the write (D set) to a page whose
	 * writes must be seen, a page table; for C's emulated page-table
	 * stores only (soft_tlb_pt_store), never translated code */
	uint32_t pt_store[2];
};

struct bt_block;
struct bt_sys_fast;
struct bt_mmio;
struct engine_io_fast;
struct bt_insn;

/* One per block exit stub; translated code leaves its address in r11. */
struct bt_exit_desc {
	uint8_t kind;
	uint8_t vector;		/* BT_EXIT_LIMIT: VEC_GP or VEC_SS */
	bool chained;
	uint32_t target_eip;
	uint8_t *patch_site;	/* rel32 of the jump to re-point when chaining */
	uint8_t *stub;		/* where patch_site points when unchained */
	struct bt_block *from;
};

/* Where a guest instruction's host code starts, for precise faults. */
struct bt_insn_map {
	uint16_t host_off;
	uint8_t len;
	uint8_t fixup;		/* BT_FIXUP_*: what to undo if it faults */
	uint32_t eip;
};
#define BT_FIXUP_RSI	0x1	/* rsi holds a host address (string op) */
#define BT_FIXUP_RDI	0x2
#define BT_FIXUP_SPILL	0x4	/* a guest register is spilled; see spill_reg */
#define BT_FIXUP_REG_SHIFT 4	/* spill register number in bits 4..7; with
				 * BT_FIXUP_RSI, the source segment (HYVM_ES..) */

struct bt_block {
	uint32_t eip;		/* guest linear address of the first instruction */
	uint32_t phys;		/* guest physical address of it */
	uint32_t guest_len;	/* guest bytes covered */
	uint32_t mode;		/* BT_MODE_* key bits */
	uint32_t seg_base[6];	/* ES CS SS DS FS GS bases baked into the code */
	uint32_t seg_limit[6];	/* limits checked in the code (0 if none) */
	uint8_t seg_check[6];	/* BT_SEGCHK_* per segment */
	uint8_t seg_used;	/* bit per segment keying the block by its limit
				 * check: all but GS, and GS if the code uses it */
	uint8_t seg_based;	/* ... and by its base too: those of seg_used whose
				 * base is in the code; not GS in ordinary
				 * instructions, which read it at run time */
	uint8_t *check_entry;	/* poll of the kick page, then body */
	uint8_t *body;
	uint32_t host_len;
	uint16_t nr_insns;
	bool valid;
	bool pt_callout;	/* a page-table writer made a callout (shadow.c) */
	bool debug_stop;	/* starts at a debugger's breakpoint: never chained into */
	bool smc_checked;	/* self-checking (translate/smc_check.c) */
	uint32_t smc_page;	/* ... counting down this physical page's quiet count */
	struct bt_insn_map *map;
	struct bt_insn *callout;	/* a callout block's instruction, decoded once */
	/* the block its in-block callout went on to last (cpu/callout_in_block.c),
	 * checked against the full key before each use */
	struct bt_block *callout_next;
	/* cpu->xfer_epoch when callout_next was last checked: the same epoch
	 * means the same segments (jc_segments_same bumps it at any change) */
	uint64_t callout_next_epoch;
	/* a SYSENTER/SYSEXIT block's translated transfer (translate/sys_fast.c):
	 * what it does without C while xfer_epoch holds; NULL: none */
	struct bt_sys_fast *sys_fast;
	struct bt_block *hash_next;
	/* chains of the blocks on a physical page (tcache.c, tc_page_bucket):
	 * [0] in its first page's, [1] in its last page's when it has two */
	struct bt_block *page_next[2];
	/* chained jumps into this block, so invalidation can undo them */
	struct bt_exit_desc **incoming;
	uint32_t nr_incoming, cap_incoming;
};

#define BT_MODE_CPL_MASK 0x3u
#define BT_MODE_PAGING	0x4u
#define BT_MODE_SINGLE	0x8u	/* one instruction, after a self-modifying write */
#define BT_MODE_CODE16	0x10u	/* CS.D = 0: 16-bit operands and addresses */
#define BT_MODE_STACK16	0x20u	/* SS.B = 0: SP, not ESP (stack sequences in C) */
/* execution breakpoints: engine.h's software ones and the four DR7 slots */
#define BT_DEBUG_MAX_BP	(64 + 4)

/*
 * CPUID answers translated code reads without a call (translate_insn.c,
 * tx_cpuid): slot bt_cpuid_slot(leaf) holds one leaf's answer, for a leaf
 * whose answer does not depend on ECX, and minus that leaf (so EAX plus it
 * is 0 on a match). Leaves not here take bt_cpuid. An unused slot s holds
 * -(s ^ 1), a leaf of another slot, so nothing matches it.
 */
#define BT_CPUID_SLOTS 256
struct bt_cpuid_fast {
	uint32_t neg_leaf[BT_CPUID_SLOTS];
	uint32_t eax[BT_CPUID_SLOTS], ebx[BT_CPUID_SLOTS], ecx[BT_CPUID_SLOTS],
		 edx[BT_CPUID_SLOTS];
};
/* the low byte of EAX plus its high byte: basic leaves n and extended
 * 0x80000000 + n land in different slots for n < 0x80 */
static inline unsigned bt_cpuid_slot(uint32_t leaf)
{
	return (uint8_t)(leaf + (leaf >> 24));
}

/*
 * The vCPU context. Translated code reaches the first fields at fixed
 * offsets from r15; the rest is for C.
 */
/* What a jump-cache set is valid for: the segment bases, limit checks
 * (seg_check_kind) and code/stack size its slots were filled under. */
struct bt_jc_key {
	uint32_t base[6];
	uint32_t limit[6];
	uint8_t check[6];
	uint32_t code_mode;	/* BT_MODE_CODE16|STACK16 */
};

/* A jump-cache slot: where translated code jumps for guest eip (host,
 * first: runtime.c's lookup reads both at these offsets). */
struct bt_jc_slot {
	uint64_t host;
	uint32_t eip;
	uint32_t pad;
};
_Static_assert(sizeof(struct bt_jc_slot) == 16, "runtime.c's lookup scales the slot by 16");

/* One indirect-branch jump-cache set: two-way, an eip in either slot of
 * the pair at its hash (translate/jump_cache.c, jc_slot). */
struct bt_jc {
	struct bt_jc_slot slot[BT_JC_SIZE];
	/* slots filled since the last reset: a reset clears those, or
	 * every slot once more than BT_JC_DIRTY were filled */
	uint32_t nr_dirty;
	uint16_t dirty[BT_JC_DIRTY];
	/* slots filled from a translation that was not global: what a CR3
	 * load clears (jc_cr3_loaded); all of them past BT_JC_DIRTY */
	uint32_t nr_local;
	uint16_t local[BT_JC_DIRTY];
	struct bt_jc_key key;
	/* what of the key its blocks depend on (the union of their seg_used
	 * and seg_based): only those must match for the set to be reused */
	uint8_t used_mask, based_mask;
	bool keyed;
	uint64_t last_use;
	/* the lowest and highest linear page of an eip filled since the
	 * last reset: a dropped mapping outside concerns no slot */
	uint32_t lo_page, hi_page;
};

struct bt_cpu {
	uint64_t host_rsp;	/* host stack at entry, for exits and faults */
	uint64_t exit_desc;	/* r11 at the last exit */
	uint64_t host_flags;	/* RFLAGS as translated code sees them */
	uint64_t view_base;
	uint64_t neg_view_base;
	uint64_t spill;
	uint32_t gpr[8];	/* guest EAX..EDI in encoding order */
	uint32_t eip;
	uint32_t pad0;

	/* --- C only from here --- */
	uint32_t eflags;	/* full guest EFLAGS; live bits valid between runs */
	struct hyvm_cpu_state arch;	/* segments, CRs, tables; gpr/rip/rflags stale */
	bool halted;
	bool shutdown;		/* triple fault */
	bool irq_window_wanted;
	volatile bool kicked;
	uint8_t intr_shadow;	/* STI / MOV SS blocking for one instruction */
	uint8_t single_pending;	/* dispatch.c's single_kind for the next block */
	int pending_irq;	/* vector to deliver on next run, -1 none */
	/* an exception or NMI another engine was delivering (set_state):
	 * delivered before the next instruction (cpu/events.c) */
	struct hyvm_pending_event pending_event;
	uint8_t last_vector;
	uint64_t tsc_offset;
	/* the VM's CPU model (engine_ops.set_cpuid): CPUID is a lookup in
	 * this table, RDMSR/WRMSR the model's MSR file */
	struct hyvm_cpuid_table cpuid;
	struct bt_cpuid_fast cpuid_fast;	/* built from cpuid: bt_cpuid_prepare */
	struct cpu_msrs msrs;
	uint32_t dr[8];
	uint32_t fault_depth;	/* exceptions while delivering one */
	/* the jump-cache set translated code looks up (runtime.c), the one
	 * keyed by the current segments (translate/jump_cache.c) */
	struct bt_jc *jc;
	uint64_t jc_clock;	/* for choosing the least recently used set */
	/* linear pages (hashed) that may have a slot in some set: a page
	 * dropped from the shadow with no bit here costs no scan */
	uint64_t jc_pages[BT_JC_PAGE_BITS / 64];
	/* a slot per bit, all clear between uses: jc_cr3_loaded's dedup */
	uint64_t jc_listed[BT_JC_SIZE / 64];
	/* the debugger's requests (engine_ops.set_guest_debug, cpu/debug.c) */
	struct {
		bool active;		/* stepping or breakpoints: checked at block starts */
		bool step;
		bool step_done;		/* an instruction ran since the last stop */
		bool skip_once;		/* the first instruction after a stop, at skip_lin,
					 * is not stopped at again (as RF does, SDM 17.3.1.1) */
		uint32_t skip_lin;
		unsigned nr_bp;
		uint32_t bp[BT_DEBUG_MAX_BP];	/* linear addresses */
	} dbg;

	/* host fault captured by the signal handler */
	int fault_signo;
	int fault_code;
	int fault_trapno;	/* the host's vector: SIGFPE is #DE, #MF or #XM */
	uint64_t fault_addr;	/* host address */
	bool fault_write;
	uint32_t fault_eip;
	struct bt_block *fault_block;	/* the block of the faulting instruction */

	/* I/O in flight: an IN waiting for the VMM's data */
	struct {
		bool pending_in;
		uint8_t size;
		uint8_t reg_is_string;
		uint32_t count;
		uint32_t next_eip;
		uint8_t data[4096];
	} io;
	/* an RDMSR/WRMSR of a device's MSR, out to the VMM as EXIT_MSR and
	 * completed at the next run (cpu/callouts_msr.c) */
	struct {
		bool pending;
		uint32_t next_eip;
		struct engine_msr access;
	} msr;
	/* the VMM's port-I/O fast path (engine_ops.set_io_fast); NULL: every
	 * IN/OUT/INS/OUTS element is an EXIT_IO */
	const struct engine_io_fast *io_fast;
	/* bt_io_call's answer to translated code (translate/io_call.c) */
	uint32_t io_call_exit, io_call_unserved;
	uint32_t io_call_eip;	/* the inline IN/OUT's EIP, for the VMM's exit sites */
	/* a callout done inside its block (translate/callout_call.c): the
	 * CPU layer's function, set by engine_bt.c, and its answer to the
	 * block: 0 = not done (the callout stub), else where to go on */
	void (*callout_in_block)(struct bt_cpu *cpu, struct bt_block *b);
	/* the soft TLB's #PF raised from its block (cpu/pf_in_block.c),
	 * eip the faulting instruction's; the same answer */
	void (*stlb_fault_in_block)(struct bt_cpu *cpu, struct bt_block *b, uint32_t eip);
	uint64_t callout_target;
	/* bumped when a bt_sys_fast may be stale (bt_xfer_changed) */
	uint64_t xfer_epoch;
	/* an instruction outside RAM the emulator is finishing (mmio.c) */
	struct bt_mmio *mmio;

	struct bt_vm *vm;
	struct bt_stats stats;
	/* #UD by opcode (ud_stats.c) */
	struct { char name[24]; uint64_t count; } ud[BT_UD_KINDS];
	uint64_t ud_other;
	/* the guest's x87/SSE image; in the host's registers instead while
	 * fpu_loaded, from a block's first FPU instruction to the return to
	 * the dispatcher (cpu/fpu_lazy.c); translated code calls fpu_enter
	 * there: the runtime's load routine, or a bare RET once loaded */
	uint8_t fpu_loaded;
	uint16_t host_fcw;
	uintptr_t fpu_enter;
	uint8_t fx_guest[512] __attribute__((aligned(16)));
	/* the guest's XMM0-7 and MXCSR while translated code calls C, and
	 * the MXCSR that C runs on (translate/sse_spill.c) */
	uint8_t sse_spill[8][16] __attribute__((aligned(16)));
	uint32_t sse_spill_mxcsr, host_mxcsr;

	struct bt_jc jc_sets[BT_JC_SETS];

	/* the soft TLB (memory/soft_tlb.c); the miss's address, stored by
	 * translated code; an instruction (linear eip) whose shadow fills
	 * reached the soft TLB's threshold in the signal handler: every
	 * block holding it is translated again by dispatch.c */
	struct bt_stlb_entry stlb[BT_STLB_SIZE] __attribute__((aligned(64)));
	uint32_t stlb_miss_lin;
	/* the miss's fill done from the block (soft_tlb_fill_in_block):
	 * 1 when the entry now hits, so the block looks it up again */
	uint32_t stlb_call_ok;
	/* that fill's walk failed: the #PF's error code, kept for the
	 * in-block raise that follows at once (one walk, not two) */
	bool stlb_fault_ready;
	uint32_t stlb_fault_error;
	/* entries filled since the last flush, which clears only those
	 * (a page-table write flushes: the ptwrite storm's one fill a
	 * rewrite cleared all 256 entries, 12% of its time) */
	uint32_t nr_stlb_filled;
	uint8_t stlb_filled[BT_STLB_SIZE];
	/* the dispatcher's code-fetch translations (soft_tlb_fetch): linear
	 * page | 1 for a user fetch (0: empty) -> physical page, flushed
	 * with the soft TLB */
	uint32_t itlb_lin[BT_ITLB_SIZE], itlb_phys[BT_ITLB_SIZE];
	bool itlb_used;
	bool stlb_retranslate;
	uint32_t stlb_retranslate_lin;
};

/*
 * What a SYSENTER or SYSEXIT block does without C (translate/sys_fast.c),
 * filled by its in-block callout after a transfer done in C
 * (cpu/callout_in_block.c, sys_fast_fill). Valid while cpu->xfer_epoch
 * equals epoch (and, for SYSEXIT, EDX equals eip): then the transfer's
 * result is the same as at the fill but for ESP and the virtual IF/RF,
 * which the translated code takes from the live state.
 */
struct bt_sys_fast {
	uint64_t epoch;		/* 0: never filled (xfer_epoch starts at 1) */
	uint64_t target;	/* the next block's kick poll */
	uint32_t eip;		/* SYSEXIT: the EDX the target is for */
	/* SYSEXIT: the CS selector it ran with (CPL 0). The block's key
	 * has its CPL, but the jump cache, which holds one set of segment
	 * bases and limits, not a CPL, can hand ring 3 a ring-0 block */
	uint32_t cs_before;
	struct hyvm_segment cs_ss[2];	/* CS and SS as loaded (SDM Vol. 2B) */
};

/* Something a translated SYSENTER/SYSEXIT relies on may have changed (an
 * MSR, CR0, the address space, a segment's base or limit, a block, the
 * VMM's state between runs): every bt_sys_fast filled before is stale. */
static inline void bt_xfer_changed(struct bt_cpu *cpu)
{
	cpu->xfer_epoch++;
}

/* Offsets translated code uses. */
#define BT_OFF(f) ((int32_t)offsetof(struct bt_cpu, f))
#define BT_OFF_GPR(i) (BT_OFF(gpr) + 4 * (i))

/* How memory (guest_mem.c, mmu.c, shadow.c) reaches the parts above it
 * without including them; engine_bt.c sets them when it makes the VM. */
struct bt_memory_hooks {
	/* a guest #PF at lin (cpu: guest_page_fault) */
	void (*page_fault)(struct bt_cpu *cpu, uint32_t lin, uint32_t error);
	/* guest code on this physical page was written (translate:
	 * tc_invalidate_phys_page) */
	void (*code_page_written)(struct bt_vm *vm, uint32_t page);
	/* the instruction at this physical address traps on page-table
	 * writes too often: translate it again, as a callout (translate:
	 * tc_invalidate_blocks_at) */
	void (*retranslate_at)(struct bt_cpu *cpu, uint32_t phys);
	/* a linear page of the current address space lost its mapping: the
	 * jump cache must not jump there unchecked (translate: jc_drop_page) */
	void (*mapping_dropped)(struct bt_cpu *cpu, uint32_t lin);
};

/* The VM: RAM, the 4 GiB view, the translation cache. */
#define BT_PHYS_MAX 16
/* A slot of guest-physical memory (phys.c). */
struct bt_phys_region {
	uint64_t gpa, size;
	off_t offset;		/* in memfd */
	bool readonly;		/* ROM: guest writes are dropped */
};

/* Guest addresses whose DIV/IDIV faulted with #DE (translate/div_check.c):
 * after BT_DIV_CHECK_AFTER host faults at one, it is translated with an
 * inline divisor check. */
#define BT_DIV_SITES		64
#define BT_DIV_CHECK_AFTER	4
struct bt_div_site {
	uint32_t lin;
	uint32_t count;
};
/* Guest addresses of instructions whose view accesses kept faulting (a
 * guest #PF or a shadow fill; memory/soft_tlb.c): after BT_STLB_AFTER
 * such faults the instruction goes through the soft TLB instead. */
#define BT_STLB_SITE_BITS	10
#define BT_STLB_SITES		(1u << BT_STLB_SITE_BITS)
#define BT_STLB_AFTER		16

/* A RAM page's self-modifying-code state (translate/smc_check.c). */
struct bt_smc_page {
	uint32_t quiet;		/* block entries left before it is protected again */
	uint16_t writes;	/* code-write faults since it was last protected */
	uint8_t checking;	/* writable; its blocks check their bytes on entry */
	uint8_t rounds;		/* times it became checking */
};

struct bt_vm {
	int memfd;
	uint8_t *ram;		/* guest-physical space [0, 4 GiB): phys.c */
	uint64_t ram_size;	/* end of the highest slot: page arrays' extent */
	struct bt_phys_region phys[BT_PHYS_MAX];
	unsigned nr_phys;
	uint8_t *view;		/* 4 GiB per view and address space; see view.c */
	bool view_flat;		/* view maps linear == physical (paging off) */
	bool a20_off;		/* the A20 gate masks physical bit 20 (phys_a20) */
	uint8_t *code_pages;	/* per physical page: translated code lives there */
	uint8_t *pt_pages;	/* per physical page: a shadow mapping was built from it */
	struct bt_smc_page *smc_pages;	/* per RAM page, from the first code write */
	uint32_t nr_smc_pages, nr_smc_checking;
	struct bt_shadow *shadow;
	struct bt_tc *tc;
	struct bt_cpu *cpu;
	ZydisDecoder decoder;	/* 32-bit code */
	ZydisDecoder decoder16;	/* 16-bit code: real mode, CS.D = 0 */
	struct bt_memory_hooks hooks;
	struct bt_div_site div_sites[BT_DIV_SITES];
	struct bt_div_site stlb_sites[BT_STLB_SITES];
};

/* Which part answers for what; each part's headers say what it offers:
 *   bt/memory/    memory.h, mmu.h: guest memory from C, the views, page
 *                 walks, the shadow MMU. Includes no other part; reaches
 *                 them through struct bt_memory_hooks.
 *   bt/translate/ translator.h, emit.h, decode.h: decoding, host code,
 *                 the translation cache. Uses memory only.
 *   bt/cpu/       cpu.h, callouts.h, operands.h, mmio.h: dispatch,
 *                 callouts, exceptions, signals. Uses both.
 */
/* The CPL bt runs at: CS.RPL, which protected mode keeps equal to the
 * CPL (SDM Vol. 3A, 5.5); 0 in real mode, 3 in virtual-8086 mode
 * (SDM Vol. 3A, 20.1 and 20.2.1), whatever the selector's low bits. */
static inline unsigned bt_cpl(const struct bt_cpu *cpu)
{
	if (!(cpu->arch.cr0 & CR0_PE))
		return 0;
	if (cpu->eflags & EFLAGS_VM)
		return 3;
	return cpu->arch.seg[HYVM_CS].selector & 3;
}

/* Real-address or virtual-8086 mode: a segment load is selector << 4. */
static inline bool bt_real_segments(const struct bt_cpu *cpu)
{
	return !(cpu->arch.cr0 & CR0_PE) || (cpu->eflags & EFLAGS_VM);
}

/* 16-bit code: the default operand and address size of CS's descriptor
 * cache (its D bit), which real mode keeps from the last load as
 * protected mode left it (SDM Vol. 3A, 20.1; QEMU TCG does the same). */
static inline bool bt_code16(const struct bt_cpu *cpu)
{
	return (cpu->eflags & EFLAGS_VM) || !(cpu->arch.seg[HYVM_CS].attrib & HYVM_SEG_DB);
}

static inline const ZydisDecoder *bt_decoder(const struct bt_cpu *cpu)
{
	return bt_code16(cpu) ? &cpu->vm->decoder16 : &cpu->vm->decoder;
}

/* The offset mask of the instruction pointer: IP wraps at 64 KiB in
 * 16-bit code (SDM Vol. 2A, 3.1.1.9: the operand-size attribute of a
 * near transfer decides, and a fall-through keeps the code size). */
static inline uint32_t bt_ip_mask(const struct bt_cpu *cpu)
{
	return bt_code16(cpu) ? 0xffffu : 0xffffffffu;
}

/* Linear address of an offset in the code segment. */
/* A debugger's execution breakpoint at this linear address (cpu/debug.c);
 * here because translation cuts blocks there too. */
static inline bool bt_debug_is_bp(const struct bt_cpu *cpu, uint32_t linear)
{
	for (unsigned i = 0; i < cpu->dbg.nr_bp; i++)
		if (cpu->dbg.bp[i] == linear)
			return true;
	return false;
}

static inline uint32_t cs_linear(const struct bt_cpu *cpu, uint32_t eip)
{
	return (uint32_t)cpu->arch.seg[HYVM_CS].base + eip;
}

#endif

/*
 * The binary translator's shared types: the per-vCPU context that
 * translated code reaches through r15, blocks, exit descriptors and the
 * functions the bt/ files offer one another.
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
#include <Zydis/Zydis.h>
#include <hyvm/cpu_state.h>
#include "bt/bt_stats.h"
#include "cpu/cpu_msr.h"

#define BT_JC_BITS	16
#define BT_JC_SIZE	(1u << BT_JC_BITS)
#define BT_MAX_BLOCK_INSNS 64
#define BT_UD_KINDS	6	/* opcodes counted apart in #UD statistics */
#define BT_TC_SIZE	(64u << 20)
/* views: supervisor + user, for each cached address space (mmu.h) */
#define BT_VIEW_BYTES	((1ull << 32) * 2 * 4)

#define EFL_CF	0x0001u
#define EFL_PF	0x0004u
#define EFL_AF	0x0010u
#define EFL_ZF	0x0040u
#define EFL_SF	0x0080u
#define EFL_TF	0x0100u
#define EFL_IF	0x0200u
#define EFL_DF	0x0400u
#define EFL_OF	0x0800u
#define EFL_IOPL 0x3000u
#define EFL_NT	0x4000u
#define EFL_RF	0x10000u
#define EFL_VM	0x20000u
#define EFL_AC	0x40000u
#define EFL_ID	0x200000u
/* Flags that live in host RFLAGS while translated code runs. */
#define EFL_LIVE (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF | EFL_DF)

#define CR0_PE	0x1u
#define CR0_WP	0x10000u
#define CR0_PG	0x80000000u
#define CR4_PSE	0x10u
#define CR4_PAE	0x20u

/* Exception vectors (SDM Vol. 3, 6.3.1). */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
	VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
	VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
};

enum bt_exit_kind {
	BT_EXIT_BRANCH,		/* direct branch to target_eip; chainable */
	BT_EXIT_INDIRECT,	/* jump-cache miss; eip already stored */
	BT_EXIT_CALLOUT,	/* emulate the instruction at target_eip in C */
	BT_EXIT_REQUEST,	/* kick(): a block-entry poll faulted; eip is the block's */
	BT_EXIT_FAULT,		/* the signal handler stopped a faulting instruction */
	BT_EXIT_LIMIT,		/* a segment limit check failed: raise vector at target_eip */
};

struct bt_block;
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
	uint8_t *check_entry;	/* poll of the kick page, then body */
	uint8_t *body;
	uint32_t host_len;
	uint16_t nr_insns;
	bool valid;
	bool pt_callout;	/* a page-table writer made a callout (shadow.c) */
	struct bt_insn_map *map;
	struct bt_insn *callout;	/* a callout block's instruction, decoded once */
	struct bt_block *hash_next;
	/* chained jumps into this block, so invalidation can undo them */
	struct bt_exit_desc **incoming;
	uint32_t nr_incoming, cap_incoming;
};

#define BT_MODE_CPL_MASK 0x3u
#define BT_MODE_PAGING	0x4u
#define BT_MODE_SINGLE	0x8u	/* one instruction, after a self-modifying write */

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
	uint8_t last_vector;
	uint64_t tsc_offset;
	/* the VM's CPU model (engine_ops.set_cpuid): CPUID is a lookup in
	 * this table, RDMSR/WRMSR the model's MSR file */
	struct hyvm_cpuid_table cpuid;
	struct bt_cpuid_fast cpuid_fast;	/* built from cpuid: bt_cpuid_prepare */
	struct cpu_msrs msrs;
	uint32_t dr[8];
	uint32_t fault_depth;	/* exceptions while delivering one */
	uint32_t jc_seg_base[6];	/* segment bases the jump cache is valid for */
	uint32_t jc_seg_limit[6];	/* ... and the limit checks (seg_check_key) */
	uint8_t jc_seg_check[6];

	/* host fault captured by the signal handler */
	int fault_signo;
	int fault_code;
	uint64_t fault_addr;	/* host address */
	bool fault_write;
	uint32_t fault_eip;

	/* I/O in flight: an IN waiting for the VMM's data */
	struct {
		bool pending_in;
		uint8_t size;
		uint8_t reg_is_string;
		uint32_t count;
		uint32_t next_eip;
		uint8_t data[4096];
	} io;
	/* MMIO read in flight */
	struct {
		bool pending_read;
		bool sign;
		uint8_t reg;
		uint8_t size;
		ZydisRegister dst;
		uint32_t next_eip;
		uint8_t data[8];	/* exit->mmio.data points here (engine-owned) */
	} mmio;

	struct bt_vm *vm;
	struct bt_stats stats;
	/* #UD by opcode (ud_stats.c) */
	struct { char name[24]; uint64_t count; } ud[BT_UD_KINDS];
	uint64_t ud_other;
	bool fpu_live;
	uint8_t fx_guest[512] __attribute__((aligned(16)));

	/* indirect-branch jump cache, indexed by the low 16 bits of the eip */
	uint32_t jc_eip[BT_JC_SIZE];
	uint64_t jc_host[BT_JC_SIZE];
};

/* Offsets translated code uses. */
#define BT_OFF(f) ((int32_t)offsetof(struct bt_cpu, f))
#define BT_OFF_GPR(i) (BT_OFF(gpr) + 4 * (i))

/* The VM: RAM, the 4 GiB view, the translation cache. */
struct bt_vm {
	int memfd;
	uint8_t *ram;		/* VMM's mapping */
	uint64_t ram_size;
	uint8_t *view;		/* 4 GiB per view and address space; see view.c */
	bool view_flat;		/* view maps linear == physical (paging off) */
	uint8_t *code_pages;	/* per physical page: translated code lives there */
	uint8_t *pt_pages;	/* per physical page: a shadow mapping was built from it */
	struct bt_shadow *shadow;
	struct bt_tc *tc;
	struct bt_cpu *cpu;
	ZydisDecoder decoder;
};

/* --- emit.c: host code through Zydis's encoder --- */
struct bt_emitter {
	uint8_t *start, *pos, *end;
	bool overflow;
};
void emit_init(struct bt_emitter *e, uint8_t *buf, size_t size);
/* Encodes req at e->pos; false if it cannot (the caller gives #UD). */
bool emit_request(struct bt_emitter *e, ZydisEncoderRequest *req);
ZydisEncoderRequest emit_req(ZydisMnemonic m, int nops);
ZydisEncoderOperand op_reg(ZydisRegister r);
ZydisEncoderOperand op_imm(int64_t v);
ZydisEncoderOperand op_mem(ZydisRegister base, ZydisRegister index, int scale,
			   int64_t disp, int size);
/* [r15 + offset], size bytes */
ZydisEncoderOperand op_ctx(int32_t off, int size);
bool emit2(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
	   ZydisEncoderOperand b);
bool emit1(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a);
bool emit0(struct bt_emitter *e, ZydisMnemonic m);
/* Relative jump/jcc with a rel32 field; returns the rel32 field. */
uint8_t *emit_branch32(struct bt_emitter *e, ZydisMnemonic m);
/* Short branch (loop, jecxz) with addr32; returns the rel8 field. */
uint8_t *emit_branch8(struct bt_emitter *e, ZydisMnemonic m, bool addr32);
void patch_rel32(uint8_t *site, const void *target);
void patch_rel8(uint8_t *site, const void *target);
ZydisRegister reg32(int n);
ZydisRegister reg64(int n);

/* --- runtime.c: entry, exit and lookup routines generated into the TC --- */
struct bt_runtime {
	void (*enter)(struct bt_cpu *cpu, const void *code);
	uint8_t *common_exit;	/* r11 = exit descriptor */
	uint8_t *fault_exit;	/* registers already saved by the handler */
	uint8_t *indirect;	/* r13 = target eip */
	uint8_t *jc_miss;	/* initial jump-cache host target */
	struct bt_exit_desc miss_desc, fault_desc, request_desc;
};
int runtime_generate(struct bt_emitter *e, struct bt_runtime *rt);

/* --- tcache.c --- */
struct bt_tc {
	uint8_t *mem;
	uint8_t *poll;		/* readable page; PROT_NONE asks translated code to stop */
	size_t size, used;
	struct bt_runtime rt;
	struct bt_block **hash;
	unsigned hash_size;
	struct bt_block **blocks;	/* in host address order */
	unsigned nr_blocks, cap_blocks;
	uint8_t *data_arena;		/* exit descriptors and insn maps */
	size_t data_used, data_size;
};
struct bt_tc *tc_create(void);
void tc_destroy(struct bt_tc *tc);
void tc_flush(struct bt_vm *vm, const char *why);
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
void jc_reset(struct bt_cpu *cpu);

/* --- seglimit.c: limit checks on ordinary accesses --- */
enum { BT_SEGCHK_NONE, BT_SEGCHK_UP, BT_SEGCHK_DOWN32, BT_SEGCHK_DOWN16 };
uint8_t seg_check_kind(const struct hyvm_segment *s);
/* What a block's code is keyed by besides the bases. */
void seg_check_key(const struct bt_cpu *cpu, uint32_t limit[6], uint8_t kind[6]);
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

/* --- guest_mem.c: guest memory as C sees it --- */
/* Translates a linear address for an access; 0 or -1 with a #PF raised. */
int mem_linear_to_phys(struct bt_cpu *cpu, uint32_t lin, bool write, bool user,
		       uint32_t *phys, bool raise);
int mem_access_as(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, bool write,
		  bool user, bool raise);
int mem_read(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len);
int mem_write(struct bt_cpu *cpu, uint32_t lin, const void *buf, unsigned len);
int mem_fetch(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, unsigned *got);
int mem_phys_read(struct bt_vm *vm, uint64_t phys, void *buf, unsigned len);
void mem_note_phys_write(struct bt_vm *vm, uint64_t phys, unsigned len);
int view_init(struct bt_vm *vm, char *err, size_t errlen);
void view_reset(struct bt_vm *vm);
void view_protect_code_page(struct bt_vm *vm, uint32_t phys_page);
/* Handles a host fault inside the view; true if retrying will succeed. */
bool view_fault(struct bt_cpu *cpu, uint32_t lin, bool write);

/* --- exceptions.c --- */
/* Raises a guest exception at cpu->eip (state as at that instruction). */
void guest_exception(struct bt_cpu *cpu, int vector, bool has_err, uint32_t err);
/* Delivers an external interrupt or software interrupt through the IDT. */
int guest_interrupt(struct bt_cpu *cpu, int vector, bool soft, uint32_t next_eip);
bool guest_triple_faulted(const struct bt_cpu *cpu);
int load_segment(struct bt_cpu *cpu, int seg, uint16_t sel, bool raise);
int read_descriptor(struct bt_cpu *cpu, uint16_t sel, uint64_t *desc);
void descriptor_to_segment(uint64_t d, uint16_t sel, struct hyvm_segment *s);
void descriptor_set_accessed(struct bt_cpu *cpu, uint16_t sel, struct hyvm_segment *s);
static inline unsigned guest_cpl(const struct bt_cpu *cpu)
{
	return cpu->arch.seg[HYVM_CS].selector & 3;
}

/* Linear address of an offset in the code segment. */
static inline uint32_t cs_linear(const struct bt_cpu *cpu, uint32_t eip)
{
	return (uint32_t)cpu->arch.seg[HYVM_CS].base + eip;
}

/* --- callouts.c: sensitive instructions emulated on virtual state --- */
enum callout_result {
	CALLOUT_DONE,		/* continue translated execution */
	CALLOUT_EXIT,		/* return to the VMM with *exit filled */
};
struct vcpu_exit;
/* d: the instruction at cpu->eip if the translator kept it, else NULL */
enum callout_result callout_emulate(struct bt_cpu *cpu, const struct bt_insn *d,
				    struct vcpu_exit *exit);
void callout_complete_io(struct bt_cpu *cpu);
uint32_t cpu_mode_key(const struct bt_cpu *cpu);

/* --- ud_stats.c: a #UD at cpu->eip, counted by its opcode --- */
void ud_note(struct bt_cpu *cpu);

/* --- signals.c --- */
int signals_install(char *err, size_t errlen);
void signals_enter(struct bt_cpu *cpu);
void signals_leave(void);

/* --- dispatch.c --- */
int dispatch_run(struct bt_cpu *cpu, struct vcpu_exit *exit);
void tc_kick(struct bt_tc *tc);
void tc_unkick(struct bt_tc *tc);

#endif

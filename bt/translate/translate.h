/*
 * What block building (translate.c) and the per-instruction sequences
 * (translate_insn.c) share: the state of one block being translated.
 * Private to those two files.
 */
#ifndef HYVM_BT_TRANSLATE_H
#define HYVM_BT_TRANSLATE_H

#include "bt/translate/decode.h"
#include "bt/translate/translator.h"

/* two exits at the end, and a segment-limit exit per checked access */
#define MAX_EXITS (8 + 2 * BT_MAX_BLOCK_INSNS)

struct pending_exit {
	uint8_t *site;
	struct bt_exit_desc *desc;
	bool indirect_eip;	/* target eip is in r13, not an immediate */
	bool via_jc;		/* a direct branch to another page: the jump cache */
};

struct tx {
	struct bt_cpu *cpu;
	struct bt_tc *tc;
	struct bt_emitter e;
	struct bt_block *b;
	struct pending_exit exits[MAX_EXITS];
	int nr_exits;
	struct bt_insn_map map[BT_MAX_BLOCK_INSNS];
	uint32_t eip;		/* of the instruction being translated */
	bool failed;
	bool fpu_loaded;	/* the guest's FPU registers are (fpu_load_emit.c) */
	struct smc_record *smc_record;	/* a self-checking block's (smc_check.c) */
};

#define R(x) op_reg(ZYDIS_REGISTER_##x)

/* translate.c */
bool add_exit(struct tx *t, uint8_t *site, enum bt_exit_kind kind, uint32_t target,
	      bool indirect_eip);

/* div_check.c: the inline divisor check in front of a DIV/IDIV at eip
 * that kept raising #DE; emits nothing for any other instruction. */
bool div_check_emit(struct tx *t, const struct bt_insn *d, uint32_t eip);

/* soft_tlb_emit.c: d's memory operand through the soft TLB (an
 * instruction that kept faulting on the view); req is tx_native's, its
 * registers mapped and segment base in the displacement. */
bool soft_tlb_wanted(const struct tx *t, const struct bt_insn *d);
bool soft_tlb_emit(struct tx *t, const struct bt_insn *d, ZydisEncoderRequest *req);

/* string_stlb_emit.c: REP MOVS/STOS at a soft-TLB site through
 * memory/soft_tlb_string.c first; *done is the jump past the native
 * instruction, to be patched once it is emitted. */
bool string_stlb_wanted(const struct tx *t, const struct bt_insn *d);
bool string_stlb_emit(struct tx *t, const struct bt_insn *d, int src_seg, uint8_t **done);

/* fpu_load_emit.c: in front of the block's first x87/MMX/SSE
 * instruction, the call that loads the guest's registers if they are not
 * (cpu/fpu_lazy.c); nothing in front of the others. */
bool fpu_load_emit(struct tx *t);

/* cpuid_call.c: CPUID inline from the fast table, bt_cpuid on a miss */
bool cpuid_emit(struct tx *t);

/* sse_spill.c: the guest's XMM0-7 and MXCSR kept aside around a C call
 * from translated code (clobbers the flags: emit between the flags' save
 * and their return) */
bool sse_spill_emit_save(struct bt_emitter *e);
bool sse_spill_emit_restore(struct bt_emitter *e);
bool sse_spill_emit_c_call(struct bt_emitter *e, uintptr_t fn, uint32_t arg);

/* io_call.c: IN/OUT at CPL0 as a call to the VMM's fast path, ending the
 * block; false (nothing emitted) where the callout must do it. */
bool io_call_emit(struct tx *t, const struct bt_insn *d, uint32_t eip, uint32_t next);

/* callout_call.c: SYSENTER, SYSEXIT, INT n, IRET, far RET and POPF in
 * 32-bit code done by a call from the block, which goes on to the next
 * block without the dispatcher; false (nothing emitted) for others. */
bool callout_call_emit(struct tx *t, const struct bt_insn *d, uint32_t eip);
/* The guest's registers and flags stored, fn(cpu, block, arg) called, and
 * on to cpu->callout_target when fn set it; else on past the emitted code
 * with the registers and flags as they were (the caller's exit stub). */
bool callout_call_emit_transfer(struct tx *t, uintptr_t fn, uint32_t arg);

/* sys_fast.c: in front of a SYSENTER/SYSEXIT's in-block callout, the
 * transfer done by translated code while its record holds; nothing for
 * other instructions or blocks. false: the emitter failed. */
bool sys_fast_emit(struct tx *t, const struct bt_insn *d);

/* cr_read.c: MOV from CR0/2/3/4 at CPL0 in 32-bit code without a callout
 * (the CPL checked at run time: #GP(0) above 0) */
bool cr_read_inline_wanted(const struct tx *t, const struct bt_insn *d);
bool cr_read_inline_emit(struct tx *t, const struct bt_insn *d);
/* flags_inline.c: CLI and PUSHFD at CPL0 in 32-bit code without a callout */
bool flags_inline_wanted(const struct tx *t, const struct bt_insn *d);
bool flags_inline_emit(struct tx *t, const struct bt_insn *d);
/* tcg_flags_barrier.c: a jmp to the next instruction before CMPXCHG8B */
bool tcg_flags_barrier(struct tx *t, const struct bt_insn *d);

/* smc_check.c: a self-checking block (translate.c) calls the check at
 * the start of its body, ends after each instruction that writes memory,
 * and has its record filled once translated (phys2: the physical page of
 * its bytes past the first page's end, if it has any) */
bool smc_check_reserve(struct tx *t);
bool smc_insn_writes_memory(const struct bt_insn *d);
bool smc_check_emit(struct tx *t, uint32_t phys2);

/* translate_insn.c */
/* The limit check in front of an access of size bytes at seg:[base +
 * index*scale + disp]: #SS(0) for SS, #GP(0) otherwise; nothing for a
 * segment flat in this block. */
bool limit_check(struct tx *t, int seg, ZydisRegister base, ZydisRegister index,
		 uint8_t scale, int64_t disp, unsigned size);
bool emit_guest(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
		ZydisEncoderOperand b);
bool emit_lea32(struct bt_emitter *e, ZydisRegister dst, ZydisRegister base, int64_t disp);
ZydisEncoderOperand stack_mem(const struct tx *t, int64_t disp);
bool check_stack(struct tx *t, ZydisRegister base, int64_t disp);
bool check_operand(struct tx *t, const ZydisDecodedOperand *o, int64_t extra_esp);
bool load_r13(struct tx *t, const ZydisDecodedOperand *o);
bool push_return(struct tx *t, uint32_t ret);
/* The host code of one non-control instruction; false if it has none
 * (the caller ends the block or makes it a #UD callout). */
bool translate_one(struct tx *t, const struct bt_insn *d, enum insn_class c, uint32_t eip,
		   uint8_t *fixup);

/* addr16.c: the offset of 16-bit memory operand o into r11d (*in_r11), or
 * a constant left in o's displacement (false: not encodable) */
bool a16_offset(struct tx *t, const ZydisDecodedOperand *o, bool *in_r11);
/* gs_base.c: the GS memory operand o (32-bit addressing, mapped
 * registers, no segment base in its displacement) becomes gs:[r11d],
 * with GS's base added at run time by the code emitted in front of it.
 * Not next to AH..BH (REX). */
bool gs_base_at_run_time(struct tx *t, ZydisEncoderOperand *o);

#endif

/* Decoder glue: one guest instruction and how the translator treats it. */
#ifndef HYVM_BT_DECODE_H
#define HYVM_BT_DECODE_H

#include <stdbool.h>
#include <Zydis/Zydis.h>
#include "x86/segment_reg.h"

struct bt_insn {
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

enum insn_class {
	IC_NATIVE,	/* re-encode with view-relative memory operands */
	IC_CALLOUT,	/* emulate in C on virtual state */
	IC_UNSUPPORTED,	/* the guest gets #UD */
	IC_PUSH, IC_POP, IC_LEAVE,
	IC_CALL_REL, IC_CALL_IND, IC_JMP_REL, IC_JMP_IND, IC_RET,
	IC_JCC, IC_LOOP,
	IC_STRING,
	IC_NOP,		/* nothing to emit */
	IC_CPUID,	/* a table lookup called from the block (bt_cpuid) */
	IC_FLAGS,	/* CLI/PUSHFD at CPL0 on the virtual EFLAGS (flags_inline.c) */
	IC_CR_READ,	/* MOV from CR0/2/3/4 at CPL0 (cr_read.c) */
};

int decode_insn(const ZydisDecoder *dec, const uint8_t *bytes, unsigned len,
		struct bt_insn *out);
enum insn_class insn_classify(const struct bt_insn *d);
bool insn_uses_fpu(const struct bt_insn *d);
bool string_uses_rsi(ZydisMnemonic m);
bool string_uses_rdi(ZydisMnemonic m);

#endif

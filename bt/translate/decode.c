/*
 * Decoder glue: Zydis decodes guest instructions, and this file sorts each
 * into how the translator must treat it. Anything that reads or changes
 * state the host would answer differently from a real CPU at the guest's
 * privilege (flags IF/IOPL, segments, tables, control registers, ports,
 * interrupts) is a callout; stack and control-flow instructions get their
 * own sequences; the rest is re-encoded as it is.
 */
#include "bt/bt.h"
#include "bt/translate/decode.h"

int decode_insn(const ZydisDecoder *dec, const uint8_t *bytes, unsigned len,
		struct bt_insn *out)
{
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, bytes, len, &out->insn, out->ops)))
		return -1;
	return 0;
}

static bool has_reg_class(const struct bt_insn *d, ZydisRegisterClass cls)
{
	for (unsigned i = 0; i < d->insn.operand_count_visible; i++)
		if (d->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(d->ops[i].reg.value) == cls)
			return true;
	return false;
}

/* Extensions a 32-bit guest may use natively: they touch only registers,
 * flags and memory operands, which translate like any other. */
static bool isa_ext_native(ZydisISAExt ext)
{
	switch (ext) {
	case ZYDIS_ISA_EXT_BASE: case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX:
	case ZYDIS_ISA_EXT_SSE: case ZYDIS_ISA_EXT_SSE2: case ZYDIS_ISA_EXT_SSE3:
	case ZYDIS_ISA_EXT_SSSE3: case ZYDIS_ISA_EXT_SSE4: case ZYDIS_ISA_EXT_PAUSE:
	case ZYDIS_ISA_EXT_CLFSH: case ZYDIS_ISA_EXT_MOVBE: case ZYDIS_ISA_EXT_LZCNT:
	case ZYDIS_ISA_EXT_BMI1: case ZYDIS_ISA_EXT_BMI2: case ZYDIS_ISA_EXT_RDRAND:
	case ZYDIS_ISA_EXT_RDTSCP:
		return true;
	default:
		return false;
	}
}

/* Whether d reads or writes the x87/SSE state, which must then be in the
 * registers (cpu/fpu_lazy.c): the x87, MMX and SSE extensions (FXSAVE,
 * FXRSTOR, LDMXCSR and STMXCSR are SSE in Zydis' tables), and anything
 * else with an x87, MMX or XMM register operand (AES-NI, PCLMULQDQ). */
bool insn_uses_fpu(const struct bt_insn *d)
{
	ZydisISAExt ext = d->insn.meta.isa_ext;

	return ext == ZYDIS_ISA_EXT_X87 || ext == ZYDIS_ISA_EXT_MMX ||
	       (ext >= ZYDIS_ISA_EXT_SSE && ext <= ZYDIS_ISA_EXT_SSSE3) ||
	       has_reg_class(d, ZYDIS_REGCLASS_X87) || has_reg_class(d, ZYDIS_REGCLASS_MMX) ||
	       has_reg_class(d, ZYDIS_REGCLASS_XMM);
}

static bool has_memory(const struct bt_insn *d, unsigned from, unsigned to)
{
	for (unsigned k = from; k < to; k++)
		if (d->ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY)
			return true;
	return false;
}

/*
 * 16-bit addressing ([bx+si+disp], 64 KiB wrap): an explicit memory operand
 * of an ordinary instruction gets its offset computed in front of it
 * (translate_insn.c); instructions whose addresses are implicit (string
 * instructions on SI/DI) or whose count is CX (LOOP, JCXZ), and
 * stack and branch sequences through memory, are done in C (callouts_near.c).
 */
static enum insn_class a16_class(const struct bt_insn *d, enum insn_class c)
{
	switch (c) {
	case IC_NATIVE:
		return has_memory(d, d->insn.operand_count_visible, d->insn.operand_count) ?
		       IC_CALLOUT : IC_NATIVE;
	case IC_STRING: case IC_LOOP:
		return IC_CALLOUT;
	case IC_PUSH: case IC_POP: case IC_CALL_IND: case IC_JMP_IND: case IC_RET: case IC_LEAVE:
	case IC_CALL_REL:
		return has_memory(d, 0, d->insn.operand_count_visible) ? IC_CALLOUT : c;
	default:
		return c;
	}
}

static enum insn_class classify(const struct bt_insn *d);

enum insn_class insn_classify(const struct bt_insn *d)
{
	enum insn_class c = classify(d);

	return d->insn.address_width == 16 ? a16_class(d, c) : c;
}

static enum insn_class classify(const struct bt_insn *d)
{
	const ZydisDecodedInstruction *i = &d->insn;

	if (has_reg_class(d, ZYDIS_REGCLASS_CONTROL) || has_reg_class(d, ZYDIS_REGCLASS_DEBUG) ||
	    has_reg_class(d, ZYDIS_REGCLASS_SEGMENT) || has_reg_class(d, ZYDIS_REGCLASS_TEST))
		return IC_CALLOUT;
	if (i->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
		return IC_CALLOUT;

	switch (i->mnemonic) {
	case ZYDIS_MNEMONIC_ENDBR32: case ZYDIS_MNEMONIC_ENDBR64:
		return IC_NOP;	/* a NOP on CPUs without CET, as here */
	case ZYDIS_MNEMONIC_PREFETCH: case ZYDIS_MNEMONIC_PREFETCHW:
	case ZYDIS_MNEMONIC_PREFETCHT0: case ZYDIS_MNEMONIC_PREFETCHT1:
	case ZYDIS_MNEMONIC_PREFETCHT2: case ZYDIS_MNEMONIC_PREFETCHNTA:
		/* a hint with no architectural effect that never faults (SDM
		 * Vol. 2B, PREFETCHh, PREFETCHW): nothing to translate. The CPU
		 * model lists PREFETCHW (CPUID.80000001H:ECX[8]) and Linux uses
		 * it on AMD models. */
		return IC_NOP;
	case ZYDIS_MNEMONIC_CPUID:
		return IC_CPUID;
	case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI:
	case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFD:
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD:
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_INT1:
	case ZYDIS_MNEMONIC_INT3: case ZYDIS_MNEMONIC_INTO:
	case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT: case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_LTR: case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT:
	case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR: case ZYDIS_MNEMONIC_SMSW:
	case ZYDIS_MNEMONIC_LMSW: case ZYDIS_MNEMONIC_CLTS: case ZYDIS_MNEMONIC_INVLPG:
	case ZYDIS_MNEMONIC_INVD: case ZYDIS_MNEMONIC_WBINVD:
	case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR: case ZYDIS_MNEMONIC_RDPMC:
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET:
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_LAR: case ZYDIS_MNEMONIC_LSL:
	case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW: case ZYDIS_MNEMONIC_ARPL:
	case ZYDIS_MNEMONIC_PUSHA: case ZYDIS_MNEMONIC_PUSHAD:
	case ZYDIS_MNEMONIC_POPA: case ZYDIS_MNEMONIC_POPAD:
	case ZYDIS_MNEMONIC_ENTER: case ZYDIS_MNEMONIC_BOUND:
	case ZYDIS_MNEMONIC_AAA: case ZYDIS_MNEMONIC_AAS: case ZYDIS_MNEMONIC_DAA:
	case ZYDIS_MNEMONIC_DAS: case ZYDIS_MNEMONIC_AAM: case ZYDIS_MNEMONIC_AAD:
	case ZYDIS_MNEMONIC_SALC: case ZYDIS_MNEMONIC_RDTSC:
	case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1: case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_MONITOR: case ZYDIS_MNEMONIC_MWAIT: case ZYDIS_MNEMONIC_XSETBV:
	case ZYDIS_MNEMONIC_XGETBV: case ZYDIS_MNEMONIC_RSM:
	case ZYDIS_MNEMONIC_XLAT:	/* its implicit [rBX + AL] takes no GS base */
		return IC_CALLOUT;
	case ZYDIS_MNEMONIC_PUSH:
		return i->operand_width == 32 ? IC_PUSH : IC_CALLOUT;
	case ZYDIS_MNEMONIC_POP:
		return i->operand_width == 32 ? IC_POP : IC_CALLOUT;
	case ZYDIS_MNEMONIC_CALL:
		if (i->operand_width != 32)
			return IC_CALLOUT;
		return d->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? IC_CALL_REL : IC_CALL_IND;
	case ZYDIS_MNEMONIC_JMP:
		/* a relative JMP of either size is a direct exit (its target
		 * wraps to the operand size: translate.c) */
		if (d->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return IC_JMP_REL;
		return i->operand_width == 32 ? IC_JMP_IND : IC_CALLOUT;
	case ZYDIS_MNEMONIC_RET:
		return i->operand_width == 32 ? IC_RET : IC_CALLOUT;
	case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_JECXZ:
		return IC_LOOP;
	case ZYDIS_MNEMONIC_JCXZ:
		return IC_CALLOUT;
	case ZYDIS_MNEMONIC_LEAVE:
		return i->operand_width == 32 ? IC_LEAVE : IC_CALLOUT;
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
		/* MOVSD/CMPSD are also SSE2 mnemonics; those have operands */
		if (i->meta.category == ZYDIS_CATEGORY_STRINGOP)
			return IC_STRING;
		break;
	default:
		break;
	}
	if (i->meta.category == ZYDIS_CATEGORY_COND_BR)
		return IC_JCC;
	if (!isa_ext_native(i->meta.isa_ext))
		return IC_UNSUPPORTED;
	return IC_NATIVE;
}

bool string_uses_rsi(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
		return false;
	default:
		return true;
	}
}

bool string_uses_rdi(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
		return false;
	default:
		return true;
	}
}

/*
 * The emulator's string instructions on memory, one element per call
 * (mmio_emulate.c's run loop repeats them under REP and lets the guest run
 * every EMUL_MAX_ITER elements): STOS, LODS, MOVS, and the comparisons
 * CMPS and SCAS, whose REPE/REPNE end on ZF as well as on the count (SDM
 * Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ"). INS/OUTS are mmio_emulate.c's.
 */
#include "emul/emul_internal.h"

bool emul_is_string_op(const ZydisDecodedInstruction *in)
{
	return in->meta.category == ZYDIS_CATEGORY_STRINGOP;
}

/* Element size of a string instruction, from its mnemonic's suffix. */
unsigned emul_string_size(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_MOVSB:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_CMPSB:
	case ZYDIS_MNEMONIC_SCASB:
		return 1;
	case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_SCASW:
		return 2;
	case ZYDIS_MNEMONIC_STOSQ: case ZYDIS_MNEMONIC_LODSQ: case ZYDIS_MNEMONIC_MOVSQ:
	case ZYDIS_MNEMONIC_CMPSQ: case ZYDIS_MNEMONIC_SCASQ:
		return 8;
	default:
		return 4;
	}
}

/* DS:SI's segment, with any override (Zydis resolved it). */
int emul_source_segment(struct emul *e)
{
	for (unsigned i = 0; i < e->insn.operand_count; i++)
		if (e->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ZydisRegisterGetId(e->op[i].mem.base) == HYVM_RSI &&
		    ZydisRegisterGetClass(e->op[i].mem.base) != ZYDIS_REGCLASS_GPR8)
			return x86_seg_index(e->op[i].mem.segment);
	return HYVM_DS;
}

int64_t emul_string_delta(struct emul *e, unsigned size)
{
	return (e->st.rflags & EFLAGS_DF) ? -(int64_t)size : (int64_t)size;
}

/* After an element with the count not yet 0: does REPE/REPNE stop on ZF? */
bool emul_string_compare_ends(struct emul *e)
{
	bool zf = e->st.rflags & EFLAGS_ZF;

	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_CMPSD: case ZYDIS_MNEMONIC_CMPSQ:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD: case ZYDIS_MNEMONIC_SCASQ:
		if (e->insn.attributes & ZYDIS_ATTRIB_HAS_REPNE)
			return zf;
		return !zf;	/* REPE */
	default:
		return false;
	}
}

/* One element of STOS, LODS, MOVS, CMPS or SCAS. */
enum step emul_exec_string(struct emul *e)
{
	unsigned size = emul_string_size(&e->insn);
	int64_t delta = emul_string_delta(e, size);
	static const ZydisRegister acc[9] = {
		[1] = ZYDIS_REGISTER_AL, [2] = ZYDIS_REGISTER_AX,
		[4] = ZYDIS_REGISTER_EAX, [8] = ZYDIS_REGISTER_RAX,
	};
	uint64_t v = 0, w = 0, m = emul_mask_bits(size * 8);
	enum step s;

	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
		v = emul_reg_read(e, acc[size]);
		if ((s = emul_mem_rw(e, HYVM_ES, emul_areg(e, HYVM_RDI), size, true, &v)))
			return s;
		emul_areg_set(e, HYVM_RDI, emul_areg(e, HYVM_RDI) + delta);
		return STEP_OK;
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_LODSD: case ZYDIS_MNEMONIC_LODSQ:
		if ((s = emul_mem_rw(e, emul_source_segment(e), emul_areg(e, HYVM_RSI), size, false, &v)))
			return s;
		emul_reg_write(e, acc[size], v);
		emul_areg_set(e, HYVM_RSI, emul_areg(e, HYVM_RSI) + delta);
		return STEP_OK;
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVSQ:
		if ((s = emul_mem_rw(e, emul_source_segment(e), emul_areg(e, HYVM_RSI), size, false, &v)) ||
		    (s = emul_mem_rw(e, HYVM_ES, emul_areg(e, HYVM_RDI), size, true, &v)))
			return s;
		emul_areg_set(e, HYVM_RSI, emul_areg(e, HYVM_RSI) + delta);
		emul_areg_set(e, HYVM_RDI, emul_areg(e, HYVM_RDI) + delta);
		return STEP_OK;
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_CMPSD: case ZYDIS_MNEMONIC_CMPSQ:
		/* flags of [SI] - ES:[DI] */
		if ((s = emul_mem_rw(e, emul_source_segment(e), emul_areg(e, HYVM_RSI), size, false, &v)) ||
		    (s = emul_mem_rw(e, HYVM_ES, emul_areg(e, HYVM_RDI), size, false, &w)))
			return s;
		emul_areg_set(e, HYVM_RSI, emul_areg(e, HYVM_RSI) + delta);
		break;
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD: case ZYDIS_MNEMONIC_SCASQ:
		/* flags of the accumulator - ES:[DI] */
		if ((s = emul_mem_rw(e, HYVM_ES, emul_areg(e, HYVM_RDI), size, false, &w)))
			return s;
		v = emul_reg_read(e, acc[size]);
		break;
	default:
		return emul_fail(e, "a string instruction the MMIO emulator does not handle");
	}
	emul_areg_set(e, HYVM_RDI, emul_areg(e, HYVM_RDI) + delta);
	e->st.rflags = (e->st.rflags & ~(uint64_t)EFLAGS_ARITH) |
		       emul_arith_flags(v, w, 0, (v - w) & m, size * 8, true);
	return STEP_OK;
}

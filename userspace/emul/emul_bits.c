/*
 * The emulator's bit instructions on memory: BT, BTS, BTR, BTC (0F A3/AB/
 * B3/BB with a register offset, 0F BA /4-7 with an immediate) and the bit
 * scans BSF, BSR (0F BC/BD). SDM Vol. 2A "BT": a register bit offset is
 * signed and reaches beyond the operand, to the operand-sized unit at
 * address + (offset SAR log2(size)) * size bytes; an immediate one is
 * taken modulo the operand size. CF gets the bit; ZF is unchanged, and the
 * flags the SDM leaves undefined are left as they were.
 * BSF/BSR of 0 set ZF and leave the destination (AMD APM Vol. 3 documents
 * that; Intel processors do it too), as QEMU; the other flags, undefined,
 * are QEMU's: SF/PF of the source, CF = OF = AF = 0.
 */
#include "emul/emul_internal.h"

static enum step bit_test(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	ZydisMnemonic mn = e->insn.mnemonic;
	unsigned bits = d->size;
	uint64_t off = emul_effective_address(e, d), v = 0, bit;
	int64_t index;
	enum step s;

	if (d->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return emul_fail(e, "unsupported operands");
	if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		index = (int64_t)(src->imm.value.u & (bits - 1));
	} else {
		uint64_t r = emul_reg_read(e, src->reg.value);

		/* the register's value as a signed number of its own size */
		index = (int64_t)(r << (64 - bits)) >> (64 - bits);
		off += (uint64_t)((index >> __builtin_ctz(bits)) * (int64_t)(bits / 8));
		off &= emul_mask_bits(e->insn.address_width);
		index &= bits - 1;
	}
	if ((s = emul_mem_rw(e, x86_seg_index(d->mem.segment), off, bits / 8, false, &v)))
		return s;
	bit = (v >> index) & 1;
	if (mn != ZYDIS_MNEMONIC_BT) {
		if (mn == ZYDIS_MNEMONIC_BTS)
			v |= 1ULL << index;
		else if (mn == ZYDIS_MNEMONIC_BTR)
			v &= ~(1ULL << index);
		else
			v ^= 1ULL << index;	/* BTC */
		if ((s = emul_mem_rw(e, x86_seg_index(d->mem.segment), off, bits / 8, true, &v)))
			return s;
	}
	e->st.rflags = (e->st.rflags & ~(uint64_t)EFLAGS_CF) | (bit ? EFLAGS_CF : 0);
	return STEP_OK;
}

static enum step bit_scan(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	unsigned bits = src->size;
	uint64_t v = 0;
	enum step s;

	if (d->type != ZYDIS_OPERAND_TYPE_REGISTER || src->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return emul_fail(e, "unsupported operands");
	if ((s = emul_operand_rw(e, src, false, &v)))
		return s;
	e->st.rflags = (e->st.rflags & ~(uint64_t)EFLAGS_ARITH) |
		       (emul_flags_szp(v, bits) & (EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF));
	if (v)
		emul_reg_write(e, d->reg.value, e->insn.mnemonic == ZYDIS_MNEMONIC_BSF
							? (uint64_t)__builtin_ctzll(v)
							: (uint64_t)(63 - __builtin_clzll(v)));
	return STEP_OK;
}

enum step emul_exec_bits(struct emul *e)
{
	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS:
	case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
		return bit_test(e);
	default:
		return bit_scan(e);
	}
}

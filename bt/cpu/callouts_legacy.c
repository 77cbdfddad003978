/*
 * Instructions 64-bit mode dropped, done in C: the decimal-arithmetic
 * adjustments AAA, AAS, DAA, DAS, AAM, AAD, SALC (D6: AL = CF ? FFh : 0,
 * run by every x86 processor outside 64-bit mode), ARPL and BOUND (SDM
 * Vol. 2A, each instruction's page; all #UD in 64-bit mode, which bt does
 * not run). They are rare enough that a block exit each costs nothing
 * that matters. Flags the SDM
 * leaves undefined are set as QEMU TCG sets them (target/i386/tcg/
 * int_helper.c), so a guest ends the same on bt and in the oracle: AAA and
 * AAS leave OF, SF, ZF, PF alone; DAA and DAS clear OF; AAM and AAD clear
 * CF, OF and AF.
 */
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/cpu/operands.h"
#include "bt/memory/memory.h"

#define SZP (EFLAGS_SF | EFLAGS_ZF | EFLAGS_PF)

static uint32_t szp8(uint8_t v)
{
	return (v ? 0 : EFLAGS_ZF) | (v & 0x80 ? EFLAGS_SF : 0) |
	       (__builtin_parity(v) ? 0 : EFLAGS_PF);
}

static void set_flags(struct bt_cpu *cpu, uint32_t mask, uint32_t f)
{
	cpu->eflags = (cpu->eflags & ~mask) | (f & mask);
}

/* AAA/AAS: an unpacked BCD digit in AL after an ADD/SUB; a carry or
 * borrow goes into AH (AX +- 106h: AH also takes AL's own carry). */
static void ascii_adjust(struct bt_cpu *cpu, bool sub)
{
	uint32_t ax = cpu->gpr[HYVM_RAX] & 0xffff;
	uint8_t al = (uint8_t)ax, ah = (uint8_t)(ax >> 8);
	bool adjust = (al & 0xf) > 9 || (cpu->eflags & EFLAGS_AF);

	if (adjust) {
		if (sub) {
			ah = (uint8_t)(ah - 1 - (al < 6));
			al = (uint8_t)(al - 6);
		} else {
			ah = (uint8_t)(ah + 1 + (al > 0xf9));
			al = (uint8_t)(al + 6);
		}
	}
	al &= 0xf;
	cpu->gpr[HYVM_RAX] = (cpu->gpr[HYVM_RAX] & ~0xffffu) | al | (uint32_t)ah << 8;
	set_flags(cpu, EFLAGS_AF | EFLAGS_CF, adjust ? EFLAGS_AF | EFLAGS_CF : 0);
}

/* DAA/DAS: two packed BCD digits in AL after an ADD/SUB. */
static void decimal_adjust(struct bt_cpu *cpu, bool sub)
{
	uint8_t al = (uint8_t)cpu->gpr[HYVM_RAX], old_al = al;
	bool cf = cpu->eflags & EFLAGS_CF;
	uint32_t f = 0;

	if ((al & 0xf) > 9 || (cpu->eflags & EFLAGS_AF)) {
		f |= EFLAGS_AF;
		if (sub && (al < 6 || cf))
			f |= EFLAGS_CF;	/* DAS: CF = old CF or the borrow */
		al = (uint8_t)(sub ? al - 6 : al + 6);	/* DAA's carry here is overruled below */
	}
	if (old_al > 0x99 || cf) {
		al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
		f |= EFLAGS_CF;
	}
	cpu->gpr[HYVM_RAX] = (cpu->gpr[HYVM_RAX] & ~0xffu) | al;
	set_flags(cpu, EFLAGS_ARITH, f | szp8(al));
}

/* ARPL r/m16, r16: raise the destination's RPL to the source's (ZF = 1)
 * or leave it (ZF = 0). A memory destination is a read-modify-write:
 * checked for writing first, as hardware does (its #PF has W set). */
static bool arpl(struct bt_cpu *cpu, const struct bt_insn *d)
{
	const ZydisDecodedOperand *dst = &d->ops[0];
	uint32_t v, src = reg_read(cpu, d->ops[1].reg.value), phys;
	bool raise;

	if (dst->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		if (mem_linear_to_phys(cpu, operand_linear(cpu, dst), true, bt_cpl(cpu) == 3, &phys,
				       true) || operand_read(cpu, dst, &v))
			return false;
	} else {
		v = reg_read(cpu, dst->reg.value);
	}
	raise = (v & 3) < (src & 3);
	if (raise) {
		v = (v & ~3u) | (src & 3);
		if (dst->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (operand_write(cpu, dst, v))
				return false;
		} else {
			reg_write(cpu, dst->reg.value, v);
		}
	}
	set_flags(cpu, EFLAGS_ZF, raise ? EFLAGS_ZF : 0);
	return true;
}

/* BOUND r, m: the signed index r must lie within [m, m + size], the
 * bounds at the operand's size; else #BR, a fault (SDM Vol. 3A 6.15,
 * interrupt 5). A register operand is #UD. */
static bool bound(struct bt_cpu *cpu, const struct bt_insn *d)
{
	unsigned size = d->insn.operand_width / 8;
	const ZydisDecodedOperand *m = &d->ops[1];
	uint32_t lin, lo = 0, hi = 0, idx = reg_read(cpu, d->ops[0].reg.value);
	int32_t i, l, h;

	if (m->type != ZYDIS_OPERAND_TYPE_MEMORY) {
		guest_exception(cpu, VEC_UD, false, 0);
		return false;
	}
	lin = operand_linear(cpu, m);
	if (mem_read(cpu, lin, &lo, size) || mem_read(cpu, lin + size, &hi, size))
		return false;
	if (size == 2) {
		i = (int16_t)idx, l = (int16_t)lo, h = (int16_t)hi;
	} else {
		i = (int32_t)idx, l = (int32_t)lo, h = (int32_t)hi;
	}
	if (i < l || i > h) {
		guest_exception(cpu, VEC_BR, false, 0);
		return false;
	}
	return true;
}

bool callout_legacy(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	uint32_t ax = cpu->gpr[HYVM_RAX];
	uint8_t al = (uint8_t)ax, ah = (uint8_t)(ax >> 8), base;

	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_AAA: ascii_adjust(cpu, false); break;
	case ZYDIS_MNEMONIC_AAS: ascii_adjust(cpu, true); break;
	case ZYDIS_MNEMONIC_DAA: decimal_adjust(cpu, false); break;
	case ZYDIS_MNEMONIC_DAS: decimal_adjust(cpu, true); break;
	case ZYDIS_MNEMONIC_AAM:
		/* AH = AL / imm8, AL = AL mod imm8; imm8 = 0 is #DE (a fault) */
		base = (uint8_t)d->ops[0].imm.value.u;
		if (!base) {
			guest_exception(cpu, VEC_DE, false, 0);
			return true;
		}
		ah = al / base;
		al = al % base;
		cpu->gpr[HYVM_RAX] = (ax & ~0xffffu) | al | (uint32_t)ah << 8;
		set_flags(cpu, EFLAGS_ARITH, szp8(al));
		break;
	case ZYDIS_MNEMONIC_AAD:
		/* AL = AL + AH * imm8, AH = 0 */
		base = (uint8_t)d->ops[0].imm.value.u;
		al = (uint8_t)(al + ah * base);
		cpu->gpr[HYVM_RAX] = (ax & ~0xffffu) | al;
		set_flags(cpu, EFLAGS_ARITH, szp8(al));
		break;
	case ZYDIS_MNEMONIC_SALC:
		cpu->gpr[HYVM_RAX] = (ax & ~0xffu) | (cpu->eflags & EFLAGS_CF ? 0xff : 0);
		break;
	case ZYDIS_MNEMONIC_ARPL:
		/* not recognised in real-address or virtual-8086 mode */
		if (!(cpu->arch.cr0 & CR0_PE) || (cpu->eflags & EFLAGS_VM)) {
			guest_exception(cpu, VEC_UD, false, 0);
			return true;
		}
		if (!arpl(cpu, d))
			return true;	/* the fault is raised */
		break;
	case ZYDIS_MNEMONIC_BOUND:
		if (!bound(cpu, d))
			return true;
		break;
	default:
		return false;
	}
	cpu->eip = next;
	return true;
}

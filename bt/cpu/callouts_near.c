/*
 * Near control transfers and implicitly addressed instructions done in C
 * where the translator's sequences assume 32-bit registers: 16-bit CALL,
 * RET and indirect JMP (IP wraps at 64 KiB), any of them on a 16-bit
 * stack (SS.B = 0, SP wraps), LEAVE there, LOOP/JCXZ counting CX, and the
 * string instructions under 16-bit addressing (SI, DI wrap at 64 KiB; SDM
 * Vol. 1, 3.6 and Vol. 2B, MOVS/STOS/LODS/CMPS/SCAS, REP). XLAT, at any
 * address size, is the shared emulator's (callouts.c).
 */
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/cpu/operands.h"

/* REP elements one callout does before letting interrupts in: the
 * instruction restarts where it stopped, as after an interrupt on a CPU
 * (SDM Vol. 2B, REP: "interrupts ... are recognized between iterations"). */
#define STRING_CHUNK 4096

static uint32_t width_mask(unsigned bits)
{
	return bits == 16 ? 0xffffu : 0xffffffffu;
}

/* reg += delta within the address size's bits, the rest kept. */
static void reg_step(struct bt_cpu *cpu, int reg, int32_t delta, uint32_t amask)
{
	uint32_t v = cpu->gpr[reg];

	cpu->gpr[reg] = (v & ~amask) | ((v + (uint32_t)delta) & amask);
}

/* The arithmetic flags of a - b at size bytes, as CMP leaves them. */
static uint32_t sub_flags(uint32_t a, uint32_t b, unsigned size)
{
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1, msb = 1u << (8 * size - 1);
	uint32_t r = (a - b) & mask, f = 0;

	a &= mask;
	b &= mask;
	if (a < b)
		f |= EFLAGS_CF;
	if (!r)
		f |= EFLAGS_ZF;
	if (r & msb)
		f |= EFLAGS_SF;
	if ((a ^ b) & (a ^ r) & msb)
		f |= EFLAGS_OF;
	if ((a ^ b ^ r) & 0x10)
		f |= EFLAGS_AF;
	if (!__builtin_parity(r & 0xff))
		f |= EFLAGS_PF;
	return f;
}

static void set_arith(struct bt_cpu *cpu, uint32_t f)
{
	cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | f;
}

static int string_src_seg(const struct bt_insn *d)
{
	for (unsigned i = 0; i < d->insn.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ZydisRegisterGetId(o->mem.base) == HYVM_RSI &&
		    ZydisRegisterGetClass(o->mem.base) != ZYDIS_REGCLASS_GPR8)
			return x86_seg_index(o->mem.segment);
	}
	return HYVM_DS;
}

static unsigned string_size(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_LODSB:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_SCASB:
		return 1;
	case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_SCASW:
		return 2;
	default:
		return 4;
	}
}

static ZydisRegister acc_reg(unsigned size)
{
	return size == 1 ? ZYDIS_REGISTER_AL : size == 2 ? ZYDIS_REGISTER_AX : ZYDIS_REGISTER_EAX;
}

/* One element; false if it faulted (the exception is raised, the
 * registers keep the elements done before). *stop: REPE/REPNE ended. */
static bool string_element(struct bt_cpu *cpu, const struct bt_insn *d, unsigned size,
			   uint32_t amask, bool *stop)
{
	ZydisMnemonic m = d->insn.mnemonic;
	uint32_t si = (uint32_t)cpu->arch.seg[string_src_seg(d)].base + (cpu->gpr[HYVM_RSI] & amask);
	uint32_t di = (uint32_t)cpu->arch.seg[HYVM_ES].base + (cpu->gpr[HYVM_RDI] & amask);
	int32_t step = (cpu->eflags & EFLAGS_DF) ? -(int32_t)size : (int32_t)size;
	uint32_t a = 0, b = 0;
	bool src = false, dst = false;

	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
		if (mem_read(cpu, si, &a, size) || mem_write(cpu, di, &a, size))
			return false;
		src = dst = true;
		break;
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
		a = reg_read(cpu, acc_reg(size));
		if (mem_write(cpu, di, &a, size))
			return false;
		dst = true;
		break;
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
		if (mem_read(cpu, si, &a, size))
			return false;
		reg_write(cpu, acc_reg(size), a);
		src = true;
		break;
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
		if (mem_read(cpu, si, &a, size) || mem_read(cpu, di, &b, size))
			return false;
		set_arith(cpu, sub_flags(a, b, size));
		src = dst = true;
		break;
	default:	/* SCAS */
		a = reg_read(cpu, acc_reg(size));
		if (mem_read(cpu, di, &b, size))
			return false;
		set_arith(cpu, sub_flags(a, b, size));
		dst = true;
		break;
	}
	if (src)
		reg_step(cpu, HYVM_RSI, step, amask);
	if (dst)
		reg_step(cpu, HYVM_RDI, step, amask);
	bool zf = cpu->eflags & EFLAGS_ZF;
	*stop = ((d->insn.attributes & ZYDIS_ATTRIB_HAS_REPE) && !zf) ||
		((d->insn.attributes & ZYDIS_ATTRIB_HAS_REPNE) && zf);
	return true;
}

static void string_op(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	unsigned size = string_size(d->insn.mnemonic);
	uint32_t amask = width_mask(d->insn.address_width);
	bool rep = d->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					 ZYDIS_ATTRIB_HAS_REPNE);
	bool stop = false;

	if (!rep) {
		if (string_element(cpu, d, size, amask, &stop))
			cpu->eip = next;
		return;
	}
	for (unsigned n = 0; n < STRING_CHUNK; n++) {
		if (!(cpu->gpr[HYVM_RCX] & amask)) {
			cpu->eip = next;
			return;
		}
		if (!string_element(cpu, d, size, amask, &stop))
			return;
		reg_step(cpu, HYVM_RCX, -1, amask);
		if (stop) {
			cpu->eip = next;
			return;
		}
	}
	if (!(cpu->gpr[HYVM_RCX] & amask))
		cpu->eip = next;
}

/* LOOP/LOOPE/LOOPNE/JCXZ/JECXZ: the count register's width is the
 * address size (SDM Vol. 2A, LOOPcc; JCXZ is CX only, JECXZ ECX). */
static void loop_op(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	ZydisMnemonic m = d->insn.mnemonic;
	uint32_t amask = m == ZYDIS_MNEMONIC_JCXZ ? 0xffffu :
			 m == ZYDIS_MNEMONIC_JECXZ ? 0xffffffffu : width_mask(d->insn.address_width);
	uint32_t target = (next + (uint32_t)d->ops[0].imm.value.s) & width_mask(d->insn.operand_width);
	bool zf = cpu->eflags & EFLAGS_ZF, taken;

	if (m == ZYDIS_MNEMONIC_JCXZ || m == ZYDIS_MNEMONIC_JECXZ) {
		taken = !(cpu->gpr[HYVM_RCX] & amask);
	} else {
		reg_step(cpu, HYVM_RCX, -1, amask);
		taken = (cpu->gpr[HYVM_RCX] & amask) != 0;
		if (m == ZYDIS_MNEMONIC_LOOPE)
			taken = taken && zf;
		if (m == ZYDIS_MNEMONIC_LOOPNE)
			taken = taken && !zf;
	}
	cpu->eip = taken ? target : next;
}

static void call_ret_jmp(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	unsigned size = d->insn.operand_width / 8;
	uint32_t omask = width_mask(d->insn.operand_width), target;

	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_RET:
		if (stack_peek(cpu, 0, size, &target))
			return;
		stack_drop(cpu, size + (d->insn.operand_count_visible ?
					(uint32_t)d->ops[0].imm.value.u & 0xffff : 0));
		cpu->eip = target & omask;
		return;
	case ZYDIS_MNEMONIC_CALL: case ZYDIS_MNEMONIC_JMP:
		if (d->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			target = next + (uint32_t)d->ops[0].imm.value.s;
		else if (operand_read(cpu, &d->ops[0], &target))
			return;
		if (d->insn.mnemonic == ZYDIS_MNEMONIC_CALL && stack_push(cpu, next, size))
			return;
		cpu->eip = target & omask;
		return;
	default:
		return;
	}
}

/* LEAVE: SP (or ESP, by SS.B) = BP, then pop BP at the operand size. */
static void leave(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	unsigned size = d->insn.operand_width / 8;
	uint32_t smask = (cpu->arch.seg[HYVM_SS].attrib & HYVM_SEG_DB) ? 0xffffffffu : 0xffffu;
	uint32_t esp = cpu->gpr[HYVM_RSP], v;

	cpu->gpr[HYVM_RSP] = (esp & ~smask) | (cpu->gpr[HYVM_RBP] & smask);
	if (stack_peek(cpu, 0, size, &v)) {
		cpu->gpr[HYVM_RSP] = esp;
		return;
	}
	stack_drop(cpu, size);
	reg_write(cpu, size == 2 ? ZYDIS_REGISTER_BP : ZYDIS_REGISTER_EBP, v);
	cpu->eip = next;
}

static bool near_op(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_CALL: case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_RET:
		if (d->insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
			return false;
		call_ret_jmp(cpu, d, next);
		return true;
	case ZYDIS_MNEMONIC_LEAVE:
		leave(cpu, d, next);
		return true;
	case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_JCXZ: case ZYDIS_MNEMONIC_JECXZ:
		loop_op(cpu, d, next);
		return true;
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
		if (d->insn.meta.category != ZYDIS_CATEGORY_STRINGOP)
			return false;
		string_op(cpu, d, next);
		return true;
	default:
		return false;
	}
}

bool callout_near(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	if (!near_op(cpu, d, next))
		return false;
	cpu->stats.callout_near++;
	return true;
}

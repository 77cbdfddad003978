/*
 * Operand access for the C side: guest registers by Zydis register, the
 * linear address of a memory operand (segment base included), and reads
 * and writes through guest_mem.c. Used by the callouts, which see the
 * guest state in struct bt_cpu rather than in host registers.
 */
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/cpu/operands.h"

uint32_t reg_read(const struct bt_cpu *cpu, ZydisRegister r)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
		return cpu->gpr[ZydisRegisterGetId(r)];
	case ZYDIS_REGCLASS_GPR16:
		return cpu->gpr[ZydisRegisterGetId(r)] & 0xffff;
	case ZYDIS_REGCLASS_GPR8: {
		int id = ZydisRegisterGetId(r);	/* AL CL DL BL AH CH DH BH */
		return id < 4 ? cpu->gpr[id] & 0xff : (cpu->gpr[id - 4] >> 8) & 0xff;
	}
	default:
		return 0;
	}
}

void reg_write(struct bt_cpu *cpu, ZydisRegister r, uint32_t v)
{
	int id = ZydisRegisterGetId(r);

	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR32:
		cpu->gpr[id] = v;
		break;
	case ZYDIS_REGCLASS_GPR16:
		cpu->gpr[id] = (cpu->gpr[id] & 0xffff0000u) | (v & 0xffff);
		break;
	case ZYDIS_REGCLASS_GPR8:
		if (id < 4)
			cpu->gpr[id] = (cpu->gpr[id] & ~0xffu) | (v & 0xff);
		else
			cpu->gpr[id - 4] = (cpu->gpr[id - 4] & ~0xff00u) | ((v & 0xff) << 8);
		break;
	default:
		break;
	}
}

uint32_t operand_address(const struct bt_cpu *cpu, const ZydisDecodedOperand *o)
{
	uint32_t a = (uint32_t)o->mem.disp.value;

	if (o->mem.base != ZYDIS_REGISTER_NONE)
		a += reg_read(cpu, o->mem.base);
	if (o->mem.index != ZYDIS_REGISTER_NONE)
		a += reg_read(cpu, o->mem.index) * (o->mem.scale ? o->mem.scale : 1);
	if (ZydisRegisterGetClass(o->mem.base) == ZYDIS_REGCLASS_GPR16 ||
	    ZydisRegisterGetClass(o->mem.index) == ZYDIS_REGCLASS_GPR16)
		a &= 0xffff;
	return a;
}

uint32_t operand_linear(const struct bt_cpu *cpu, const ZydisDecodedOperand *o)
{
	return operand_address(cpu, o) + (uint32_t)cpu->arch.seg[x86_seg_index(o->mem.segment)].base;
}

int operand_read(struct bt_cpu *cpu, const ZydisDecodedOperand *o, uint32_t *v)
{
	*v = 0;
	switch (o->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		*v = reg_read(cpu, o->reg.value);
		return 0;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		*v = (uint32_t)o->imm.value.u;
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		return mem_read(cpu, operand_linear(cpu, o), v, o->size / 8 > 4 ? 4 : o->size / 8);
	default:
		return -1;
	}
}

int operand_write(struct bt_cpu *cpu, const ZydisDecodedOperand *o, uint32_t v)
{
	switch (o->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		reg_write(cpu, o->reg.value, v);
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		return mem_write(cpu, operand_linear(cpu, o), &v, o->size / 8 > 4 ? 4 : o->size / 8);
	default:
		return -1;
	}
}

/* Stack through SS, with ESP or SP per the stack segment's B bit. */
static uint32_t sp_mask(const struct bt_cpu *cpu)
{
	return (cpu->arch.seg[HYVM_SS].attrib & HYVM_SEG_DB) ? 0xffffffffu : 0xffffu;
}

int stack_push(struct bt_cpu *cpu, uint32_t v, unsigned size)
{
	uint32_t mask = sp_mask(cpu);
	uint32_t sp = (cpu->gpr[HYVM_RSP] - size) & mask;

	if (mem_write(cpu, (uint32_t)cpu->arch.seg[HYVM_SS].base + sp, &v, size))
		return -1;
	cpu->gpr[HYVM_RSP] = (cpu->gpr[HYVM_RSP] & ~mask) | sp;
	return 0;
}

/* Reads the value at offset*size above the stack top without popping. */
int stack_peek(struct bt_cpu *cpu, unsigned index, unsigned size, uint32_t *v)
{
	uint32_t sp = (cpu->gpr[HYVM_RSP] + index * size) & sp_mask(cpu);

	*v = 0;
	return mem_read(cpu, (uint32_t)cpu->arch.seg[HYVM_SS].base + sp, v, size);
}

/* v[i] = stack_peek(index + i), i < n: one read when the values lie in one
 * page of a 32-bit stack (the page's translation, and so a fault and its
 * CR2, are those of the first value). IRET's three or five pops were one
 * guest access each (docs/perf/bt-exits.md, 2026-12-04). */
int stack_peek_n(struct bt_cpu *cpu, unsigned index, unsigned n, unsigned size, uint32_t *v)
{
	uint32_t sp = cpu->gpr[HYVM_RSP] + index * size, bytes = n * size;
	uint32_t lin = (uint32_t)cpu->arch.seg[HYVM_SS].base + sp;

	if (size == 4 && sp_mask(cpu) == 0xffffffffu && sp >= cpu->gpr[HYVM_RSP] &&
	    sp + bytes > sp && lin + bytes > lin && (lin >> 12) == ((lin + bytes - 1) >> 12))
		return mem_read(cpu, lin, v, bytes);
	for (unsigned i = 0; i < n; i++)
		if (stack_peek(cpu, index + i, size, &v[i]))
			return -1;
	return 0;
}

void stack_drop(struct bt_cpu *cpu, unsigned bytes)
{
	uint32_t mask = sp_mask(cpu);

	cpu->gpr[HYVM_RSP] = (cpu->gpr[HYVM_RSP] & ~mask) | ((cpu->gpr[HYVM_RSP] + bytes) & mask);
}

/*
 * MMIO: translated code that touches a guest-physical address beyond RAM
 * faults (nothing is mapped there); the instruction is decoded again here
 * and, if it is a plain move, becomes one EXIT_MMIO. Device registers are
 * accessed with MOV/MOVZX/MOVSX in practice; anything else is reported.
 */
#include <stdio.h>
#include <string.h>
#include "bt/decode.h"
#include "bt/mmio.h"
#include "bt/operands.h"

bool mmio_emulate(struct bt_cpu *cpu, uint32_t phys, struct vcpu_exit *exit)
{
	uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
	unsigned got = 0;
	struct bt_insn d;

	mem_fetch(cpu, cs_linear(cpu, cpu->eip), bytes, sizeof(bytes), &got);
	if (!got || decode_insn(&cpu->vm->decoder, bytes, got, &d))
		goto unsupported;
	ZydisMnemonic m = d.insn.mnemonic;
	const ZydisDecodedOperand *dst = &d.ops[0], *src = &d.ops[1];
	if (m == ZYDIS_MNEMONIC_MOV && dst->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		uint32_t v;
		if (operand_read(cpu, src, &v))
			goto unsupported;
		exit->kind = EXIT_MMIO;
		exit->mmio.gpa = phys;
		exit->mmio.size = (uint8_t)(dst->size / 8);
		exit->mmio.write = true;
		exit->mmio.data = cpu->mmio.data;
		memcpy(exit->mmio.data, &v, 4);
		cpu->eip += d.insn.length;
		return true;
	}
	if ((m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX || m == ZYDIS_MNEMONIC_MOVSX) &&
	    dst->type == ZYDIS_OPERAND_TYPE_REGISTER && src->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		exit->kind = EXIT_MMIO;
		exit->mmio.gpa = phys;
		exit->mmio.size = (uint8_t)(src->size / 8);
		exit->mmio.write = false;
		exit->mmio.data = cpu->mmio.data;
		memset(cpu->mmio.data, 0, sizeof(cpu->mmio.data));
		cpu->mmio.pending_read = true;
		cpu->mmio.reg = (uint8_t)(dst->reg.value - ZYDIS_REGISTER_NONE);
		cpu->mmio.dst = dst->reg.value;
		cpu->mmio.sign = m == ZYDIS_MNEMONIC_MOVSX;
		cpu->mmio.size = exit->mmio.size;
		cpu->mmio.next_eip = cpu->eip + d.insn.length;
		return true;
	}
unsupported:
	exit->kind = EXIT_ERROR;
	snprintf(exit->error.msg, sizeof(exit->error.msg),
		 "bt: MMIO at %#x by an instruction other than MOV (eip %#x)", phys, cpu->eip);
	return true;
}

void mmio_complete(struct bt_cpu *cpu, const struct vcpu_exit *exit)
{
	uint32_t v = 0;

	if (!cpu->mmio.pending_read)
		return;
	cpu->mmio.pending_read = false;
	memcpy(&v, exit->mmio.data, cpu->mmio.size);
	if (cpu->mmio.sign && cpu->mmio.size == 1)
		v = (uint32_t)(int32_t)(int8_t)v;
	else if (cpu->mmio.sign && cpu->mmio.size == 2)
		v = (uint32_t)(int32_t)(int16_t)v;
	reg_write(cpu, cpu->mmio.dst, v);
	cpu->eip = cpu->mmio.next_eip;
}

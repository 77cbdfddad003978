/*
 * IN and OUT at CPL0 without leaving translated code: the block calls
 * bt_io_call, which hands the access to the VMM's fast path
 * (engine_ops.set_io_fast, engine.h) and completes an IN into EAX, and
 * then chains on like any block. A callout would cost a block exit and a
 * trip through the dispatcher per access (~500 cycles here, see
 * docs/perf/bt-exits.md). At CPL0 every port is permitted (CPL <= IOPL;
 * virtual-8086 code runs at CPL3: SDM Vol. 1, 18.5.1), so no check is
 * needed but that the CPL is still 0 (bt_io_call: the jump cache can
 * hand ring 3 this block); other CPLs, INS/OUTS and a VM without the
 * fast path take the callout (bt/cpu/callouts.c). Part of translation, as cpuid_call.c, so
 * translated code calls nothing in bt/cpu/.
 */
#include <string.h>
#include "bt/translate/translate.h"
#include "engines/engine.h"

#define IO_CALL_WRITE	(1u << 20)
#define IO_CALL_DX	(1u << 21)

/* op: port (imm8) in bits 0-15, size in 16-19, IO_CALL_WRITE, IO_CALL_DX
 * (the port is DX). Leaves io_call_exit = 0 to go on; else
 * io_call_unserved says whether the access is still to do (the callout
 * does it) or done with the VMM wanting an exit (EXIT_KICKED after it). */
void bt_io_call(struct bt_cpu *cpu, uint32_t op)
{
	unsigned size = (op >> 16) & 0xf;
	bool write = op & IO_CALL_WRITE;
	uint16_t port = (op & IO_CALL_DX) ? (uint16_t)cpu->gpr[HYVM_RDX] : (uint16_t)op;
	uint8_t data[4];
	uint32_t v = cpu->gpr[HYVM_RAX];

	/* A block translated at CPL0 can run at CPL3: the jump cache holds
	 * one set of segment bases and limits but no CPL, so with flat
	 * segments ring 3's indirect jump finds the ring-0 block. The
	 * callout checks IOPL and the TSS bitmap (SDM Vol. 1, 18.5.1). */
	if (!cpu->io_fast || bt_cpl(cpu) != 0) {
		cpu->io_call_exit = 1;
		cpu->io_call_unserved = 1;
		return;
	}
	memcpy(data, &v, 4);
	bool go_on = cpu->io_fast->io(cpu->io_fast->ctx, cpu->io_call_eip, port, (uint8_t)size,
					 write, data);
	cpu->stats.callout_io++;
	cpu->stats.io_fast++;
	cpu->stats.io_inline++;
	if (!write) {
		/* read back at the size the device wrote: a variable-length
		 * copy into a 4-byte word stalled on store forwarding (a third
		 * of this function's samples, docs/perf/bt-exits.md) */
		uint32_t in;
		uint16_t half;
		switch (size) {
		case 1: in = data[0]; break;
		case 2: memcpy(&half, data, 2); in = half; break;
		default: memcpy(&in, data, 4); break;
		}
		uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		cpu->gpr[HYVM_RAX] = (v & ~mask) | (in & mask);
	}
	cpu->io_call_exit = !go_on;
	cpu->io_call_unserved = 0;
}

static ZydisRegister port_operand(const struct bt_insn *d, bool out)
{
	const ZydisDecodedOperand *p = &d->ops[out ? 0 : 1];

	return p->type == ZYDIS_OPERAND_TYPE_REGISTER ? p->reg.value : ZYDIS_REGISTER_NONE;
}

/*
 *	mov [r15+gpr0/1/2], eax/ecx/edx;  mov dword [r15+io_call_eip], eip;  pushfq;  cld;  push rsi/rdi/r8
 *	<guest XMM0-7, MXCSR aside: sse_spill.c>
 *	mov r13, rsp;  and rsp, -16;  mov rdi, r15;  mov esi, op;  call bt_io_call
 *	mov rsp, r13;  <XMM0-7, MXCSR back>;  pop r8/rdi/rsi;  popfq;  mov eax/edx, [r15+gpr0/2]
 *	mov ecx, [r15+io_call_exit];  jrcxz ok
 *	mov ecx, [r15+io_call_unserved];  jrcxz stop
 *	mov ecx, [r15+gpr1];  jmp <callout stub: eip = the IN/OUT>
 * stop: mov ecx, [r15+gpr1];  jmp <BT_EXIT_IO_STOP stub: eip = next>
 * ok:	mov ecx, [r15+gpr1];  jmp <chainable branch to next>
 * The C call may clobber rax-rdx, rsi, rdi, r8-r11 and wants DF clear and
 * a 16-byte aligned stack (as cpuid_call in translate_insn.c); rbx, rbp
 * and r12-r15 survive it; r13 is free between instructions.
 */
bool io_call_emit(struct tx *t, const struct bt_insn *d, uint32_t eip, uint32_t next)
{
	struct bt_emitter *e = &t->e;
	bool out = d->insn.mnemonic == ZYDIS_MNEMONIC_OUT;
	uint8_t *ok, *stop, *site;

	if ((d->insn.mnemonic != ZYDIS_MNEMONIC_IN && !out) || (t->b->mode & 3) ||
	    (t->b->mode & BT_MODE_SINGLE) || !t->cpu->io_fast)
		return false;
	const ZydisDecodedOperand *port = &d->ops[out ? 0 : 1], *data = &d->ops[out ? 1 : 0];
	uint32_t op = (uint32_t)(data->size / 8) << 16 | (out ? IO_CALL_WRITE : 0);
	if (port_operand(d, out) == ZYDIS_REGISTER_DX)
		op |= IO_CALL_DX;
	else if (port->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		op |= (uint32_t)port->imm.value.u & 0xff;
	else
		return false;
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(io_call_eip), 4), op_imm((int32_t)eip)) &&
	      sse_spill_emit_c_call(e, (uintptr_t)bt_io_call, op) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF(io_call_exit), 4)) &&
	      (ok = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF(io_call_unserved), 4)) &&
	      (stop = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_CALLOUT, eip, false)))
		goto fail;
	patch_rel8(stop, e->pos);
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_IO_STOP, next, false)))
		goto fail;
	patch_rel8(ok, e->pos);
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) &&
	      (site = emit_branch32(e, ZYDIS_MNEMONIC_JMP)) &&
	      add_exit(t, site, BT_EXIT_BRANCH, next, false)))
		goto fail;
	return true;
fail:
	t->failed = true;
	return true;
}

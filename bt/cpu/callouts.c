/*
 * Callouts: the sensitive instructions, emulated in C on the virtual CPU
 * state. Each one ends its block, so the guest registers are in struct
 * bt_cpu here. On an exception the instruction has no effect and cpu->eip
 * stays at its start; on success cpu->eip moves past it.
 */
#include <string.h>
#include <x86intrin.h>
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/translate/translator.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/decode.h"
#include "bt/memory/soft_tlb.h"
#include "bt/memory/memory.h"
#include "bt/cpu/mmio.h"
#include "bt/memory/mmu.h"
#include "bt/cpu/operands.h"
#include "engines/engine.h"

static bool need_cpl0(struct bt_cpu *cpu)
{
	if (bt_cpl(cpu) == 0)
		return true;
	guest_exception(cpu, VEC_GP, true, 0);
	return false;
}

static bool iopl_ok(const struct bt_cpu *cpu)
{
	return bt_cpl(cpu) <= ((cpu->eflags & EFLAGS_IOPL) >> 12);
}

/* PUSHF/POPF in virtual-8086 mode with IOPL < 3: #GP(0) to the monitor
 * (SDM Vol. 3A, 20.2.7; no CR4.VME here). */
static bool v86_iopl_fault(struct bt_cpu *cpu)
{
	if (!(cpu->eflags & EFLAGS_VM) || (cpu->eflags & EFLAGS_IOPL) == EFLAGS_IOPL)
		return false;
	guest_exception(cpu, VEC_GP, true, 0);
	return true;
}

static void raise_ud(struct bt_cpu *cpu)
{
	cpu->stats.ud_unsupported++;
	guest_exception(cpu, VEC_UD, false, 0);
}

/* POPF/IRET: which flags a given privilege may change (SDM POPF). */
uint32_t flags_merge(const struct bt_cpu *cpu, uint32_t old, uint32_t v, unsigned opsize)
{
	uint32_t can = BT_EFLAGS_LIVE | EFLAGS_TF | EFLAGS_NT | EFLAGS_AC | EFLAGS_ID;

	if (bt_cpl(cpu) == 0)
		can |= EFLAGS_IOPL | EFLAGS_IF;
	else if (iopl_ok(cpu))
		can |= EFLAGS_IF;
	if (opsize == 2)
		can &= 0xffff;
	return ((old & ~can) | (v & can) | EFLAGS_FIXED1) & ~EFLAGS_RF;
}

/* The element through the VMM's fast path (engine.h, engine_io_fast):
 * the bus answers now, the instruction completes here as it would on the
 * next vcpu_run, and the run goes on unless the VMM wants an exit, which
 * is then an EXIT_KICKED after the instruction. */
static enum callout_result io_fast(struct bt_cpu *cpu, struct vcpu_exit *exit, uint32_t at,
				   uint16_t port, unsigned size, bool write)
{
	bool go_on = cpu->io_fast->io(cpu->io_fast->ctx, at, port, (uint8_t)size, write,
				      cpu->io.data);

	cpu->stats.callout_io++;
	cpu->stats.io_fast++;
	if (!write)
		callout_complete_io(cpu);
	if (go_on)
		return CALLOUT_DONE;
	exit->kind = EXIT_KICKED;
	return CALLOUT_EXIT;
}

/* at: the IN/OUT's EIP (cpu->eip may be past it already), its exit site */
static enum callout_result io_exit(struct bt_cpu *cpu, struct vcpu_exit *exit, uint32_t at,
				   uint16_t port, unsigned size, bool write, uint32_t value)
{
	if (write)
		memcpy(cpu->io.data, &value, size);
	if (cpu->io_fast)
		return io_fast(cpu, exit, at, port, size, write);
	exit->kind = EXIT_IO;
	exit->io.port = port;
	exit->io.size = (uint8_t)size;
	exit->io.write = write;
	exit->io.count = 1;
	exit->io.data = cpu->io.data;
	cpu->stats.callout_io++;
	return CALLOUT_EXIT;
}

static enum callout_result do_in_out(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next,
				     struct vcpu_exit *exit)
{
	bool out = d->insn.mnemonic == ZYDIS_MNEMONIC_OUT;
	const ZydisDecodedOperand *port_op = &d->ops[out ? 0 : 1];
	const ZydisDecodedOperand *data_op = &d->ops[out ? 1 : 0];
	uint32_t port, value = 0, at = cpu->eip;

	operand_read(cpu, port_op, &port);
	unsigned size = data_op->size / 8;
	if (!io_permitted(cpu, (uint16_t)port, size)) {
		guest_exception(cpu, VEC_GP, true, 0);
		return CALLOUT_DONE;
	}
	if (out) {
		operand_read(cpu, data_op, &value);
		cpu->eip = next;
		return io_exit(cpu, exit, at, (uint16_t)port, size, true, value);
	}
	cpu->io.pending_in = true;
	cpu->io.reg_is_string = 0;
	cpu->io.size = (uint8_t)size;
	cpu->io.next_eip = next;
	return io_exit(cpu, exit, at, (uint16_t)port, size, false, 0);
}

/* *reg += delta within amask's bits (16-bit addressing wraps SI/DI/CX). */
static void reg_add_masked(uint32_t *reg, int32_t delta, uint32_t amask)
{
	*reg = (*reg & ~amask) | ((*reg + (uint32_t)delta) & amask);
}

/* INS/OUTS: one element per exit; REP keeps eip until ECX runs out. */
static enum callout_result do_string_io(struct bt_cpu *cpu, const struct bt_insn *d,
					uint32_t next, struct vcpu_exit *exit)
{
	ZydisMnemonic m = d->insn.mnemonic;
	bool out = m == ZYDIS_MNEMONIC_OUTSB || m == ZYDIS_MNEMONIC_OUTSW || m == ZYDIS_MNEMONIC_OUTSD;
	bool rep = d->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE);
	unsigned size = d->insn.operand_width / 8;
	uint16_t port = (uint16_t)cpu->gpr[HYVM_RDX];
	uint32_t at = cpu->eip;
	int step = (cpu->eflags & EFLAGS_DF) ? -(int)size : (int)size;

	if (!io_permitted(cpu, port, size)) {
		guest_exception(cpu, VEC_GP, true, 0);
		return CALLOUT_DONE;
	}
	/* SI, DI and the count are 16-bit under 16-bit addressing */
	uint32_t amask = d->insn.address_width == 16 ? 0xffffu : 0xffffffffu;

	if (rep && (cpu->gpr[HYVM_RCX] & amask) == 0) {
		cpu->eip = next;
		return CALLOUT_DONE;
	}
	if (out) {
		uint32_t v = 0;
		int seg = HYVM_DS;
		for (unsigned i = 0; i < d->insn.operand_count; i++)
			if (d->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
				seg = d->ops[i].mem.segment == ZYDIS_REGISTER_ES ? HYVM_ES :
				      d->ops[i].mem.segment == ZYDIS_REGISTER_CS ? HYVM_CS :
				      d->ops[i].mem.segment == ZYDIS_REGISTER_SS ? HYVM_SS :
				      d->ops[i].mem.segment == ZYDIS_REGISTER_FS ? HYVM_FS :
				      d->ops[i].mem.segment == ZYDIS_REGISTER_GS ? HYVM_GS : HYVM_DS;
		if (mem_read(cpu, (uint32_t)cpu->arch.seg[seg].base + (cpu->gpr[HYVM_RSI] & amask),
			     &v, size))
			return CALLOUT_DONE;
		reg_add_masked(&cpu->gpr[HYVM_RSI], step, amask);
		if (rep)
			reg_add_masked(&cpu->gpr[HYVM_RCX], -1, amask);
		if (!rep || (cpu->gpr[HYVM_RCX] & amask) == 0)
			cpu->eip = next;
		return io_exit(cpu, exit, at, port, size, true, v);
	}
	cpu->io.pending_in = true;
	cpu->io.reg_is_string = 1 | (rep ? 2 : 0) | (amask == 0xffff ? 4 : 0);
	cpu->io.size = (uint8_t)size;
	cpu->io.next_eip = next;
	return io_exit(cpu, exit, at, port, size, false, 0);
}

void callout_complete_io(struct bt_cpu *cpu)
{
	uint32_t v = 0;
	unsigned size = cpu->io.size;

	if (!cpu->io.pending_in)
		return;
	cpu->io.pending_in = false;
	memcpy(&v, cpu->io.data, size);
	if (!cpu->io.reg_is_string) {
		reg_write(cpu, size == 1 ? ZYDIS_REGISTER_AL : size == 2 ? ZYDIS_REGISTER_AX :
			  ZYDIS_REGISTER_EAX, v);
		cpu->eip = cpu->io.next_eip;
		return;
	}
	bool rep = cpu->io.reg_is_string & 2;
	uint32_t amask = (cpu->io.reg_is_string & 4) ? 0xffffu : 0xffffffffu;
	if (mem_write(cpu, (uint32_t)cpu->arch.seg[HYVM_ES].base + (cpu->gpr[HYVM_RDI] & amask),
		      &v, size))
		return;	/* #PF raised at the INS; the port was read anyway */
	reg_add_masked(&cpu->gpr[HYVM_RDI], (cpu->eflags & EFLAGS_DF) ? -(int)size : (int)size, amask);
	if (rep)
		reg_add_masked(&cpu->gpr[HYVM_RCX], -1, amask);
	if (!rep || (cpu->gpr[HYVM_RCX] & amask) == 0)
		cpu->eip = cpu->io.next_eip;
}

/* MOV to/from CR and DR. */
static void do_mov_cr(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	const ZydisDecodedOperand *dst = &d->ops[0], *src = &d->ops[1];
	bool to_cr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL;
	bool dr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_DEBUG ||
		  ZydisRegisterGetClass(src->reg.value) == ZYDIS_REGCLASS_DEBUG;

	if (!need_cpl0(cpu))
		return;
	if (dr) {
		bool to_dr = ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_DEBUG;
		int n = ZydisRegisterGetId(to_dr ? dst->reg.value : src->reg.value) & 7;
		if (to_dr)
			cpu->dr[n] = reg_read(cpu, src->reg.value);
		else
			reg_write(cpu, dst->reg.value, n == 6 ? (uint32_t)cpu->arch.dr6 | 0xffff0ff0u :
				  n == 7 ? (uint32_t)cpu->arch.dr7 | 0x400 : cpu->dr[n]);
		if (to_dr && n == 6)
			cpu->arch.dr6 = cpu->dr[6];
		if (to_dr && n == 7)
			cpu->arch.dr7 = cpu->dr[7];
		cpu->eip = next;
		return;
	}
	if (!to_cr) {
		int n = ZydisRegisterGetId(src->reg.value);
		uint64_t v = n == 0 ? cpu->arch.cr0 : n == 2 ? cpu->arch.cr2 :
			     n == 3 ? cpu->arch.cr3 : n == 4 ? cpu->arch.cr4 : 0;
		if (n == 1 || n > 4) {
			raise_ud(cpu);
			return;
		}
		reg_write(cpu, dst->reg.value, (uint32_t)v);
		cpu->eip = next;
		return;
	}
	int n = ZydisRegisterGetId(dst->reg.value);
	uint32_t v = reg_read(cpu, src->reg.value);
	bt_xfer_changed(cpu);	/* CR0.PE decides whether SYSENTER #GPs */
	switch (n) {
	case 0:
		if ((v & CR0_PG) && !(v & CR0_PE)) {
			guest_exception(cpu, VEC_GP, true, 0);
			return;
		}
		v |= 0x10;	/* ET is hardwired */
		if ((v ^ cpu->arch.cr0) & (CR0_PG | CR0_WP | CR0_PE)) {
			cpu->arch.cr0 = v;
			cpu_paging_changed(cpu);
		}
		cpu->arch.cr0 = v;
		break;
	case 2: cpu->arch.cr2 = v; break;
	case 3:
		cpu->arch.cr3 = v;
		if (cpu->arch.cr0 & CR0_PG)
			cpu_cr3_loaded(cpu);
		break;
	case 4:
		if (v & ~(CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE |
			  CR4_OSFXSR | CR4_OSXMMEXCPT)) {
			guest_exception(cpu, VEC_GP, true, 0);
			return;
		}
		if ((v ^ cpu->arch.cr4) & (CR4_PSE | CR4_PAE)) {
			cpu->arch.cr4 = v;
			cpu_paging_changed(cpu);
		} else if ((v ^ cpu->arch.cr4) & CR4_PGE) {
			/* flushes every TLB entry, global ones too (SDM Vol. 3A
			 * 4.10.4.1): Linux's __flush_tlb_all; the jump cache
			 * keeps global translations across CR3 loads, not this */
			shadow_flush_stale(cpu->vm);
			soft_tlb_flush(cpu);
			jc_reset(cpu);
		}
		cpu->arch.cr4 = v;
		break;
	default:
		raise_ud(cpu);
		return;
	}
	cpu->stats.callout_cr++;
	cpu->eip = next;
}

static void do_int(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	cpu->stats.callout_int++;
	/* INT n is IOPL-sensitive in virtual-8086 mode; INT3 and INTO are
	 * not (SDM Vol. 3A, 20.2.7 and 20.3.1.1) */
	if ((cpu->eflags & EFLAGS_VM) && d->insn.mnemonic == ZYDIS_MNEMONIC_INT &&
	    (cpu->eflags & EFLAGS_IOPL) != EFLAGS_IOPL) {
		guest_exception(cpu, VEC_GP, true, 0);
		return;
	}
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_INT3:
		guest_interrupt(cpu, VEC_BP, true, next);
		break;
	case ZYDIS_MNEMONIC_INTO:
		if (cpu->eflags & EFLAGS_OF)
			guest_interrupt(cpu, VEC_OF, true, next);
		else
			cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_INT1:
		guest_interrupt(cpu, VEC_DB, false, next);
		break;
	default:
		guest_interrupt(cpu, (int)d->ops[0].imm.value.u & 0xff, true, next);
		break;
	}
}

enum callout_result callout_emulate(struct bt_cpu *cpu, const struct bt_insn *cached,
				    struct vcpu_exit *exit)
{
	uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
	unsigned got = 0;
	/* the block's decoded instruction, used in place: a copy (1.1 KB)
	 * was 80% of this function's time on a SYSENTER round trip. It
	 * lives as long as its block, which only tc_flush frees, and that
	 * runs in the dispatcher or between runs, never inside a callout. */
	struct bt_insn local;
	const struct bt_insn *d = cached;
	uint32_t phys, v;

	cpu->stats.callouts++;
	if (!cached && (mem_fetch(cpu, cs_linear(cpu, cpu->eip), bytes, sizeof(bytes), &got),
			!got || decode_insn(bt_decoder(cpu), bytes, got, &local))) {
		/* a fetch that ran into a missing page faults there; else #UD */
		if (got < sizeof(bytes) &&
		    mem_linear_to_phys(cpu, cs_linear(cpu, cpu->eip) + got, false, bt_cpl(cpu) == 3, &phys, true))
			return CALLOUT_DONE;
		raise_ud(cpu);
		return CALLOUT_DONE;
	}
	if (!cached)
		d = &local;
	/* a bare [disp16] is an offset below 64 KiB; Zydis sign-extends it
	 * (operands.c masks offsets with 16-bit registers itself) */
	if (d->insn.address_width == 16)
		for (unsigned i = 0; i < d->insn.operand_count; i++)
			if (d->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
			    d->ops[i].mem.base == ZYDIS_REGISTER_NONE &&
			    d->ops[i].mem.index == ZYDIS_REGISTER_NONE &&
			    d->ops[i].mem.disp.value != (uint16_t)d->ops[i].mem.disp.value) {
				if (d != &local) {
					local = *d;
					d = &local;
				}
				local.ops[i].mem.disp.value = (uint16_t)local.ops[i].mem.disp.value;
			}
	uint32_t next = (cpu->eip + d->insn.length) & bt_ip_mask(cpu);
	enum callout_result r;
	if (callout_system(cpu, d, next, &r) || callout_segments(cpu, d, next) ||
	    callout_near(cpu, d, next) || callout_legacy(cpu, d, next))
		return CALLOUT_DONE;
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI:
		cpu->stats.callout_flags++;
		if (!iopl_ok(cpu)) {
			guest_exception(cpu, VEC_GP, true, 0);
			break;
		}
		if (d->insn.mnemonic == ZYDIS_MNEMONIC_CLI) {
			cpu->eflags &= ~EFLAGS_IF;
		} else {
			if (!(cpu->eflags & EFLAGS_IF))
				cpu->intr_shadow = HYVM_INTR_SHADOW_STI;
			cpu->eflags |= EFLAGS_IF;
		}
		cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFD:
		cpu->stats.callout_flags++;
		if (v86_iopl_fault(cpu))
			break;
		if (stack_push(cpu, cpu->eflags & ~(EFLAGS_VM | EFLAGS_RF), d->insn.operand_width / 8) == 0)
			cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: {
		unsigned size = d->insn.operand_width / 8;
		cpu->stats.callout_flags++;
		if (v86_iopl_fault(cpu) || stack_peek(cpu, 0, size, &v))
			break;
		stack_drop(cpu, size);
		cpu->eflags = flags_merge(cpu, cpu->eflags, v, size);
		cpu->eip = next;
		break;
	}
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
		return do_in_out(cpu, d, next, exit);
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		return do_string_io(cpu, d, next, exit);
	case ZYDIS_MNEMONIC_HLT:
		if (!need_cpl0(cpu))
			break;
		cpu->eip = next;
		cpu->halted = true;
		exit->kind = EXIT_HLT;
		return CALLOUT_EXIT;
	case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_INTO: case ZYDIS_MNEMONIC_INT1:
		do_int(cpu, d, next);
		break;
	case ZYDIS_MNEMONIC_MOV: {
		ZydisRegisterClass c0 = d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ?
			ZydisRegisterGetClass(d->ops[0].reg.value) : ZYDIS_REGCLASS_INVALID;
		ZydisRegisterClass c1 = d->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER ?
			ZydisRegisterGetClass(d->ops[1].reg.value) : ZYDIS_REGCLASS_INVALID;
		if (c0 == ZYDIS_REGCLASS_CONTROL || c0 == ZYDIS_REGCLASS_DEBUG ||
		    c1 == ZYDIS_REGCLASS_CONTROL || c1 == ZYDIS_REGCLASS_DEBUG)
			do_mov_cr(cpu, d, next);
		else if (bt_emulate_insn(cpu, exit))
			return CALLOUT_EXIT;	/* a move the translator cannot encode
						 * (AH..BH with an address >= 2 GiB) */
		break;
	}
	case ZYDIS_MNEMONIC_XLAT:
		/* AL = seg:[rBX + AL]: the translator cannot give its implicit
		 * operand the segment's base (translate_insn.c rebases explicit
		 * operands only), so the shared emulator does it, in RAM or
		 * outside (it reads device registers through the bus) */
		if (bt_emulate_insn(cpu, exit))
			return CALLOUT_EXIT;
		break;
	case ZYDIS_MNEMONIC_CPUID:
		bt_cpuid(cpu);
		cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_RDTSC:
		if ((cpu->arch.cr4 & CR4_TSD) && bt_cpl(cpu)) {
			guest_exception(cpu, VEC_GP, true, 0);
			break;
		}
		{
			uint64_t t = __rdtsc() + cpu->tsc_offset;
			cpu->gpr[HYVM_RAX] = (uint32_t)t;
			cpu->gpr[HYVM_RDX] = (uint32_t)(t >> 32);
		}
		cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_RDPMC: {
		/* SDM Vol. 2B, RDPMC: #GP(0) at CPL > 0 without CR4.PCE, or for
		 * a counter the CPU has not. The model's counters keep what was
		 * written to them (they do not count). */
		uint64_t v;
		if (((cpu->arch.cr4 & CR4_PCE) == 0 && bt_cpl(cpu)) ||
		    cpu_pmc_read(&cpu->msrs, cpu->gpr[HYVM_RCX], &v) != CPU_MSR_OK) {
			guest_exception(cpu, VEC_GP, true, 0);
			break;
		}
		cpu->gpr[HYVM_RAX] = (uint32_t)v;
		cpu->gpr[HYVM_RDX] = (uint32_t)(v >> 32);
		cpu->eip = next;
		break;
	}
	case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR:
		if (!need_cpl0(cpu))
			break;
		cpu->stats.callout_cr++;
		return callout_msr(cpu, d->insn.mnemonic == ZYDIS_MNEMONIC_WRMSR, next, exit);
	case ZYDIS_MNEMONIC_INVLPG:
		if (!need_cpl0(cpu))
			break;
		cpu_invlpg(cpu, operand_linear(cpu, &d->ops[0]));
		cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_WBINVD: case ZYDIS_MNEMONIC_INVD:
		if (need_cpl0(cpu))
			cpu->eip = next;
		break;
	default:
		raise_ud(cpu);
		break;
	}
	return CALLOUT_DONE;
}

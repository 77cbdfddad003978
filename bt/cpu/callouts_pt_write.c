/*
 * The adaptive page-table-write callout (Adams & Agesen): an instruction
 * that trapped on page-table writes BT_PTW_CALLOUT_AFTER times (shadow.c
 * counts) is translated again as a callout, and this runs it without a
 * host fault. A plain store (MOV, XCHG, ALU or STOS to memory from a
 * register or immediate: set_pte, pte_clear, ptep_get_and_clear, clearing
 * a table) is finished here by the shared instruction emulator, which
 * writes guest RAM from C and reports the bytes (mem_note_phys_write), so
 * the shadow drops what they changed with no view remapped and no host
 * fault; anything else has its page table opened for one traced run.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/soft_tlb.h"
#include "bt/cpu/operands.h"
#include "bt/cpu/mmio.h"
#include "bt/translate/translator.h"

static bool is_gpr_or_imm(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ||
	       (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		ZydisRegisterGetClass(o->reg.value) >= ZYDIS_REGCLASS_GPR8 &&
		ZydisRegisterGetClass(o->reg.value) <= ZYDIS_REGCLASS_GPR32);
}

/* The forms the emulator finishes (emul/mmio_emulate.c) with a memory
 * destination, so it never meets one it refuses. */
static bool emulable_store(const struct bt_insn *d)
{
	const ZydisDecodedOperand *dst = &d->ops[0], *src = &d->ops[1];

	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
		return true;
	case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR:
	case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB:
		return d->insn.operand_count_visible == 2 &&
		       dst->type == ZYDIS_OPERAND_TYPE_MEMORY && is_gpr_or_imm(src);
	case ZYDIS_MNEMONIC_XCHG:
		return d->insn.operand_count_visible == 2 &&
		       ((dst->type == ZYDIS_OPERAND_TYPE_MEMORY && is_gpr_or_imm(src) &&
			 src->type == ZYDIS_OPERAND_TYPE_REGISTER) ||
			(src->type == ZYDIS_OPERAND_TYPE_MEMORY && is_gpr_or_imm(dst) &&
			 dst->type == ZYDIS_OPERAND_TYPE_REGISTER));
	default:
		return false;
	}
}

/* The commonest form, set_pte's and pte_clear's MOV of a 32-bit
 * register or immediate to the entry through a flat segment, is stored
 * from here: the emulator would fetch and decode the instruction again
 * (Zydis, then its own walk: a third of the ptwrite storm after the soft
 * TLB, docs/perf/bt-shadow.md). The store goes through mem_write, which
 * reports the bytes to the shadow as the emulator's does. Not under
 * single-step (TF) or the debugger: those stay the emulator's. */
static bool plain_form(const struct bt_cpu *cpu, const struct bt_insn *d)
{
	const ZydisDecodedOperand *dst = &d->ops[0], *src = &d->ops[1];

	return d->insn.operand_count_visible == 2 &&
	       dst->type == ZYDIS_OPERAND_TYPE_MEMORY && dst->size == 32 &&
	       d->insn.address_width == 32 && is_gpr_or_imm(src) &&
	       !(d->insn.attributes & (ZYDIS_ATTRIB_HAS_LOCK | ZYDIS_ATTRIB_HAS_REP)) &&
	       !(cpu->eflags & EFLAGS_TF) && !cpu->dbg.active &&
	       seg_check_kind(&cpu->arch.seg[x86_seg_index(dst->mem.segment)]) == BT_SEGCHK_NONE;
}

static bool plain_mov_form(const struct bt_cpu *cpu, const struct bt_insn *d)
{
	return d->insn.mnemonic == ZYDIS_MNEMONIC_MOV && plain_form(cpu, d);
}

/* host: the entry's 4 bytes, phys their address (the walk's). */
static void store_at(struct bt_cpu *cpu, const struct bt_insn *d, uint8_t *host, uint32_t phys,
		     uint32_t v)
{
	memcpy(host, &v, 4);
	mem_note_phys_write(cpu->vm, phys, 4);
	cpu->eip = (cpu->eip + d->insn.length) & bt_ip_mask(cpu);
}

/* OR, AND, XOR, ADD or SUB of a 32-bit register or immediate to the
 * dword at host, done by the host's own instruction so the arithmetic
 * flags are the processor's (AF too, SDM Vol. 1 3.4.3.1): a #PF
 * handler's "or $1, pte" (pgfault) without the emulator's decode. */
/* PUSHFQ below the red zone the compiler may keep locals in */
#define RZ_IN	"leaq -128(%%rsp), %%rsp\n\t"
#define RZ_OUT	"\n\tleaq 128(%%rsp), %%rsp"

static bool alu_store(struct bt_cpu *cpu, const struct bt_insn *d, uint8_t *host, uint32_t phys)
{
	uint32_t v, r;
	uint64_t fl;

	if (!plain_form(cpu, d) || operand_read(cpu, &d->ops[1], &v))
		return false;
	memcpy(&r, host, 4);
	/* the host's own instruction gives the result and its flags */
#define ALU_FLAGS(insn) \
	__asm__(RZ_IN insn " %2, %0\n\tpushfq\n\tpopq %1" RZ_OUT : "+r"(r), "=r"(fl) : "r"(v) : "cc")
	switch (d->insn.mnemonic) {
	case ZYDIS_MNEMONIC_OR:  ALU_FLAGS("orl");  break;
	case ZYDIS_MNEMONIC_AND: ALU_FLAGS("andl"); break;
	case ZYDIS_MNEMONIC_XOR: ALU_FLAGS("xorl"); break;
	case ZYDIS_MNEMONIC_ADD: ALU_FLAGS("addl"); break;
	case ZYDIS_MNEMONIC_SUB: ALU_FLAGS("subl"); break;
#undef ALU_FLAGS
	default:
		return false;
	}
	cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | ((uint32_t)fl & EFLAGS_ARITH);
	store_at(cpu, d, host, phys, r);
	return true;
}

static bool plain_mov_store(struct bt_cpu *cpu, const struct bt_insn *d)
{
	const ZydisDecodedOperand *dst = &d->ops[0], *src = &d->ops[1];
	uint32_t v;

	if (!plain_mov_form(cpu, d))
		return false;
	if (operand_read(cpu, src, &v) || mem_write(cpu, operand_linear(cpu, dst), &v, 4))
		return true;	/* a #PF raised (the walk above found none) */
	cpu->eip = (cpu->eip + d->insn.length) & bt_ip_mask(cpu);
	return true;
}

enum ptw_result callout_pt_write(struct bt_cpu *cpu, const struct bt_insn *d,
				 struct vcpu_exit *exit)
{
	struct bt_vm *vm = cpu->vm;

	cpu->stats.pt_write_callouts++;
	for (unsigned i = 0; d && i < d->insn.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		uint32_t phys;
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		uint32_t lin = operand_linear(cpu, o);
		if (mem_linear_to_phys(cpu, lin, true, bt_cpl(cpu) == 3, &phys, true))
			return PTW_DONE;	/* #PF delivered */
		if (phys_host(vm, phys, 1, true) && !vm->code_pages[phys >> 12] &&
		    shadow_is_pt_page(vm, phys >> 12)) {
			if (emulable_store(d)) {
				cpu->stats.pt_write_emulated++;
				if (plain_mov_store(cpu, d))
					return PTW_DONE;
				return bt_emulate_insn(cpu, exit) ? PTW_EXIT : PTW_DONE;
			}
			shadow_trace_begin(cpu, lin, phys, false);
		}
		break;
	}
	return PTW_RUN_SINGLE;
}

/*
 * The same from the callout's own block (cpu/callout_in_block.c), for the
 * one case that needs neither the dispatcher nor the VMM: a plain store,
 * not repeated, within one page, to a page table in RAM. Emulated, true;
 * otherwise nothing is done (the walk raises nothing) and false: the block
 * leaves through its callout exit and callout_pt_write decides. Linux's
 * set_pte, pte_clear and the clearing of a table at exit are such stores
 * (~960 per fork+exec, each a dispatcher round trip before).
 */
bool callout_pt_write_in_block(struct bt_cpu *cpu, const struct bt_insn *d)
{
	struct bt_vm *vm = cpu->vm;

	if (!d || !emulable_store(d) || (d->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
								ZYDIS_ATTRIB_HAS_REPNE)))
		return false;
	for (unsigned i = 0; i < d->insn.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		uint32_t phys;
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		uint32_t lin = operand_linear(cpu, o);
		uint8_t *host;
		uint32_t v;
		/* an MMIO page next to it would want the VMM: not here. A
		 * page that is no longer a page table (the shadow stopped
		 * tracing it) is plain RAM: stored here as well, where the
		 * dispatcher would run the instruction alone through the
		 * view (pgfault's OR to a PTE: a round trip a fault) */
		if ((lin & 0xfff) + o->size / 8 > 4096 ||
		    soft_tlb_pt_store(cpu, lin, bt_cpl(cpu) == 3, &phys) ||
		    !(host = phys_host(vm, phys, o->size / 8, true)) || vm->code_pages[phys >> 12])
			return false;
		struct vcpu_exit exit;
		cpu->stats.pt_write_callouts++;
		cpu->stats.pt_write_emulated++;
		/* set_pte's MOV, stored at the address the walk just gave
		 * (phys: it set D, SDM Vol. 3A 4.8) instead of mem_write's
		 * second walk and the emulator's decode (~40% of the ptwrite
		 * storm); the bytes reported to the shadow as mem_write does */
		if (plain_mov_form(cpu, d) && !operand_read(cpu, &d->ops[1], &v)) {
			store_at(cpu, d, host, phys, v);
			return true;
		}
		if (alu_store(cpu, d, host, phys))
			return true;
		/* RAM only, so the emulator wants no exit */
		return !bt_emulate_insn(cpu, &exit);
	}
	return false;
}

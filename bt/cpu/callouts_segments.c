/*
 * Segment callouts: MOV/PUSH/POP of segment registers, LDS..LSS, far
 * JMP/CALL/RET within and across privilege levels (no call gates or task
 * switches), PUSHA/POPA, ENTER, and 16-bit PUSH/POP, which the translator
 * leaves to C.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/cpu/operands.h"

static int sreg_index(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return HYVM_ES;
	case ZYDIS_REGISTER_CS: return HYVM_CS;
	case ZYDIS_REGISTER_SS: return HYVM_SS;
	case ZYDIS_REGISTER_DS: return HYVM_DS;
	case ZYDIS_REGISTER_FS: return HYVM_FS;
	case ZYDIS_REGISTER_GS: return HYVM_GS;
	default: return -1;
	}
}

static int load_sreg(struct bt_cpu *cpu, int seg, uint16_t sel)
{
	if (seg == HYVM_CS) {
		cpu->stats.ud_unsupported++;
		guest_exception(cpu, VEC_UD, false, 0);
		return -1;
	}
	if (load_segment(cpu, seg, sel, true))
		return -1;
	if (seg == HYVM_SS)
		cpu->intr_shadow = HYVM_INTR_SHADOW_MOVSS;
	cpu->stats.callout_seg++;
	return 0;
}

/* The code segment a far JMP/CALL/RET may enter (no gates). */
static int far_code_segment(struct bt_cpu *cpu, uint16_t sel, unsigned new_cpl,
			    bool is_return, struct hyvm_segment *cs)
{
	uint64_t desc;

	if (!(sel & ~3u) || read_descriptor(cpu, sel, &desc))
		goto gp;
	descriptor_to_segment(desc, sel, cs);
	if (!(cs->attrib & HYVM_SEG_S) || !(cs->attrib & 0x8))
		goto gp;	/* call gates and TSSs: not supported */
	unsigned dpl = hyvm_seg_dpl(cs);
	bool conforming = cs->attrib & 0x4;
	if (is_return ? (conforming ? dpl > new_cpl : dpl != new_cpl)
		      : (conforming ? dpl > new_cpl : (dpl != new_cpl || (sel & 3) > new_cpl)))
		goto gp;
	if (!(cs->attrib & HYVM_SEG_P)) {
		guest_exception(cpu, VEC_NP, true, sel & ~3u);
		return -1;
	}
	descriptor_set_accessed(cpu, sel, cs);
	cs->selector = (sel & ~3u) | new_cpl;
	return 0;
gp:
	guest_exception(cpu, VEC_GP, true, sel & ~3u);
	return -1;
}

static void far_transfer(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	const ZydisDecodedOperand *o = &d->ops[0];
	unsigned size = d->insn.operand_width / 8;
	uint32_t off = 0, sel = 0;
	struct hyvm_segment cs;

	if (o->type == ZYDIS_OPERAND_TYPE_POINTER) {
		off = o->ptr.offset;
		sel = o->ptr.segment;
	} else {
		uint32_t lin = operand_linear(cpu, o);
		if (mem_read(cpu, lin, &off, size) || mem_read(cpu, lin + size, &sel, 2))
			return;
	}
	if (bt_real_segments(cpu)) {
		cs = cpu->arch.seg[HYVM_CS];
		uint16_t old_sel = cs.selector;
		if (d->insn.mnemonic == ZYDIS_MNEMONIC_CALL) {
			uint32_t esp = cpu->gpr[HYVM_RSP];
			if (stack_push(cpu, old_sel, size) || stack_push(cpu, next, size)) {
				cpu->gpr[HYVM_RSP] = esp;
				return;
			}
		}
		real_segment_load(cpu, HYVM_CS, (uint16_t)sel);
		cpu->eip = size == 2 ? off & 0xffff : off;
		cpu->stats.callout_seg++;
		return;
	}
	if (far_code_segment(cpu, (uint16_t)sel, bt_cpl(cpu), false, &cs))
		return;
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_CALL) {
		uint32_t esp = cpu->gpr[HYVM_RSP];
		if (stack_push(cpu, cpu->arch.seg[HYVM_CS].selector, size) ||
		    stack_push(cpu, next, size)) {
			cpu->gpr[HYVM_RSP] = esp;
			return;
		}
	}
	cpu->arch.seg[HYVM_CS] = cs;
	cpu->eip = size == 2 ? off & 0xffff : off;
	cpu->stats.callout_seg++;
}

static void far_return(struct bt_cpu *cpu, const struct bt_insn *d)
{
	unsigned size = d->insn.operand_width / 8;
	uint32_t imm = d->insn.operand_count_visible ? (uint32_t)d->ops[0].imm.value.u : 0;
	uint32_t eip, sel, esp = 0, ss = 0;
	struct hyvm_segment cs, saved = cpu->arch.seg[HYVM_CS];

	if (stack_peek(cpu, 0, size, &eip) || stack_peek(cpu, 1, size, &sel))
		return;
	sel &= 0xffff;
	if (bt_real_segments(cpu)) {
		stack_drop(cpu, 2 * size + imm);
		real_segment_load(cpu, HYVM_CS, (uint16_t)sel);
		cpu->eip = size == 2 ? eip & 0xffff : eip;
		cpu->stats.callout_seg++;
		return;
	}
	unsigned rpl = sel & 3, cpl = bt_cpl(cpu);
	if (rpl < cpl) {
		guest_exception(cpu, VEC_GP, true, sel & ~3u);
		return;
	}
	if (rpl > cpl) {
		uint32_t base = 2 * size + imm;
		if (stack_peek(cpu, 0, 1, &esp) ||	/* probe */
		    mem_read(cpu, (uint32_t)cpu->arch.seg[HYVM_SS].base + cpu->gpr[HYVM_RSP] + base, &esp, size) ||
		    mem_read(cpu, (uint32_t)cpu->arch.seg[HYVM_SS].base + cpu->gpr[HYVM_RSP] + base + size, &ss, 2))
			return;
	}
	if (far_code_segment(cpu, (uint16_t)sel, rpl, true, &cs))
		return;
	if (rpl > cpl) {
		cpu->arch.seg[HYVM_CS] = cs;
		if (load_segment(cpu, HYVM_SS, (uint16_t)ss, false)) {
			cpu->arch.seg[HYVM_CS] = saved;
			guest_exception(cpu, VEC_GP, true, ss & ~3u);
			return;
		}
		cpu->gpr[HYVM_RSP] = esp + imm;
	} else {
		stack_drop(cpu, 2 * size + imm);
		cpu->arch.seg[HYVM_CS] = cs;
	}
	cpu->eip = eip;
	cpu->stats.callout_seg++;
}

/* SP or ESP, by the stack segment's B bit (SDM Vol. 3A, 3.4.5). */
static uint32_t sp_mask(const struct bt_cpu *cpu)
{
	return (cpu->arch.seg[HYVM_SS].attrib & HYVM_SEG_DB) ? 0xffffffffu : 0xffffu;
}

static void set_sp(struct bt_cpu *cpu, uint32_t sp)
{
	uint32_t mask = sp_mask(cpu);

	cpu->gpr[HYVM_RSP] = (cpu->gpr[HYVM_RSP] & ~mask) | (sp & mask);
}

static void pusha(struct bt_cpu *cpu, unsigned size, uint32_t next)
{
	uint8_t frame[32];
	uint32_t ss = (uint32_t)cpu->arch.seg[HYVM_SS].base;
	uint32_t sp = (cpu->gpr[HYVM_RSP] - 8 * size) & sp_mask(cpu);

	/* EDI at the lowest address, EAX at the highest; ESP as before */
	for (int i = 0; i < 8; i++)
		memcpy(frame + (7 - i) * size, &cpu->gpr[i], size);
	if (mem_write(cpu, ss + sp, frame, 8 * size))
		return;
	set_sp(cpu, sp);
	cpu->eip = next;
}

static void popa(struct bt_cpu *cpu, unsigned size, uint32_t next)
{
	uint8_t frame[32];
	uint32_t ss = (uint32_t)cpu->arch.seg[HYVM_SS].base;
	uint32_t sp = cpu->gpr[HYVM_RSP] & sp_mask(cpu);

	if (mem_read(cpu, ss + sp, frame, 8 * size))
		return;
	for (int i = 0; i < 8; i++) {
		uint32_t v = 0;
		if (i == HYVM_RSP)
			continue;
		memcpy(&v, frame + (7 - i) * size, size);
		cpu->gpr[i] = size == 4 ? v : (cpu->gpr[i] & 0xffff0000u) | v;
	}
	set_sp(cpu, sp + 8 * size);
	cpu->eip = next;
}

/* ENTER (SDM Vol. 2A): BP/EBP pushed at the operand size, the nesting
 * level's frame pointers copied, the frame allocated; SP or ESP by SS.B. */
static void enter(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	uint32_t alloc = (uint32_t)d->ops[0].imm.value.u & 0xffff;
	unsigned level = (unsigned)d->ops[1].imm.value.u & 31;
	unsigned size = d->insn.operand_width / 8;
	uint32_t esp = cpu->gpr[HYVM_RSP], ebp = cpu->gpr[HYVM_RBP], v;
	uint32_t ss = (uint32_t)cpu->arch.seg[HYVM_SS].base, mask = sp_mask(cpu);

	if (stack_push(cpu, ebp, size))
		return;
	uint32_t frame = cpu->gpr[HYVM_RSP] & mask;
	for (unsigned i = 1; i < level; i++) {
		ebp -= size;
		v = 0;
		if (mem_read(cpu, ss + (ebp & mask), &v, size) || stack_push(cpu, v, size))
			goto undo;
	}
	if (level && stack_push(cpu, frame, size))
		goto undo;
	reg_write(cpu, size == 2 ? ZYDIS_REGISTER_BP : ZYDIS_REGISTER_EBP, frame);
	set_sp(cpu, cpu->gpr[HYVM_RSP] - alloc);
	cpu->eip = next;
	return;
undo:
	cpu->gpr[HYVM_RSP] = esp;
}

bool callout_segments(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	ZydisMnemonic m = d->insn.mnemonic;
	unsigned size = d->insn.operand_width / 8;
	uint32_t v, sel;
	int seg;

	switch (m) {
	case ZYDIS_MNEMONIC_MOV:
		if ((seg = sreg_index(d->ops[0].reg.value)) >= 0 &&
		    d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
			if (operand_read(cpu, &d->ops[1], &v) == 0 && load_sreg(cpu, seg, (uint16_t)v) == 0)
				cpu->eip = next;
			return true;
		}
		if (d->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (seg = sreg_index(d->ops[1].reg.value)) >= 0) {
			if (operand_write(cpu, &d->ops[0], cpu->arch.seg[seg].selector) == 0)
				cpu->eip = next;
			return true;
		}
		return false;
	case ZYDIS_MNEMONIC_PUSH:
		if (d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (seg = sreg_index(d->ops[0].reg.value)) >= 0)
			v = cpu->arch.seg[seg].selector;
		else if (operand_read(cpu, &d->ops[0], &v))
			return true;
		if (stack_push(cpu, v, size) == 0)
			cpu->eip = next;
		return true;
	case ZYDIS_MNEMONIC_POP:
		if (stack_peek(cpu, 0, size, &v))
			return true;
		if (d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (seg = sreg_index(d->ops[0].reg.value)) >= 0) {
			if (load_sreg(cpu, seg, (uint16_t)v))
				return true;
			stack_drop(cpu, size);
		} else {
			uint32_t esp = cpu->gpr[HYVM_RSP];
			stack_drop(cpu, size);
			if (operand_write(cpu, &d->ops[0], v)) {
				cpu->gpr[HYVM_RSP] = esp;
				return true;
			}
		}
		cpu->eip = next;
		return true;
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS: {
		uint32_t lin = operand_linear(cpu, &d->ops[1]);
		seg = m == ZYDIS_MNEMONIC_LDS ? HYVM_DS : m == ZYDIS_MNEMONIC_LES ? HYVM_ES :
		      m == ZYDIS_MNEMONIC_LFS ? HYVM_FS : m == ZYDIS_MNEMONIC_LGS ? HYVM_GS : HYVM_SS;
		v = 0;
		sel = 0;
		if (mem_read(cpu, lin, &v, size) || mem_read(cpu, lin + size, &sel, 2) ||
		    load_sreg(cpu, seg, (uint16_t)sel))
			return true;
		reg_write(cpu, d->ops[0].reg.value, v);
		cpu->eip = next;
		return true;
	}
	case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_CALL:
		if (d->insn.meta.branch_type != ZYDIS_BRANCH_TYPE_FAR)
			return false;
		far_transfer(cpu, d, next);
		return true;
	case ZYDIS_MNEMONIC_RET:
		if (d->insn.meta.branch_type != ZYDIS_BRANCH_TYPE_FAR)
			return false;
		far_return(cpu, d);
		return true;
	case ZYDIS_MNEMONIC_PUSHA: case ZYDIS_MNEMONIC_PUSHAD:
		pusha(cpu, size, next);
		return true;
	case ZYDIS_MNEMONIC_POPA: case ZYDIS_MNEMONIC_POPAD:
		popa(cpu, size, next);
		return true;
	case ZYDIS_MNEMONIC_ENTER:
		enter(cpu, d, next);
		return true;
	default:
		return false;
	}
}

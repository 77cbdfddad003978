/*
 * System callouts: descriptor tables, task register, IRET, SYSENTER and
 * SYSEXIT, segment queries (LSL/LAR/VERR/VERW), and what a change of the
 * address space means for views and caches.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/cpu/operands.h"
#include "bt/translate/translator.h"

static bool cpl0(struct bt_cpu *cpu)
{
	if (bt_cpl(cpu) == 0)
		return true;
	guest_exception(cpu, VEC_GP, true, 0);
	return false;
}

void cpu_paging_changed(struct bt_cpu *cpu)
{
	struct bt_vm *vm = cpu->vm;

	if (vm->view_flat != !(cpu->arch.cr0 & CR0_PG))
		view_reset(vm);
	else if (!vm->view_flat)
		shadow_reset(vm);	/* the walks themselves changed (WP, PSE, PAE, NXE) */
	jc_reset(cpu);
}

/* Page-table writes are traced, so a cached address space is still exact.
 * The jump cache keeps what came from global translations (SDM Vol. 3A
 * 4.10.4.1: MOV to CR3 leaves global TLB entries). */
void cpu_cr3_loaded(struct bt_cpu *cpu)
{
	shadow_cr3_loaded(cpu);
	jc_cr3_loaded(cpu);
	cpu->stats.jc_resets_cr3++;
}

void cpu_invlpg(struct bt_cpu *cpu, uint32_t lin)
{
	if (!(cpu->arch.cr0 & CR0_PG))
		return;
	shadow_invlpg(cpu, lin);
	jc_drop_page(cpu, lin);
}

/* Flat 4 GiB segment at a given privilege, as SYSENTER/SYSEXIT load. */
static void flat_segment(struct hyvm_segment *s, uint16_t sel, bool code, unsigned dpl)
{
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->attrib = (code ? 0xb : 0x3) | HYVM_SEG_S | (dpl << HYVM_SEG_DPL_SHIFT) | HYVM_SEG_P |
		    HYVM_SEG_DB | HYVM_SEG_G;
}

static void do_iret(struct bt_cpu *cpu, const struct bt_insn *d)
{
	unsigned size = d->insn.operand_width / 8;
	uint32_t frame[3], outer[2] = { 0, 0 }, eip, cs, fl, esp, ss;
	unsigned cpl = bt_cpl(cpu);

	if (!(cpu->arch.cr0 & CR0_PE)) {
		real_iret(cpu, size);
		return;
	}
	if (cpu->eflags & EFLAGS_VM) {
		/* IOPL-sensitive in virtual-8086 mode (SDM Vol. 3A, 20.2.7) */
		if ((cpu->eflags & EFLAGS_IOPL) != EFLAGS_IOPL)
			guest_exception(cpu, VEC_GP, true, 0);
		else
			real_iret(cpu, size);
		return;
	}
	if (cpu->eflags & EFLAGS_NT) {
		cpu->stats.ud_unsupported++;
		guest_exception(cpu, VEC_GP, true, 0);	/* task return: not supported */
		return;
	}
	/* a 16-bit IRET pops 16-bit IP, CS, FLAGS (and SP, SS) */
	if (stack_peek_n(cpu, 0, 3, size, frame))
		return;
	eip = frame[0];
	cs = frame[1];
	fl = frame[2];
	if (size == 2)
		fl = (cpu->eflags & 0xffff0000u) | (fl & 0xffff);
	cs &= 0xffff;
	if (cpl == 0 && size == 4 && (fl & EFLAGS_VM)) {
		v86_enter_by_iret(cpu, eip, cs, fl);
		return;
	}
	unsigned rpl = cs & 3;
	if (rpl < cpl || (fl & EFLAGS_VM)) {
		guest_exception(cpu, VEC_GP, true, cs & ~3u);
		return;
	}
	if (rpl > cpl && stack_peek_n(cpu, 3, 2, size, outer))
		return;
	esp = outer[0];
	ss = outer[1];
	uint64_t desc;
	struct hyvm_segment ncs;
	if (!(cs & ~3u) || read_descriptor(cpu, (uint16_t)cs, &desc)) {
		guest_exception(cpu, VEC_GP, true, cs & ~3u);
		return;
	}
	descriptor_to_segment(desc, (uint16_t)cs, &ncs);
	if (!(ncs.attrib & HYVM_SEG_S) || !(ncs.attrib & 0x8)) {
		guest_exception(cpu, VEC_GP, true, cs & ~3u);
		return;
	}
	if (!(ncs.attrib & HYVM_SEG_P)) {
		guest_exception(cpu, VEC_NP, true, cs & ~3u);
		return;
	}
	descriptor_set_accessed(cpu, (uint16_t)cs, &ncs);
	uint32_t new_flags = flags_merge(cpu, cpu->eflags, fl, size);
	struct hyvm_segment saved_cs = cpu->arch.seg[HYVM_CS];
	if (rpl > cpl) {
		/* outer return: SS checks happen at the new privilege */
		cpu->arch.seg[HYVM_CS] = ncs;
		if (load_segment(cpu, HYVM_SS, (uint16_t)ss, false)) {
			cpu->arch.seg[HYVM_CS] = saved_cs;
			guest_exception(cpu, VEC_GP, true, ss & ~3u);
			return;
		}
		cpu->gpr[HYVM_RSP] = size == 2 ? (cpu->gpr[HYVM_RSP] & 0xffff0000u) | (esp & 0xffff) : esp;
		/* data segments the new privilege may not use become null */
		static const int data[] = { HYVM_ES, HYVM_DS, HYVM_FS, HYVM_GS };
		for (int i = 0; i < 4; i++) {
			struct hyvm_segment *s = &cpu->arch.seg[data[i]];
			bool conforming_code = (s->attrib & 0xc) == 0xc;
			if (!(s->attrib & HYVM_SEG_UNUSABLE) && !conforming_code && hyvm_seg_dpl(s) < rpl) {
				memset(s, 0, sizeof(*s));
				s->attrib = HYVM_SEG_UNUSABLE;
			}
		}
	} else {
		stack_drop(cpu, 3 * size);
		cpu->arch.seg[HYVM_CS] = ncs;
	}
	cpu->eflags = new_flags;
	cpu->eip = size == 2 ? eip & 0xffff : eip;
	cpu->stats.callout_int++;
}

static void do_sysenter(struct bt_cpu *cpu)
{
	uint16_t cs = (uint16_t)cpu->arch.sysenter_cs;

	if (!(cpu->arch.cr0 & CR0_PE) || !(cs & ~3u)) {
		guest_exception(cpu, VEC_GP, true, 0);
		return;
	}
	flat_segment(&cpu->arch.seg[HYVM_CS], cs & ~3u, true, 0);
	flat_segment(&cpu->arch.seg[HYVM_SS], (cs & ~3u) + 8, false, 0);
	cpu->eflags &= ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
	cpu->gpr[HYVM_RSP] = (uint32_t)cpu->arch.sysenter_esp;
	cpu->eip = (uint32_t)cpu->arch.sysenter_eip;
	cpu->stats.callout_int++;
}

static void do_sysexit(struct bt_cpu *cpu)
{
	uint16_t cs = (uint16_t)cpu->arch.sysenter_cs;

	if (bt_cpl(cpu) != 0 || !(cpu->arch.cr0 & CR0_PE) || !(cs & ~3u)) {
		guest_exception(cpu, VEC_GP, true, 0);
		return;
	}
	flat_segment(&cpu->arch.seg[HYVM_CS], ((cs & ~3u) + 16) | 3, true, 3);
	flat_segment(&cpu->arch.seg[HYVM_SS], ((cs & ~3u) + 24) | 3, false, 3);
	cpu->gpr[HYVM_RSP] = cpu->gpr[HYVM_RCX];
	cpu->eip = cpu->gpr[HYVM_RDX];
	cpu->stats.callout_int++;
}

/* LSL/LAR/VERR/VERW: ZF says whether the selector passed. */
static void do_segment_query(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next)
{
	ZydisMnemonic m = d->insn.mnemonic;
	const ZydisDecodedOperand *sel_op = &d->ops[m == ZYDIS_MNEMONIC_VERR || m == ZYDIS_MNEMONIC_VERW ? 0 : 1];
	uint32_t sel;
	uint64_t desc;
	bool ok = false;

	if (operand_read(cpu, sel_op, &sel))
		return;
	sel &= 0xffff;
	if ((sel & ~3u) && read_descriptor(cpu, (uint16_t)sel, &desc) == 0) {
		struct hyvm_segment s;
		descriptor_to_segment(desc, (uint16_t)sel, &s);
		unsigned dpl = hyvm_seg_dpl(&s), type = s.attrib & 0xf;
		bool conforming = (s.attrib & HYVM_SEG_S) && (type & 0xc) == 0xc;
		bool priv = conforming || (dpl >= bt_cpl(cpu) && dpl >= (sel & 3));
		ok = priv;
		if (m == ZYDIS_MNEMONIC_VERR)
			ok = priv && (s.attrib & HYVM_SEG_S) && (!(type & 8) || (type & 2));
		else if (m == ZYDIS_MNEMONIC_VERW)
			ok = priv && (s.attrib & HYVM_SEG_S) && !(type & 8) && (type & 2);
		else if (!(s.attrib & HYVM_SEG_S))
			ok = priv && (type == 1 || type == 2 || type == 3 || type == 9 || type == 11 ||
				      (m == ZYDIS_MNEMONIC_LAR && (type == 4 || type == 5 || type == 12)));
		if (ok && m == ZYDIS_MNEMONIC_LSL)
			reg_write(cpu, d->ops[0].reg.value, s.limit);
		if (ok && m == ZYDIS_MNEMONIC_LAR)
			reg_write(cpu, d->ops[0].reg.value, (uint32_t)(desc >> 32) & 0x00f0ff00u);
	}
	cpu->eflags = (cpu->eflags & ~EFLAGS_ZF) | (ok ? EFLAGS_ZF : 0);
	cpu->eip = next;
}

bool callout_system(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next,
		    enum callout_result *r)
{
	ZydisMnemonic m = d->insn.mnemonic;
	uint8_t buf[6];
	uint32_t v;

	*r = CALLOUT_DONE;
	switch (m) {
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT: {
		if (!cpl0(cpu) || mem_read(cpu, operand_linear(cpu, &d->ops[0]), buf, 6))
			break;
		struct hyvm_dtable *t = m == ZYDIS_MNEMONIC_LGDT ? &cpu->arch.gdtr : &cpu->arch.idtr;
		uint32_t base;
		memcpy(&base, buf + 2, 4);
		t->limit = buf[0] | (buf[1] << 8);
		t->base = d->insn.operand_width == 16 ? base & 0xffffff : base;
		cpu->stats.callout_cr++;
		cpu->eip = next;
		break;
	}
	case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT: {
		const struct hyvm_dtable *t = m == ZYDIS_MNEMONIC_SGDT ? &cpu->arch.gdtr : &cpu->arch.idtr;
		uint32_t base = (uint32_t)t->base;
		buf[0] = (uint8_t)t->limit;
		buf[1] = (uint8_t)(t->limit >> 8);
		memcpy(buf + 2, &base, 4);
		if (mem_write(cpu, operand_linear(cpu, &d->ops[0]), buf, 6) == 0)
			cpu->eip = next;
		break;
	}
	case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR:
		v = cpu->arch.seg[m == ZYDIS_MNEMONIC_SLDT ? HYVM_LDTR : HYVM_TR].selector;
		if (operand_write(cpu, &d->ops[0], v) == 0)
			cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_SMSW:
		if (operand_write(cpu, &d->ops[0], (uint32_t)cpu->arch.cr0 & (d->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? ~0u : 0xffff)) == 0)
			cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_LMSW:
		if (!cpl0(cpu) || operand_read(cpu, &d->ops[0], &v))
			break;
		/* LMSW sets PE but never clears it, and touches only MP/EM/TS */
		bt_xfer_changed(cpu);
		cpu->arch.cr0 = (cpu->arch.cr0 & ~0xeull) | (v & 0xe) | (cpu->arch.cr0 & 1) | (v & 1);
		cpu->eip = next;
		break;
	case ZYDIS_MNEMONIC_CLTS:
		if (cpl0(cpu)) {
			cpu->arch.cr0 &= ~0x8ull;
			cpu->eip = next;
		}
		break;
	case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR: {
		uint64_t desc;
		if (!cpl0(cpu) || operand_read(cpu, &d->ops[0], &v))
			break;
		v &= 0xffff;
		int seg = m == ZYDIS_MNEMONIC_LLDT ? HYVM_LDTR : HYVM_TR;
		if (seg == HYVM_LDTR && !(v & ~3u)) {
			memset(&cpu->arch.seg[seg], 0, sizeof(cpu->arch.seg[seg]));
			cpu->arch.seg[seg].attrib = HYVM_SEG_UNUSABLE;
			cpu->eip = next;
			break;
		}
		if ((v & 4) || read_descriptor(cpu, (uint16_t)v, &desc)) {
			guest_exception(cpu, VEC_GP, true, v & ~3u);
			break;
		}
		unsigned type = (desc >> 40) & 0x1f;
		if (seg == HYVM_LDTR ? type != 0x2 : (type != 0x9 && type != 0x1)) {
			guest_exception(cpu, VEC_GP, true, v & ~3u);
			break;
		}
		if (!((desc >> 47) & 1)) {
			guest_exception(cpu, VEC_NP, true, v & ~3u);
			break;
		}
		descriptor_to_segment(desc, (uint16_t)v, &cpu->arch.seg[seg]);
		if (seg == HYVM_TR) {
			/* mark the TSS busy in the GDT, as LTR does */
			uint32_t hi = (uint32_t)(desc >> 32) | (1u << 9);
			mem_access_as(cpu, (uint32_t)cpu->arch.gdtr.base + (v & ~7u) + 4, &hi, 4,
				      true, false, false);
			cpu->arch.seg[seg].attrib |= 0x2;
		}
		cpu->stats.callout_cr++;
		cpu->eip = next;
		break;
	}
	case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD:
		do_iret(cpu, d);
		break;
	case ZYDIS_MNEMONIC_SYSENTER:
		do_sysenter(cpu);
		break;
	case ZYDIS_MNEMONIC_SYSEXIT:
		do_sysexit(cpu);
		break;
	case ZYDIS_MNEMONIC_LSL: case ZYDIS_MNEMONIC_LAR:
	case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW:
		do_segment_query(cpu, d, next);
		break;
	default:
		return false;
	}
	return true;
}

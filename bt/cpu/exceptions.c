/*
 * Guest exceptions and interrupts in protected mode: the IDT gate, the
 * privilege check for software interrupts, the stack switch through the
 * TSS, the frame, and escalation to #DF and triple fault (SDM Vol. 3,
 * 6.12 and 6.15). Also descriptor loading, which both need.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"

#define GATE_TASK	0x5
#define GATE_INT16	0x6
#define GATE_TRAP16	0x7
#define GATE_INT32	0xe
#define GATE_TRAP32	0xf

static int sys_read(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len)
{
	return mem_access_as(cpu, lin, buf, len, false, false, false);
}

static int sys_write(struct bt_cpu *cpu, uint32_t lin, const void *buf, unsigned len)
{
	return mem_access_as(cpu, lin, (void *)buf, len, true, false, false);
}

/* The linear address of sel's descriptor in the GDT or LDT, or -1. */
static int64_t descriptor_address(const struct bt_cpu *cpu, uint16_t sel)
{
	const struct hyvm_dtable *gdt = &cpu->arch.gdtr;
	uint64_t base = gdt->base, limit = gdt->limit;

	if (sel & 4) {
		base = cpu->arch.seg[HYVM_LDTR].base;
		limit = cpu->arch.seg[HYVM_LDTR].limit;
		if (cpu->arch.seg[HYVM_LDTR].attrib & HYVM_SEG_UNUSABLE)
			return -1;
	}
	if ((uint64_t)(sel & ~7u) + 7 > limit)
		return -1;
	return (uint32_t)(base + (sel & ~7u));
}

int read_descriptor(struct bt_cpu *cpu, uint16_t sel, uint64_t *desc)
{
	int64_t at = descriptor_address(cpu, sel);

	return at < 0 ? -1 : sys_read(cpu, (uint32_t)at, desc, 8);
}

/*
 * A segment register load that passed its checks sets the Accessed bit of
 * a code or data descriptor in the table, as the CPU does (SDM Vol. 3A
 * 3.4.5.1): guests and their checksums can see that byte. Only the access
 * byte is written, so a neighbouring field the guest changes concurrently
 * is not overwritten. The cached copy gets A as well, as on hardware.
 */
void descriptor_set_accessed(struct bt_cpu *cpu, uint16_t sel, struct hyvm_segment *s)
{
	int64_t at = descriptor_address(cpu, sel);
	uint8_t access;

	if (!(s->attrib & HYVM_SEG_S) || (s->attrib & 1) || at < 0)
		return;
	s->attrib |= 1;
	if (sys_read(cpu, (uint32_t)at + 5, &access, 1) == 0 && !(access & 1)) {
		access |= 1;
		sys_write(cpu, (uint32_t)at + 5, &access, 1);
	}
}

void descriptor_to_segment(uint64_t d, uint16_t sel, struct hyvm_segment *s)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));

	s->selector = sel;
	s->base = (uint32_t)(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24));
	s->attrib = (uint32_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8));
	if (s->attrib & HYVM_SEG_G)
		limit = (limit << 12) | 0xfff;
	s->limit = limit;
}

/* Loads a data or stack segment register, with the checks of MOV Sreg. */
int load_segment(struct bt_cpu *cpu, int seg, uint16_t sel, bool raise)
{
	struct hyvm_segment *s = &cpu->arch.seg[seg];
	unsigned cpl = bt_cpl(cpu);
	uint64_t d;

	if (bt_real_segments(cpu)) {
		real_segment_load(cpu, seg, sel);
		return 0;
	}
	if (!(sel & ~3u) && seg != HYVM_SS && seg != HYVM_CS) {
		memset(s, 0, sizeof(*s));
		s->selector = sel;
		s->attrib = HYVM_SEG_UNUSABLE;
		return 0;
	}
	if (!(sel & ~3u) || read_descriptor(cpu, sel, &d))
		goto gp;
	struct hyvm_segment n;
	descriptor_to_segment(d, sel, &n);
	unsigned dpl = hyvm_seg_dpl(&n), type = n.attrib & HYVM_SEG_TYPE_MASK;
	if (!(n.attrib & HYVM_SEG_S))
		goto gp;
	if (seg == HYVM_SS) {
		if ((type & 0xa) != 0x2 || dpl != cpl || (sel & 3) != cpl)
			goto gp;
	} else if (seg != HYVM_CS) {
		if ((type & 0xa) == 0x8)	/* execute-only code */
			goto gp;
	}
	if (!(n.attrib & HYVM_SEG_P)) {
		if (raise)
			guest_exception(cpu, seg == HYVM_SS ? VEC_SS : VEC_NP, true, sel & ~3u);
		return -1;
	}
	descriptor_set_accessed(cpu, sel, &n);
	*s = n;
	return 0;
gp:
	if (raise)
		guest_exception(cpu, VEC_GP, true, sel & ~3u);
	return -1;
}

/* The exception a delivery attempt met; a #PF's CR2 in cr2 if has_cr2. */
struct fail { int vector; uint32_t err; bool has_cr2; uint32_t cr2; };

/*
 * After a stack write of the frame failed, bytes at lin: was it a #PF?
 * Then f is that #PF: its error code from the walk (the write's own:
 * supervisor, as sys_write does it) and CR2 the first byte the walk
 * refuses from first, the push that met it (pushes go down, the first at
 * the highest address). The processor delivers it, or #DF, with CR2 set
 * (SDM Vol. 3A 6.15, Interrupt 14: CR2 holds the address that caused
 * the fault), as QEMU does; bt left CR2 at the first fault's address and
 * called a push into a not-present page of a new stack #SS
 * (tests/guests/pf_in_block.c, the #DF case).
 */
static void stack_fault(struct bt_cpu *cpu, uint32_t lin, unsigned bytes, uint32_t first,
			struct fail *f)
{
	struct mmu_walk w;

	if (!(cpu->arch.cr0 & CR0_PG))
		return;
	for (uint32_t a = first; a - lin < bytes; a = (a | 0xfff) + 1)
		if (mmu_walk_peek(cpu, a, MMU_WRITE, false, &w)) {
			f->vector = VEC_PF;
			f->err = w.error;
			f->has_cr2 = true;
			f->cr2 = a;
			return;
		}
}

/* Pushes size bytes (the gate's size: 2 for a 16-bit gate, SDM Vol. 3A
 * 6.12.1) on the stack of the SS in force, SP or ESP by its B bit. */
static int push_gate(struct bt_cpu *cpu, uint32_t *esp, unsigned size, uint32_t v,
		     struct fail *f)
{
	const struct hyvm_segment *ss = &cpu->arch.seg[HYVM_SS];
	uint32_t mask = (ss->attrib & HYVM_SEG_DB) ? 0xffffffffu : 0xffffu;
	uint32_t lin;

	*esp = (*esp & ~mask) | ((*esp - size) & mask);
	lin = (uint32_t)ss->base + (*esp & mask);
	if (sys_write(cpu, lin, &v, size) == 0)
		return 0;
	stack_fault(cpu, lin, size, lin, f);
	return -1;
}

/* Pushes n values (v[0] first, so at the highest address) as push_gate
 * would one by one. A frame inside one page of a 32-bit stack is one
 * write: the page's translation is the same for every push, so either all
 * of them fault or none does, and a fault leaves the same (unwritten)
 * memory behind. One access instead of up to nine: the stack writes were
 * a third of bt's INT 0x80 delivery (docs/perf/bt-exits.md, 2026-12-04). */
static int push_frame(struct bt_cpu *cpu, uint32_t *esp, unsigned size, const uint32_t *v,
		      unsigned n, struct fail *f)
{
	const struct hyvm_segment *ss = &cpu->arch.seg[HYVM_SS];
	uint32_t top = (uint32_t)ss->base + *esp, bytes = size * n;
	uint32_t frame[9];

	if (size == 4 && n <= 9 && (ss->attrib & HYVM_SEG_DB) && *esp >= bytes &&
	    top >= bytes && ((top - 1) >> 12) == ((top - bytes) >> 12)) {
		for (unsigned i = 0; i < n; i++)
			frame[n - 1 - i] = v[i];
		if (sys_write(cpu, top - bytes, frame, bytes)) {
			stack_fault(cpu, top - bytes, bytes, top - size, f);
			return -1;
		}
		*esp -= bytes;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		if (push_gate(cpu, esp, size, v[i], f))
			return -1;
	return 0;
}

/* One delivery attempt; on failure says which exception it met. */
static int deliver(struct bt_cpu *cpu, int vector, bool has_err, uint32_t err,
		   uint32_t ret_eip, bool soft, struct fail *f)
{
	uint64_t gate, cd;
	uint32_t idt_err = vector * 8 + 2 + (soft ? 0 : 1);

	f->vector = VEC_GP;
	f->err = idt_err;
	f->has_cr2 = false;
	if (!(cpu->arch.cr0 & CR0_PE)) {
		int fv;
		if (real_deliver(cpu, vector, ret_eip, &fv) == 0)
			return 0;
		f->vector = fv;
		f->err = 0;
		return -1;
	}
	if ((uint32_t)vector * 8 + 7 > cpu->arch.idtr.limit ||
	    sys_read(cpu, (uint32_t)cpu->arch.idtr.base + vector * 8, &gate, 8))
		return -1;
	unsigned type = (gate >> 40) & 0x1f, gate_dpl = (gate >> 45) & 3;
	if (type != GATE_INT32 && type != GATE_TRAP32 && type != GATE_INT16 && type != GATE_TRAP16)
		return -1;	/* task gates: not supported */
	unsigned size = type == GATE_INT16 || type == GATE_TRAP16 ? 2 : 4;
	if (soft && gate_dpl < bt_cpl(cpu))
		return -1;
	if (!((gate >> 47) & 1)) {
		f->vector = VEC_NP;
		return -1;
	}
	uint16_t sel = (uint16_t)(gate >> 16);
	uint32_t target = (uint32_t)((gate & 0xffff) | (size == 4 ? (gate >> 32) & 0xffff0000 : 0));
	f->err = sel & ~3u;
	if (!(sel & ~3u) || read_descriptor(cpu, sel, &cd))
		return -1;
	struct hyvm_segment cs;
	descriptor_to_segment(cd, sel, &cs);
	if (!(cs.attrib & HYVM_SEG_S) || !(cs.attrib & 0x8))
		return -1;
	if (!(cs.attrib & HYVM_SEG_P)) {
		f->vector = VEC_NP;
		return -1;
	}
	descriptor_set_accessed(cpu, sel, &cs);
	unsigned cpl = bt_cpl(cpu);
	unsigned new_cpl = (cs.attrib & 0x4) ? cpl : hyvm_seg_dpl(&cs);
	struct hyvm_segment old_cs = cpu->arch.seg[HYVM_CS], old_ss = cpu->arch.seg[HYVM_SS];
	uint32_t esp = cpu->gpr[HYVM_RSP], old_esp = esp;
	uint32_t eflags = cpu->eflags;

	bool from_v86 = eflags & EFLAGS_VM;

	/* out of virtual-8086 mode only to a ring-0 handler (SDM Vol. 3A,
	 * 20.3.1.1 and INT n: "INTERRUPT-FROM-VIRTUAL-8086-MODE") */
	if (new_cpl > cpl || (from_v86 && new_cpl != 0))
		return -1;
	if (new_cpl < cpl) {
		/* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n; 16-bit TSS (type
		 * 1 or 3): SPn at 2 + 4n, SSn at 4 + 4n (SDM Vol. 3A, 8.7) */
		uint32_t tss = (uint32_t)cpu->arch.seg[HYVM_TR].base, esp0 = 0;
		bool tss16 = !(cpu->arch.seg[HYVM_TR].attrib & 0x8);
		uint16_t ss0 = 0;
		f->vector = VEC_TS;
		f->err = cpu->arch.seg[HYVM_TR].selector & ~3u;
		if (tss16 ? sys_read(cpu, tss + 2 + 4 * new_cpl, &esp0, 2) ||
			    sys_read(cpu, tss + 4 + 4 * new_cpl, &ss0, 2)
			  : sys_read(cpu, tss + 4 + 8 * new_cpl, &esp0, 4) ||
			    sys_read(cpu, tss + 8 + 8 * new_cpl, &ss0, 2))
			return -1;
		uint64_t sd;
		struct hyvm_segment ss;
		if (!(ss0 & ~3u) || read_descriptor(cpu, ss0, &sd))
			return -1;
		descriptor_to_segment(sd, ss0, &ss);
		descriptor_set_accessed(cpu, ss0, &ss);
		cpu->arch.seg[HYVM_SS] = ss;
		esp = esp0;
		f->vector = VEC_SS;
		f->err = 0;
		uint32_t outer[6];
		unsigned n = 0;
		if (from_v86) {
			outer[n++] = cpu->arch.seg[HYVM_GS].selector;
			outer[n++] = cpu->arch.seg[HYVM_FS].selector;
			outer[n++] = cpu->arch.seg[HYVM_DS].selector;
			outer[n++] = cpu->arch.seg[HYVM_ES].selector;
		}
		outer[n++] = old_ss.selector;
		outer[n++] = old_esp;
		if (push_frame(cpu, &esp, size, outer, n, f))
			goto undo;
	}
	f->vector = VEC_PF;	/* what a real CPU would meet on the stack */
	uint32_t inner[4] = { eflags, old_cs.selector, ret_eip, err };
	if (push_frame(cpu, &esp, size, inner, has_err ? 4 : 3, f))
		goto undo;
	cs.selector = (sel & ~3u) | new_cpl;
	cpu->arch.seg[HYVM_CS] = cs;
	cpu->gpr[HYVM_RSP] = esp;
	cpu->eip = target;
	cpu->eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
	if (type == GATE_INT32 || type == GATE_INT16)
		cpu->eflags &= ~EFLAGS_IF;
	if (from_v86) {
		/* the handler starts with null data segments */
		static const int data[] = { HYVM_ES, HYVM_DS, HYVM_FS, HYVM_GS };
		for (int i = 0; i < 4; i++) {
			memset(&cpu->arch.seg[data[i]], 0, sizeof(cpu->arch.seg[0]));
			cpu->arch.seg[data[i]].attrib = HYVM_SEG_UNUSABLE;
		}
	}
	cpu->halted = false;
	return 0;
undo:
	cpu->arch.seg[HYVM_SS] = old_ss;
	return -1;
}

static bool contributory(int v)
{
	return v == VEC_DE || (v >= VEC_TS && v <= VEC_GP);
}

/* HYVM_BT_TRACE=1 prints every guest exception: the first thing to look
 * at when a guest misbehaves on bt only. */
static bool trace_exceptions(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("HYVM_BT_TRACE") != NULL;
	return on;
}

void guest_exception(struct bt_cpu *cpu, int vector, bool has_err, uint32_t err)
{
	struct fail f;

	if (trace_exceptions())
		fprintf(stderr, "bt: exception %d err %#x at eip %#x (cpl %u, cr2 %#llx)\n",
			vector, has_err ? err : 0, cpu->eip, bt_cpl(cpu),
			(unsigned long long)cpu->arch.cr2);

	cpu->last_vector = (uint8_t)vector;
	cpu->stats.guest_faults++;
	if (vector == VEC_UD)
		ud_note(cpu);
	if (deliver(cpu, vector, has_err, err, cpu->eip, false, &f) == 0)
		return;
	/* a second fault while delivering: #DF when the pair calls for it
	 * (SDM Table 6-5), else the second one; a fault delivering #DF is a
	 * triple fault */
	if (vector == VEC_DF) {
		cpu->arch.event.type = HYVM_EVENT_EXCEPTION;
		cpu->arch.event.vector = VEC_DF;
		cpu->shutdown = true;
		return;
	}
	if (f.has_cr2)
		cpu->arch.cr2 = f.cr2;	/* the second fault's, #DF or not */
	bool df = (contributory(vector) && contributory(f.vector)) ||
		  (vector == VEC_PF && (contributory(f.vector) || f.vector == VEC_PF));
	if (!df && ++cpu->fault_depth < 3) {
		guest_exception(cpu, f.vector, true, f.err);
		cpu->fault_depth--;
		return;
	}
	cpu->last_vector = VEC_DF;
	if (deliver(cpu, VEC_DF, true, 0, cpu->eip, false, &f))
		cpu->shutdown = true;
}

void guest_page_fault(struct bt_cpu *cpu, uint32_t lin, uint32_t error)
{
	cpu->arch.cr2 = lin;
	cpu->stats.page_faults_guest++;
	guest_exception(cpu, VEC_PF, true, error);
}

int guest_interrupt(struct bt_cpu *cpu, int vector, bool soft, uint32_t next_eip)
{
	struct fail f;

	if (deliver(cpu, vector, false, 0, next_eip, soft, &f) == 0)
		return 0;
	if (f.has_cr2)
		cpu->arch.cr2 = f.cr2;	/* its frame met a #PF */
	guest_exception(cpu, f.vector, true, f.err);
	return -1;
}

/*
 * Real-address mode (CR0.PE = 0; SDM Vol. 3A, chapter 20.1): segment
 * loads that are selector << 4, interrupts and exceptions through the
 * interrupt vector table, and IRET back. The descriptor cache keeps the
 * limit and attributes a segment had (unreal or "big real" mode: a 4 GiB
 * limit loaded in protected mode survives the return to real mode; SDM
 * Vol. 3A, 9.9.2), as QEMU TCG does.
 */
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/cpu/operands.h"

void real_segment_load(struct bt_cpu *cpu, int seg, uint16_t sel)
{
	struct hyvm_segment *s = &cpu->arch.seg[seg];

	s->selector = sel;
	s->base = (uint32_t)sel << 4;
	if (cpu->eflags & EFLAGS_VM) {
		/* virtual-8086 mode: 64 KiB, read/write, DPL 3 (SDM Vol. 3A,
		 * 20.2.1; QEMU's load_seg_vm) */
		s->limit = 0xffff;
		s->attrib = 0x3 | HYVM_SEG_S | (3 << HYVM_SEG_DPL_SHIFT) | HYVM_SEG_P;
		if (seg == HYVM_CS)
			s->attrib |= 0x8;
		return;
	}
	if (s->attrib & HYVM_SEG_UNUSABLE) {
		/* a null selector loaded in protected mode left no usable
		 * cache: a real-mode load gives the reset state's */
		s->limit = 0xffff;
		s->attrib = 0x3 | HYVM_SEG_S | HYVM_SEG_P | (seg == HYVM_CS ? 0x8 : 0);
	}
}

/* Pushes 16 bits at SS:SP (SP or ESP by SS.B, as the CPU does). */
static int push16(struct bt_cpu *cpu, uint32_t v)
{
	return stack_push(cpu, v & 0xffff, 2);
}

/*
 * INT n, an exception or an external interrupt in real mode (SDM Vol. 3A,
 * 20.1.4): the vector's 4-byte IVT entry (offset, segment) at IDTR.base,
 * #GP if it lies beyond IDTR.limit; FLAGS, CS and IP pushed, 16 bits each
 * (no error code), IF, TF and AC cleared. Returns 0, or -1 with *fail set.
 */
int real_deliver(struct bt_cpu *cpu, int vector, uint32_t ret_eip, int *fail)
{
	uint32_t entry = 0, sp = cpu->gpr[HYVM_RSP];

	*fail = VEC_GP;
	if ((uint32_t)vector * 4 + 3 > cpu->arch.idtr.limit ||
	    mem_access_as(cpu, (uint32_t)cpu->arch.idtr.base + (uint32_t)vector * 4, &entry, 4,
			  false, false, false))
		return -1;
	*fail = VEC_SS;
	if (push16(cpu, cpu->eflags) || push16(cpu, cpu->arch.seg[HYVM_CS].selector) ||
	    push16(cpu, ret_eip)) {
		cpu->gpr[HYVM_RSP] = sp;
		return -1;
	}
	real_segment_load(cpu, HYVM_CS, (uint16_t)(entry >> 16));
	cpu->eip = entry & 0xffff;
	cpu->eflags &= ~(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC | EFLAGS_RF);
	cpu->halted = false;
	return 0;
}

/* IRET in real mode (SDM Vol. 2A, IRET, REAL-ADDRESS-MODE): IP, CS and
 * FLAGS (or EIP, CS, EFLAGS with a 32-bit operand size; VM, VIF and VIP
 * kept) off the stack. */
void real_iret(struct bt_cpu *cpu, unsigned size)
{
	uint32_t ip, cs, fl;

	if (stack_peek(cpu, 0, size, &ip) || stack_peek(cpu, 1, size, &cs) ||
	    stack_peek(cpu, 2, size, &fl))
		return;
	stack_drop(cpu, 3 * size);
	real_segment_load(cpu, HYVM_CS, (uint16_t)cs);
	cpu->eflags = flags_merge(cpu, cpu->eflags, fl, size);
	cpu->eip = size == 2 ? ip & 0xffff : ip;
	cpu->stats.callout_int++;
}

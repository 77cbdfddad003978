/*
 * Real-address mode (CR0.PE = 0; SDM Vol. 3A, chapter 20.1): segment
 * loads that are selector << 4, interrupts and exceptions through the
 * interrupt vector table, and IRET back. Virtual-8086 mode (20.2) shares
 * the segment loads; its entry by IRET is here, its exits are ordinary
 * interrupt deliveries (exceptions.c). The descriptor cache keeps the
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

/* IRET at CPL 0 with VM set in the popped EFLAGS (SDM Vol. 2A, IRET:
 * RETURN-TO-VIRTUAL-8086-MODE): EIP, CS, EFLAGS, then ESP, SS, ES, DS, FS,
 * GS, 32 bits each; every segment loaded as in real mode, CPL 3. */
void v86_enter_by_iret(struct bt_cpu *cpu, uint32_t eip, uint32_t cs, uint32_t fl)
{
	static const int segs[] = { HYVM_SS, HYVM_ES, HYVM_DS, HYVM_FS, HYVM_GS };
	uint32_t v[7];

	for (unsigned i = 0; i < 6; i++)
		if (stack_peek(cpu, 3 + i, 4, &v[i]))
			return;
	cpu->eflags = (fl | EFLAGS_FIXED1) & ~EFLAGS_RF;
	cpu->gpr[HYVM_RSP] = v[0];
	real_segment_load(cpu, HYVM_CS, (uint16_t)cs);
	for (unsigned i = 0; i < 5; i++)
		real_segment_load(cpu, segs[i], (uint16_t)v[1 + i]);
	cpu->eip = eip & 0xffff;
	cpu->stats.callout_int++;
}

/*
 * The I/O permission check (SDM Vol. 1, 19.5): at CPL <= IOPL outside
 * virtual-8086 mode, allowed; else every bit for the ports accessed must
 * be clear in the TSS's I/O bitmap, whose offset is at TSS + 0x66 and
 * which must lie within TR's limit.
 */
bool io_permitted(struct bt_cpu *cpu, uint16_t port, unsigned size)
{
	const struct hyvm_segment *tr = &cpu->arch.seg[HYVM_TR];
	uint16_t base = 0, bits = 0;

	if (!(cpu->arch.cr0 & CR0_PE))
		return true;
	if (!(cpu->eflags & EFLAGS_VM) && bt_cpl(cpu) <= (cpu->eflags & EFLAGS_IOPL) >> 12)
		return true;
	/* a 32-bit TSS (type 9 or 11) of at least 0x67 bytes */
	if ((tr->attrib & 0x5) != 0x1 || !(tr->attrib & 0x8) || tr->limit < 0x67)
		return false;
	uint32_t tss = (uint32_t)tr->base;
	if (mem_access_as(cpu, tss + 0x66, &base, 2, false, false, false))
		return false;
	uint32_t at = base + port / 8u;
	if (at + 1 > tr->limit)
		return false;
	if (mem_access_as(cpu, tss + at, &bits, 2, false, false, false))
		return false;
	return !((bits >> (port % 8)) & ((1u << size) - 1));
}

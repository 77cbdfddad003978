/*
 * The event in flight that crosses engines in hyvm_cpu_state.event: what
 * another engine (or a checkpoint of one) was delivering when its state
 * was taken, and what bt hands back when its own state is taken.
 *
 * hyvm.ko and KVM report an event whose delivery an exit cut short (an
 * external interrupt already acknowledged at the interrupt controller, a
 * hardware exception, an NMI) so that it is injected again on the next
 * entry (SDM Vol. 3C 27.2.4 IDT-vectoring information; APM 15.20
 * EXITINTINFO). Such an event is delivered before any instruction runs,
 * whatever EFLAGS.IF says: dropping it loses an interrupt whose ISR bit
 * the guest's local APIC already holds, or a page fault the guest's
 * kernel was about to handle. bt delivers it on its next run.
 *
 * A software interrupt (INT n) or software exception (INT3, INTO) is not
 * injected again by hyvm.ko (kmod/svm/svm_run.c, kmod/vmx/vmx_run.c) nor
 * by QEMU: RIP still points at the instruction, which runs again and
 * raises it again. bt does the same with one it is handed, since it
 * cannot know the instruction's length from the event alone.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"

void bt_event_from_state(struct bt_cpu *cpu, const struct hyvm_cpu_state *st)
{
	const struct hyvm_pending_event *ev = &st->event;

	cpu->pending_irq = -1;
	memset(&cpu->pending_event, 0, sizeof(cpu->pending_event));
	switch (ev->type) {
	case HYVM_EVENT_EXTINT:
		cpu->pending_irq = ev->vector;
		break;
	case HYVM_EVENT_EXCEPTION:
		if (ev->vector == VEC_BP || ev->vector == VEC_OF)
			break;	/* INT3/INTO at RIP runs again */
		cpu->pending_event = *ev;
		break;
	case HYVM_EVENT_NMI:
		cpu->pending_event = *ev;
		cpu->pending_event.vector = VEC_NMI;
		cpu->pending_event.has_error_code = 0;
		break;
	default:	/* NONE; SOFTINT: INT n at RIP runs again */
		break;
	}
}

void bt_event_to_state(const struct bt_cpu *cpu, struct hyvm_cpu_state *st)
{
	memset(&st->event, 0, sizeof(st->event));
	if (cpu->pending_event.type != HYVM_EVENT_NONE) {
		st->event = cpu->pending_event;
	} else if (cpu->pending_irq >= 0) {
		st->event.type = HYVM_EVENT_EXTINT;
		st->event.vector = (uint8_t)cpu->pending_irq;
	}
}

bool bt_event_deliver(struct bt_cpu *cpu)
{
	struct hyvm_pending_event ev = cpu->pending_event;

	if (ev.type == HYVM_EVENT_NONE)
		return false;
	memset(&cpu->pending_event, 0, sizeof(cpu->pending_event));
	if (ev.type == HYVM_EVENT_NMI) {
		/* bt models no NMI blocking: the handler's IRET unblocks
		 * nothing here, so none is recorded */
		guest_interrupt(cpu, VEC_NMI, false, cpu->eip);
	} else {
		/* a fault's frame holds the faulting instruction's EIP, which
		 * RIP still is; CR2 came with the state (SDM Vol. 3A 6.15) */
		guest_exception(cpu, ev.vector, ev.has_error_code, ev.error_code);
	}
	return true;
}

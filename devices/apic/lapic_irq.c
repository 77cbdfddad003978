/*
 * The local APIC's interrupt path (SDM Vol. 3A, 11.5-11.9): messages
 * accepted into the IRR, the processor priority that gates them, the INTA
 * that moves a vector to the ISR, EOI, IPIs from the ICR, and the 8259's
 * INTR passed through LINT0 in ExtINT mode.
 */
#include "devices/apic/lapic_internal.h"

bool lapic_enabled(const struct lapic *a)
{
	/* Software enable only (11.4.7.2). The global enable, IA32_APIC_BASE
	 * bit 11 (11.4.3), lives in the MSR file, which does not reach the
	 * device yet: with it clear, the 8259's INTR would go straight to the
	 * CPU and this APIC would answer nothing. */
	return a->svr & SVR_ENABLE;
}

/* 11.5.3: errors collect in the ESR until software writes it, and raise
 * the error LVT's interrupt. An illegal error vector is dropped rather
 * than raising another error. */
void lapic_error(struct lapic *a, uint32_t esr_bit)
{
	uint32_t lvt = a->lvt[LVT_ERROR];

	a->esr_pending |= esr_bit;
	if (!(lvt & LVT_MASKED) && (lvt & LVT_VECTOR) >= 16) {
		vec_set(a->irr, lvt & LVT_VECTOR, true);
		vec_set(a->tmr, lvt & LVT_VECTOR, false);
	}
}

/* 11.8.4: a fixed interrupt accepted into the IRR; its TMR bit says the
 * trigger mode, for the EOI (11.8.5). Vectors 0-15 are illegal (11.5.2). */
void lapic_accept(struct lapic *a, uint8_t vector, bool level)
{
	if (vector < 16) {
		lapic_error(a, ESR_RECEIVE_ILLEGAL_VECTOR);
		return;
	}
	vec_set(a->irr, vector, true);
	vec_set(a->tmr, vector, level);
}

/* 11.8.3.1: the processor priority is the TPR when its class is at least
 * the highest in-service class, else that class. */
uint32_t lapic_ppr(const struct lapic *a)
{
	int isrv = vec_highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* The vector the APIC would present to the core, or -1: the highest
 * requested one whose class is above the processor priority class
 * (11.8.3). */
static int deliverable(const struct lapic *a)
{
	int v = vec_highest(a->irr);

	if (!lapic_enabled(a) || v < 0)
		return -1;
	return ((uint32_t)v & 0xf0) > (lapic_ppr(a) & 0xf0) ? v : -1;
}

/* LINT0 unmasked in ExtINT mode: the 8259's INTR reaches the core and the
 * INTA cycle goes to the 8259, bypassing IRR, ISR and priority (11.5.1,
 * "ExtINT"). A software-disabled APIC has every LVT masked (11.4.7.2), so
 * this closes too. */
static bool extint_open(const struct lapic *a)
{
	return (a->lvt[LVT_LINT0] & (LVT_MASKED | LVT_DELIVERY)) == LVT_DM_EXTINT;
}

static bool lapic_has_interrupt(void *ctx, unsigned vcpu)
{
	struct lapic *a = ctx;

	if (deliverable(a) >= 0)
		return true;
	return extint_open(a) && irq_router_extint_pending(a->env->irq);
}

/* INTA. The APIC's own requests first, then the 8259's, as QEMU's
 * cpu_get_pic_interrupt. Nothing left (the request went away, or the TPR
 * rose between asking and acknowledging): the spurious vector, with no
 * ISR bit (11.9). */
static int lapic_acknowledge(void *ctx, unsigned vcpu)
{
	struct lapic *a = ctx;
	int v = deliverable(a);

	if (v >= 0) {
		vec_set(a->irr, (unsigned)v, false);
		vec_set(a->isr, (unsigned)v, true);
		return v;
	}
	if (extint_open(a) && irq_router_extint_pending(a->env->irq))
		return irq_router_extint_acknowledge(a->env->irq);
	return (int)(a->svr & SVR_VECTOR);
}

const struct irq_controller_ops lapic_controller_ops = {
	.has_interrupt = lapic_has_interrupt,
	.acknowledge = lapic_acknowledge,
};

/* 11.8.5: EOI retires the highest in-service vector; a level-triggered one
 * (TMR set) is broadcast to the IOAPICs so they clear Remote IRR. The
 * version register offers no EOI-broadcast suppression, so every level
 * EOI is broadcast. */
void lapic_eoi(struct lapic *a)
{
	int v = vec_highest(a->isr);

	if (v < 0)
		return;
	vec_set(a->isr, (unsigned)v, false);
	if (vec_test(a->tmr, (unsigned)v))
		irq_router_broadcast_eoi(a->env->irq, (uint8_t)v);
}

/* 11.6.2: does dest name this APIC? 0xff is everyone in both modes; in
 * logical mode the DFR picks flat (a bit of the 8-bit logical ID in LDR)
 * or cluster (cluster in bits 7:4 equal, a common bit in 3:0). */
static bool lapic_matches(void *ctx, const struct irq_msg *m)
{
	struct lapic *a = ctx;
	uint8_t ldr = (uint8_t)(a->ldr >> 24);

	if (m->dest == 0xff)
		return true;
	if (!m->logical)
		return m->dest == (uint8_t)(a->id >> 24);
	switch (a->dfr >> 28) {
	case 0xf:
		return ldr & m->dest;
	case 0x0:
		return (m->dest >> 4) == (ldr >> 4) && (m->dest & ldr & 0xf);
	default:
		return false;	/* a DFR model the SDM does not define */
	}
}

static void lapic_take(void *ctx, const struct irq_msg *m)
{
	struct lapic *a = ctx;

	switch (m->delivery) {
	case IRQ_DELIVERY_FIXED:
	case IRQ_DELIVERY_LOWEST:
		lapic_accept(a, m->vector, m->level);
		break;
	case IRQ_DELIVERY_NMI:
		/* The engine interface injects external interrupts only. */
		a->counters.nmi_dropped++;
		break;
	default:
		/* INIT, STARTUP: hyvm runs one vCPU, which is running; SMI:
		 * no SMM; ExtINT as a message: no board wires an IOAPIC pin
		 * to the 8259 here. */
		a->counters.ipi_ignored++;
		break;
	}
}

const struct irq_msg_sink_ops lapic_sink_ops = {
	.matches = lapic_matches,
	.accept = lapic_take,
};

/* 11.6.1: a write to the ICR's low half sends. Delivery is instantaneous,
 * so the delivery status bit always reads idle. */
void lapic_send_icr(struct lapic *a)
{
	uint32_t lo = a->icr_lo;
	struct irq_msg m = {
		.vector = (uint8_t)(lo & ICR_VECTOR),
		.delivery = (lo & ICR_DELIVERY) >> 8,
		.level = lo & ICR_LEVEL,
		.logical = lo & ICR_LOGICAL,
		.dest = (uint8_t)(a->icr_hi >> 24),
	};

	if ((m.delivery == IRQ_DELIVERY_FIXED || m.delivery == IRQ_DELIVERY_LOWEST) &&
	    m.vector < 16) {
		lapic_error(a, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	switch (lo & ICR_SHORTHAND) {
	case ICR_SH_SELF:
		lapic_take(a, &m);
		break;
	case ICR_SH_ALL:
	case ICR_SH_OTHERS:
		m.dest = 0xff;
		m.logical = false;
		irq_router_send(a->env->irq, &m,
				(lo & ICR_SHORTHAND) == ICR_SH_OTHERS ? a : NULL);
		break;
	default:
		irq_router_send(a->env->irq, &m, NULL);
		break;
	}
}

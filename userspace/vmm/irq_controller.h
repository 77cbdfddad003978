/*
 * What the VMM asks of an interrupt controller for one vCPU: is there an
 * interrupt for it, and, when the vCPU can take one, the INTA cycle that
 * returns the vector. A vCPU's local APIC answers for it (devices/apic/
 * lapic.c, one per vCPU), passing the 8259's INTR through its LINT0 in
 * ExtINT mode; on a machine without a local APIC the 8259 pair answers for
 * vCPU 0 directly (its INT pin is the BSP's INTR). The 8259 registers as
 * the ExtINT source, the router decides (irq_router.h). The VMM never
 * names the controller behind it.
 */
#ifndef HYVM_IRQ_CONTROLLER_H
#define HYVM_IRQ_CONTROLLER_H

#include <stdbool.h>

struct irq_controller_ops {
	/* An unmasked request the vCPU should be interrupted for. */
	bool (*has_interrupt)(void *ctx, unsigned vcpu);
	/* INTA: the vector to deliver (0-255); updates in-service state. */
	int (*acknowledge)(void *ctx, unsigned vcpu);
};

#endif

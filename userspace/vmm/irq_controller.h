/*
 * What the VMM asks of an interrupt controller for one vCPU: is there an
 * interrupt for it, and, when the vCPU can take one, the INTA cycle that
 * returns the vector. Today the 8259 pair answers for vCPU 0 (its INT pin
 * is the BSP's INTR, as in the PC's virtual-wire mode); a local APIC will
 * answer per vCPU later. The VMM never names the controller behind it.
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

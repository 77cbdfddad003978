/*
 * The machine's interrupt wiring. Devices drive numbered global interrupt
 * lines (GSIs, numbered as ACPI and QEMU do: ISA IRQ n is GSI n for n <
 * 16); the router keeps each line's level as the wired-OR of its sources
 * and tells every controller listening on the line when that level
 * changes. Each vCPU has the controller that interrupts it, which the VMM
 * asks for vectors (irq_controller.h).
 *
 * Lines carry levels, never edges: an edge-triggered device pulses its
 * line (1 then 0) and the controller detects the rising edge itself, as the
 * 8259A does (datasheet, "Edge and level triggered modes").
 */
#ifndef HYVM_IRQ_ROUTER_H
#define HYVM_IRQ_ROUTER_H

#include <stdbool.h>
#include "vmm/irq_controller.h"

#define IRQ_ROUTER_LINES	 24	/* ISA 0-15, PCI 16-23 (IOAPIC pins) */
#define IRQ_LINE_MAX_SOURCES	 8
#define IRQ_ROUTER_MAX_LISTENERS 8
#define IRQ_ROUTER_MAX_VCPUS	 16

/* A controller's input changed level. */
typedef void (*irq_line_changed_fn)(void *ctx, unsigned gsi, bool level);

struct irq_router {
	struct {
		const void *asserted_by[IRQ_LINE_MAX_SOURCES];
		unsigned nr_asserted;
	} line[IRQ_ROUTER_LINES];
	struct {
		unsigned first, count;
		irq_line_changed_fn changed;
		void *ctx;
	} listener[IRQ_ROUTER_MAX_LISTENERS];
	unsigned nr_listeners;
	struct {
		const struct irq_controller_ops *ops;
		void *ctx;
	} cpu[IRQ_ROUTER_MAX_VCPUS];
	/* Drives refused: no such line, or more sources than a line holds. */
	unsigned long refused;
};

void irq_router_init(struct irq_router *r);

/* source (any pointer unique to the driver, usually the device state)
 * drives gsi to level. Idempotent per source. */
void irq_router_set(struct irq_router *r, const void *source, unsigned gsi,
		    bool level);
bool irq_router_level(const struct irq_router *r, unsigned gsi);

/* ctx listens on lines first..first+count-1 and is told at once about
 * those already asserted. Returns 0, or -1 (bad range, table full). */
int irq_router_listen(struct irq_router *r, unsigned first, unsigned count,
		      irq_line_changed_fn changed, void *ctx);
void irq_router_unlisten(struct irq_router *r, void *ctx);

/* ctx becomes vcpu's interrupt controller; -1 if vcpu has one already. */
int irq_router_set_controller(struct irq_router *r, unsigned vcpu,
			      const struct irq_controller_ops *ops, void *ctx);
/* Forgets ctx wherever it is a vCPU's controller. */
void irq_router_clear_controller(struct irq_router *r, void *ctx);
bool irq_router_has_controller(const struct irq_router *r, unsigned vcpu);

/* What the VMM asks per vCPU. No controller: never an interrupt, and
 * acknowledge returns -1. */
bool irq_router_has_interrupt(const struct irq_router *r, unsigned vcpu);
int irq_router_acknowledge(struct irq_router *r, unsigned vcpu);

#endif

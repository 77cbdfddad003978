/*
 * The machine's interrupt wiring. Devices drive numbered interrupt lines
 * (ISA IRQ n is line n for n < 16, as the 8259 sees them; the IOAPIC maps
 * line 0 to its pin 2, the override every PC firmware declares, and line
 * i to pin i otherwise, so the GSI is the line but for IRQ 0); the
 * router keeps each line's level as the wired-OR of its sources and tells
 * every controller listening on the line when that level changes. Each vCPU has the controller that interrupts it, which the VMM
 * asks for vectors (irq_controller.h).
 *
 * Lines carry levels, never edges: an edge-triggered device pulses its
 * line (1 then 0) and the controller detects the rising edge itself, as the
 * 8259A does (datasheet, "Edge and level triggered modes").
 *
 * Besides lines, the router carries what the APIC architecture sends
 * between controllers, so that no device knows another:
 *  - interrupt messages (struct irq_msg: vector, delivery mode, trigger,
 *    destination), from an IOAPIC, an IPI or an MSI write, to every local
 *    APIC registered as a message sink; each sink decides whether the
 *    destination names it (SDM Vol. 3A, 11.6.2);
 *  - EOI broadcasts, from a local APIC to the IOAPICs listening (11.8.5);
 *  - the 8259's INTR output as the ExtINT source a local APIC's LINT0
 *    passes through (11.5.1, virtual wire). A vCPU without a controller of
 *    its own (a machine without a local APIC) is interrupted by the ExtINT
 *    source directly if it is vCPU 0: the 8259's INT is the BSP's INTR.
 */
#ifndef HYVM_IRQ_ROUTER_H
#define HYVM_IRQ_ROUTER_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/irq_controller.h"

#define IRQ_ROUTER_LINES	 24	/* ISA 0-15, PCI 16-23 (IOAPIC pins) */
#define IRQ_LINE_MAX_SOURCES	 8
#define IRQ_ROUTER_MAX_LISTENERS 8
#define IRQ_ROUTER_MAX_VCPUS	 16
#define IRQ_ROUTER_MAX_SINKS	 IRQ_ROUTER_MAX_VCPUS
#define IRQ_ROUTER_MAX_EOI	 4

/* Delivery modes, as the ICR, the IOAPIC's redirection entries and MSI
 * data encode them (SDM Vol. 3A, 11.6.1 and 11.11.2). */
enum irq_delivery {
	IRQ_DELIVERY_FIXED = 0, IRQ_DELIVERY_LOWEST = 1, IRQ_DELIVERY_SMI = 2,
	IRQ_DELIVERY_NMI = 4, IRQ_DELIVERY_INIT = 5, IRQ_DELIVERY_STARTUP = 6,
	IRQ_DELIVERY_EXTINT = 7,
};

/* One interrupt message on the APIC bus (or the system bus, xAPIC). */
struct irq_msg {
	uint8_t vector;
	uint8_t delivery;	/* enum irq_delivery */
	bool level;		/* trigger mode: level (else edge) */
	bool logical;		/* destination mode: logical (else physical) */
	uint8_t dest;		/* xAPIC destination: an ID, or 0xff for all */
};

/* A local APIC as the destination of messages. */
struct irq_msg_sink_ops {
	/* Does the message's destination name this APIC (11.6.2)? */
	bool (*matches)(void *ctx, const struct irq_msg *m);
	/* Take the message: it matched. */
	void (*accept)(void *ctx, const struct irq_msg *m);
};

/* An IOAPIC hears the EOI of vector. */
typedef void (*irq_eoi_fn)(void *ctx, uint8_t vector);

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
	struct {
		const struct irq_msg_sink_ops *ops;
		void *ctx;
	} sink[IRQ_ROUTER_MAX_SINKS];
	unsigned nr_sinks;
	struct {
		irq_eoi_fn fn;
		void *ctx;
	} eoi[IRQ_ROUTER_MAX_EOI];
	unsigned nr_eoi;
	struct {
		const struct irq_controller_ops *ops;
		void *ctx;
	} extint;
	/* Drives refused: no such line, or more sources than a line holds. */
	unsigned long refused;
	/* Messages no sink took (no APIC named by the destination), and MSI
	 * writes that were not to 0xfeexxxxx. */
	unsigned long msgs_unclaimed, msi_refused;
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
/* Forgets ctx everywhere: line listener, message sink, EOI listener,
 * ExtINT source. */
void irq_router_unlisten(struct irq_router *r, void *ctx);

/* ctx becomes vcpu's interrupt controller; -1 if vcpu has one already. */
int irq_router_set_controller(struct irq_router *r, unsigned vcpu,
			      const struct irq_controller_ops *ops, void *ctx);
/* Forgets ctx wherever it is a vCPU's controller. */
void irq_router_clear_controller(struct irq_router *r, void *ctx);
/* vcpu has a controller of its own, or is vCPU 0 of a machine with an
 * ExtINT source (the 8259 wired to the BSP's INTR). */
bool irq_router_has_controller(const struct irq_router *r, unsigned vcpu);

/* The 8259 pair's INTR output (has_interrupt) and INTA (acknowledge); -1
 * if there is one already. */
int irq_router_set_extint(struct irq_router *r, const struct irq_controller_ops *ops,
			  void *ctx);
bool irq_router_extint_pending(const struct irq_router *r);
int irq_router_extint_acknowledge(struct irq_router *r);

/* ctx (a local APIC) receives interrupt messages; -1 when full. */
int irq_router_add_sink(struct irq_router *r, const struct irq_msg_sink_ops *ops,
			void *ctx);
unsigned irq_router_nr_sinks(const struct irq_router *r);
/* Delivers m to every sink it names, except `except` (the sender, for the
 * all-excluding-self shorthand; NULL: none). Lowest priority goes to one
 * sink: the first that matches (11.6.2.4 leaves the arbitration to the
 * model; with one vCPU there is no choice). Returns how many took it. */
unsigned irq_router_send(struct irq_router *r, const struct irq_msg *m,
			 const void *except);
/* An MSI/MSI-X write of data to addr (SDM Vol. 3A, 11.11.1-11.11.2):
 * address 0xfeeDDxxx with the destination in bits 19:12 and the
 * destination mode in bit 2; data with the vector, delivery mode (10:8)
 * and trigger mode (15). -1 (and counted) if addr is not 0xfeexxxxx. */
int irq_router_send_msi(struct irq_router *r, uint64_t addr, uint32_t data);

/* ctx (an IOAPIC) hears every EOI broadcast; -1 when full. */
int irq_router_listen_eoi(struct irq_router *r, irq_eoi_fn fn, void *ctx);
/* A local APIC's EOI of a level-triggered vector (11.8.5). */
void irq_router_broadcast_eoi(struct irq_router *r, uint8_t vector);

/* What the VMM asks per vCPU. No controller: never an interrupt, and
 * acknowledge returns -1. */
bool irq_router_has_interrupt(const struct irq_router *r, unsigned vcpu);
int irq_router_acknowledge(struct irq_router *r, unsigned vcpu);

#endif

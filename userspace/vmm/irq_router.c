/* The interrupt wiring of irq_router.h. */
#include <string.h>
#include "vmm/irq_router.h"

void irq_router_init(struct irq_router *r)
{
	memset(r, 0, sizeof(*r));
}

static void notify(struct irq_router *r, unsigned gsi, bool level)
{
	for (unsigned i = 0; i < r->nr_listeners; i++) {
		unsigned first = r->listener[i].first;
		if (gsi >= first && gsi - first < r->listener[i].count)
			r->listener[i].changed(r->listener[i].ctx, gsi, level);
	}
}

void irq_router_set(struct irq_router *r, const void *source, unsigned gsi,
		    bool level)
{
	if (!r || gsi >= IRQ_ROUTER_LINES) {
		if (r)
			r->refused++;
		return;
	}
	unsigned n = r->line[gsi].nr_asserted, at = n;
	const void **by = r->line[gsi].asserted_by;

	for (unsigned i = 0; i < n; i++)
		if (by[i] == source)
			at = i;
	if (level) {
		if (at < n)
			return;		/* already asserted by this source */
		if (n == IRQ_LINE_MAX_SOURCES) {
			r->refused++;
			return;
		}
		by[n] = source;
		r->line[gsi].nr_asserted = n + 1;
		if (n == 0)
			notify(r, gsi, true);
	} else {
		if (at == n)
			return;		/* this source was not asserting */
		by[at] = by[n - 1];
		r->line[gsi].nr_asserted = n - 1;
		if (n == 1)
			notify(r, gsi, false);
	}
}

bool irq_router_level(const struct irq_router *r, unsigned gsi)
{
	return gsi < IRQ_ROUTER_LINES && r->line[gsi].nr_asserted > 0;
}

int irq_router_listen(struct irq_router *r, unsigned first, unsigned count,
		      irq_line_changed_fn changed, void *ctx)
{
	if (!changed || count == 0 || first >= IRQ_ROUTER_LINES ||
	    count > IRQ_ROUTER_LINES - first ||
	    r->nr_listeners == IRQ_ROUTER_MAX_LISTENERS)
		return -1;
	r->listener[r->nr_listeners].first = first;
	r->listener[r->nr_listeners].count = count;
	r->listener[r->nr_listeners].changed = changed;
	r->listener[r->nr_listeners].ctx = ctx;
	r->nr_listeners++;
	for (unsigned gsi = first; gsi < first + count; gsi++)
		if (irq_router_level(r, gsi))
			changed(ctx, gsi, true);
	return 0;
}

void irq_router_unlisten(struct irq_router *r, void *ctx)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < r->nr_listeners; i++)
		if (r->listener[i].ctx != ctx)
			r->listener[kept++] = r->listener[i];
	r->nr_listeners = kept;
	kept = 0;
	for (unsigned i = 0; i < r->nr_sinks; i++)
		if (r->sink[i].ctx != ctx)
			r->sink[kept++] = r->sink[i];
	r->nr_sinks = kept;
	kept = 0;
	for (unsigned i = 0; i < r->nr_eoi; i++)
		if (r->eoi[i].ctx != ctx)
			r->eoi[kept++] = r->eoi[i];
	r->nr_eoi = kept;
	if (r->extint.ops && r->extint.ctx == ctx)
		r->extint.ops = NULL, r->extint.ctx = NULL;
}

int irq_router_set_controller(struct irq_router *r, unsigned vcpu,
			      const struct irq_controller_ops *ops, void *ctx)
{
	if (vcpu >= IRQ_ROUTER_MAX_VCPUS || !ops || r->cpu[vcpu].ops)
		return -1;
	r->cpu[vcpu].ops = ops;
	r->cpu[vcpu].ctx = ctx;
	return 0;
}

void irq_router_clear_controller(struct irq_router *r, void *ctx)
{
	for (unsigned v = 0; v < IRQ_ROUTER_MAX_VCPUS; v++)
		if (r->cpu[v].ops && r->cpu[v].ctx == ctx) {
			r->cpu[v].ops = NULL;
			r->cpu[v].ctx = NULL;
		}
}

/* No controller of its own: vCPU 0 takes the ExtINT source's INTR. */
static bool extint_direct(const struct irq_router *r, unsigned vcpu)
{
	return vcpu == 0 && !r->cpu[0].ops && r->extint.ops;
}

bool irq_router_has_controller(const struct irq_router *r, unsigned vcpu)
{
	return vcpu < IRQ_ROUTER_MAX_VCPUS && (r->cpu[vcpu].ops || extint_direct(r, vcpu));
}

bool irq_router_has_interrupt(const struct irq_router *r, unsigned vcpu)
{
	if (!irq_router_has_controller(r, vcpu))
		return false;
	if (extint_direct(r, vcpu))
		return irq_router_extint_pending(r);
	return r->cpu[vcpu].ops->has_interrupt(r->cpu[vcpu].ctx, vcpu);
}

int irq_router_acknowledge(struct irq_router *r, unsigned vcpu)
{
	if (!irq_router_has_controller(r, vcpu))
		return -1;
	if (extint_direct(r, vcpu))
		return irq_router_extint_acknowledge(r);
	return r->cpu[vcpu].ops->acknowledge(r->cpu[vcpu].ctx, vcpu);
}

int irq_router_set_extint(struct irq_router *r, const struct irq_controller_ops *ops,
			  void *ctx)
{
	if (!ops || r->extint.ops)
		return -1;
	r->extint.ops = ops;
	r->extint.ctx = ctx;
	return 0;
}

bool irq_router_extint_pending(const struct irq_router *r)
{
	return r->extint.ops && r->extint.ops->has_interrupt(r->extint.ctx, 0);
}

int irq_router_extint_acknowledge(struct irq_router *r)
{
	if (!r->extint.ops)
		return -1;
	return r->extint.ops->acknowledge(r->extint.ctx, 0);
}

int irq_router_add_sink(struct irq_router *r, const struct irq_msg_sink_ops *ops,
			void *ctx)
{
	if (!ops || r->nr_sinks == IRQ_ROUTER_MAX_SINKS)
		return -1;
	r->sink[r->nr_sinks].ops = ops;
	r->sink[r->nr_sinks].ctx = ctx;
	r->nr_sinks++;
	return 0;
}

unsigned irq_router_nr_sinks(const struct irq_router *r)
{
	return r->nr_sinks;
}

unsigned irq_router_send(struct irq_router *r, const struct irq_msg *m,
			 const void *except)
{
	unsigned taken = 0;

	for (unsigned i = 0; i < r->nr_sinks; i++) {
		if (r->sink[i].ctx == except || !r->sink[i].ops->matches(r->sink[i].ctx, m))
			continue;
		r->sink[i].ops->accept(r->sink[i].ctx, m);
		taken++;
		if (m->delivery == IRQ_DELIVERY_LOWEST)
			break;
	}
	if (!taken)
		r->msgs_unclaimed++;
	return taken;
}

int irq_router_send_msi(struct irq_router *r, uint64_t addr, uint32_t data)
{
	if ((addr >> 20) != 0xfee) {
		r->msi_refused++;
		return -1;
	}
	struct irq_msg m = {
		.vector = (uint8_t)data,
		.delivery = (data >> 8) & 7,
		.level = data & (1u << 15),
		.logical = addr & (1u << 2),
		.dest = (uint8_t)(addr >> 12),
	};
	irq_router_send(r, &m, NULL);
	return 0;
}

int irq_router_listen_eoi(struct irq_router *r, irq_eoi_fn fn, void *ctx)
{
	if (!fn || r->nr_eoi == IRQ_ROUTER_MAX_EOI)
		return -1;
	r->eoi[r->nr_eoi].fn = fn;
	r->eoi[r->nr_eoi].ctx = ctx;
	r->nr_eoi++;
	return 0;
}

void irq_router_broadcast_eoi(struct irq_router *r, uint8_t vector)
{
	for (unsigned i = 0; i < r->nr_eoi; i++)
		r->eoi[i].fn(r->eoi[i].ctx, vector);
}

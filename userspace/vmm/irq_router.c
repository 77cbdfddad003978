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

bool irq_router_has_controller(const struct irq_router *r, unsigned vcpu)
{
	return vcpu < IRQ_ROUTER_MAX_VCPUS && r->cpu[vcpu].ops;
}

bool irq_router_has_interrupt(const struct irq_router *r, unsigned vcpu)
{
	if (!irq_router_has_controller(r, vcpu))
		return false;
	return r->cpu[vcpu].ops->has_interrupt(r->cpu[vcpu].ctx, vcpu);
}

int irq_router_acknowledge(struct irq_router *r, unsigned vcpu)
{
	if (!irq_router_has_controller(r, vcpu))
		return -1;
	return r->cpu[vcpu].ops->acknowledge(r->cpu[vcpu].ctx, vcpu);
}

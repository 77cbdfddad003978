/*
 * Port-I/O and MMIO buses: a small table of ranges kept sorted by base, so
 * a lookup is a binary search. An access that lies wholly inside one range
 * goes to that device in one call. An access that straddles a range edge is
 * split into byte cycles, as the ISA bus does for an 8-bit device behind a
 * 16/32-bit IN/OUT; bytes nobody claims read as 0xff.
 */
#include <string.h>
#include "vmm/bus.h"

/* Longest single access an engine reports: a qword MMIO access. */
#define BUS_MAX_ACCESS 8

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

/* Last address of [base, base + len), which cannot overflow once len >= 1
 * and base + len - 1 has been checked. */
static uint64_t range_last(const struct bus_range *r)
{
	return r->base + (r->len - 1);
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_io_fn fn, void *opaque, const char *name)
{
	if (!bus || !fn || len == 0 || base + (len - 1) < base)
		return -1;
	if (bus->nr >= BUS_MAX_RANGES)
		return -1;

	uint64_t last = base + (len - 1);
	unsigned at = 0;
	for (; at < bus->nr; at++) {
		const struct bus_range *r = &bus->range[at];
		if (base <= range_last(r) && r->base <= last)
			return -1;	/* overlap */
		if (r->base > last)
			break;
	}
	memmove(&bus->range[at + 1], &bus->range[at],
		(bus->nr - at) * sizeof(bus->range[0]));
	bus->range[at] = (struct bus_range){
		.base = base, .len = len, .fn = fn, .opaque = opaque,
		.name = name ? name : "?", .accesses = 0,
	};
	bus->nr++;
	return 0;
}

static struct bus_range *find_range(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->range[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr > range_last(r))
			lo = mid + 1;
		else
			return (struct bus_range *)r;
	}
	return NULL;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	return bus ? find_range(bus, addr) : NULL;
}

static void count_unclaimed(struct bus *bus, bool is_write)
{
	if (is_write)
		bus->unclaimed_writes++;
	else
		bus->unclaimed_reads++;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, unsigned len,
		bool is_write)
{
	if (!bus || !data || len == 0)
		return false;
	if (len > BUS_MAX_ACCESS || addr + (len - 1) < addr) {
		/* No engine reports such an access; treat it as nobody's. */
		if (!is_write)
			memset(data, 0xff, len);
		count_unclaimed(bus, is_write);
		return false;
	}

	/* a guest polling one port asks the same range again and again: the
	 * binary search's unpredictable branches were a quarter of an inline
	 * IN's time (docs/perf/bt-exits.md, 2026-12-04) */
	struct bus_range *r = &bus->range[bus->last];
	if (bus->last >= bus->nr || addr < r->base || addr > range_last(r)) {
		r = find_range(bus, addr);
		if (r)
			bus->last = (unsigned)(r - bus->range);
	}
	if (r && addr + (len - 1) <= range_last(r)) {
		r->accesses++;
		r->fn(r->opaque, addr, data, len, is_write);
		return true;
	}

	/* Straddles an edge or starts in a hole: byte cycles. */
	bool claimed = false;
	for (unsigned i = 0; i < len; i++) {
		struct bus_range *b = find_range(bus, addr + i);
		if (!b) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		b->accesses++;
		b->fn(b->opaque, addr + i, &data[i], 1, is_write);
		claimed = true;
	}
	if (!claimed)
		count_unclaimed(bus, is_write);
	return claimed;
}

void bus_unregister_owner(struct bus *bus, void *owner)
{
	unsigned kept = 0;

	if (!bus)
		return;
	for (unsigned i = 0; i < bus->nr; i++)
		if (bus->range[i].opaque != owner)
			bus->range[kept++] = bus->range[i];
	bus->nr = kept;
}

/*
 * Port-I/O and MMIO buses. A device registers a range and one callback;
 * the VMM hands every guest access an engine reports to bus_io/bus_mmio.
 * Unclaimed reads return all-ones and are counted, as on a PC's ISA bus.
 */
#ifndef HYVM_BUS_H
#define HYVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* addr is the absolute port or guest-physical address; data is little-endian
 * len bytes; on a read the device fills it. */
typedef void (*bus_io_fn)(void *opaque, uint64_t addr, uint8_t *data,
			  unsigned len, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
	uint64_t accesses;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	struct bus_range range[BUS_MAX_RANGES];
	unsigned nr;
	/* the range the last access found: ranges never overlap, so if it
	 * holds the next address it is that address's range, whatever was
	 * registered since (bus_access) */
	unsigned last;
	uint64_t unclaimed_reads, unclaimed_writes;
};

void bus_init(struct bus *bus, const char *name);
/* 0, or -1 if it overlaps another range or the table is full. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_io_fn fn, void *opaque, const char *name);
/* true if a device claimed the access */
/* Removes every range whose opaque is owner (device teardown, or undoing a
 * half-done create). */
void bus_unregister_owner(struct bus *bus, void *owner);
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, unsigned len,
		bool is_write);
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);

#endif

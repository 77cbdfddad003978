/*
 * Base address registers (PCI Local Bus 3.0, 6.2.5.1). A BAR's low bits
 * are read-only and say what it is (bit 0: I/O; bits 2:1 = 10b: 64-bit;
 * bit 3: prefetchable); the address bits below its size are read-only
 * zero, so writing all-ones and reading back gives the size mask. The
 * range is on the port or memory bus only while COMMAND enables that
 * decode and the address is somewhere the bus can put it: not 0 (what
 * firmware leaves unassigned), inside 64 KiB of ports or the physical
 * address space, over no RAM or ROM and over no other range. A placement
 * that fails is counted once and not mapped: the guest sees a BAR that
 * decodes nothing, as a real chipset ignores cycles nothing claims.
 */
#include <stdio.h>
#include "devices/pci/pci_internal.h"
#include "vmm/memory_map.h"

#define PCI_IO_LIMIT		0x10000ull
#define PCI_IO_BAR_MAX		256	/* 6.2.5.1: I/O BARs ask for at most 256 bytes */
#define PCI_MEM_BAR_MIN		16
#define PCI_MEM32_BAR_MAX	0x80000000ull
/* Past HYVM's guest-physical space nothing can be mapped anyway. */
#define PCI_MEM64_LIMIT		(1ull << 46)

static bool power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

static unsigned bar_off(unsigned i)
{
	return PCI_BAR0 + 4 * i;
}

int pci_bar_setup(struct pci_device *dev, unsigned i, char *err, size_t errlen)
{
	struct pci_bar *b = &dev->bar[i];
	const struct pci_bar_desc *d = &dev->desc.bar[i];
	const char *name = dev->desc.name;
	uint64_t mask = ~(d->size - 1);

	b->desc = *d;
	b->dev = dev;
	switch (d->kind) {
	case PCI_BAR_NONE:
		return 0;
	case PCI_BAR_IO:
		if (!power_of_two(d->size) || d->size < 4 || d->size > PCI_IO_BAR_MAX)
			break;
		pci_config_set(dev, bar_off(i), 4, PCI_BAR_SPACE_IO);
		pci_config_set_wmask(dev, bar_off(i), 4, (uint32_t)mask & 0xfffc);
		return 0;
	case PCI_BAR_MEM32:
		if (!power_of_two(d->size) || d->size < PCI_MEM_BAR_MIN ||
		    d->size > PCI_MEM32_BAR_MAX)
			break;
		pci_config_set(dev, bar_off(i), 4, d->prefetchable ? PCI_BAR_MEM_PREFETCH : 0);
		pci_config_set_wmask(dev, bar_off(i), 4, (uint32_t)mask);
		return 0;
	case PCI_BAR_MEM64:
		if (!power_of_two(d->size) || d->size < PCI_MEM_BAR_MIN ||
		    d->size >= PCI_MEM64_LIMIT)
			break;
		if (i + 1 >= PCI_NUM_BARS || dev->desc.bar[i + 1].kind != PCI_BAR_NONE) {
			snprintf(err, errlen, "pci %s: 64-bit BAR %u needs BAR %u free", name, i,
				 i + 1);
			return -1;
		}
		pci_config_set(dev, bar_off(i), 4, PCI_BAR_MEM_TYPE_64 |
			       (d->prefetchable ? PCI_BAR_MEM_PREFETCH : 0));
		pci_config_set_wmask(dev, bar_off(i), 4, (uint32_t)mask & ~0xfu);
		pci_config_set_wmask(dev, bar_off(i + 1), 4, (uint32_t)(mask >> 32));
		return 0;
	}
	snprintf(err, errlen, "pci %s: BAR %u of %llu bytes is not a size PCI allows", name, i,
		 (unsigned long long)d->size);
	return -1;
}

/* Where the BAR registers put BAR i now. */
static uint64_t bar_address(const struct pci_device *dev, unsigned i)
{
	uint32_t lo = pci_config_get(dev, bar_off(i), 4);

	switch (dev->bar[i].desc.kind) {
	case PCI_BAR_IO:
		return lo & ~3u;
	case PCI_BAR_MEM32:
		return lo & ~0xfu;
	case PCI_BAR_MEM64:
		return (lo & ~0xfu) | (uint64_t)pci_config_get(dev, bar_off(i + 1), 4) << 32;
	default:
		return 0;
	}
}

static bool decoding(const struct pci_device *dev, const struct pci_bar *b)
{
	uint16_t cmd = (uint16_t)pci_config_get(dev, PCI_COMMAND, 2);

	return b->desc.kind == PCI_BAR_IO ? cmd & PCI_COMMAND_IO : cmd & PCI_COMMAND_MEMORY;
}

/* Is [addr, addr + size) free of RAM and ROM? */
static bool clear_of_memory(const struct memory_map *map, uint64_t addr, uint64_t size)
{
	if (!map)
		return true;
	for (unsigned i = 0; i < map->nr; i++) {
		const struct mem_region *r = &map->r[i];
		if (r->kind == MEM_MMIO)
			continue;
		if (addr < r->gpa + r->size && r->gpa < addr + size)
			return false;
	}
	return true;
}

static bool placement_ok(const struct pci_bus *bus, const struct pci_bar *b, uint64_t addr)
{
	uint64_t size = b->desc.size;

	if (b->desc.kind == PCI_BAR_IO)
		return addr + size <= PCI_IO_LIMIT;
	if (addr + size < addr || addr + size > PCI_MEM64_LIMIT)
		return false;
	return clear_of_memory(bus->map, addr, size);
}

static void bar_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_bar *b = opaque;

	if (b->desc.fn)
		b->desc.fn(b->desc.opaque, addr - b->addr, data, len, is_write);
	else if (!is_write)
		for (unsigned i = 0; i < len; i++)
			data[i] = 0xff;
}

static struct bus *bar_bus(const struct pci_device *dev, const struct pci_bar *b)
{
	return b->desc.kind == PCI_BAR_IO ? dev->bus->pio : dev->bus->mmio;
}

static void bar_unmap(struct pci_device *dev, struct pci_bar *b)
{
	if (b->mapped)
		bus_unregister_owner(bar_bus(dev, b), b);
	b->mapped = false;
}

void pci_bars_update(struct pci_device *dev)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bar[i];
		if (b->desc.kind == PCI_BAR_NONE)
			continue;
		uint64_t addr = bar_address(dev, i);
		bool want = decoding(dev, b) && addr != 0;
		if (b->mapped && want && b->addr == addr)
			continue;
		bar_unmap(dev, b);
		if (!want) {
			b->refused = false;
			continue;
		}
		if (b->refused && b->refused_addr == addr)
			continue;	/* counted already */
		if (!placement_ok(dev->bus, b, addr) ||
		    bus_register(bar_bus(dev, b), addr, b->desc.size, bar_io, b,
				 dev->desc.name) < 0) {
			dev->bus->counters.bar_refused++;
			b->refused = true;
			b->refused_addr = addr;
			continue;
		}
		b->mapped = true;
		b->refused = false;
		b->addr = addr;
	}
}

void pci_bars_unmap(struct pci_device *dev)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		bar_unmap(dev, &dev->bar[i]);
		dev->bar[i].refused = false;
	}
}

bool pci_bar_mapped(const struct pci_device *dev, unsigned i, uint64_t *addr)
{
	if (i >= PCI_NUM_BARS || !dev->bar[i].mapped)
		return false;
	if (addr)
		*addr = dev->bar[i].addr;
	return true;
}

/*
 * The guest-physical memory map (see memory_map.h for the layout and why).
 */
#include <stdio.h>
#include <string.h>
#include "vmm/memory_map.h"

/* The guest-physical space every engine can map: hyvm.ko's limit
 * (HYVM_MAX_GPA, 64 GiB) is the smallest. */
#define MEMMAP_MAX_GPA		(1ull << 36)

static bool page_aligned(uint64_t v)
{
	return (v & (MEMMAP_PAGE - 1)) == 0;
}

static int insert(struct memory_map *m, uint64_t gpa, uint64_t size, enum mem_kind kind,
		  enum e820_type e820, uint64_t memfd_offset, const char *name)
{
	unsigned i = 0;

	if (!size)
		return 0;
	if (m->nr == MEMMAP_MAX_REGIONS)
		return -1;
	while (i < m->nr && m->r[i].gpa < gpa)
		i++;
	memmove(&m->r[i + 1], &m->r[i], (m->nr - i) * sizeof(m->r[0]));
	m->r[i] = (struct mem_region){
		.gpa = gpa, .size = size, .kind = kind, .e820 = e820,
		.memfd_offset = memfd_offset,
	};
	snprintf(m->r[i].name, sizeof(m->r[i].name), "%s", name);
	m->nr++;
	return 0;
}

int memory_map_build_pc(struct memory_map *m, uint64_t ram, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (ram < 2 * MEMMAP_HIGH_MEMORY || !page_aligned(ram)) {
		snprintf(err, errlen, "guest RAM must be a whole number of pages, at least 2 MiB");
		return -1;
	}
	/* QEMU pc: all RAM below the hole up to 3.5 GiB; above that 3 GiB
	 * below and the rest from 4 GiB (gigabyte-aligned split). */
	uint64_t low = ram >= MEMMAP_LOWMEM_SPLIT ? MEMMAP_LOWMEM_MAX : ram;
	uint64_t high = ram - low;
	if (high > MEMMAP_MAX_GPA - MEMMAP_4G) {
		snprintf(err, errlen, "%llu MiB of RAM does not fit below the %llu GiB "
			 "guest-physical limit", (unsigned long long)(ram >> 20),
			 (unsigned long long)(MEMMAP_MAX_GPA >> 30));
		return -1;
	}
	/* Low RAM is one memfd range at offset == gpa, so the loaders' flat
	 * view of it is the VMM's mapping of the memfd. */
	insert(m, 0, MEMMAP_CONVENTIONAL_END, MEM_RAM, E820_USABLE, 0, "conventional");
	insert(m, MEMMAP_CONVENTIONAL_END, MEMMAP_LEGACY_START - MEMMAP_CONVENTIONAL_END,
	       MEM_RAM, E820_NONE, MEMMAP_CONVENTIONAL_END, "ebda");
	insert(m, MEMMAP_LEGACY_START, MEMMAP_BIOS_AREA - MEMMAP_LEGACY_START, MEM_RAM,
	       E820_NONE, MEMMAP_LEGACY_START, "legacy-vga-rom");
	insert(m, MEMMAP_BIOS_AREA, MEMMAP_HIGH_MEMORY - MEMMAP_BIOS_AREA, MEM_RAM,
	       E820_RESERVED, MEMMAP_BIOS_AREA, "legacy-bios");
	insert(m, MEMMAP_HIGH_MEMORY, low - MEMMAP_HIGH_MEMORY, MEM_RAM, E820_USABLE,
	       MEMMAP_HIGH_MEMORY, "ram-low");
	uint64_t window = low > MEMMAP_PCI_WINDOW_MIN ? low : MEMMAP_PCI_WINDOW_MIN;
	insert(m, window, MEMMAP_IOAPIC - window, MEM_MMIO, E820_NONE, 0, "pci-window");
	insert(m, MEMMAP_IOAPIC, MEMMAP_PAGE, MEM_MMIO, E820_NONE, 0, "ioapic");
	insert(m, MEMMAP_LAPIC, MEMMAP_PAGE, MEM_MMIO, E820_NONE, 0, "local-apic");
	insert(m, MEMMAP_4G, high, MEM_RAM, E820_USABLE, low, "ram-high");
	m->memfd_size = ram;
	m->ram_below_4g = low;
	m->ram_above_4g = high;
	return 0;
}

/* The index of the region holding gpa, or -1. */
static int find_index(const struct memory_map *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nr; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
			return (int)i;
	return -1;
}

const struct mem_region *memory_map_find(const struct memory_map *m, uint64_t gpa)
{
	int i = find_index(m, gpa);

	return i < 0 ? NULL : &m->r[i];
}

/* Removes [gpa, gpa + size) from the regions that may give it up
 * (may_take), splitting them; refuses if another region overlaps. */
static int carve(struct memory_map *m, uint64_t gpa, uint64_t size,
		 bool (*may_take)(const struct mem_region *), char *err, size_t errlen,
		 const char *what)
{
	uint64_t end = gpa + size;

	for (unsigned i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		if (r->gpa < end && gpa < r->gpa + r->size && !may_take(r)) {
			snprintf(err, errlen, "%s at %#llx-%#llx overlaps %s at %#llx-%#llx", what,
				 (unsigned long long)gpa, (unsigned long long)end - 1, r->name,
				 (unsigned long long)r->gpa,
				 (unsigned long long)(r->gpa + r->size - 1));
			return -1;
		}
	}
	for (unsigned i = 0; i < m->nr; i++) {
		struct mem_region r = m->r[i];
		uint64_t r_end = r.gpa + r.size;
		if (!(r.gpa < end && gpa < r_end))
			continue;
		memmove(&m->r[i], &m->r[i + 1], (m->nr - i - 1) * sizeof(m->r[0]));
		m->nr--;
		if (r.gpa < gpa && insert(m, r.gpa, gpa - r.gpa, r.kind, r.e820,
					  r.memfd_offset, r.name) < 0)
			goto full;
		if (end < r_end && insert(m, end, r_end - end, r.kind, r.e820,
					  r.memfd_offset + (end - r.gpa), r.name) < 0)
			goto full;
		i = (unsigned)-1;	/* the list moved: start again */
	}
	return 0;
full:
	snprintf(err, errlen, "more than %d memory regions", MEMMAP_MAX_REGIONS);
	return -1;
}

static bool is_pci_window(const struct mem_region *r)
{
	return r->kind == MEM_MMIO && !strcmp(r->name, "pci-window");
}

static bool is_legacy_ram(const struct mem_region *r)
{
	return r->kind == MEM_RAM && r->gpa >= MEMMAP_LEGACY_START &&
	       r->gpa + r->size <= MEMMAP_HIGH_MEMORY;
}

int memory_map_add_rom(struct memory_map *m, uint64_t gpa, uint64_t size, const char *name,
		       uint64_t *memfd_offset, char *err, size_t errlen)
{
	if (!size || !page_aligned(gpa) || !page_aligned(size)) {
		snprintf(err, errlen, "ROM %s at %#llx: address and size must be multiples of 4 KiB",
			 name, (unsigned long long)gpa);
		return -1;
	}
	if (size > MEMMAP_ROM_MAX) {
		snprintf(err, errlen, "ROM %s is %llu KiB, more than the %llu KiB a ROM may have",
			 name, (unsigned long long)(size >> 10),
			 (unsigned long long)(MEMMAP_ROM_MAX >> 10));
		return -1;
	}
	if (gpa >= MEMMAP_4G || size > MEMMAP_4G - gpa) {
		snprintf(err, errlen, "ROM %s at %#llx does not end below 4 GiB", name,
			 (unsigned long long)gpa);
		return -1;
	}
	if (carve(m, gpa, size, is_pci_window, err, errlen, "ROM") < 0)
		return -1;
	*memfd_offset = m->memfd_size;
	if (insert(m, gpa, size, MEM_ROM, E820_RESERVED, *memfd_offset, name) < 0) {
		snprintf(err, errlen, "more than %d memory regions", MEMMAP_MAX_REGIONS);
		return -1;
	}
	m->memfd_size += size;
	return 0;
}

int memory_map_alias_rom(struct memory_map *m, uint64_t alias_gpa, uint64_t size,
			 uint64_t memfd_offset, const char *name, char *err, size_t errlen)
{
	if (!page_aligned(alias_gpa) || !page_aligned(size) || !size ||
	    alias_gpa < MEMMAP_LEGACY_START || alias_gpa + size > MEMMAP_HIGH_MEMORY) {
		snprintf(err, errlen, "ROM alias %s must lie page-aligned in %#llx-%#llx", name,
			 MEMMAP_LEGACY_START, MEMMAP_HIGH_MEMORY - 1);
		return -1;
	}
	if (carve(m, alias_gpa, size, is_legacy_ram, err, errlen, "ROM alias") < 0)
		return -1;
	if (insert(m, alias_gpa, size, MEM_ROM, E820_RESERVED, memfd_offset, name) < 0) {
		snprintf(err, errlen, "more than %d memory regions", MEMMAP_MAX_REGIONS);
		return -1;
	}
	return 0;
}

unsigned memory_map_slots(const struct memory_map *m, struct mem_slot *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		if (r->kind == MEM_MMIO)
			continue;
		bool ro = r->kind == MEM_ROM;
		struct mem_slot *last = n ? &out[n - 1] : NULL;
		if (last && last->readonly == ro && last->gpa + last->size == r->gpa &&
		    last->memfd_offset + last->size == r->memfd_offset) {
			last->size += r->size;
			continue;
		}
		if (n == max)
			break;		/* cannot happen with max MEMMAP_MAX_REGIONS */
		out[n++] = (struct mem_slot){ r->gpa, r->size, r->memfd_offset, ro };
	}
	return n;
}

unsigned memory_map_e820(const struct memory_map *m, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->r[i];
		if (r->e820 == E820_NONE)
			continue;
		if (n && out[n - 1].type == r->e820 && out[n - 1].addr + out[n - 1].size == r->gpa) {
			out[n - 1].size += r->size;
			continue;
		}
		if (n == max)
			break;
		out[n++] = (struct e820_entry){ r->gpa, r->size, r->e820 };
	}
	return n;
}

uint64_t memory_map_upper_ram(const struct memory_map *m)
{
	uint64_t at = MEMMAP_HIGH_MEMORY;

	for (int i = find_index(m, at); i >= 0 && m->r[i].e820 == E820_USABLE;
	     i = find_index(m, at))
		at = m->r[i].gpa + m->r[i].size;
	return at - MEMMAP_HIGH_MEMORY;
}

bool memory_map_firmware_tables(const struct memory_map *m, uint64_t *gpa, uint64_t *size)
{
	const struct mem_region *r = memory_map_find(m, MEMMAP_FW_TABLES);

	if (!r || r->kind != MEM_RAM || r->e820 != E820_RESERVED ||
	    r->gpa + r->size < MEMMAP_FW_TABLES + MEMMAP_FW_TABLES_SIZE)
		return false;
	*gpa = MEMMAP_FW_TABLES;
	*size = MEMMAP_FW_TABLES_SIZE;
	return true;
}

uint64_t memory_map_backed_end(const struct memory_map *m)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < m->nr; i++)
		if (m->r[i].kind != MEM_MMIO && m->r[i].gpa + m->r[i].size > end)
			end = m->r[i].gpa + m->r[i].size;
	return end;
}

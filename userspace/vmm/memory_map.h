/*
 * The guest-physical memory map: the one place that knows the layout.
 * A sorted list of regions that do not overlap: RAM (read-write, backed by
 * the VM's memfd), ROM (backed, read-only to the guest) and MMIO holes
 * (reserved, never backed: accesses there reach the MMIO bus). Every
 * engine maps exactly the backed regions (memory_map_slots), the loaders
 * take the BIOS e820 table from memory_map_e820, and the VMM looks host
 * addresses up with memory_map_find.
 *
 * The PC layout follows QEMU's pc machine (hw/i386/pc_piix.c): RAM below
 * a 32-bit hole (all of it when --mem is under 3.5 GiB; else 3 GiB, the
 * rest from 4 GiB up), the legacy VGA/BIOS area 0xa0000-0xfffff inside the
 * low RAM slot but left out of the e820 map (0xf0000-0xfffff reserved, as
 * a PC BIOS reports it), the IOAPIC at 0xfec00000 and the local APIC at
 * 0xfee00000 (Intel SDM Vol. 3A 10.4.1, the default APIC base) and a PCI
 * MMIO window between the top of low RAM and the IOAPIC.
 */
#ifndef HYVM_MEMORY_MAP_H
#define HYVM_MEMORY_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMMAP_MAX_REGIONS	24
#define MEMMAP_PAGE		0x1000ull
#define MEMMAP_4G		0x100000000ull

/* Fixed PC addresses. */
#define MEMMAP_CONVENTIONAL_END	0x9fc00ull	/* 639 KiB; the EBDA follows */
#define MEMMAP_LEGACY_START	0xa0000ull	/* VGA window, option ROMs, BIOS */
#define MEMMAP_BIOS_AREA	0xf0000ull	/* reserved in e820 */
#define MEMMAP_HIGH_MEMORY	0x100000ull	/* 1 MiB */
#define MEMMAP_LOWMEM_SPLIT	0xe0000000ull	/* --mem at or above this splits */
#define MEMMAP_LOWMEM_MAX	0xc0000000ull	/* low RAM when it splits */
#define MEMMAP_PCI_WINDOW_MIN	0xc0000000ull
#define MEMMAP_IOAPIC		0xfec00000ull
#define MEMMAP_LAPIC		0xfee00000ull
/* A PC BIOS image: at most 256 KiB (so it stays clear of KVM's real-mode
 * TSS at 0xfffbd000), ending at 4 GiB, its last 128 KiB also at 0xe0000. */
#define MEMMAP_ROM_MAX		0x40000ull
#define MEMMAP_BIOS_ALIAS_MAX	0x20000ull
/* The firmware tables hyvm writes (userspace/firmware/): the MP floating
 * pointer must lie in 0xf0000-0xfffff (MP spec 1.4, 4.1) and the ACPI RSDP
 * in 0xe0000-0xfffff (ACPI 6.4, 5.2.5.1), so all the tables live in the
 * reserved BIOS area, 16-byte aligned. A --rom BIOS alias there replaces
 * them (memory_map_firmware_tables says so). */
#define MEMMAP_FW_TABLES	MEMMAP_BIOS_AREA
#define MEMMAP_FW_TABLES_SIZE	(MEMMAP_HIGH_MEMORY - MEMMAP_BIOS_AREA)

enum mem_kind { MEM_RAM, MEM_ROM, MEM_MMIO };

/* What the e820 table (ACPI 6.4, 15.1 "INT 15H E820H") says of a region. */
enum e820_type {
	E820_NONE = 0,		/* left out of the table */
	E820_USABLE = 1,
	E820_RESERVED = 2,
};

struct mem_region {
	uint64_t gpa, size;
	enum mem_kind kind;
	enum e820_type e820;
	uint64_t memfd_offset;	/* RAM and ROM: where the bytes live */
	char name[24];
};

struct memory_map {
	struct mem_region r[MEMMAP_MAX_REGIONS];	/* sorted by gpa */
	unsigned nr;
	uint64_t memfd_size;		/* bytes of memfd the backed regions use */
	uint64_t ram_below_4g, ram_above_4g;
};

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* One engine slot: adjacent backed regions of one kind whose memfd bytes
 * are contiguous, merged (the default layout is one RAM slot at 0). */
struct mem_slot {
	uint64_t gpa, size, memfd_offset;
	bool readonly;
};

/* The PC layout for ram_bytes of RAM (page-aligned, at least 2 MiB).
 * -1 with one line in err when it does not fit below HYVM_MAX_GPA. */
int memory_map_build_pc(struct memory_map *m, uint64_t ram_bytes, char *err, size_t errlen);

/* Adds size bytes of ROM (page-aligned) at gpa, backed after everything
 * else in the memfd; *memfd_offset says where. It may cover only MMIO
 * space nobody claims (the PCI window or the top of 4 GiB) or, for an
 * alias, the legacy BIOS area; overlapping RAM, the APICs or another ROM
 * is refused with one line. */
int memory_map_add_rom(struct memory_map *m, uint64_t gpa, uint64_t size, const char *name,
		       uint64_t *memfd_offset, char *err, size_t errlen);
/* The same bytes again at alias_gpa (the PC BIOS's last 128 KiB at
 * 0xe0000): replaces the legacy-area RAM there, e820-reserved. */
int memory_map_alias_rom(struct memory_map *m, uint64_t alias_gpa, uint64_t size,
			 uint64_t memfd_offset, const char *name, char *err, size_t errlen);

/* The region holding gpa; NULL if none (unclaimed space). */
const struct mem_region *memory_map_find(const struct memory_map *m, uint64_t gpa);
/* The backed slots engines map; returns how many (at most max). */
unsigned memory_map_slots(const struct memory_map *m, struct mem_slot *out, unsigned max);
/* The e820 table, adjacent entries of one type merged; returns the count. */
unsigned memory_map_e820(const struct memory_map *m, struct e820_entry *out, unsigned max);
/* Bytes of usable RAM from 1 MiB up without a gap (Multiboot mem_upper). */
uint64_t memory_map_upper_ram(const struct memory_map *m);
/* Where the firmware tables go: true with *gpa and *size (the RAM at
 * MEMMAP_FW_TABLES, e820-reserved), false when that area is not plain RAM
 * (a --rom BIOS image is aliased there and brings its own tables). */
bool memory_map_firmware_tables(const struct memory_map *m, uint64_t *gpa, uint64_t *size);
/* Highest backed guest-physical address + 1. */
uint64_t memory_map_backed_end(const struct memory_map *m);

#endif

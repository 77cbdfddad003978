/* The memory map: PC layouts for several --mem sizes, ROM placement and
 * refusals, the engines' slots, the e820 table and lookups. */
#include <string.h>
#include "unit.h"
#include "vmm/memory_map.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char err[256];

static unsigned slots(const struct memory_map *m, struct mem_slot *s)
{
	return memory_map_slots(m, s, MEMMAP_MAX_REGIONS);
}

static void test_default_128m(void)
{
	struct memory_map m;
	struct mem_slot s[MEMMAP_MAX_REGIONS];
	struct e820_entry e[MEMMAP_MAX_REGIONS];

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 128 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.memfd_size, 128 * MiB);
	CU_ASSERT_EQUAL(m.ram_below_4g, 128 * MiB);
	CU_ASSERT_EQUAL(m.ram_above_4g, 0);
	/* engines see what they saw before: one RAM slot at 0 */
	CU_ASSERT_EQUAL_FATAL(slots(&m, s), 1);
	CU_ASSERT_EQUAL(s[0].gpa, 0);
	CU_ASSERT_EQUAL(s[0].size, 128 * MiB);
	CU_ASSERT_EQUAL(s[0].memfd_offset, 0);
	CU_ASSERT_FALSE(s[0].readonly);
	/* and the guest the same e820 table as before */
	CU_ASSERT_EQUAL_FATAL(memory_map_e820(&m, e, MEMMAP_MAX_REGIONS), 3);
	CU_ASSERT(e[0].addr == 0 && e[0].size == 0x9fc00 && e[0].type == E820_USABLE);
	CU_ASSERT(e[1].addr == 0xf0000 && e[1].size == 0x10000 && e[1].type == E820_RESERVED);
	CU_ASSERT(e[2].addr == MiB && e[2].size == 127 * MiB && e[2].type == E820_USABLE);
	CU_ASSERT_EQUAL(memory_map_upper_ram(&m), 127 * MiB);
	CU_ASSERT_EQUAL(memory_map_backed_end(&m), 128 * MiB);
}

static void test_lookup(void)
{
	struct memory_map m;
	const struct mem_region *r;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 128 * MiB, err, sizeof(err)), 0);
	r = memory_map_find(&m, 0x500);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->kind, MEM_RAM);
	CU_ASSERT_STRING_EQUAL(r->name, "conventional");
	r = memory_map_find(&m, 128 * MiB - 1);
	CU_ASSERT(r && r->kind == MEM_RAM && r->memfd_offset + (128 * MiB - 1 - r->gpa) ==
		  128 * MiB - 1);
	CU_ASSERT_PTR_NULL(memory_map_find(&m, 128 * MiB));	/* unclaimed */
	r = memory_map_find(&m, 0xfee00030);
	CU_ASSERT(r && r->kind == MEM_MMIO && !strcmp(r->name, "local-apic"));
	r = memory_map_find(&m, 0xfec00000);
	CU_ASSERT(r && r->kind == MEM_MMIO && !strcmp(r->name, "ioapic"));
	r = memory_map_find(&m, 0xd0000000);
	CU_ASSERT(r && r->kind == MEM_MMIO && !strcmp(r->name, "pci-window"));
	CU_ASSERT_PTR_NULL(memory_map_find(&m, 0xfffffff0));	/* no ROM given */
	CU_ASSERT_PTR_NULL(memory_map_find(&m, 5 * GiB));
}

static void test_sizes_below_split(void)
{
	struct memory_map m;
	struct mem_slot s[MEMMAP_MAX_REGIONS];

	/* 3 GiB and 3500 MiB: everything below the hole, one slot */
	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 3 * GiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(slots(&m, s), 1);
	CU_ASSERT_EQUAL(m.ram_above_4g, 0);
	CU_ASSERT_EQUAL(memory_map_find(&m, 3 * GiB)->kind, MEM_MMIO);
	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 3500 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(slots(&m, s), 1);
	CU_ASSERT_EQUAL(s[0].size, 3500 * MiB);
	CU_ASSERT_EQUAL(memory_map_find(&m, 3500 * MiB - 1)->kind, MEM_RAM);
	CU_ASSERT_STRING_EQUAL(memory_map_find(&m, 3500 * MiB)->name, "pci-window");
}

static void test_5000m_splits(void)
{
	struct memory_map m;
	struct mem_slot s[MEMMAP_MAX_REGIONS];
	struct e820_entry e[MEMMAP_MAX_REGIONS];

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 5000 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.ram_below_4g, 3 * GiB);
	CU_ASSERT_EQUAL(m.ram_above_4g, 5000 * MiB - 3 * GiB);
	CU_ASSERT_EQUAL(m.memfd_size, 5000 * MiB);
	CU_ASSERT_EQUAL_FATAL(slots(&m, s), 2);
	CU_ASSERT(s[0].gpa == 0 && s[0].size == 3 * GiB && s[0].memfd_offset == 0);
	CU_ASSERT(s[1].gpa == 4 * GiB && s[1].size == 5000 * MiB - 3 * GiB &&
		  s[1].memfd_offset == 3 * GiB && !s[1].readonly);
	CU_ASSERT_EQUAL_FATAL(memory_map_e820(&m, e, MEMMAP_MAX_REGIONS), 4);
	CU_ASSERT(e[2].addr == MiB && e[2].size == 3 * GiB - MiB);
	CU_ASSERT(e[3].addr == 4 * GiB && e[3].size == 5000 * MiB - 3 * GiB &&
		  e[3].type == E820_USABLE);
	/* mem_upper stops at the hole */
	CU_ASSERT_EQUAL(memory_map_upper_ram(&m), 3 * GiB - MiB);
	CU_ASSERT_STRING_EQUAL(memory_map_find(&m, 3 * GiB)->name, "pci-window");
	CU_ASSERT_STRING_EQUAL(memory_map_find(&m, 4 * GiB + 5)->name, "ram-high");
	CU_ASSERT_EQUAL(memory_map_backed_end(&m), 4 * GiB + 5000 * MiB - 3 * GiB);
	/* exactly 3.5 GiB splits too */
	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 3584 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m.ram_above_4g, 512 * MiB);
}

static void test_build_refuses(void)
{
	struct memory_map m;

	CU_ASSERT_EQUAL(memory_map_build_pc(&m, MiB, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_build_pc(&m, 4 * MiB + 1, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_build_pc(&m, 64 * GiB, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not fit"));
	CU_ASSERT_EQUAL(memory_map_build_pc(&m, 60 * GiB, err, sizeof(err)), 0);
}

static void test_rom_bios_placement(void)
{
	struct memory_map m;
	struct mem_slot s[MEMMAP_MAX_REGIONS];
	struct e820_entry e[MEMMAP_MAX_REGIONS];
	uint64_t off;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 128 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(memory_map_add_rom(&m, 4 * GiB - 0x40000, 0x40000, "bios", &off,
						 err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(off, 128 * MiB);		/* after the RAM in the memfd */
	CU_ASSERT_EQUAL(m.memfd_size, 128 * MiB + 0x40000);
	CU_ASSERT_EQUAL_FATAL(memory_map_alias_rom(&m, 0xe0000, 0x20000, off + 0x20000,
						   "bios-legacy", err, sizeof(err)), 0);
	const struct mem_region *r = memory_map_find(&m, 0xfffffff0);
	CU_ASSERT(r && r->kind == MEM_ROM && r->memfd_offset == off);
	r = memory_map_find(&m, 0xffff0);
	CU_ASSERT(r && r->kind == MEM_ROM && r->memfd_offset + (0xffff0 - r->gpa) ==
		  off + 0x3fff0);			/* the same byte as 0xfffffff0 */
	CU_ASSERT_EQUAL(memory_map_find(&m, 0xdffff)->kind, MEM_RAM);
	/* slots: RAM below the alias, the alias, RAM, the ROM */
	CU_ASSERT_EQUAL_FATAL(slots(&m, s), 4);
	CU_ASSERT(s[0].gpa == 0 && s[0].size == 0xe0000 && !s[0].readonly);
	CU_ASSERT(s[1].gpa == 0xe0000 && s[1].size == 0x20000 && s[1].readonly &&
		  s[1].memfd_offset == off + 0x20000);
	CU_ASSERT(s[2].gpa == MiB && s[2].memfd_offset == MiB && !s[2].readonly);
	CU_ASSERT(s[3].gpa == 4 * GiB - 0x40000 && s[3].readonly && s[3].memfd_offset == off);
	/* e820: the alias and the ROM reserved */
	CU_ASSERT_EQUAL_FATAL(memory_map_e820(&m, e, MEMMAP_MAX_REGIONS), 4);
	CU_ASSERT(e[1].addr == 0xe0000 && e[1].size == 0x20000 && e[1].type == E820_RESERVED);
	CU_ASSERT(e[3].addr == 4 * GiB - 0x40000 && e[3].size == 0x40000 &&
		  e[3].type == E820_RESERVED);
}

static void test_rom_refusals(void)
{
	struct memory_map m;
	uint64_t off;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 128 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0x200000, 0x1000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "overlaps ram-low"));
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xfee00000, 0x1000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "overlaps local-apic"));
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xfebff000, 0x2000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "overlaps ioapic"));
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xfff00100, 0x1000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xfff00000, 0x1001, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xfff00000, 0x80000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 4 * GiB, 0x1000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 4 * GiB - 0x1000, 0x2000, "r", &off, err,
					   sizeof(err)), -1);
	/* nothing changed by the refusals */
	CU_ASSERT_EQUAL(m.memfd_size, 128 * MiB);
	/* the PCI window gives way; a second ROM on the first does not */
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xd0000000, 0x10000, "opt", &off, err,
					   sizeof(err)), 0);
	CU_ASSERT_EQUAL(memory_map_find(&m, 0xd0000000)->kind, MEM_ROM);
	CU_ASSERT_STRING_EQUAL(memory_map_find(&m, 0xcfffffff)->name, "pci-window");
	CU_ASSERT_STRING_EQUAL(memory_map_find(&m, 0xd0010000)->name, "pci-window");
	CU_ASSERT_EQUAL(memory_map_add_rom(&m, 0xd000f000, 0x2000, "r", &off, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "overlaps opt"));
	/* an alias only replaces legacy-area RAM */
	CU_ASSERT_EQUAL(memory_map_alias_rom(&m, 0x90000, 0x10000, off, "a", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(memory_map_alias_rom(&m, 0xf8000, 0x10000, off, "a", err, sizeof(err)), -1);
}

static void test_sorted_and_disjoint(void)
{
	struct memory_map m;
	uint64_t off;

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&m, 5000 * MiB, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(memory_map_add_rom(&m, 4 * GiB - 0x10000, 0x10000, "bios", &off,
						 err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(memory_map_alias_rom(&m, 0xf0000, 0x10000, off, "bios-legacy",
						   err, sizeof(err)), 0);
	for (unsigned i = 1; i < m.nr; i++)
		CU_ASSERT(m.r[i - 1].gpa + m.r[i - 1].size <= m.r[i].gpa);
	CU_ASSERT_EQUAL(off, 5000 * MiB);
}

UNIT_SUITE(memory_map, NULL, NULL,
	   UNIT_TEST(test_default_128m),
	   UNIT_TEST(test_lookup),
	   UNIT_TEST(test_sizes_below_split),
	   UNIT_TEST(test_5000m_splits),
	   UNIT_TEST(test_build_refuses),
	   UNIT_TEST(test_rom_bios_placement),
	   UNIT_TEST(test_rom_refusals),
	   UNIT_TEST(test_sorted_and_disjoint))

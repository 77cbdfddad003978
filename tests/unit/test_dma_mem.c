/* dma_mem: what a device doing DMA may reach of guest RAM, and what it
 * may not (vmm/dma_mem.h). */
#include <string.h>
#include "unit.h"
#include "fake_guest_ram.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static void test_inside_ram(void)
{
	struct fake_guest_ram g;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];

	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&g, 16 * MiB, false), 0);
	CU_ASSERT_PTR_EQUAL(dma_ptr(&g.mem, 0x200000, 8, true), g.backing + 0x200000);
	CU_ASSERT_EQUAL(dma_write(&g.mem, 0x200000, buf, 8), 0);
	CU_ASSERT_EQUAL(g.nr_written, 1);
	CU_ASSERT(fake_guest_ram_was_written(&g, 0x200000, 8));
	CU_ASSERT_EQUAL(dma_read(&g.mem, 0x200000, back, 8), 0);
	CU_ASSERT_EQUAL(memcmp(buf, back, 8), 0);
	CU_ASSERT_EQUAL(g.nr_written, 1);	/* reads announce nothing */
	/* the last byte of RAM, and one past it */
	CU_ASSERT_PTR_NOT_NULL(dma_ptr(&g.mem, 16 * MiB - 1, 1, true));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 16 * MiB - 1, 2, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 16 * MiB, 1, false));
	CU_ASSERT_EQUAL(dma_write(&g.mem, 16 * MiB - 4, buf, 8), -1);
	CU_ASSERT_EQUAL(g.nr_written, 1);	/* a refused write moves nothing */
	fake_guest_ram_fini(&g);
}

/* Low RAM is several regions of the map (conventional, EBDA, ...) on
 * contiguous memfd bytes: a buffer may span them. */
static void test_across_low_regions(void)
{
	struct fake_guest_ram g;

	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&g, 16 * MiB, false), 0);
	CU_ASSERT_PTR_EQUAL(dma_ptr(&g.mem, MEMMAP_CONVENTIONAL_END - 8, 16, true),
			    g.backing + MEMMAP_CONVENTIONAL_END - 8);
	CU_ASSERT_PTR_NOT_NULL(dma_ptr(&g.mem, 0, 16 * MiB, true));
	fake_guest_ram_fini(&g);
}

static void test_len_zero_and_wrap(void)
{
	struct fake_guest_ram g;
	uint8_t b = 0;

	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&g, 16 * MiB, false), 0);
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0x1000, 0, false));
	CU_ASSERT_EQUAL(dma_read(&g.mem, 0x1000, &b, 0), 0);	/* nothing to move */
	CU_ASSERT_EQUAL(dma_write(&g.mem, 0x1000, &b, 0), 0);
	CU_ASSERT_EQUAL(g.nr_written, 0);
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, UINT64_MAX - 3, 8, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0x1000, UINT64_MAX, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, UINT64_MAX, 1, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0x1000, 1ull << 63, false));
	fake_guest_ram_fini(&g);
}

static void test_mmio_holes(void)
{
	struct fake_guest_ram g;

	/* 4 GiB: 3 GiB below the PCI hole, 1 GiB from 4 GiB (never touched) */
	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&g, 4 * GiB, false), 0);
	CU_ASSERT_PTR_NOT_NULL(dma_ptr(&g.mem, 3 * GiB - 8, 8, true));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 3 * GiB - 8, 16, false));	/* into the hole */
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0xd0000000, 4, false));	/* PCI window */
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, MEMMAP_IOAPIC, 4, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, MEMMAP_LAPIC + 0x30, 4, false));
	CU_ASSERT_PTR_NOT_NULL(dma_ptr(&g.mem, 4 * GiB, 8, true));	/* high RAM */
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 4 * GiB - 8, 16, false));	/* hole then RAM */
	CU_ASSERT_PTR_NOT_NULL(dma_ptr(&g.mem, 5 * GiB - 8, 8, false));
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 5 * GiB - 8, 9, false));
	fake_guest_ram_fini(&g);
}

static void test_rom(void)
{
	struct fake_guest_ram g;
	uint8_t b = 0x5a, back = 0;

	CU_ASSERT_EQUAL_FATAL(fake_guest_ram_init(&g, 16 * MiB, true), 0);
	g.backing[g.rom_offset + 0x10] = 0xa5;
	/* read, at both addresses; never written */
	CU_ASSERT_EQUAL(dma_read(&g.mem, MEMMAP_4G - FAKE_ROM_SIZE + 0x10, &back, 1), 0);
	CU_ASSERT_EQUAL(back, 0xa5);
	CU_ASSERT_PTR_EQUAL(dma_ptr(&g.mem, 0xe0010, 1, false), g.backing + g.rom_offset + 0x10);
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0xe0010, 1, true));
	CU_ASSERT_EQUAL(dma_write(&g.mem, MEMMAP_4G - FAKE_ROM_SIZE + 0x10, &b, 1), -1);
	CU_ASSERT_EQUAL(g.backing[g.rom_offset + 0x10], 0xa5);
	CU_ASSERT_EQUAL(g.nr_written, 0);
	/* RAM running into the aliased ROM: other memfd bytes, refused */
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, 0xdfff8, 16, false));
	/* ROM running into the end of 4 GiB */
	CU_ASSERT_PTR_NULL(dma_ptr(&g.mem, MEMMAP_4G - 4, 8, false));
	fake_guest_ram_fini(&g);
}

static void test_no_map(void)
{
	struct dma_mem none = { 0 };

	CU_ASSERT_PTR_NULL(dma_ptr(&none, 0x1000, 4, false));
	CU_ASSERT_PTR_NULL(dma_ptr(NULL, 0x1000, 4, false));
	dma_written(NULL, 0, 4);	/* no listener: nothing happens */
}

UNIT_SUITE(dma_mem, NULL, NULL,
	   UNIT_TEST(test_inside_ram),
	   UNIT_TEST(test_across_low_regions),
	   UNIT_TEST(test_len_zero_and_wrap),
	   UNIT_TEST(test_mmio_holes),
	   UNIT_TEST(test_rom),
	   UNIT_TEST(test_no_map))

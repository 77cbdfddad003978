/* The fake guest RAM of fake_guest_ram.h. */
#include <string.h>
#include <sys/mman.h>
#include "fake_guest_ram.h"

static void record_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fake_guest_ram *g = ctx;

	if (g->nr_written < FAKE_RAM_MAX_WRITTEN) {
		g->written[g->nr_written].gpa = gpa;
		g->written[g->nr_written].len = len;
	}
	g->nr_written++;
}

int fake_guest_ram_init(struct fake_guest_ram *g, uint64_t ram_bytes, bool with_rom)
{
	char err[256];

	memset(g, 0, sizeof(*g));
	if (memory_map_build_pc(&g->map, ram_bytes, err, sizeof(err)) < 0)
		return -1;
	if (with_rom &&
	    (memory_map_add_rom(&g->map, MEMMAP_4G - FAKE_ROM_SIZE, FAKE_ROM_SIZE, "rom",
				&g->rom_offset, err, sizeof(err)) < 0 ||
	     memory_map_alias_rom(&g->map, 0xe0000, FAKE_ROM_SIZE, g->rom_offset, "rom-alias",
				  err, sizeof(err)) < 0))
		return -1;
	g->backing = mmap(NULL, g->map.memfd_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->backing == MAP_FAILED) {
		g->backing = NULL;
		return -1;
	}
	g->mem = (struct dma_mem){ &g->map, g->backing, record_written, g };
	return 0;
}

void fake_guest_ram_fini(struct fake_guest_ram *g)
{
	if (g->backing)
		munmap(g->backing, g->map.memfd_size);
	g->backing = NULL;
}

uint8_t *fake_guest_ram_host(struct fake_guest_ram *g, uint64_t gpa)
{
	const struct mem_region *r = memory_map_find(&g->map, gpa);

	return r && r->kind != MEM_MMIO ? g->backing + r->memfd_offset + (gpa - r->gpa) : NULL;
}

bool fake_guest_ram_was_written(const struct fake_guest_ram *g, uint64_t gpa, uint64_t len)
{
	unsigned n = g->nr_written < FAKE_RAM_MAX_WRITTEN ? g->nr_written : FAKE_RAM_MAX_WRITTEN;

	for (unsigned i = 0; i < n; i++)
		if (g->written[i].gpa <= gpa && gpa + len <= g->written[i].gpa + g->written[i].len)
			return true;
	return false;
}

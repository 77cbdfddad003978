/* Bounds-checked DMA access to guest RAM; see dma_mem.h. */
#include <string.h>
#include "vmm/dma_mem.h"
#include "vmm/memory_map.h"

void *dma_ptr(const struct dma_mem *m, uint64_t gpa, uint64_t len, bool write)
{
	if (!m || !m->map || !m->backing || len == 0 || gpa + len < gpa)
		return NULL;
	const struct mem_region *r = memory_map_find(m->map, gpa);
	if (!r || r->kind == MEM_MMIO || (write && r->kind != MEM_RAM))
		return NULL;
	uint8_t *host = m->backing + r->memfd_offset + (gpa - r->gpa);
	/* The map splits low RAM into regions (conventional, EBDA, high);
	 * a buffer may run on into the next one when its bytes follow in
	 * the memfd too. */
	uint64_t end = gpa + len;
	while (end > r->gpa + r->size) {
		const struct mem_region *next = memory_map_find(m->map, r->gpa + r->size);
		if (!next || next->kind == MEM_MMIO || (write && next->kind != MEM_RAM) ||
		    next->memfd_offset != r->memfd_offset + r->size)
			return NULL;
		r = next;
	}
	return host;
}

int dma_read(const struct dma_mem *m, uint64_t gpa, void *dst, size_t len)
{
	if (len == 0)
		return 0;
	const void *p = dma_ptr(m, gpa, len, false);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int dma_write(const struct dma_mem *m, uint64_t gpa, const void *src, size_t len)
{
	if (len == 0)
		return 0;
	void *p = dma_ptr(m, gpa, len, true);
	if (!p)
		return -1;
	memcpy(p, src, len);
	dma_written(m, gpa, len);
	return 0;
}

void dma_written(const struct dma_mem *m, uint64_t gpa, uint64_t len)
{
	if (m && m->written && len)
		m->written(m->written_ctx, gpa, len);
}

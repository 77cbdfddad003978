/*
 * Guest RAM as a device doing DMA sees it: every access names a guest-
 * physical range and is checked against the memory map before a byte
 * moves. A range that is not wholly inside one RAM region (MMIO hole, ROM
 * for a write, past the end, wrapping) fails; nothing outside the guest's
 * RAM is ever read or written, whatever a guest puts in a descriptor.
 *
 * Writes are announced to the engine (engine_ops.ram_written): bt keeps
 * translated code and shadow page tables built from RAM, and a DMA write
 * bypasses the write protection it learns of guest writes by. Devices
 * doing DMA from another thread must call dma_written() on the vCPU
 * thread before they raise the interrupt that completes the request (the
 * guest cannot use the bytes before it), so the engine never sees a
 * concurrent call.
 */
#ifndef HYVM_DMA_MEM_H
#define HYVM_DMA_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memory_map;

struct dma_mem {
	const struct memory_map *map;
	uint8_t *backing;	/* the memfd, mapped once */
	/* Told of every range written through this accessor (see above);
	 * NULL: nobody listens (tests, no engine yet). */
	void (*written)(void *ctx, uint64_t gpa, uint64_t len);
	void *written_ctx;
};

/* The host address of [gpa, gpa + len) when the range lies wholly in one
 * RAM region (or ROM too, when !write); NULL otherwise. len 0 is refused.
 * A caller that writes through the pointer must call dma_written. */
void *dma_ptr(const struct dma_mem *m, uint64_t gpa, uint64_t len, bool write);
/* Copies; 0 on success, -1 when the range is not wholly RAM (then nothing
 * moved). dma_write announces the range. */
int dma_read(const struct dma_mem *m, uint64_t gpa, void *dst, size_t len);
int dma_write(const struct dma_mem *m, uint64_t gpa, const void *src, size_t len);
void dma_written(const struct dma_mem *m, uint64_t gpa, uint64_t len);

#endif

/*
 * Guest memory as gdb addresses it: virtual (linear) addresses translated
 * through the guest's current page tables (x86/page_walk.c), then RAM
 * through the memory map's checks (vmm/dma_mem.h). A debugger looks
 * without touching: the walk sets no accessed or dirty bit, and its
 * writes ignore the pages' write protection (gdb writes into code), are
 * refused outside RAM (no device register is read or written behind the
 * guest's back) and are announced to the engine like a DMA write.
 */
#ifndef HYVM_GDB_MEM_H
#define HYVM_GDB_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <hyvm/cpu_state.h>
#include "vmm/dma_mem.h"

/* 0, or -1 when some byte is unmapped or not RAM (gdb's E14 then); a
 * read that fails part-way may have filled the bytes before. */
int gdb_mem_read(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		 uint8_t *buf, size_t len);
int gdb_mem_write(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		  const uint8_t *buf, size_t len);

#endif

/*
 * Guest memory as the C side sees it (callouts, exception delivery, the
 * translator's instruction fetch): linear addresses go through the guest
 * page tables when paging is on, then to the VMM's mapping of RAM. Writes
 * here do not fault, so they check for translated code themselves.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/soft_tlb.h"

int mem_linear_to_phys(struct bt_cpu *cpu, uint32_t lin, bool write, bool user,
		       uint32_t *phys, bool raise)
{
	if (!(cpu->arch.cr0 & CR0_PG)) {
		*phys = (uint32_t)phys_a20(cpu->vm, lin);
		return 0;
	}
	return mmu_translate(cpu, lin, write ? MMU_WRITE : 0, user, phys, raise);
}

void mem_note_phys_write(struct bt_vm *vm, uint64_t phys, unsigned len)
{
	for (uint64_t p = phys >> 12; p <= (phys + len - 1) >> 12; p++) {
		if (p >= vm->ram_size >> 12)
			break;
		if (vm->code_pages[p]) {
			vm->hooks.code_page_written(vm, (uint32_t)p);
			view_unprotect_code_page(vm, (uint32_t)p);
		}
	}
	shadow_phys_written(vm, phys, len);
}

/* A copy of the sizes descriptor, gate and stack accesses have, by a
 * fixed-size move: a variable-length memcpy compiled to REP MOVS, whose
 * start-up was most of mem_access_as's samples on an INT 0x80 round trip
 * (docs/perf/bt-exits.md, 2026-12-04). */
static inline void copy_small(void *dst, const void *src, unsigned len)
{
	switch (len) {
	case 1: memcpy(dst, src, 1); break;
	case 2: memcpy(dst, src, 2); break;
	case 4: memcpy(dst, src, 4); break;
	case 8: memcpy(dst, src, 8); break;
	default: memcpy(dst, src, len); break;
	}
}

int mem_access_as(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, bool write,
		  bool user, bool raise)
{
	while (len) {
		unsigned chunk = 4096 - (lin & 4095);
		uint32_t phys;
		if (chunk > len)
			chunk = len;
		if (cpu->arch.cr0 & CR0_PG) {
			/* plain RAM through the soft TLB (soft_tlb.c): no
			 * code or page-table page is written this way */
			bool fault;
			uint8_t *fast = soft_tlb_host(cpu, lin, write, user, raise, &fault);
			if (fault)
				return -1;
			if (fast) {
				if (write)
					copy_small(fast, buf, chunk);
				else
					copy_small(buf, fast, chunk);
				lin += chunk;
				buf = (uint8_t *)buf + chunk;
				len -= chunk;
				continue;
			}
		}
		if (mem_linear_to_phys(cpu, lin, write, user, &phys, raise))
			return -1;
		/* unbacked: reads all-ones, writes dropped; ROM: writes dropped */
		uint8_t *host = phys_host(cpu->vm, phys, chunk, write);
		if (!host) {
			if (!write)
				memset(buf, 0xff, chunk);
		} else if (write) {
			copy_small(host, buf, chunk);
			mem_note_phys_write(cpu->vm, phys, chunk);
		} else {
			copy_small(buf, host, chunk);
		}
		lin += chunk;
		buf = (uint8_t *)buf + chunk;
		len -= chunk;
	}
	return 0;
}

static int mem_access(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, bool write,
		      bool raise)
{
	return mem_access_as(cpu, lin, buf, len, write, bt_cpl(cpu) == 3, raise);
}

int mem_read(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len)
{
	return mem_access(cpu, lin, buf, len, false, true);
}

int mem_write(struct bt_cpu *cpu, uint32_t lin, const void *buf, unsigned len)
{
	return mem_access(cpu, lin, (void *)buf, len, true, true);
}

/* Instruction bytes: as many as are readable (no exception raised), for
 * the decoder; the caller raises the fault if the instruction needs more. */
int mem_fetch(struct bt_cpu *cpu, uint32_t lin, void *buf, unsigned len, unsigned *got)
{
	*got = 0;
	while (*got < len) {
		unsigned chunk = 4096 - (lin & 4095);
		if (chunk > len - *got)
			chunk = len - *got;
		if (mem_access(cpu, lin, (uint8_t *)buf + *got, chunk, false, false))
			break;
		*got += chunk;
		lin += chunk;
	}
	return *got ? 0 : -1;
}

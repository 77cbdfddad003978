/*
 * REP MOVS and REP STOS through the soft TLB: the string instruction at
 * a soft-TLB site (its accesses kept faulting on the view: memory/
 * soft_tlb.c) calls this from its block (translate/string_stlb_emit.c)
 * before running natively. Linux's clear_page (REP STOSL), copy_page and
 * copy_user (REP MOVSL/MOVSB) touch pages the current address space's
 * views have not mapped, a host fault and an mmap each time: ~20 of a
 * fork+exec's ~65 shadow fills. Here each page's part is one memset or
 * memcpy on guest RAM through the soft TLB's host address.
 *
 * What it may do is what the instruction's first iterations do (SDM Vol.
 * 2B, REP; Vol. 1 7.3.9.1): element by element, ECX, ESI and EDI
 * advanced as it goes, and it stops, leaving the rest to the native
 * instruction with the registers as far as it got, at anything it does
 * not do: DF set, a segment with a base or a limit, an element across a
 * page, and whatever the soft TLB gives no host address for (a page not
 * present or not allowed, whose #PF the native instruction then raises
 * at that element as the processor would; MMIO and ROM; a write to code
 * or a page table, which the view's paths must see). A REP string
 * instruction is interruptible between iterations with exactly that
 * state (Vol. 3A 6.6), so the split is invisible.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/memory/memory.h"
#include "bt/memory/soft_tlb.h"

static bool flat(const struct hyvm_segment *s)
{
	return !s->base && (uint32_t)s->limit == 0xffffffffu;
}

/* One page's part of a MOVS: element by element when the destination
 * overlaps the source ahead of it (each element reads what an earlier
 * one wrote), else as memmove, which is the same thing then. */
static void move(uint8_t *dst, const uint8_t *src, uint32_t len, unsigned size)
{
	if (dst > src && dst < src + len) {
		for (uint32_t i = 0; i < len; i += size)
			memmove(dst + i, src + i, size);
		return;
	}
	memmove(dst, src, len);
}

static void store(uint8_t *dst, uint32_t value, uint32_t len, unsigned size)
{
	uint32_t b = value & 0xff;

	if (size == 1 || value == (size == 2 ? b * 0x0101u : b * 0x01010101u)) {
		memset(dst, (int)b, len);	/* every byte the same */
		return;
	}
	for (uint32_t i = 0; i < len; i += size)
		memcpy(dst + i, &value, size);
}

void soft_tlb_string(struct bt_cpu *cpu, uint32_t op)
{
	unsigned size = op & BT_STR_SIZE, src_seg = (op >> BT_STR_SEG_SHIFT) & 7;
	bool movs = op & BT_STR_MOVS, user = bt_cpl(cpu) == 3, fault;
	uint32_t mask = size == 1 ? 0xffu : size == 2 ? 0xffffu : 0xffffffffu;

	cpu->stlb_call_ok = 0;
	if (!(cpu->arch.cr0 & CR0_PG) || (cpu->host_flags & EFLAGS_DF) ||
	    !flat(&cpu->arch.seg[HYVM_ES]) || (movs && !flat(&cpu->arch.seg[src_seg])))
		return;
	while (cpu->gpr[HYVM_RCX]) {
		uint32_t di = cpu->gpr[HYVM_RDI], si = cpu->gpr[HYVM_RSI];
		uint32_t room = 4096 - (di & 0xfff);
		if (movs && 4096 - (si & 0xfff) < room)
			room = 4096 - (si & 0xfff);
		uint32_t count = room / size < cpu->gpr[HYVM_RCX] ? room / size : cpu->gpr[HYVM_RCX];
		if (!count)
			return;		/* an element across a page */
		uint8_t *dst = soft_tlb_host(cpu, di, true, user, false, &fault), *src = NULL;
		if (!dst || (movs && !(src = soft_tlb_host(cpu, si, false, user, false, &fault))))
			return;
		if (movs)
			move(dst, src, count * size, size);
		else
			store(dst, cpu->gpr[HYVM_RAX] & mask, count * size, size);
		cpu->gpr[HYVM_RCX] -= count;
		cpu->gpr[HYVM_RDI] = di + count * size;
		if (movs)
			cpu->gpr[HYVM_RSI] = si + count * size;
		cpu->stats.stlb_string_pages++;
	}
	cpu->stlb_call_ok = 1;
}

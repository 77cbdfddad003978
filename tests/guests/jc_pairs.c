/* Indirect branches whose targets share a slot of bt's jump cache (a
 * two-way cache of guest eip -> translated code, looked up by translated
 * code: bt/translate/jump_cache.c and runtime.c's "indirect"). Three
 * routines, "mov eax, N; ret", are copied to 0x300100, 0x308100 and
 * 0x310000, whose slots are the same pair (jc_slot: twice eip plus its
 * byte-swapped high half, 16 bits), and called through a register in an
 * order that makes each take the other's way: every call must return its
 * own N. Then the third is rewritten (self-modifying code: its block dies
 * and its slot goes) and called between the others: the new N, and the
 * others' still. Without paging; the same in every engine and QEMU. */
#include "guest.h"

GUEST("jc_pairs", "");

#define ROUNDS 300
static const uint32_t at[3] = { 0x300100, 0x308100, 0x310000 };

static void put_routine(uint32_t addr, uint32_t n)
{
	volatile uint8_t *p = (volatile uint8_t *)addr;

	p[0] = 0xb8;	/* mov eax, imm32 */
	p[1] = (uint8_t)n;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)(n >> 16);
	p[4] = (uint8_t)(n >> 24);
	p[5] = 0xc3;	/* ret */
}

__attribute__((noinline)) static uint32_t call_at(uint32_t addr)
{
	uint32_t r;

	asm volatile("call *%1" : "=a"(r) : "r"(addr) : "ecx", "edx", "memory", "cc");
	return r;
}

void guest_main(const struct mb_info *mbi)
{
	static const uint8_t order[6][3] = {
		{ 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 }, { 0, 2, 1 }, { 2, 0, 1 }, { 1, 2, 0 },
	};
	uint32_t bad = 0, last_bad = 0;

	check_begin("shared_slot");
	for (int k = 0; k < 3; k++)
		put_routine(at[k], 0x1000 + (uint32_t)k);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < 3; i++) {
			int k = order[r % 6][i];
			uint32_t got = call_at(at[k]);
			if (got != 0x1000 + (uint32_t)k) {
				bad++;
				last_bad = got;
			}
		}
	check(bad == 0, "%u of %u calls returned another routine's value (last %x)", bad, 3 * ROUNDS,
	      last_bad);
	check_end();

	check_begin("rewritten");
	bad = 0;
	put_routine(at[2], 0x2002);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < 3; i++) {
			int k = order[r % 6][i];
			uint32_t want = k == 2 ? 0x2002 : 0x1000 + (uint32_t)k;
			uint32_t got = call_at(at[k]);
			if (got != want) {
				bad++;
				last_bad = got;
			}
		}
	check(bad == 0, "%u of %u calls after the rewrite wrong (last %x)", bad, 3 * ROUNDS, last_bad);
	check_end();
}

/* Hostile: code rewritten in a loop for as long as it takes a translator
 * to pile up dead translations. Three storms, STORM_ITER rounds each:
 * a routine that patches its own immediate, a code buffer whose body
 * alternates between two routines, and INT 0x80 into a handler whose
 * code page is rewritten by each interrupt (fault, IRET, write into the
 * code page). tests/hostile/run.sh checks hyvm's peak RSS against its
 * bound; results are checked too, so a translator that stops
 * invalidating fails here as well. */
#include "guest.h"

GUEST("smc_storm", "soft-int-cpl0");

#define STORM_ITER 50000

extern uint32_t storm_patch(uint32_t v) __attribute__((regparm(1)));
asm(".data\n"
    ".globl storm_patch\n"
    "storm_patch:\n\t"
    "movl %eax, storm_patch_imm\n\t"
    ".byte 0xb8\n"
    "storm_patch_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    ".text\n");

static uint8_t buffer[64] __attribute__((aligned(64)));
static volatile uint32_t irq_count;

static void on_int80(struct trap_frame *tf)
{
	irq_count++;
	/* rewrite the code page the next call runs */
	buffer[32 + 1] = (uint8_t)irq_count;
}

void guest_main(const struct mb_info *mbi)
{
	static const uint8_t body[2][5] = {
		{ 0x8d, 0x44, 0x40, 0x05, 0xc3 },	/* lea 5(%eax,%eax,2),%eax; ret */
		{ 0xf7, 0xd8, 0x90, 0x90, 0xc3 },	/* neg %eax; nop; nop; ret */
	};
	unsigned wrong = 0;

	check_begin("self_patch");
	for (uint32_t i = 0; i < STORM_ITER; i++)
		if (storm_patch(i * 0x01010101u) != i * 0x01010101u)
			wrong++;
	check_eq("stale immediates", wrong, 0);
	check_end();

	check_begin("alternate_bodies");
	wrong = 0;
	for (uint32_t i = 0; i < STORM_ITER; i++) {
		uint32_t r;
		memcpy(buffer, body[i & 1], 5);
		asm volatile("call *%1" : "=a"(r) : "r"(buffer), "a"(i) : "memory", "ecx", "edx");
		if (r != (i & 1 ? -i : 3 * i + 5))
			wrong++;
	}
	check_eq("stale bodies", wrong, 0);
	check_end();

	check_begin("int80_rewrite");
	static const uint8_t movb[3] = { 0xb0, 0x00, 0xc3 };	/* mov $imm8, %al; ret */
	memcpy(buffer + 32, movb, 3);
	trap_set_handler(0x80, on_int80);
	wrong = 0;
	for (uint32_t i = 0; i < STORM_ITER; i++) {
		uint32_t r;
		asm volatile("int $0x80" ::: "memory");
		asm volatile("call *%1" : "=a"(r) : "r"(buffer + 32), "a"(0) : "memory", "ecx", "edx");
		if ((uint8_t)r != (uint8_t)irq_count)
			wrong++;
	}
	check_eq("stale handler writes", wrong, 0);
	check_end();

	/* INT 0x80 alone: nothing to invalidate, nothing may pile up. */
	check_begin("int80_storm");
	uint32_t before = irq_count;
	for (uint32_t i = 0; i < 4 * STORM_ITER; i++)
		asm volatile("int $0x80" ::: "memory");
	check_eq("interrupts taken", irq_count - before, 4 * STORM_ITER);
	check_end();
}

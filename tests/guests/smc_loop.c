/* Code rewritten every iteration: a routine that stores into the
 * immediate of its own next instruction (same block, same page as the
 * store), run a thousand times with a new value each time; and a code
 * buffer whose body alternates between two routines every iteration.
 * A translator that misses one store returns a stale value. */
#include "guest.h"

GUEST("smc_loop", "");

#define ITER 1000

/* self_patch(v): stores v into the imm32 of its own "mov $imm, %eax"
 * and returns what that instruction then loads. */
extern uint32_t self_patch(uint32_t v) __attribute__((regparm(1)));
asm(".data\n"
    ".globl self_patch\n"
    "self_patch:\n\t"
    "movl %eax, self_patch_imm\n\t"
    ".byte 0xb8\n"
    "self_patch_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    ".text\n");

static void patch_own_immediate(void)
{
	unsigned wrong = 0;
	check_begin("patch_own_immediate");
	for (uint32_t i = 0; i < ITER; i++) {
		uint32_t v = i * 0x01010101u + 0x10203;
		if (self_patch(v) != v)
			wrong++;
	}
	check(wrong == 0, "%u of %u calls ran a stale immediate", wrong, ITER);
	check_end();
}

static void alternate_bodies(void)
{
	static uint8_t buffer[16] __attribute__((aligned(16)));
	/* lea 5(%eax,%eax,2),%eax; ret  and  neg %eax; nop; nop; ret */
	static const uint8_t body[2][5] = {
		{ 0x8d, 0x44, 0x40, 0x05, 0xc3 },
		{ 0xf7, 0xd8, 0x90, 0x90, 0xc3 },
	};
	unsigned wrong = 0;
	check_begin("alternate_bodies");
	for (uint32_t i = 0; i < ITER; i++) {
		uint32_t r;
		memcpy(buffer, body[i & 1], 5);
		asm volatile("call *%1" : "=a"(r) : "r"(buffer), "a"(i) : "memory", "ecx", "edx");
		if (r != (i & 1 ? -i : 3 * i + 5))
			wrong++;
	}
	check(wrong == 0, "%u of %u calls ran the other body", wrong, ITER);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	patch_own_immediate();
	alternate_bodies();
}

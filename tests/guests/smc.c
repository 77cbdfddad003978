/* Self-modifying code: rewrite the immediate of an instruction that has
 * already run, then run it again; rewrite it every iteration of a loop;
 * and jump into code freshly written to a buffer. A translator or a
 * decoded-instruction cache that misses the store returns stale values. */
#include "guest.h"

GUEST("smc", "");

/* patchable_return: "mov $imm32, %eax; ret", with patchable_imm the imm32. */
extern uint8_t patchable_return[], patchable_imm[];
asm(".data\n"                     /* writable: it is rewritten below */
    ".globl patchable_return, patchable_imm\n"
    "patchable_return:\n\t"
    ".byte 0xb8\n"
    "patchable_imm:\n\t"
    ".long 0x11111111\n\t"
    "ret\n"
    ".text\n");

typedef uint32_t (*code_fn)(void);

static void write_imm(uint32_t v)
{
	volatile uint8_t *p = patchable_imm;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void patch_immediate(void)
{
	code_fn f = (code_fn)patchable_return;
	check_begin("patch_immediate");
	check_eq("before the patch", f(), 0x11111111);
	write_imm(0x22222222);
	check_eq("after the patch", f(), 0x22222222);
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < 100; i++) {
		write_imm(i * 0x01010101u);
		if (f() != i * 0x01010101u)
			wrong++;
	}
	check(wrong == 0, "%u of 100 iterations ran a stale immediate", wrong);
	check_end();
}

/* The store and the patched instruction in one straight line of code:
 * the store rewrites the immediate of the very next instruction. */
static void patch_next_instruction(void)
{
	static uint8_t code[32] __attribute__((aligned(16)));
	static const uint8_t template[] = {
		0xc6, 0x05, 0, 0, 0, 0, 0x77, /* movb $0x77, (imm_address) */
		0xb8, 0x00, 0, 0, 0,          /* mov $0x00, %eax: its low byte is patched */
		0xc3,                         /* ret */
	};
	check_begin("patch_next_instruction");
	memcpy(code, template, sizeof(template));
	uint32_t imm_address = (uint32_t)&code[8];
	memcpy(&code[2], &imm_address, 4);
	check_eq("mov after a store into its own immediate", ((code_fn)code)(), 0x77);
	check_end();
}

static void fresh_code(void)
{
	static uint8_t buffer[64] __attribute__((aligned(16)));
	check_begin("jump_into_new_code");
	/* lea 5(%eax,%eax,2), %eax; ret  => 3 * arg + 5, with arg in eax */
	static const uint8_t first[] = { 0x8d, 0x44, 0x40, 0x05, 0xc3 };
	memcpy(buffer, first, sizeof(first));
	uint32_t r;
	asm volatile("call *%1" : "=a"(r) : "r"(buffer), "a"(7u) : "memory", "ecx", "edx");
	check_eq("3*7+5 from new code", r, 26);

	/* The same bytes replaced by different code: not the cached old one. */
	static const uint8_t second[] = { 0xf7, 0xd8, 0x90, 0x90, 0xc3 }; /* neg %eax */
	memcpy(buffer, second, sizeof(second));
	asm volatile("call *%1" : "=a"(r) : "r"(buffer), "a"(7u) : "memory", "ecx", "edx");
	check_eq("neg 7 from rewritten code", r, (uint32_t)-7);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	patch_immediate();
	patch_next_instruction();
	fresh_code();
}

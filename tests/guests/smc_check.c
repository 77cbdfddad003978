/* Code rewritten often enough that bt stops write-protecting its page and
 * translates it as self-checking (bt/translate/smc_check.c: more than 8
 * code-write faults on a page), each rule a hundred rewrites or more, each
 * checking that the NEW bytes run (SDM Vol. 3A 8.1.3):
 *  - a block that rewrites an instruction further on in itself;
 *  - a store into another block on the same page;
 *  - REP MOVS over the code that follows it, and over another routine;
 *  - a write through a second linear alias of the code page;
 *  - a store that straddles two pages into an instruction that does too;
 *  - a page whose code stops changing while data beside it is written
 *    (bt protects it again), then code rewritten again.
 * All of it with paging off and again with paging on. */
#include "guest.h"

GUEST("smc_check", "paging32");

#define ITER 100
#define ALIAS_PDE 300u
#define ALIAS ((ALIAS_PDE << 22))

/* One page of routines rewritten in place (page-aligned in .data):
 *   self_later(v)    stores v into the imm32 of a MOV two instructions on
 *   other_patch(v)   stores v into other_get's imm32
 *   other_get()      returns that imm32
 *   rep_self(esi=src) copies 5 bytes from src over the MOV after its own
 *                    REP MOVSB and runs them
 *   rep_target()     an 8-byte routine rewritten by REP MOVSD from .text
 *   page_data        a word on the same page, data only */
extern uint32_t self_later(uint32_t v) __attribute__((regparm(1)));
extern void other_patch(uint32_t v) __attribute__((regparm(1)));
extern uint32_t other_get(void);
extern uint8_t rep_self[], rep_target[], other_imm[];
extern volatile uint32_t page_data;
asm(".data\n"
    ".p2align 12\n"
    ".globl self_later, other_patch, other_get, other_imm, rep_self, rep_target, page_data\n"
    "self_later:\n\t"
    "movl %eax, self_later_imm\n\t"
    "lea 1(%ecx), %ecx\n\t"
    "nop\n\t"
    ".byte 0xb8\n"
    "self_later_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    "other_patch:\n\t"
    "movl %eax, other_imm\n\t"
    "ret\n"
    "other_get:\n\t"
    ".byte 0xb8\n"
    "other_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    "rep_self:\n\t"
    "movl $rep_self_mov, %edi\n\t"
    "movl $5, %ecx\n\t"
    "cld\n\t"
    "rep movsb\n"
    "rep_self_mov:\n\t"
    ".byte 0xb8\n\t"
    ".long 0\n\t"
    "ret\n"
    "rep_target:\n\t"
    ".byte 0xb8\n\t"
    ".long 0\n\t"
    "ret\n\t"
    ".byte 0, 0\n\t"
    ".p2align 4\n"
    "page_data:\n\t"
    ".long 0\n\t"
    ".p2align 12\n"
    /* straddle_get: mov $imm32, %eax; ret with the MOV's imm32 across the
     * boundary of two pages (2 bytes on each) */
    ".skip 4096 - 3\n"
    ".globl straddle_get, straddle_imm\n"
    "straddle_get:\n\t"
    ".byte 0xb8\n"
    "straddle_imm:\n\t"
    ".long 0\n\t"
    "ret\n\t"
    ".p2align 12\n"
    ".text\n");
extern uint32_t straddle_get(void);
extern uint8_t straddle_imm[];

static uint32_t value(uint32_t i, uint32_t salt)
{
	return i * 0x01030507u + salt;
}

static void later_in_own_block(const char *name)
{
	unsigned wrong = 0;
	check_begin(name);
	for (uint32_t i = 0; i < ITER; i++)
		if (self_later(value(i, 0x100)) != value(i, 0x100))
			wrong++;
	check(wrong == 0, "%u of %u calls ran a stale immediate", wrong, ITER);
	check_end();
}

static void other_block_same_page(const char *name)
{
	unsigned wrong = 0;
	check_begin(name);
	for (uint32_t i = 0; i < ITER; i++) {
		other_patch(value(i, 0x200));
		if (other_get() != value(i, 0x200))
			wrong++;
	}
	check(wrong == 0, "%u of %u calls ran a stale immediate", wrong, ITER);
	check_end();
}

static void rep_movs_over_code(const char *name)
{
	unsigned wrong_self = 0, wrong_other = 0;
	check_begin(name);
	for (uint32_t i = 0; i < ITER; i++) {
		/* mov $v, %eax: copied over rep_self's own next instruction */
		uint8_t mov[5] = { 0xb8 };
		uint32_t v = value(i, 0x300), r;
		memcpy(&mov[1], &v, 4);
		asm volatile("call rep_self" : "=a"(r) : "S"(mov) : "memory", "ecx", "edi");
		if (r != v)
			wrong_self++;
		/* rep_target's 6 bytes (mov $w, %eax; ret; pad) by REP MOVSD */
		uint32_t w = value(i, 0x400), body[2] = { 0xb8 | w << 8, (w >> 24) | 0xc300u };
		uint32_t cnt = 2;
		const uint32_t *src = body;
		uint8_t *dst = rep_target;
		asm volatile("cld; rep movsl" : "+S"(src), "+D"(dst), "+c"(cnt) : : "memory");
		if (((uint32_t (*)(void))rep_target)() != w)
			wrong_other++;
	}
	check(wrong_self == 0, "%u of %u REP MOVSB over the next instruction ran stale code",
	      wrong_self, ITER);
	check(wrong_other == 0, "%u of %u REP MOVSD over a routine ran stale code", wrong_other, ITER);
	check_end();
}

static void store_across_pages(const char *name)
{
	unsigned wrong = 0;
	check_begin(name);
	for (uint32_t i = 0; i < ITER; i++) {
		*(volatile uint32_t *)straddle_imm = value(i, 0x500);
		if (straddle_get() != value(i, 0x500))
			wrong++;
	}
	check(wrong == 0, "%u of %u calls ran a stale immediate", wrong, ITER);
	check_end();
}

/* The code page's data word written while its code runs unchanged: bt's
 * page turns quiet (16,384 entries without a change) and is protected
 * again; then code rewrites must still be seen. */
static void quiet_then_rewritten(const char *name)
{
	unsigned wrong = 0;
	check_begin(name);
	other_patch(0x600);
	for (uint32_t i = 0; i < 40000; i++) {
		page_data = i;
		if (other_get() != 0x600)
			wrong++;
	}
	for (uint32_t i = 0; i < ITER; i++) {
		other_patch(value(i, 0x700));
		if (other_get() != value(i, 0x700))
			wrong++;
	}
	check(wrong == 0, "%u calls ran stale code", wrong);
	check_end();
}

static volatile uint32_t alias_table[1024] __attribute__((aligned(4096)));

/* other_get's page mapped a second time at ALIAS; written there only. */
static void through_alias(void)
{
	volatile uint32_t *alias_imm = (volatile uint32_t *)(ALIAS + ((uint32_t)other_imm & 0xfff));
	unsigned wrong = 0;
	check_begin("through_alias");
	alias_table[0] = ((uint32_t)other_imm & ~0xfffu) | PTE_P | PTE_W;
	paging32_directory[ALIAS_PDE] = (uint32_t)alias_table | PTE_P | PTE_W;
	write_cr3(read_cr3());
	for (uint32_t i = 0; i < ITER; i++) {
		*alias_imm = value(i, 0x800);
		if (other_get() != value(i, 0x800))
			wrong++;
	}
	check(wrong == 0, "%u of %u calls after a write through the alias ran stale code", wrong, ITER);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	later_in_own_block("later_in_own_block");
	other_block_same_page("other_block_same_page");
	rep_movs_over_code("rep_movs_over_code");
	store_across_pages("store_across_pages");
	quiet_then_rewritten("quiet_then_rewritten");
	paging32_enable();
	later_in_own_block("later_in_own_block_paged");
	other_block_same_page("other_block_same_page_paged");
	rep_movs_over_code("rep_movs_over_code_paged");
	store_across_pages("store_across_pages_paged");
	quiet_then_rewritten("quiet_then_rewritten_paged");
	through_alias();
}

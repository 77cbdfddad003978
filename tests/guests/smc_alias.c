/* Code patched from another page and through a second linear alias of
 * its page, as Linux's text_poke does: the alias lives in another page
 * directory (loaded for the write, like poking_mm), its PTE is set before
 * and cleared after each patch through the identity map of the page
 * table, and the patched routine is reached by a direct call from another
 * page. A thousand patches each; a translator that misses one (a stale
 * translation, a stale jump-cache entry for the direct call, a writable
 * alias of a translated page) returns an old immediate. */
#include "guest.h"

GUEST("smc_alias", "paging32");

#define ALIAS 0x40000000u	/* PDE 256 of dir2 only */
#define ITER 1000

/* patched_get(): "mov $imm, %eax; ret" alone on its page, called with a
 * direct call from the .text page below. */
extern uint32_t patched_get(void);
extern uint8_t patched_imm[4];
asm(".data\n"
    ".p2align 12\n"
    ".globl patched_get, patched_imm\n"
    "patched_get:\n\t"
    ".byte 0xb8\n"
    "patched_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    ".p2align 12\n"
    ".text\n");

static uint32_t call_direct(void)
{
	uint32_t r;
	asm volatile("call patched_get" : "=a"(r) : : "memory", "ecx", "edx");
	return r;
}

static volatile uint32_t alias_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t dir2[1024] __attribute__((aligned(4096)));

static void patch_from_other_page(void)
{
	unsigned wrong = 0;
	check_begin("patch_from_other_page");
	for (uint32_t i = 0; i < ITER; i++) {
		uint32_t v = i * 0x00010001u + 7;
		*(volatile uint32_t *)patched_imm = v;
		if (call_direct() != v)
			wrong++;
	}
	check(wrong == 0, "%u of %u direct calls ran a stale immediate", wrong, ITER);
	check_end();
}

static void patch_through_alias(void)
{
	uint32_t dir1 = read_cr3(), page = (uint32_t)patched_get & ~0xfffu;
	volatile uint32_t *alias_imm = (volatile uint32_t *)(ALIAS + ((uint32_t)patched_imm & 0xfff));
	unsigned wrong = 0, leftover = 0;
	check_begin("patch_through_alias");
	for (unsigned i = 0; i < 1024; i++)
		dir2[i] = paging32_directory[i];
	dir2[ALIAS >> 22] = (uint32_t)alias_table | PTE_P | PTE_W;
	for (uint32_t i = 0; i < ITER; i++) {
		uint32_t v = 0x5a000000u + i * 3;
		alias_table[0] = page | PTE_P | PTE_W;	/* through the identity map */
		write_cr3((uint32_t)dir2);
		*alias_imm = v;
		write_cr3(dir1);
		alias_table[0] = 0;
		if (call_direct() != v)
			wrong++;
		if (*(volatile uint32_t *)patched_imm != v)
			leftover++;
	}
	check(wrong == 0, "%u of %u calls after a patch through the alias ran stale code", wrong, ITER);
	check(leftover == 0, "%u of %u reads of the identity map missed the alias's write", leftover, ITER);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	/* translated before any patch, so every patch hits translated code */
	*(volatile uint32_t *)patched_imm = 1;
	if (call_direct() != 1)
		check(0, "the first call did not return 1");
	paging32_enable();
	patch_from_other_page();
	patch_through_alias();
}

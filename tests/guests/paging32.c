/* 2-level 32-bit paging: 4 KiB and 4 MiB (PSE) mappings that alias known
 * memory, accessed and dirty bits set as the CPU walks and writes, INVLPG
 * and CR3 reloads making a changed mapping visible. */
#include "guest.h"

GUEST("paging32", "paging32");

#define ALIAS_4K 0x40000000u   /* PDE 256 -> alias_table */
#define ALIAS_4M 0x80000000u   /* PDE 512 -> 4M page at physical 0 */

static volatile uint32_t alias_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_a[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_b[1024] __attribute__((aligned(4096)));

static void enable(void)
{
	check_begin("enable");
	paging32_enable();
	check_eq("CR0.PG", read_cr0() & CR0_PG, CR0_PG);
	check_eq("CR3", read_cr3(), (uint32_t)paging32_directory);
	page_a[0] = 0xa0a0a0a0;
	check_eq("identity-mapped data still reads back", page_a[0], 0xa0a0a0a0);
	check_end();
}

static void small_pages(void)
{
	volatile uint32_t *alias = (volatile uint32_t *)ALIAS_4K;
	check_begin("pages_4k");
	alias_table[0] = (uint32_t)page_a | PTE_P | PTE_W;
	paging32_directory[ALIAS_4K >> 22] = (uint32_t)alias_table | PTE_P | PTE_W;
	page_a[5] = 0x12345678;
	check_eq("read page_a through its 4K alias", alias[5], 0x12345678);
	alias[6] = 0x9abcdef0;
	check_eq("write through the alias lands in page_a", page_a[6], 0x9abcdef0);
	check((alias_table[0] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "PTE A/D not both set after read+write: %x",
	      alias_table[0]);
	check(paging32_directory[ALIAS_4K >> 22] & PTE_A, "PDE accessed bit not set");

	/* A read sets A but not D. */
	alias_table[1] = (uint32_t)page_b | PTE_P | PTE_W;
	page_b[0] = 0xb0b0b0b0;
	check_eq("read page_b through the alias", alias[1024], 0xb0b0b0b0);
	check_eq("PTE A/D after a read", alias_table[1] & (PTE_A | PTE_D), PTE_A);

	/* Repoint the alias and flush it: the new page must show. */
	alias_table[0] = (uint32_t)page_b | PTE_P | PTE_W;
	invlpg(alias);
	check_eq("alias after repointing + invlpg", alias[0], 0xb0b0b0b0);
	alias_table[0] = (uint32_t)page_a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	check_eq("alias after repointing + CR3 reload", alias[5], 0x12345678);
	check_end();
}

static void large_pages(void)
{
	static volatile uint32_t marker = 0x4d4d4d4d;
	check_begin("pages_4m");
	paging32_directory[ALIAS_4M >> 22] = 0 | PTE_P | PTE_W | PTE_PS;
	volatile uint32_t *alias = (volatile uint32_t *)(ALIAS_4M + (uint32_t)&marker);
	check_eq("read through the 4M alias of physical 0", *alias, 0x4d4d4d4d);
	check_eq("4M PDE A/D after a read", paging32_directory[ALIAS_4M >> 22] & (PTE_A | PTE_D), PTE_A);
	*alias = 0x5e5e5e5e;
	check_eq("write through the 4M alias", marker, 0x5e5e5e5e);
	check(paging32_directory[ALIAS_4M >> 22] & PTE_D, "4M PDE dirty bit not set after a write");

	/* The same PDE moved to physical 4 MiB: the alias now shows that. */
	volatile uint32_t *at_4m = (volatile uint32_t *)(4u << 20) + 4;
	*at_4m = 0x4a4a4a4a;
	paging32_directory[ALIAS_4M >> 22] = (4u << 20) | PTE_P | PTE_W | PTE_PS;
	invlpg((void *)ALIAS_4M);
	check_eq("4M alias after moving it to physical 4 MiB", ((volatile uint32_t *)ALIAS_4M)[4], 0x4a4a4a4a);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	enable();
	small_pages();
	large_pages();
}

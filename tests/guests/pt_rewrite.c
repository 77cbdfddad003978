/* Page tables rewritten every iteration: one PTE re-pointed among four
 * data pages (then INVLPG), the same PTE re-pointed with no INVLPG but a
 * CR3 switch between two page directories that share it, and a second
 * directory whose own alias table is rewritten while it is not loaded.
 * A translator that caches address spaces per CR3 must see every one of
 * these writes; one that drops mappings only on INVLPG or CR3 loads must
 * still honour both. Accessed bits are cleared by the guest and must come
 * back on the next read. Entries written with A already set (as Linux
 * writes them: a translator may map those at the write) must still
 * translate to the new page, set D on the first write and only then, and
 * leave an entry that nothing touched as it was written. */
#include "guest.h"

GUEST("pt_rewrite", "paging32");

#define ALIAS 0x40000000u	/* PDE 256 in both directories */
#define ITER 1000

static volatile uint32_t table_a[1024] __attribute__((aligned(4096)));
static volatile uint32_t table_b[1024] __attribute__((aligned(4096)));
static volatile uint32_t dir2[1024] __attribute__((aligned(4096)));
static volatile uint32_t pages[4][1024] __attribute__((aligned(4096)));

static uint32_t read_alias(unsigned word)
{
	return ((volatile uint32_t *)ALIAS)[word];
}

static void repoint_invlpg(void)
{
	unsigned stale = 0, no_a = 0;
	check_begin("repoint_invlpg");
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = (i * 7) % 4;
		table_a[0] = (uint32_t)pages[p] | PTE_P | PTE_W;	/* A and D clear */
		invlpg((void *)ALIAS);
		if (read_alias(i % 1024) != p * 0x1000 + i % 1024)
			stale++;
		if (!(table_a[0] & PTE_A))
			no_a++;
	}
	check(stale == 0, "%u of %u reads saw the old page", stale, ITER);
	check(no_a == 0, "%u of %u reads left A clear", no_a, ITER);
	check_end();
}

/* Both directories map ALIAS through table_a: a CR3 load between the
 * write and the read makes the new PTE architecturally visible. */
static void repoint_cr3_switch(void)
{
	unsigned stale = 0;
	uint32_t dir1 = read_cr3();
	check_begin("repoint_cr3_switch");
	dir2[ALIAS >> 22] = (uint32_t)table_a | PTE_P | PTE_W;
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = (i * 3 + 1) % 4;
		table_a[1] = (uint32_t)pages[p] | PTE_P | PTE_W;
		write_cr3(i & 1 ? dir1 : (uint32_t)dir2);
		if (read_alias(1024 + i % 1024) != p * 0x1000 + i % 1024)
			stale++;
	}
	write_cr3(dir1);
	check(stale == 0, "%u of %u reads after a CR3 switch saw the old page", stale, ITER);
	check_end();
}

/* dir2 maps ALIAS through table_b, rewritten while dir1 is loaded: when
 * dir2 comes back its alias must show the latest write. */
static void rewrite_while_unloaded(void)
{
	unsigned stale = 0;
	uint32_t dir1 = read_cr3();
	check_begin("rewrite_while_unloaded");
	dir2[ALIAS >> 22] = (uint32_t)table_b | PTE_P | PTE_W;
	write_cr3((uint32_t)dir2);
	write_cr3(dir1);
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = i % 4;
		table_b[2] = (uint32_t)pages[p] | PTE_P | PTE_W;	/* dir1 loaded */
		write_cr3((uint32_t)dir2);
		if (read_alias(2048 + 5) != p * 0x1000 + 5)
			stale++;
		write_cr3(dir1);
	}
	check(stale == 0, "%u of %u reads through a reloaded CR3 saw an old PTE", stale, ITER);
	check_end();
}

/* PTEs and a PDE written with A (and sometimes D) already set, each
 * touched after its INVLPG; the memory CRC of the final state compares
 * every A and D bit with QEMU's. */
static void repoint_accessed(void)
{
	unsigned stale = 0, no_d = 0, early_d = 0, touched = 0;
	check_begin("repoint_accessed");
	table_a[3] = (uint32_t)pages[0] | PTE_P | PTE_W;
	invlpg((void *)(ALIAS + 3 * 4096));
	(void)read_alias(3 * 1024);	/* mapped before the first rewrite */
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = (i * 5 + 2) % 4, word = 3 * 1024 + i % 1024;
		uint32_t d = i & 2 ? PTE_D : 0;
		table_a[3] = (uint32_t)pages[p] | PTE_P | PTE_W | PTE_A | d;
		table_a[4] = (uint32_t)pages[p] | PTE_P | PTE_W;	/* never touched */
		invlpg((void *)(ALIAS + 3 * 4096));
		invlpg((void *)(ALIAS + 4 * 4096));
		if (read_alias(word) != p * 0x1000 + i % 1024)
			stale++;
		if (!d && (table_a[3] & PTE_D))
			early_d++;
		((volatile uint32_t *)ALIAS)[word] = p * 0x1000 + i % 1024;
		if (!(table_a[3] & PTE_D))
			no_d++;
		if (table_a[4] & (PTE_A | PTE_D))
			touched++;
	}
	check(stale == 0, "%u of %u reads saw the old page", stale, ITER);
	check(early_d == 0, "%u of %u reads set D", early_d, ITER);
	check(no_d == 0, "%u of %u writes left D clear", no_d, ITER);
	check(touched == 0, "%u of %u untouched entries got A or D", touched, ITER);
	check_end();

	/* the alias PDE flips between two tables, A set; one INVLPG each */
	unsigned wrong = 0;
	uint32_t pde = paging32_directory[ALIAS >> 22];
	check_begin("repoint_accessed_pde");
	table_b[5] = (uint32_t)pages[1] | PTE_P | PTE_W | PTE_A;
	table_a[5] = (uint32_t)pages[2] | PTE_P | PTE_W | PTE_A;
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = i & 1 ? 1 : 2;
		paging32_directory[ALIAS >> 22] = (uint32_t)(i & 1 ? table_b : table_a) |
						  PTE_P | PTE_W | PTE_A;
		invlpg((void *)(ALIAS + 5 * 4096));
		if (read_alias(5 * 1024 + 7) != p * 0x1000 + 7)
			wrong++;
	}
	paging32_directory[ALIAS >> 22] = pde;
	invlpg((void *)(ALIAS + 5 * 4096));
	check(wrong == 0, "%u of %u reads after a PDE write saw the old table", wrong, ITER);
	check_end();
}

/* A fresh entry (not present, then present with A set, as Linux's
 * set_pte at a demand fault) next to a mapped one, touched with no INVLPG
 * between (a not-present entry is never cached): the read must see the
 * new frame, and D must come on the write only. */
static void fresh_accessed(void)
{
	unsigned stale = 0, early_d = 0, no_d = 0;
	check_begin("fresh_accessed");
	table_a[7] = (uint32_t)pages[3] | PTE_P | PTE_W;
	(void)read_alias(7 * 1024);	/* the neighbour is mapped */
	for (unsigned i = 0; i < ITER; i++) {
		unsigned p = (i * 3) % 4;
		table_a[6] = 0;
		invlpg((void *)(ALIAS + 6 * 4096));
		table_a[6] = (uint32_t)pages[p] | PTE_P | PTE_W | PTE_A;
		if (read_alias(6 * 1024 + i % 1024) != p * 0x1000 + i % 1024)
			stale++;
		if (table_a[6] & PTE_D)
			early_d++;
		((volatile uint32_t *)ALIAS)[6 * 1024 + i % 1024] = p * 0x1000 + i % 1024;
		if (!(table_a[6] & PTE_D))
			no_d++;
	}
	check(stale == 0, "%u of %u reads through a fresh entry saw another page", stale, ITER);
	check(early_d == 0, "%u of %u reads set D", early_d, ITER);
	check(no_d == 0, "%u of %u writes left D clear", no_d, ITER);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned p = 0; p < 4; p++)
		for (unsigned w = 0; w < 1024; w++)
			pages[p][w] = p * 0x1000 + w;
	paging32_enable();
	/* dir2: the identity map of dir1 (shared tables), alias tables of its own */
	for (unsigned i = 0; i < 1024; i++)
		dir2[i] = paging32_directory[i];
	paging32_directory[ALIAS >> 22] = (uint32_t)table_a | PTE_P | PTE_W;
	repoint_invlpg();
	repoint_cr3_switch();
	rewrite_while_unloaded();
	repoint_accessed();
	fresh_accessed();
}

/* A directory entry many mappings were built from, written and then
 * flushed, for a translator that keeps those mappings until the next
 * flush (bt/memory/shadow_stale.c) or judges the write then by the
 * entry's value (tried: a note per such entry, with the value it held
 * before the write). Nothing reads between a write and its flush
 * through a page touched before the write (SDM Vol. 3A 4.10.4.2: the
 * old translation may serve until then, where QEMU and hardware may
 * differ):
 *  - re-pointed to another table: after a CR3 reload every page reads
 *    its new frame;
 *  - re-pointed, a page no translation existed for read through the new
 *    table (it must walk), then the old value written back: after the
 *    flush that page reads its old frame again (a mapping built while
 *    the entry was pending must not survive a write-back);
 *  - cleared and written back 20 times around CR3 reloads (the store
 *    becomes an emulated page-table write after a few traps): the pages
 *    read their frames each time;
 *  - cleared for good: after INVLPG of one page, that page faults;
 *  - a second directory (away), its run read, then written over as data
 *    and rebuilt as it was while the first one is loaded: loaded again,
 *    its pages read without a fault, and a PDE cleared in it then is
 *    seen at the next INVLPG (the page must be watched again once its
 *    space is loaded, though no mapping had to be built anew).
 * The memory CRC compares every A and D bit with QEMU's. */
#include "guest.h"

GUEST("pt_pending", "paging32");

#define ALIAS 0x40000000u	/* PDE 256 -> table or table2 */
#define RUN 16
#define TOUCHED 12		/* pages read before a write: more than 8 mappings */

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t table2[1024] __attribute__((aligned(4096)));
static volatile uint32_t pages[RUN][1024] __attribute__((aligned(4096)));
static volatile uint32_t target;
static volatile uint32_t away[1024] __attribute__((aligned(4096)));
static uint32_t away_copy[1024];

FAULTING_INSN(read_target, "movl target, %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")

static uint32_t alias(unsigned page, unsigned word)
{
	return ALIAS + page * 4096 + word * 4;
}

static uint32_t read_alias(unsigned page, unsigned word)
{
	return *(volatile uint32_t *)alias(page, word);
}

/* A read at addr must fault as not present, CR2 exact. */
static void check_absent(uint32_t addr, const char *what)
{
	struct fault f;
	target = addr;
	bool faulted = catch_fault(read_target_raise, NULL, &f);
	check(faulted && f.vector == VEC_PF && f.error == 0 && f.cr2 == addr,
	      "%s: fault %u vector %u error 0x%x cr2 %x", what, faulted, f.vector, f.error, f.cr2);
}

static uint32_t pde_to(volatile uint32_t *t)
{
	return (uint32_t)t | PTE_P | PTE_W | PTE_A;
}

/* table maps page i to pages[i], table2 to pages[RUN - 1 - i]; the pages
 * past TOUCHED have A clear in both, so none is mapped ahead of its read */
static void tables_reset(void)
{
	for (unsigned i = 0; i < RUN; i++) {
		uint32_t a = i < TOUCHED ? PTE_A : 0;
		table[i] = (uint32_t)pages[i] | PTE_P | PTE_W | a;
		table2[i] = (uint32_t)pages[RUN - 1 - i] | PTE_P | PTE_W | a;
	}
	paging32_directory[ALIAS >> 22] = pde_to(table);
	write_cr3(read_cr3());
}

static unsigned touch_run(void)
{
	unsigned wrong = 0;
	for (unsigned i = 0; i < TOUCHED; i++)
		if (read_alias(i, i) != i * 0x1000 + i)
			wrong++;
	return wrong;
}

static void repointed(void)
{
	unsigned wrong = 0;
	tables_reset();
	check(touch_run() == 0, "the run read wrong before the write");
	paging32_directory[ALIAS >> 22] = pde_to(table2);
	write_cr3(read_cr3());
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, 3) != (RUN - 1 - i) * 0x1000 + 3)
			wrong++;
	check(wrong == 0, "%u of %u pages read their old frame after the PDE moved", wrong, RUN);
}

static void built_while_pending(void)
{
	unsigned wrong = 0;
	tables_reset();
	check(touch_run() == 0, "the run read wrong before the write");
	paging32_directory[ALIAS >> 22] = pde_to(table2);
	/* page 13 was never read: no translation to use, so it walks */
	check_eq("a page read first through the moved PDE", read_alias(13, 4),
		 (RUN - 1 - 13) * 0x1000 + 4);
	paging32_directory[ALIAS >> 22] = pde_to(table);
	write_cr3(read_cr3());
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, 5) != i * 0x1000 + 5)
			wrong++;
	check(wrong == 0, "%u of %u pages read another frame after the PDE came back", wrong, RUN);
}

static void written_back_often(void)
{
	unsigned wrong = 0;
	tables_reset();
	for (unsigned round = 0; round < 20; round++) {
		uint32_t pde = paging32_directory[ALIAS >> 22];
		wrong += touch_run();
		paging32_directory[ALIAS >> 22] = 0;
		paging32_directory[ALIAS >> 22] = pde;
		write_cr3(read_cr3());
	}
	check(wrong == 0, "%u page reads wrong over 20 write-backs", wrong);
}

static void cleared(void)
{
	tables_reset();
	check(touch_run() == 0, "the run read wrong before the clear");
	paging32_directory[ALIAS >> 22] = 0;
	invlpg((void *)alias(7, 0));
	check_absent(alias(7, 1), "a read after its PDE was cleared and INVLPG");
	paging32_directory[ALIAS >> 22] = pde_to(table);
	write_cr3(read_cr3());
}

static void directory_away(void)
{
	uint32_t base_cr3 = read_cr3();
	unsigned wrong = 0;

	tables_reset();
	for (unsigned i = 0; i < 1024; i++)
		away[i] = paging32_directory[i];
	away[ALIAS >> 22] = pde_to(table);
	for (unsigned i = 0; i < 1024; i++)
		away_copy[i] = away[i];
	write_cr3((uint32_t)away);
	wrong += touch_run();
	write_cr3(base_cr3);
	/* written over as data, word by word, then rebuilt as it was */
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < 1024; i++)
			away[i] = round * 0x01010101u ^ i;
	for (unsigned i = 0; i < 1024; i++)
		away[i] = away_copy[i];
	write_cr3((uint32_t)away);
	wrong += touch_run();
	check(wrong == 0, "%u page reads wrong in the directory that was away", wrong);
	away[ALIAS >> 22] = 0;
	invlpg((void *)alias(3, 0));
	check_absent(alias(3, 2), "a read after the rebuilt directory's PDE was cleared and INVLPG");
	write_cr3(base_cr3);
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned p = 0; p < RUN; p++)
		for (unsigned w = 0; w < 1024; w++)
			pages[p][w] = p * 0x1000 + w;
	paging32_enable();

	check_begin("repointed");
	repointed();
	check_end();
	check_begin("built_while_pending");
	built_while_pending();
	check_end();
	check_begin("written_back_often");
	written_back_often();
	check_end();
	check_begin("cleared");
	cleared();
	check_end();
	check_begin("directory_away");
	directory_away();
	check_end();
}

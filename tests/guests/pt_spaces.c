/* Mappings of an address space that is not loaded, changed while another
 * one is, the way Linux frees a process's directory at exit, hands the
 * page out zeroed as data, and later makes it a directory again
 * (pgd_alloc zeroes it, pgd_ctor copies the kernel's entries back). A
 * translator may keep such a space's translations until its next CR3
 * load, which flushes the TLB (SDM Vol. 3A 4.10.4.1): the processor could
 * not use them before that either. Nothing here reads through a changed
 * entry before its flush, where QEMU and hardware may differ. Space B is a
 * second directory (a copy of the test's own, plus PDE 256 -> a table of
 * 16 pages); the test's own directory maps nothing at 0x40000000:
 *  - B's directory zeroed and written over as data while the other
 *    directory is loaded, then rebuilt with PDE 256 -> another table: each
 *    page reads its new frame after B's CR3 load; rebuilt without PDE
 *    256: every page faults (not present, CR2 exact);
 *  - the same, rebuilt as it was: the pages read as before; B's table's
 *    entries changed meanwhile (cleared, made read-only, re-pointed): a
 *    read faults, a write faults (P and W), the new frame reads;
 *  - then B's PDE 256 cleared from the other space (the directory was
 *    written as data while B was not loaded, and must be watched again
 *    once B's mappings are used), or cleared in B and INVLPG'd, or
 *    cleared and CR3 reloaded: the pages fault.
 * The memory CRC compares every A and D bit with QEMU's. */
#include "guest.h"

GUEST("pt_spaces", "paging32");

#define ALIAS 0x40000000u
#define PDE_ALIAS (ALIAS >> 22)
#define RUN 16

static volatile uint32_t dir_b[1024] __attribute__((aligned(4096)));
static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t table2[1024] __attribute__((aligned(4096)));
static volatile uint32_t pages[RUN][1024] __attribute__((aligned(4096)));
static volatile uint32_t target;
static uint32_t base_cr3;

FAULTING_INSN(read_target, "movl target, %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")
FAULTING_INSN(write_target, "movl target, %%ecx", "movl %%eax, (%%ecx)", "ecx", "memory")
/* run once: an instruction that faults often may be given a software TLB,
 * which walks the tables itself; this one reads through the views */
FAULTING_INSN(read_once, "movl target, %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")

static uint32_t alias(unsigned page, unsigned word)
{
	return ALIAS + page * 4096 + word * 4;
}

static uint32_t read_alias(unsigned page, unsigned word)
{
	return *(volatile uint32_t *)alias(page, word);
}

/* 0: faulted with error at addr; 1: no fault; 2: another fault */
static unsigned faults(bool write, uint32_t addr, uint32_t error)
{
	struct fault f;
	target = addr;
	if (!catch_fault(write ? write_target_raise : read_target_raise, NULL, &f))
		return 1;
	return f.vector == VEC_PF && f.error == error && f.cr2 == addr ? 0 : 2;
}

/* B's directory: the test's own entries, PDE 256 -> t (none if t is 0) */
static void build_b(volatile uint32_t *t)
{
	for (unsigned i = 0; i < 1024; i++)
		dir_b[i] = paging32_directory[i];
	dir_b[PDE_ALIAS] = t ? (uint32_t)t | PTE_P | PTE_W | PTE_A : 0;
}

static void fill_table(volatile uint32_t *t, bool reversed)
{
	for (unsigned i = 0; i < RUN; i++)
		t[i] = (uint32_t)pages[reversed ? RUN - 1 - i : i] | PTE_P | PTE_W | PTE_A | PTE_D;
}

/* B loaded, every page read (mapped in B), then the test's own directory
 * loaded and B's page zeroed and used as data */
static void use_then_free_b(void)
{
	unsigned wrong = 0;
	build_b(table);
	write_cr3((uint32_t)dir_b);
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, 2) != i * 0x1000 + 2)
			wrong++;
	write_cr3(base_cr3);
	check(wrong == 0, "%u of %u pages read wrong in B", wrong, RUN);
	for (unsigned i = 0; i < 1024; i++)
		dir_b[i] = 0;
	/* data stores, each its own instruction run a few times (as a
	 * freed page's new users write it), then a loop's */
#define DATA(i) dir_b[(i) * 61] = (i) * 0x01010101u
	DATA(1); DATA(2); DATA(3); DATA(4); DATA(5); DATA(6); DATA(7); DATA(8);
	DATA(9); DATA(10); DATA(11); DATA(12); DATA(13); DATA(14); DATA(15); DATA(16);
#undef DATA
	for (unsigned round = 0; round < 20; round++)
		for (unsigned i = 0; i < 1024; i += 3)
			dir_b[i] = round * 0x01010101u ^ i;
}

static void rebuilt_elsewhere(void)
{
	unsigned wrong = 0, absent = 0;
	fill_table(table, false);
	fill_table(table2, true);
	use_then_free_b();
	build_b(table2);
	write_cr3((uint32_t)dir_b);
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, 4) != (RUN - 1 - i) * 0x1000 + 4)
			wrong++;
	write_cr3(base_cr3);
	check(wrong == 0, "%u of %u pages read the old frame after B's PDE was re-pointed", wrong, RUN);

	use_then_free_b();
	build_b(NULL);
	write_cr3((uint32_t)dir_b);
	for (unsigned i = 0; i < RUN; i++)
		if (faults(false, alias(i, 5), 0) != 0)
			absent++;
	write_cr3(base_cr3);
	check(absent == 0, "%u of %u pages did not fault after B lost its PDE", absent, RUN);
}

static void rebuilt_same(void)
{
	unsigned wrong = 0, absent = 0;
	fill_table(table, false);
	use_then_free_b();
	table[3] = 0;						/* cleared */
	table[5] = (uint32_t)pages[5] | PTE_P | PTE_A | PTE_D;	/* read-only */
	table[7] = (uint32_t)pages[0] | PTE_P | PTE_W | PTE_A | PTE_D;	/* re-pointed */
	build_b(table);
	write_cr3((uint32_t)dir_b);
	/* B's directory, written as data while B was not loaded (through a
	 * writable mapping in the other space), must be watched again now
	 * that B's mappings through it are used: cleared from the other
	 * space, the next read in B faults */
	check_eq("a page of B rebuilt as it was", read_alias(9, 8), 0x9008);
	write_cr3(base_cr3);
	dir_b[PDE_ALIAS] = 0;
	write_cr3((uint32_t)dir_b);
	struct fault f;
	target = alias(9, 8);
	bool faulted = catch_fault(read_once_raise, NULL, &f);
	check(faulted && f.vector == VEC_PF && f.error == 0 && f.cr2 == alias(9, 8),
	      "the first read after B's PDE was cleared from the other space: fault %u vector %u error 0x%x cr2 %x",
	      faulted, f.vector, f.error, f.cr2);
	dir_b[PDE_ALIAS] = (uint32_t)table | PTE_P | PTE_W | PTE_A;
	write_cr3((uint32_t)dir_b);
	(void)read_alias(9, 8);
	/* and in B: cleared, INVLPG'd */
	dir_b[PDE_ALIAS] = 0;
	for (unsigned i = 0; i < RUN; i++)
		invlpg((void *)alias(i, 0));
	for (unsigned i = 0; i < RUN; i++)
		if (faults(false, alias(i, 8), 0) != 0)
			absent++;
	check(absent == 0, "%u pages did not fault after B's PDE was cleared and INVLPG'd", absent);
	dir_b[PDE_ALIAS] = (uint32_t)table | PTE_P | PTE_W | PTE_A;
	write_cr3((uint32_t)dir_b);
	for (unsigned i = 0; i < RUN; i++)
		if (i != 3 && read_alias(i, 6) != (i == 7 ? 0u : i) * 0x1000 + 6)
			wrong++;
	check(wrong == 0, "%u of %u pages read wrong after B was rebuilt as it was", wrong, RUN);
	check(faults(false, alias(3, 1), 0) == 0, "a cleared entry of B did not fault");
	check(faults(true, alias(5, 1), PFERR_P | PFERR_W) == 0,
	      "a write through an entry of B made read-only did not fault");
	check(faults(true, alias(6, 1), PFERR_P | PFERR_W) == 1, "a write through a writable entry faulted");
	dir_b[PDE_ALIAS] = 0;
	write_cr3((uint32_t)dir_b);
	absent = 0;
	for (unsigned i = 0; i < RUN; i++)
		if (faults(false, alias(i, 10), 0) != 0)
			absent++;
	check(absent == 0, "%u pages did not fault after B's PDE was cleared and CR3 reloaded", absent);
	write_cr3(base_cr3);
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned p = 0; p < RUN; p++)
		for (unsigned w = 0; w < 1024; w++)
			pages[p][w] = p * 0x1000 + w;
	paging32_enable();
	base_cr3 = read_cr3();

	check_begin("rebuilt_elsewhere");
	rebuilt_elsewhere();
	check_end();
	check_begin("rebuilt_same");
	rebuilt_same();
	check_end();
	(void)mbi;
}

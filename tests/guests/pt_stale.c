/* Mappings taken away or given back the way Linux does at exit, munmap,
 * fork and pgd reuse, for a translator that unmaps a changed mapping only
 * at the next TLB flush (SDM Vol. 3A 4.10.4.2-4.10.4.3: until INVLPG or
 * a CR3 load the processor may use the old translation, so nothing here
 * reads between a write and its flush, where QEMU and hardware may
 * differ) and keeps one whose entry was written back as it was:
 *  - a run of 16 touched pages cleared (P = 0), then one INVLPG each, or
 *    one CR3 reload: every page faults (not present, CR2 exact);
 *  - made read-only (W cleared, A and D kept), INVLPG: a write faults
 *    (P and W in the error code), a read still works;
 *  - cleared and written back as it was (A set), INVLPG: the same page
 *    reads without a fault; written back with A clear: the read sets A;
 *    with D clear: the next write sets D;
 *  - a 16-page run's PDE cleared and restored around a CR3 reload, as a
 *    directory page recycled for a new process: the run reads again;
 *  - a group of 16 entries over contiguous frames with A set, which a
 *    translator may map at the first touch (run_ahead);
 *  - global entries cleared, then CR4.PGE turned off: every page faults;
 *  - a group of 16 entries over contiguous frames, one of which is the
 *    table itself (self_table): written through that page, the table's
 *    change is seen, and a cleared entry faults after its INVLPG.
 * The memory CRC compares every A and D bit with QEMU's. */
#include "guest.h"

GUEST("pt_stale", "paging32");

#define ALIAS 0x40000000u	/* PDE 256 -> table */
#define RUN 16

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t pages[RUN][1024] __attribute__((aligned(4096)));
static volatile uint32_t target;	/* the address the raisers use */
#define ALIAS2 0x40400000u	/* PDE 257 -> self[SELF] */
#define SELF 5
static volatile uint32_t self[RUN][1024] __attribute__((aligned(RUN * 4096)));

FAULTING_INSN(read_target, "movl target, %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")
FAULTING_INSN(write_target, "movl target, %%ecx", "movl %%eax, (%%ecx)", "ecx", "memory")
/* run once: an instruction that faults often may be given a software TLB,
 * which walks the tables itself; this one reads through the views */
FAULTING_INSN(read_self, "movl target, %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")

static uint32_t alias(unsigned page, unsigned word)
{
	return ALIAS + page * 4096 + word * 4;
}

static uint32_t read_alias(unsigned page, unsigned word)
{
	return *(volatile uint32_t *)alias(page, word);
}

static void map_run(uint32_t flags)
{
	for (unsigned i = 0; i < RUN; i++) {
		table[i] = (uint32_t)pages[i] | flags;
		invlpg((void *)alias(i, 0));
	}
}

/* 0: the read faulted as not present at addr; 1: no fault; 2: another fault */
static unsigned read_faults(uint32_t addr, uint32_t error)
{
	struct fault f;
	target = addr;
	if (!catch_fault(read_target_raise, NULL, &f))
		return 1;
	return f.vector == VEC_PF && f.error == error && f.cr2 == addr ? 0 : 2;
}

static void cleared_run(bool by_cr3)
{
	unsigned wrong = 0, absent = 0;
	map_run(PTE_P | PTE_W);
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, i) != i * 0x1000 + i)
			wrong++;
	for (unsigned i = 0; i < RUN; i++)
		table[i] = 0;
	if (by_cr3)
		write_cr3(read_cr3());
	else
		for (unsigned i = 0; i < RUN; i++)
			invlpg((void *)alias(i, 0));
	for (unsigned i = 0; i < RUN; i++)
		if (read_faults(alias(i, 3), 0) != 0)
			absent++;
	check(wrong == 0, "%u of %u pages read wrong before the clear", wrong, RUN);
	check(absent == 0, "%u of %u cleared pages did not fault as not present", absent, RUN);
}

static void made_read_only(void)
{
	struct fault f;
	map_run(PTE_P | PTE_W);
	*(volatile uint32_t *)alias(2, 9) = 0x2009;	/* writable, D set */
	table[2] = (uint32_t)pages[2] | PTE_P | PTE_A | PTE_D;
	invlpg((void *)alias(2, 0));
	check_eq("a read after W was cleared", read_alias(2, 9), 0x2009);
	target = alias(2, 9);
	bool faulted = catch_fault(write_target_raise, NULL, &f);
	check(faulted && f.vector == VEC_PF && f.error == (PFERR_P | PFERR_W) && f.cr2 == alias(2, 9),
	      "a write after W was cleared: fault %u vector %u error 0x%x cr2 %x",
	      faulted, f.vector, f.error, f.cr2);
}

static void written_back(void)
{
	unsigned wrong = 0, faults = 0;
	map_run(PTE_P | PTE_W);
	for (unsigned i = 0; i < RUN; i++)
		*(volatile uint32_t *)alias(i, 5) = i * 0x1000 + 5;	/* A and D set */
	/* cleared and written back as Linux's pgd_alloc does to a recycled
	 * directory: the kernel's entries go to 0 and come back */
	for (unsigned i = 0; i < RUN; i++) {
		uint32_t e = table[i];
		table[i] = 0;
		table[i] = e;
		invlpg((void *)alias(i, 0));
		if (read_faults(alias(i, 5), 0) != 1)
			faults++;
		else if (read_alias(i, 5) != i * 0x1000 + 5)
			wrong++;
	}
	check(faults == 0, "%u of %u pages written back as they were faulted", faults, RUN);
	check(wrong == 0, "%u of %u pages written back read wrong", wrong, RUN);

	/* written back with A clear: the read sets it again */
	table[4] = (uint32_t)pages[4] | PTE_P | PTE_W;
	invlpg((void *)alias(4, 0));
	check_eq("a read through an entry written back with A clear", read_alias(4, 5), 0x4005);
	check(table[4] & PTE_A, "that read left A clear: 0x%x", table[4]);
	check(!(table[4] & PTE_D), "that read set D: 0x%x", table[4]);
	/* with D clear: the first write sets it */
	table[6] = (uint32_t)pages[6] | PTE_P | PTE_W | PTE_A;
	invlpg((void *)alias(6, 0));
	check_eq("a read through an entry written back with D clear", read_alias(6, 5), 0x6005);
	check(!(table[6] & PTE_D), "that read set D: 0x%x", table[6]);
	*(volatile uint32_t *)alias(6, 5) = 0x6005;
	check(table[6] & PTE_D, "the write left D clear: 0x%x", table[6]);
}

static void pde_recycled(void)
{
	unsigned wrong = 0;
	uint32_t pde = paging32_directory[ALIAS >> 22];
	map_run(PTE_P | PTE_W | PTE_A);
	for (unsigned i = 0; i < RUN; i++)
		(void)read_alias(i, 1);
	paging32_directory[ALIAS >> 22] = 0;
	paging32_directory[ALIAS >> 22] = pde;
	write_cr3(read_cr3());
	for (unsigned i = 0; i < RUN; i++)
		if (read_alias(i, 7) != i * 0x1000 + 7)
			wrong++;
	check(wrong == 0, "%u of %u pages read wrong after their PDE came back", wrong, RUN);
	/* cleared for good: the run faults */
	paging32_directory[ALIAS >> 22] = 0;
	write_cr3(read_cr3());
	check(read_faults(alias(3, 0), 0) == 0, "a page whose PDE was cleared did not fault");
	paging32_directory[ALIAS >> 22] = pde;
	write_cr3(read_cr3());
}

/* 16 entries over contiguous frames, A set, D clear, as Linux maps its
 * text: a translator may map the group at the first touch. Each page
 * must still read its own frame, a write set D on its own entry only, a
 * neighbour with A clear get A at its own read, a re-pointed neighbour
 * read its new frame, and a cleared one fault after its INVLPG. */
static void run_ahead(void)
{
	unsigned wrong = 0, early = 0;
	map_run(PTE_P | PTE_W | PTE_A);
	table[9] = (uint32_t)pages[9] | PTE_P | PTE_W;		/* A clear */
	table[11] = (uint32_t)pages[3] | PTE_P | PTE_W | PTE_A;	/* breaks the frames */
	invlpg((void *)alias(9, 0));
	invlpg((void *)alias(11, 0));
	(void)read_alias(5, 0);		/* the first touch */
	for (unsigned i = 0; i < RUN; i++) {
		if (i == 9 && (table[9] & PTE_A))
			early++;
		if (read_alias(i, 20) != (i == 11 ? 3u : i) * 0x1000 + 20)
			wrong++;
		if (table[i] & PTE_D)
			early++;
	}
	check(wrong == 0, "%u of %u pages of the group read another frame", wrong, RUN);
	check(early == 0, "%u A or D bits set before their access", early);
	check(table[9] & PTE_A, "the read left A clear: 0x%x", table[9]);
	*(volatile uint32_t *)alias(6, 20) = 0x6014;
	unsigned d = 0;
	for (unsigned i = 0; i < RUN; i++)
		d += !!(table[i] & PTE_D);
	check(d == 1 && (table[6] & PTE_D), "a write set %u D bits (entry 6: 0x%x)", d, table[6]);
	table[7] = 0;
	invlpg((void *)alias(7, 0));
	check(read_faults(alias(7, 1), 0) == 0, "a cleared neighbour did not fault");
	table[8] = (uint32_t)pages[0] | PTE_P | PTE_W | PTE_A;
	invlpg((void *)alias(8, 0));
	check_eq("a re-pointed neighbour", read_alias(8, 2), 0x0002);
}

/* Global entries cleared, then CR4.PGE turned off: that flushes every
 * translation, global ones too (SDM Vol. 3A 4.10.4.1; Linux's
 * __flush_tlb_all), so each page faults. */
static void global_flush(void)
{
	unsigned absent = 0;
	uint32_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_PGE);
	map_run(PTE_P | PTE_W | PTE_G);
	for (unsigned i = 0; i < RUN; i++)
		(void)read_alias(i, 0);
	for (unsigned i = 0; i < RUN; i++)
		table[i] = 0;
	write_cr4(cr4 & ~CR4_PGE);
	for (unsigned i = 0; i < RUN; i++)
		if (read_faults(alias(i, 0), 0) != 0)
			absent++;
	write_cr4(cr4);
	check(absent == 0, "%u of %u cleared global pages did not fault after CR4.PGE went off",
	      absent, RUN);
}

/* The group's frames include the table's own: a translator that maps the
 * group ahead must not leave the table writable through it unwatched. */
static void self_table(void)
{
	volatile uint32_t *t = self[SELF];
	for (unsigned i = 0; i < RUN; i++)
		t[i] = (uint32_t)self[i] | PTE_P | PTE_W | PTE_A | PTE_D;
	paging32_directory[ALIAS2 >> 22] = (uint32_t)t | PTE_P | PTE_W | PTE_A;
	write_cr3(read_cr3());
	*(volatile uint32_t *)(ALIAS2 + 4) = 0x1234;	/* the first touch: a write */
	/* entry 0 cleared through the table's own linear page */
	*(volatile uint32_t *)(ALIAS2 + SELF * 4096) = 0;
	check_eq("the table read directly after a write through its alias", t[0], 0);
	invlpg((void *)ALIAS2);
	struct fault f;
	target = ALIAS2 + 4;
	bool faulted = catch_fault(read_self_raise, NULL, &f);
	check(faulted && f.vector == VEC_PF && f.error == 0 && f.cr2 == ALIAS2 + 4,
	      "a read through an entry cleared via the table's alias: fault %u vector %u error 0x%x cr2 %x",
	      faulted, f.vector, f.error, f.cr2);
	check_eq("a neighbour of the group", *(volatile uint32_t *)(ALIAS2 + 2 * 4096 + 8), self[2][2]);
	paging32_directory[ALIAS2 >> 22] = 0;
	write_cr3(read_cr3());
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned p = 0; p < RUN; p++)
		for (unsigned w = 0; w < 1024; w++)
			pages[p][w] = p * 0x1000 + w;
	paging32_enable();
	paging32_directory[ALIAS >> 22] = (uint32_t)table | PTE_P | PTE_W;

	check_begin("cleared_invlpg");
	cleared_run(false);
	check_end();
	check_begin("cleared_cr3");
	cleared_run(true);
	check_end();
	check_begin("made_read_only");
	made_read_only();
	check_end();
	check_begin("written_back");
	written_back();
	check_end();
	check_begin("pde_recycled");
	pde_recycled();
	check_end();
	check_begin("run_ahead");
	run_ahead();
	check_end();
	check_begin("global_flush");
	global_flush();
	check_end();
	check_begin("self_table");
	self_table();
	check_end();
}

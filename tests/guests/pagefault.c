/* #PF under 2-level paging: the error code (P, W/R bits) and CR2 for reads
 * and writes of a not-present page, a write to a read-only page with
 * CR0.WP=1, a missing page table, and an instruction fetch; the faulting
 * EIP each time. */
#include "guest.h"

GUEST("pagefault", "paging32");

#define TABLE_BASE 0x40000000u  /* PDE 256 -> test_table */
#define NOT_PRESENT (TABLE_BASE + 0x1000 + 0x24)
#define READ_ONLY (TABLE_BASE + 0x2000 + 0x10)
#define NO_TABLE 0xc0000000u    /* PDE 768 is not present */
#define FETCH_TARGET (TABLE_BASE + 0x3000)

static volatile uint32_t test_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t ro_page[1024] __attribute__((aligned(4096)));

FAULTING_INSN(read_absent, "movl $" STR(NOT_PRESENT) ", %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")
FAULTING_INSN(write_absent, "movl $" STR(NOT_PRESENT) ", %%ecx", "movl %%eax, (%%ecx)", "ecx", "memory")
FAULTING_INSN(write_read_only, "movl $" STR(READ_ONLY) ", %%ecx", "movl %%eax, (%%ecx)", "ecx", "memory")
FAULTING_INSN(read_no_table, "movl $" STR(NO_TABLE) ", %%ecx", "movb (%%ecx), %%al", "eax", "ecx")

static void fetch_absent_raise(void *arg)
{
	((void (*)(void))FETCH_TARGET)();
}

static void expect_pf(const char *what, void (*raise)(void *), uint32_t error, uint32_t cr2, uint32_t eip)
{
	struct fault f;
	if (!catch_fault(raise, NULL, &f)) {
		check(false, "%s: no fault", what);
		return;
	}
	check(f.vector == VEC_PF && f.error == error && f.cr2 == cr2 && f.eip == eip,
	      "%s: vector %u error 0x%x cr2 %x eip %x, want #PF error 0x%x cr2 %x eip %x", what, f.vector,
	      f.error, f.cr2, f.eip, error, cr2, eip);
}

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	test_table[0] = (uint32_t)ro_page | PTE_P | PTE_W;
	test_table[1] = 0;                          /* not present */
	test_table[2] = (uint32_t)ro_page | PTE_P;  /* read-only alias */
	test_table[3] = 0;
	paging32_directory[TABLE_BASE >> 22] = (uint32_t)test_table | PTE_P | PTE_W;

	check_begin("not_present");
	expect_pf("read", read_absent_raise, 0, NOT_PRESENT, (uint32_t)read_absent);
	expect_pf("write", write_absent_raise, PFERR_W, NOT_PRESENT, (uint32_t)write_absent);
	expect_pf("read with no page table", read_no_table_raise, 0, NO_TABLE, (uint32_t)read_no_table);
	expect_pf("instruction fetch", fetch_absent_raise, 0, FETCH_TARGET, FETCH_TARGET);
	check_end();

	check_begin("write_protect");
	ro_page[4] = 0x0badf00d;
	check_eq("read through the read-only alias", *(volatile uint32_t *)READ_ONLY, 0x0badf00d);
	expect_pf("write with CR0.WP=1", write_read_only_raise, PFERR_P | PFERR_W, READ_ONLY,
	          (uint32_t)write_read_only);
	check_eq("the faulting write changed nothing", ro_page[4], 0x0badf00d);

	/* Now present: the same access completes after the fix-up. */
	test_table[1] = (uint32_t)ro_page | PTE_P | PTE_W;
	invlpg((void *)NOT_PRESENT);
	*(volatile uint32_t *)NOT_PRESENT = 0x600d;
	check_eq("write after mapping the page", ro_page[0x24 / 4], 0x600d);
	check_end();
}

/* A store that bt reaches through its soft TLB (an instruction whose
 * accesses kept faulting: bt/memory/soft_tlb.c) writes guest RAM through
 * the VMM's mapping, past the views' protections; so when a page it may
 * write becomes a page table or code, its entry must stop giving writes
 * (soft_tlb_drop_writes), or those writes would escape the shadow page
 * tables' tracing and the detection of self-modifying code. Both
 * follow from the processor's rules: after a PTE write and an INVLPG the
 * new translation is used (SDM Vol. 3A 4.10.4.1); a store to an
 * instruction about to run is seen by it (Vol. 3A 8.1.3).
 *
 * One store instruction (site_store) first takes 40 #PFs in a row, which
 * makes it a soft-TLB access on bt; then:
 *   page_table  it writes a PTE into a data page, the page becomes the
 *               table of a 4 MiB region (a PDE, an INVLPG, a read through
 *               it: frame F1), then it rewrites the PTE to frame F2, and
 *               after an INVLPG the read must give F2's word;
 *   code        it writes "mov eax, 1; ret" into a page, the page runs
 *               (1), it rewrites the immediate, and the page must run
 *               again returning 2.
 * The soft TLB entry of the written page is filled by the first store in
 * each case (the page is plain data then). */
#include "guest.h"

GUEST("stlb_protect", "paging32");

#define TRAIN_PDE 301u
#define TRAIN_BASE (TRAIN_PDE << 22)
#define REGION_PDE 302u
#define REGION_BASE (REGION_PDE << 22)
#define TRAIN_ROUNDS 40
#define NPAGES 4

static volatile uint32_t train_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t train_frames[NPAGES][1024] __attribute__((aligned(4096)));
static volatile uint32_t x_page[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame1[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame2[1024] __attribute__((aligned(4096)));
static uint8_t code_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t faults;

/* the one store under test */
__attribute__((noinline, noclone)) static void site_store(volatile void *at, uint32_t v)
{
	asm volatile("movl %1, (%0)" : : "r"(at), "r"(v) : "memory");
}

static void on_pf(struct trap_frame *tf)
{
	uint32_t cr2 = read_cr2();

	faults++;
	if (cr2 - TRAIN_BASE < NPAGES * 4096u)
		train_table[(cr2 - TRAIN_BASE) >> 12] |= PTE_P;	/* no INVLPG needed (4.10.4.1) */
}

/* TRAIN_ROUNDS #PFs at site_store: not-present pages made present by
 * the handler, the store retried. */
static void train(void)
{
	for (uint32_t k = 0; k < NPAGES; k++)
		train_table[k] = (uint32_t)train_frames[k] | PTE_W;
	paging32_directory[TRAIN_PDE] = (uint32_t)train_table | PTE_P | PTE_W;
	write_cr3(read_cr3());
	for (uint32_t i = 0; i < TRAIN_ROUNDS; i++) {
		uint32_t k = i % NPAGES;
		train_table[k] &= ~PTE_P;
		invlpg((void *)(TRAIN_BASE + k * 4096));
		site_store((void *)(TRAIN_BASE + k * 4096 + 8), i);
	}
	check_eq("#PF while training the store", faults, TRAIN_ROUNDS);
	check_eq("the last trained store", train_frames[(TRAIN_ROUNDS - 1) % NPAGES][2], TRAIN_ROUNDS - 1);
}

static void page_table(void)
{
	volatile uint32_t *region = (volatile uint32_t *)REGION_BASE;

	frame1[0] = 0x1111;
	frame2[0] = 0x2222;
	for (unsigned i = 1; i < 1024; i++)
		x_page[i] = 0;
	site_store(&x_page[0], (uint32_t)frame1 | PTE_P | PTE_W);
	paging32_directory[REGION_PDE] = (uint32_t)x_page | PTE_P | PTE_W;
	invlpg(region);
	check_eq("through the new table", region[0], 0x1111);
	site_store(&x_page[0], (uint32_t)frame2 | PTE_P | PTE_W);
	invlpg(region);
	check_eq("after the store rewrote the PTE and an INVLPG", region[0], 0x2222);
}

static void code(void)
{
	uint32_t (*fn)(void) = (uint32_t (*)(void))(void *)code_page;

	site_store(code_page, 0x000001b8u);		/* B8 01 00 00: mov eax, 1 */
	site_store(code_page + 4, 0x0000c300u);		/* 00 C3: ...; ret */
	check_eq("the code as first written", fn(), 1);
	site_store(code_page, 0x000002b8u);		/* mov eax, 2 */
	check_eq("the code after the store rewrote it", fn(), 2);
}

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	trap_set_handler(VEC_PF, on_pf);
	check_begin("train");
	train();
	check_end();
	check_begin("page_table");
	page_table();
	check_end();
	check_begin("code");
	code();
	check_end();
	trap_set_handler(VEC_PF, NULL);
}

/* An instruction that keeps storing to a page table becomes a callout on
 * bt that stores itself (bt/cpu/callouts_pt_write.c), and the address it
 * stores at comes from the soft TLB's page-table store tag after the
 * first walk (soft_tlb_pt_store, bt/memory/soft_tlb.c). The tag is a
 * cached translation and must go where the processor's would: after the
 * page table's own linear page is made read-only and INVLPGed, the same
 * store at CPL0 with CR0.WP=1 must raise #PF (error P|W, CR2 the entry's
 * address; SDM Vol. 3A 4.6, 4.10.4.1), and the retry after the handler
 * makes it writable again must store. */
#include "guest.h"

GUEST("pt_store_wp", "paging32");

#define PDE 303u
#define BASE (PDE << 22)
#define ROUNDS 40
#define ENTRY 700u	/* an entry no access goes through */

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame[1024] __attribute__((aligned(4096)));
static volatile uint32_t faults, seen_err, seen_cr2;

__attribute__((noinline, noclone)) static void site_store(volatile uint32_t *at, uint32_t v)
{
	asm volatile("movl %1, (%0)" : : "r"(at), "r"(v) : "memory");
}

static void on_pf(struct trap_frame *tf)
{
	faults++;
	seen_err = tf->error;
	seen_cr2 = read_cr2();
	paging32_low_table[(uint32_t)table >> 12] |= PTE_W;	/* the retry walks again (4.10.4.1) */
}

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	trap_set_handler(VEC_PF, on_pf);
	table[0] = (uint32_t)frame | PTE_P | PTE_W;
	frame[0] = 0x5151;
	paging32_directory[PDE] = (uint32_t)table | PTE_P | PTE_W;
	write_cr3(read_cr3());

	check_begin("stores_to_a_live_table");
	check_eq("a read through the table", *(volatile uint32_t *)BASE, 0x5151);
	uint32_t bad = 0;
	for (uint32_t i = 0; i < ROUNDS; i++) {
		site_store(&table[ENTRY], i * 2);	/* even: never present */
		if (table[ENTRY] != i * 2)
			bad++;
	}
	check(bad == 0, "%u of %u stores to the entry lost", bad, ROUNDS);
	check_eq("#PF while storing", faults, 0);
	check_end();

	check_begin("read_only_after_invlpg");
	paging32_low_table[(uint32_t)table >> 12] &= ~PTE_W;
	invlpg(table);
	site_store(&table[ENTRY], 0x200);
	check_eq("#PF at the store", faults, 1);
	check_eq("error code (P|W)", seen_err, 3);
	check_eq("CR2", seen_cr2, (uint32_t)&table[ENTRY]);
	check_eq("the retried store", table[ENTRY], 0x200);
	check_end();
	trap_set_handler(VEC_PF, NULL);
}

/* PAE paging: a 4-entry PDPT, 2 MiB pages identity-mapping the first GiB,
 * a 4 KiB alias through a page table of 64-bit entries, a 2 MiB alias,
 * accessed/dirty bits, a not-present #PF, and, where CPUID reports NX,
 * an instruction fetch from a no-execute page (#PF with the I/D bit). */
#include "guest.h"

GUEST("pae", "pae");

#define ALIAS_4K 0x40000000u   /* PDPT[1] -> pd_alias[0] -> pt_alias */
#define ALIAS_2M 0x40200000u   /* pd_alias[1]: 2M page at physical 0 */
#define ABSENT 0x40400000u     /* pd_alias[2] not present */
#define NX_PAGE 0x40001000u    /* pt_alias[1]: a page with NX set */

static volatile uint64_t pdpt[4] __attribute__((aligned(32)));
static volatile uint64_t pd_low[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_alias[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_alias[512] __attribute__((aligned(4096)));
static volatile uint32_t data_page[1024] __attribute__((aligned(4096)));
static uint8_t code_page[4096] __attribute__((aligned(4096)));

FAULTING_INSN(read_absent, "movl $" STR(ABSENT) ", %%ecx", "movl (%%ecx), %%eax", "eax", "ecx")

static void fetch_nx_raise(void *arg) { ((void (*)(void))NX_PAGE)(); }

static void run_checks(void)
{
	check_begin("enable");
	for (uint32_t i = 0; i < 512; i++)
		pd_low[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
	pt_alias[0] = (uint32_t)data_page | PTE_P | PTE_W;
	pt_alias[1] = (uint32_t)code_page | PTE_P | PTE_W | PTE_NX;
	pd_alias[0] = (uint32_t)pt_alias | PTE_P | PTE_W;
	pd_alias[1] = 0 | PTE_P | PTE_W | PTE_PS;
	/* PDPT entries take only P (and cache bits): no W, no A/D. */
	pdpt[0] = (uint32_t)pd_low | PTE_P;
	pdpt[1] = (uint32_t)pd_alias | PTE_P;

	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	bool have_nx = false;
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		have_nx = r[3] & (1u << 20);
	}
	if (have_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	else
		pt_alias[1] &= ~PTE_NX; /* reserved without NXE */

	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((uint32_t)pdpt);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	check_eq("CR0.PG", read_cr0() & CR0_PG, CR0_PG);
	check_eq("CR4.PAE", read_cr4() & CR4_PAE, CR4_PAE);
	data_page[0] = 0x1dea;
	check_eq("identity-mapped data reads back", data_page[0], 0x1dea);
	check_end();

	check_begin("aliases");
	volatile uint32_t *alias = (volatile uint32_t *)ALIAS_4K;
	data_page[3] = 0x33333333;
	check_eq("4K alias read", alias[3], 0x33333333);
	alias[4] = 0x44444444;
	check_eq("4K alias write", data_page[4], 0x44444444);
	check_eq("PTE A/D", (uint32_t)pt_alias[0] & (PTE_A | PTE_D), PTE_A | PTE_D);
	static volatile uint32_t marker = 0x2a2a2a2a;
	check_eq("2M alias of physical 0", *(volatile uint32_t *)(ALIAS_2M + (uint32_t)&marker), 0x2a2a2a2a);
	check_eq("2M PDE A/D after a read", (uint32_t)pd_alias[1] & (PTE_A | PTE_D), PTE_A);
	check_end();

	check_begin("page_faults");
	struct fault f;
	if (check(catch_fault(read_absent_raise, NULL, &f), "read of a not-present page did not fault"))
		check(f.vector == VEC_PF && f.error == 0 && f.cr2 == ABSENT && f.eip == (uint32_t)read_absent,
		      "not-present read: vector %u error %x cr2 %x eip %x", f.vector, f.error, f.cr2, f.eip);
	if (have_nx) {
		code_page[0] = 0xc3; /* ret: would run fine without NX */
		if (check(catch_fault(fetch_nx_raise, NULL, &f), "fetch from an NX page did not fault"))
			check(f.vector == VEC_PF && f.error == (PFERR_P | PFERR_I) && f.cr2 == NX_PAGE &&
			              f.eip == NX_PAGE,
			      "NX fetch: vector %u error %x cr2 %x eip %x", f.vector, f.error, f.cr2, f.eip);
	} else {
		printf_serial("pae: CPUID reports no NX; the NX fetch check is left out\n");
	}
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	run_checks();
	/* QEMU TCG sets bit 5 (A) in a PDPTE at every walk through it; the SDM
	 * has that bit reserved and hardware (and bt) leave it alone. Paging
	 * goes off (code and data are identity-mapped) so no walk sets it again,
	 * then it is cleared: the exit checksum then compares what the engines
	 * did, not that QEMU quirk. CR3 and CR4.PAE stay for the STATE line. */
	write_cr0(read_cr0() & ~CR0_PG);
	for (int i = 0; i < 4; i++)
		pdpt[i] &= ~(uint64_t)PTE_A;
}

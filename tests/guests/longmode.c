/* Long mode: build 4-level page tables (identity map of the first GiB in
 * 2 MiB pages), enter long mode, run 64-bit code (longmode.asm), and come
 * back to compatibility mode to check and print what it computed. The
 * guest stays in compatibility mode to the end: its IDT is a 32-bit one,
 * so it must not fault from here on. */
#include "guest.h"

GUEST("longmode", "long-mode");


static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

extern uint64_t lm_results[10];
extern const char long64[];
void run_long_mode(uint32_t pml4_address);

void guest_main(const struct mb_info *mbi)
{
	pml4[0] = (uint32_t)pdpt | PTE_P | PTE_W;
	pdpt[0] = (uint32_t)pd | PTE_P | PTE_W;
	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;

	run_long_mode((uint32_t)pml4);

	check_begin("entry");
	check(lm_results[8] == 0x64, "64-bit code did not run to the end (marker %x)", (uint32_t)lm_results[8]);
	check_eq("EFER.LME|LMA seen in 64-bit code", (uint32_t)lm_results[7] & (EFER_LME | EFER_LMA),
	         EFER_LME | EFER_LMA);
	check_eq("CR0.PG in compatibility mode", read_cr0() & CR0_PG, CR0_PG);
	check_eq("CS after the far return", read_cs(), SEL_CODE32);
	check_end();

	check_begin("arithmetic64");
	check(lm_results[0] == 0x23456789abcdf001ull, "64-bit add = %llx", lm_results[0]);
	check(lm_results[1] == 0xfffffffffffffffeull && lm_results[2] == 1, "mul -1*2 = %llx:%llx",
	      lm_results[2], lm_results[1]);
	check(lm_results[3] == 0xdcba987654321000ull, "shl r15, 8 = %llx", lm_results[3]);
	check(lm_results[4] == 5, "mov r9d zero-extends: r9 = %llx", lm_results[4]);
	check_end();

	check_begin("addressing64");
	check(lm_results[5] == (uint32_t)long64, "lea [rip] = %llx, want %x", lm_results[5], (uint32_t)long64);
	check(lm_results[6] == 8, "push moved rsp by %llu", lm_results[6]);
	check_end();
}

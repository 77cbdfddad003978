/* Hostile: a triple fault with PAE paging on (triple_fault.h): the first
 * GiB identity-mapped with 2 MiB pages (SDM Vol. 3A 4.4), then #UD. */
#include "triple_fault.h"

GUEST("triple_pae", "pae");

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd[512] __attribute__((aligned(4096)));

void guest_main(const struct mb_info *mbi)
{
	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* P RW PS */
	pdpt[0] = (uint32_t)pd | 1;
	printf_serial("triple_fault: PAE paging: #UD with IDTR.limit = 0\n");
	triple_null_idt();
	asm volatile("mov %%cr4, %%eax\n\tor $0x20, %%eax\n\tmov %%eax, %%cr4\n\t"
		     "mov %0, %%cr3\n\t"
		     "mov %%cr0, %%eax\n\tor $0x80000000, %%eax\n\tmov %%eax, %%cr0\n\t"
		     "ud2" : : "r"(pdpt) : "eax", "memory");
}

/* Hostile: a triple fault in 64-bit mode (triple_fault.h): the first GiB
 * identity-mapped with 2 MiB pages, EFER.LME, paging on, a far jump into
 * the 64-bit code segment SEL_CODE64 (SDM Vol. 3A 10.8.5), then #UD. The
 * engines that cannot run long mode (bt) say SKIP (status 77). */
#include "triple_fault.h"

GUEST("triple_long", "long-mode");

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

void guest_main(const struct mb_info *mbi)
{
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */

	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* P RW PS */
	pdpt[0] = (uint32_t)pd | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	triple_prepare("64-bit mode", code, sizeof(code));
	triple_null_idt();
	asm volatile("mov %%cr4, %%eax\n\tor $0x20, %%eax\n\tmov %%eax, %%cr4\n\t"
		     "mov %0, %%cr3\n\t"
		     "mov $0xc0000080, %%ecx\n\trdmsr\n\tor $0x100, %%eax\n\twrmsr\n\t"
		     "mov %%cr0, %%eax\n\tor $0x80000000, %%eax\n\tmov %%eax, %%cr0\n\t"
		     "ljmp %1, %2" : : "r"(pml4), "i"(SEL_CODE64), "i"(TRIPLE_LOW)
		     : "eax", "ecx", "edx", "memory");
}

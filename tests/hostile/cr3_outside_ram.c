/* Hostile: paging turned on with CR3 in unbacked space (the PCI hole),
 * so every page walk reads its tables from outside RAM. Whatever the
 * platform answers there (all ones on hyvm, 0 in QEMU), the guest can no
 * longer run: the run must end cleanly, with a triple fault (status 3)
 * or one engine error line (status 4), never a crash or a hang
 * (tests/hostile/run.sh's expectations). */
#include "guest.h"

GUEST("cr3_outside_ram", "paging32");

void guest_main(const struct mb_info *mbi)
{
	printf_serial("cr3_outside_ram: CR3 = 0xe0000000, paging on\n");
	asm volatile("mov %0, %%cr3\n\t"
		     "mov %%cr0, %%eax\n\t"
		     "or $0x80000000, %%eax\n\t"
		     "mov %%eax, %%cr0\n\t"
		     "jmp ." : : "r"(0xe0000000u) : "eax", "memory");
}

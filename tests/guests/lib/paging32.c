/* 2-level 32-bit paging for the guests that need it: the first 4 MiB
 * through a page table of 4 KiB pages, the rest of the first 1 GiB in
 * 4 MiB pages (CR4.PSE), all identity-mapped, so that turning paging on
 * changes nothing the guest already relies on. */
#include "guest.h"

volatile uint32_t paging32_directory[1024] __attribute__((aligned(4096)));
volatile uint32_t paging32_low_table[1024] __attribute__((aligned(4096)));

void paging32_enable(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		paging32_low_table[i] = (i << 12) | PTE_P | PTE_W;
	paging32_directory[0] = (uint32_t)paging32_low_table | PTE_P | PTE_W;
	for (uint32_t i = 1; i < 256; i++)
		paging32_directory[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
	write_cr3((uint32_t)paging32_directory);
	write_cr4(read_cr4() | CR4_PSE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

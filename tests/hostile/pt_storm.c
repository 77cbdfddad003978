/* Hostile: 2x10^5 page-table rewrites, each made visible by INVLPG and
 * used at once, as a kernel's page-table churn (fork, COW, mprotect,
 * munmap) does: one PTE re-pointed among four frames with A and D
 * already set (Linux's set_pte), then with A and D clear (the walk must
 * set them again on the touch). Every read and write through the alias
 * is checked, so a translator that keeps a stale mapping fails here; each
 * storm prints its TSC ticks per rewrite (informative only; run.sh bounds
 * time loosely and RSS tightly; compare with QEMU by running the same ELF
 * there). */
#include "guest.h"

GUEST("pt_storm", "paging32");

#define ALIAS 0x40000000u	/* a free page-directory slot: PDE 256 */
#define STORM_ITER 100000

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frames[4][1024] __attribute__((aligned(4096)));

static void storm(const char *name, uint32_t bits)
{
	volatile uint32_t *alias = (volatile uint32_t *)ALIAS;
	unsigned stale = 0, lost = 0, no_ad = 0;

	check_begin(name);
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < STORM_ITER; i++) {
		unsigned f = (i * 7 + 1) % 4, w = i % 1024;
		table[0] = (uint32_t)frames[f] | PTE_P | PTE_W | bits;
		invlpg(alias);
		if (alias[w] != f * 0x10000 + w)
			stale++;
		alias[w] = f * 0x10000 + w;	/* the same value: sets D */
		if (frames[f][w] != f * 0x10000 + w)
			lost++;
		if ((table[0] & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
			no_ad++;
	}
	uint64_t t1 = rdtsc();
	check_eq("reads of the old frame", stale, 0);
	check_eq("writes lost", lost, 0);
	check_eq("entries without A and D after the touch", no_ad, 0);
	check_end();
	printf_serial("STORM %s %u rewrites %llu ticks each\n", name, STORM_ITER,
		      (unsigned long long)((t1 - t0) / STORM_ITER));
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned f = 0; f < 4; f++)
		for (unsigned w = 0; w < 1024; w++)
			frames[f][w] = f * 0x10000 + w;
	paging32_enable();
	paging32_directory[ALIAS >> 22] = (uint32_t)table | PTE_P | PTE_W;
	storm("accessed_dirty", PTE_A | PTE_D);
	storm("clean", 0);
}

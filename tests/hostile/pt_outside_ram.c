/* Hostile: 32-bit paging with a page directory entry whose page table
 * lies in unbacked space (the PCI hole), then a store, a load and a call
 * through the linear range it maps. What the walk reads there is the
 * platform's (all ones on hyvm, 0 in QEMU: a #PF); the run must end
 * cleanly: the guest's own exit after its #PF handler, a triple fault
 * (status 3) or one engine error line (status 4), never a crash or a
 * hang (tests/hostile/run.sh's expectations). */
#include "guest.h"

GUEST("pt_outside_ram", "paging32");

#define LIN 0x40000000u		/* PDE 256: free for tests */

static volatile uint32_t canary[1024] __attribute__((aligned(4096)));

static void store(void *arg) { *(volatile uint32_t *)LIN = 0x5a5a5a5a; }
static void load(void *arg) { (void)*(volatile uint32_t *)(LIN + 0x1234); }
static void jump(void *arg) { ((void (*)(void))(LIN + 0x2000))(); }

void guest_main(const struct mb_info *mbi)
{
	struct fault f;
	unsigned faults = 0;

	for (int i = 0; i < 1024; i++)
		canary[i] = i;
	paging32_enable();
	paging32_directory[LIN >> 22] = 0xe0000000u | 0x7;	/* P, RW, US: table in the hole */
	asm volatile("invlpg (%0)" : : "r"(LIN) : "memory");
	check_begin("pt_outside_ram");
	faults += catch_fault(store, NULL, &f);
	faults += catch_fault(load, NULL, &f);
	faults += catch_fault(jump, NULL, &f);
	printf_serial("pt_outside_ram: %u page faults\n", faults);
	/* whatever the walk found, the store did not land in the guest's
	 * own page (the walk must not have mapped LIN onto it) */
	unsigned changed = 0;
	for (int i = 0; i < 1024; i++)
		changed += canary[i] != (uint32_t)i;
	check_eq("canary words changed", changed, 0);
	check_end();
}

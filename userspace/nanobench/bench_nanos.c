/* The nanobenchmarks hyvm bench knows: the names the guest prints
 * (bench/nano/nano.c), what each needs from an engine, and Adams &
 * Agesen's 2006 figures where they measured the same thing. */
#include <string.h>
#include "nanobench/bench.h"

const struct nano_info nano_info[NANO_COUNT] = {
	[NANO_SYSCALL_INT80] = { "syscall-int80", "ring 3 -> 0 -> 3 through an int 0x80 gate and IRET",
				 NEED_USER_MODE, NULL },
	[NANO_SYSCALL_SYSENTER] = { "syscall-sysenter", "ring 3 -> 0 -> 3 through SYSENTER and SYSEXIT",
				    NEED_SYSENTER, NULL },
	[NANO_IN] = { "in", "IN from port 0x80 (the VMM's POST sink)", -1, "3209 / ~214 / 15826" },
	[NANO_OUT] = { "out", "OUT to port 0x80", -1, NULL },
	[NANO_CPUID] = { "cpuid", "CPUID leaf 0", -1, NULL },
	[NANO_DIVZERO] = { "divzero", "DIV by zero, #DE handled at CPL0, resumed after the DIV", -1,
			   "889 / 3223 / 1014" },
	[NANO_CALLRET] = { "callret", "CALL to a RET", -1, "11 / 51 / 11" },
	[NANO_PGFAULT] = { "pgfault", "#PF on a not-present page; the handler sets P and retries",
			   NEED_PAGING32, "1093 / 3927 / 11242" },
	[NANO_PTEMOD] = { "ptemod", "PTE write + INVLPG", NEED_PAGING32, "~1 / 391 / 12733" },
	[NANO_CR3] = { "cr3", "MOV to CR3 (two directories, alternating)", NEED_PAGING32, NULL },
};

int nano_find(const char *name)
{
	for (int i = 0; i < NANO_COUNT; i++)
		if (!strcmp(nano_info[i].name, name))
			return i;
	return -1;
}

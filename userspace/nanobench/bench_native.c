/* hyvm bench's native column: what a user process can measure on the host
 * CPU itself. Only CALL/RET and CPUID are the same work as in the guest.
 * The privileged ones (IN/OUT, INVLPG, MOV CR3, a #PF or #DE handled at
 * CPL0, a minimal ring 3 -> 0 -> 3 round trip) cannot be done by a user
 * process, so they are n/a, not stand-ins. Two stand-ins that do help to
 * read the table (a SIGFPE round trip, a getppid system call) go to the
 * footnotes, labelled as what they are. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <x86intrin.h>
#include "nanobench/bench.h"

static void __attribute__((noinline)) leaf(void)
{
	asm volatile("");
}

static double callret(unsigned n)
{
	uint64_t t0 = __rdtsc();
	for (unsigned i = n; i; i--)
		leaf();
	return (double)(__rdtsc() - t0) / n;
}

static double cpuid_native(unsigned n)
{
	uint64_t t0 = __rdtsc();
	for (unsigned i = n; i; i--) {
		unsigned a = 0, b, c = 0, d;
		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	}
	return (double)(__rdtsc() - t0) / n;
}

/* SIGFPE: skip the 2-byte "div %ecx" (f7 f1), as the guest's #DE handler. */
static void on_sigfpe(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static double sigfpe_round_trip(unsigned n)
{
	struct sigaction sa = { .sa_sigaction = on_sigfpe, .sa_flags = SA_SIGINFO }, old;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGFPE, &sa, &old) < 0)
		return -1;
	uint64_t t0 = __rdtsc();
	for (unsigned i = n; i; i--)
		asm volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\t.byte 0xf7, 0xf1"
			     : : "c"(0) : "eax", "edx");
	uint64_t t1 = __rdtsc();
	sigaction(SIGFPE, &old, NULL);
	return (double)(t1 - t0) / n;
}

static double getppid_syscall(unsigned n)
{
	uint64_t t0 = __rdtsc();
	for (unsigned i = n; i; i--)
		syscall(SYS_getppid);
	return (double)(__rdtsc() - t0) / n;
}

void bench_native(unsigned iterations, struct bench_column *col, char *extra, size_t extralen)
{
	unsigned n = iterations < 1000 ? 1000 : iterations;

	snprintf(col->name, sizeof(col->name), "native");
	snprintf(col->note, sizeof(col->note),
		 "this process on the host CPU; privileged operations cannot run in a user process (n/a)");
	for (int i = 0; i < NANO_COUNT; i++)
		col->cell[i].state = CELL_NA;
	callret(n);	/* warm up */
	col->cell[NANO_CALLRET] = (struct bench_cell){ CELL_OK, callret(n * 10) };
	col->cell[NANO_CPUID] = (struct bench_cell){ CELL_OK, cpuid_native(n) };

	double fpe = sigfpe_round_trip(n), sys = getppid_syscall(n);
	snprintf(extra, extralen,
		 "  host CPUID: these machines are VMs, so a native CPUID exits to their hypervisor.\n"
		 "  not in the table, not the same work: divide by zero caught as SIGFPE in this process\n"
		 "  (fault, Linux signal delivery, sigreturn) %.0f cycles; a getppid() system call %.0f cycles.\n",
		 fpe, sys);
}

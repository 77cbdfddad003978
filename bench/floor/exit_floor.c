/*
 * The floor under bt's exits on this machine: what the host primitives a
 * user-space binary translator is built of cost, in TSC ticks (the unit
 * of `hyvm bench`), each the best of 100 batches of N/100 (a loaded
 * machine preempts long batches; the best batch is the floor). Not a test and not the
 * guest's work: the numbers bound what bt can reach (docs/perf/bt-exits.md).
 *   rdtsc          the clock translated code could read for statistics
 *   clock_gettime  CLOCK_MONOTONIC through the vDSO (the VMM's clock)
 *   getppid        a bare system call
 *   poll(0)        poll(2) of one socket with timeout 0, as the VMM's
 *                  device poll does on every exit
 *   mprotect       one page's protection changed (a kick, a code page)
 *   SIGFPE         a divide by zero caught and resumed after the DIV
 *   SIGSEGV        a store to a read-only page caught and resumed after it
 * Usage: exit_floor [N] (default 100000).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <x86intrin.h>

static volatile uint8_t *ro_page;
static int sock[2];

/* Both faulting instructions are 2 bytes long (f7 f1, 88 02); the
 * handler resumes after them. */
static void on_fault(int sig, siginfo_t *si, void *uc_void)
{
	ucontext_t *uc = uc_void;
	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void op_rdtsc(void) { (void)__rdtsc(); }
static void op_clock(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); }
static void op_getppid(void) { (void)syscall(SYS_getppid); }
static void op_poll(void) { struct pollfd p = { .fd = sock[0], .events = POLLIN }; (void)poll(&p, 1, 0); }
static void op_mprotect(void) { (void)mprotect((void *)ro_page, 4096, PROT_READ); }
static void op_sigfpe(void)
{
	asm volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\t.byte 0xf7, 0xf1"	/* div ecx */
		     : : "c"(0) : "eax", "edx", "memory");
}
static void op_sigsegv(void)
{
	asm volatile(".byte 0x88, 0x02" : : "d"(ro_page), "a"(0) : "memory");	/* mov [rdx], al */
}

static double best(void (*op)(void), unsigned n)
{
	double min = 1e30;
	for (int r = 0; r < 100; r++) {
		uint64_t t0 = __rdtsc();
		for (unsigned i = 0; i < n; i++)
			op();
		double c = (double)(__rdtsc() - t0) / n;
		if (c < min)
			min = c;
	}
	return min;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 100000;
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };

	if (n == 0 || n > 100000000) {
		fprintf(stderr, "exit_floor: N must be 1..100000000\n");
		return 2;
	}
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page == MAP_FAILED || socketpair(AF_UNIX, SOCK_STREAM, 0, sock) < 0 ||
	    sigaction(SIGFPE, &sa, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0) {
		perror("exit_floor");
		return 1;
	}
	static const struct { const char *name; void (*op)(void); unsigned div; } ops[] = {
		{ "rdtsc", op_rdtsc, 1 }, { "clock_gettime", op_clock, 1 },
		{ "getppid", op_getppid, 1 }, { "poll(0)", op_poll, 1 },
		{ "mprotect", op_mprotect, 1 }, { "SIGFPE", op_sigfpe, 10 },
		{ "SIGSEGV", op_sigsegv, 10 },
	};
	printf("host primitive   TSC ticks (best of 100 batches of N/100)\n");
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		unsigned k = n / 100 / ops[i].div ? n / 100 / ops[i].div : 1;
		printf("%-16s %9.0f\n", ops[i].name, best(ops[i].op, k));
	}
	return 0;
}

/*
 * What hyvm_fuzz.c counts and its closing summary (the STATS lines): calls
 * per ioctl with their errnos, how each HYVM_RUN that entered ended (the
 * vCPU's run page, read right after), and how many mutated CPU states
 * HYVM_SET_STATE took. A failing call with an errno outside the ABI's is
 * a FAIL line at once.
 */
#ifndef HYVM_FUZZ_STATS_H
#define HYVM_FUZZ_STATS_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NR_CALL_KINDS	24
#define NR_ERRNOS	134	/* above every errno Linux defines */

static unsigned long long seed;

static struct {
	pthread_mutex_t lock;
	unsigned long ops, ok, runs, runs_entered, exits[16], unexpected;
	unsigned long run_kinds[16], run_unread;	/* per HYVM_RUN that returned 0 */
	unsigned long states_mutated, states_mutated_ok;
	struct {
		const char *what;
		unsigned long calls, ok, err[NR_ERRNOS];
	} call[NR_CALL_KINDS];
} stats = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The errnos hyvm.ko's ioctls, mmap and close may give. */
static void result(const char *what, long ret, int err)
{
	static const int allowed[] = {
		EINVAL, EFAULT, ENOTTY, EEXIST, ENOSPC, ENOMEM, EINTR, EBADF, EBUSY, EIO,
		EAGAIN, ENODEV, EPERM, EOPNOTSUPP,
	};
	int ok = ret >= 0, k;

	for (unsigned i = 0; !ok && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ok = err == allowed[i];
	pthread_mutex_lock(&stats.lock);
	stats.ops++;
	stats.ok += ret >= 0;
	for (k = 0; k < NR_CALL_KINDS && stats.call[k].what && strcmp(stats.call[k].what, what); k++)
		;
	if (k < NR_CALL_KINDS) {
		stats.call[k].what = what;
		stats.call[k].calls++;
		if (ret >= 0)
			stats.call[k].ok++;
		else if (err > 0 && err < NR_ERRNOS)
			stats.call[k].err[err]++;
	}
	if (!ok && stats.unexpected++ < 5)
		printf("FAIL hyvm_fuzz-errno: %s returned %ld errno %d (%s) (seed %llu)\n", what,
		       ret, err, strerror(err), seed);
	pthread_mutex_unlock(&stats.lock);
}

#define CALL(what, expr) do { long r_ = (expr); result(what, r_, errno); } while (0)

static void stats_report(double seconds)
{
	static const char *const kinds[16] = {
		"NONE", "IO", "MMIO", "HLT", "IRQ_WINDOW", "INTR", "SHUTDOWN", "FAIL", "MODE",
		"MSR", "DEBUG",
	};

	printf("STATS hyvm_fuzz: %lu calls in %.0f s (%.0f/s, %lu succeeded), %lu HYVM_RUN "
	       "(%lu ran the guest); exit kinds seen in run pages:", stats.ops, seconds,
	       seconds > 0 ? stats.ops / seconds : 0.0, stats.ok, stats.runs, stats.runs_entered);
	for (int k = 0; k < 16; k++)
		if (stats.exits[k])
			printf(" %d:%lu", k, stats.exits[k]);
	printf("\nSTATS hyvm_fuzz runs that returned 0, by exit kind:");
	for (int k = 0; k < 16; k++)
		if (stats.run_kinds[k])
			printf(" %s %lu", kinds[k] ? kinds[k] : "?", stats.run_kinds[k]);
	printf(" (fd gone before its run page was read: %lu)\n", stats.run_unread);
	printf("STATS hyvm_fuzz mutated states: %lu set, %lu accepted\n", stats.states_mutated,
	       stats.states_mutated_ok);
	for (int k = 0; k < NR_CALL_KINDS && stats.call[k].what; k++) {
		printf("STATS hyvm_fuzz call %s %lu times, %lu succeeded", stats.call[k].what,
		       stats.call[k].calls, stats.call[k].ok);
		for (int e = 1; e < NR_ERRNOS; e++)
			if (stats.call[k].err[e])
				printf(", %s %lu", strerrorname_np(e) ? strerrorname_np(e) : "?",
				       stats.call[k].err[e]);
		printf("\n");
	}
}

#endif

/*
 * The guest's TSC as a time (guest_tsc.h).
 */
#include <stdbool.h>
#include <time.h>
#include <x86intrin.h>
#include "vmm/guest_tsc.h"

/* Below this baseline the rate is waited for: 20 ms gives it to about
 * 1e-4 (a clock read's microsecond), so a 4 ms deadline is off by well
 * under a microsecond. The first TSC-deadline write comes seconds into
 * a Linux boot; a test guest's comes after about this wait once. */
#define MIN_BASELINE_NS	20000000ull
/* A (TSC, clock) pair whose two TSC reads are further apart than this
 * was interrupted (a preemption on a loaded host): taken again. */
#define PAIR_MAX_CYCLES	100000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void read_pair(uint64_t *tsc, uint64_t *ns)
{
	for (int i = 0; i < 10; i++) {
		uint64_t t0 = __rdtsc();
		*ns = mono_ns();
		uint64_t t1 = __rdtsc();
		*tsc = t0 + (t1 - t0) / 2;
		if (t1 - t0 < PAIR_MAX_CYCLES)
			return;
	}
}

void guest_tsc_init(struct guest_tsc_clock *c)
{
	*c = (struct guest_tsc_clock){ 0 };
	read_pair(&c->host_tsc0, &c->ns0);
}

void guest_tsc_note(struct guest_tsc_clock *c, uint64_t tsc, uint64_t now_ns)
{
	c->guest_tsc = tsc;
	c->ns = now_ns;
}

static uint64_t host_tsc_hz(const struct guest_tsc_clock *c)
{
	uint64_t tsc, ns;

	read_pair(&tsc, &ns);
	if (ns - c->ns0 < MIN_BASELINE_NS) {
		uint64_t wait = MIN_BASELINE_NS - (ns - c->ns0);
		struct timespec ts = { 0, (long)wait };
		nanosleep(&ts, NULL);
		read_pair(&tsc, &ns);
	}
	unsigned __int128 hz = (unsigned __int128)(tsc - c->host_tsc0) * 1000000000u;
	hz /= ns - c->ns0 ? ns - c->ns0 : 1;
	return hz ? (uint64_t)hz : 1;
}

uint64_t guest_tsc_ns_at(uint64_t anchor_tsc, uint64_t anchor_ns, uint64_t hz, uint64_t tsc)
{
	bool ahead = tsc >= anchor_tsc;
	unsigned __int128 d = ahead ? tsc - anchor_tsc : anchor_tsc - tsc;
	unsigned __int128 dns = d * 1000000000u / (hz ? hz : 1);

	if (ahead)
		return dns >= UINT64_MAX - 1 - anchor_ns ? UINT64_MAX - 1 : anchor_ns + (uint64_t)dns;
	return dns >= anchor_ns ? 1 : anchor_ns - (uint64_t)dns;
}

uint64_t guest_tsc_to_ns(struct guest_tsc_clock *c, uint64_t tsc)
{
	return guest_tsc_ns_at(c->guest_tsc, c->ns, host_tsc_hz(c), tsc);
}

/* The guest's TSC as a time (vmm/guest_tsc.c): the conversion the local
 * APIC's TSC-deadline mode gets through device_env.tsc_to_ns. */
#include <time.h>
#include <x86intrin.h>
#include "unit.h"
#include "vmm/guest_tsc.h"

static void test_ns_at(void)
{
	const uint64_t hz = 2000000000ull, at = 5000000000ull;

	CU_ASSERT_EQUAL(guest_tsc_ns_at(1000, at, hz, 1000), at);
	CU_ASSERT_EQUAL(guest_tsc_ns_at(1000, at, hz, 1000 + 2000), at + 1000);
	CU_ASSERT_EQUAL(guest_tsc_ns_at(1000000, at, hz, 1000000 - 2000), at - 1000);
	/* before the clock's start, and far ahead: clamped, never 0 */
	CU_ASSERT_EQUAL(guest_tsc_ns_at(1ull << 40, at, hz, 1), 1);
	CU_ASSERT_EQUAL(guest_tsc_ns_at(0, at, 1000, UINT64_MAX), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(guest_tsc_ns_at(0, at, hz, UINT64_MAX), at + UINT64_MAX / 2);
	/* 2^63 ticks ahead at 2 GHz is 146 years: no overflow on the way */
	CU_ASSERT_EQUAL(guest_tsc_ns_at(0, 0, hz, 1ull << 63), (1ull << 63) / 2);
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A (TSC, clock) pair read back to back: retried until its two TSC reads
 * are within 50,000 cycles, so that a preemption between the reads (a
 * loaded host) cannot skew the rate below by milliseconds. */
static void tight_pair(uint64_t *tsc, uint64_t *ns)
{
	for (int i = 0; i < 1000; i++) {
		uint64_t a = __rdtsc();
		*ns = mono();
		uint64_t b = __rdtsc();
		*tsc = a + (b - a) / 2;
		if (b - a < 50000)
			return;
	}
}

/* With the host's TSC as the guest's: 10 ms of TSC ahead of a noted pair
 * is 10 ms of CLOCK_MONOTONIC ahead, to 2 %. */
static void test_host_rate(void)
{
	struct guest_tsc_clock c;
	uint64_t t0, n0, t1, n1;

	guest_tsc_init(&c);
	tight_pair(&t0, &n0);
	struct timespec d = { 0, 30000000 };
	nanosleep(&d, NULL);
	tight_pair(&t1, &n1);
	uint64_t per_ms = (t1 - t0) * 1000000 / (n1 - n0);
	guest_tsc_note(&c, 12345, n0);
	uint64_t ns = guest_tsc_to_ns(&c, 12345 + 10 * per_ms);
	CU_ASSERT(ns >= n0 + 9800000 && ns <= n0 + 10200000);
	CU_ASSERT_EQUAL(guest_tsc_to_ns(&c, 12345), n0);
}

UNIT_SUITE(guest_tsc, NULL, NULL,
	   UNIT_TEST(test_ns_at),
	   UNIT_TEST(test_host_rate))

/* IA32_TSC_ADJUST (0x3b, SDM Vol. 3B, 17.17.3): listed by CPUID.(7,0):
 * EBX[1]; 0 after reset; a WRMSR of it that changes it by X adds X to the
 * TSC; a WRMSR of IA32_TSC that moves the TSC by X adds X to it; RDTSC
 * keeps counting from the moved value. Linux (tsc_sync.c) reads it once a
 * second and writes it back if it changed, and with it and the invariant
 * TSC trusts the TSC without the clocksource watchdog (tsc.c). The moves
 * are 2^40 cycles (minutes at any rate); SLACK bounds the time a loaded
 * host may stall the guest between two reads (2^34: 6 s at 3 GHz). */
#include "guest.h"

GUEST("tsc_adjust", "tsc-adjust");

#define MSR_TSC 0x10u
#define MSR_TSC_ADJUST 0x3bu
#define LEAF7_EBX_TSC_ADJUST (1u << 1)
#define SHIFT (1ull << 40)
#define SLACK (1ull << 34)

/* TSC readings: host timing, kept out of the exit checksum */
static VOLATILE_STATE uint64_t t0, t1, t2, adj;

static bool listed(void)
{
	uint32_t r[4];

	check_begin("cpuid");
	cpuid(0, 0, r);
	check(r[0] >= 7, "max basic leaf %u < 7", r[0]);
	if (r[0] >= 7)
		cpuid(7, 0, r);
	else
		r[1] = 0;
	check(r[1] & LEAF7_EBX_TSC_ADJUST, "CPUID.(7,0):EBX 0x%x lacks TSC_ADJUST (bit 1)", r[1]);
	check_end();
	return r[1] & LEAF7_EBX_TSC_ADJUST;
}

/* A write of IA32_TSC_ADJUST moves the TSC by the change. */
static void adjust_moves_tsc(void)
{
	check_begin("reset");
	adj = rdmsr(MSR_TSC_ADJUST);
	check(adj == 0, "IA32_TSC_ADJUST 0x%llx after reset, want 0", adj);
	check_end();

	check_begin("adjust_moves_tsc");
	t0 = rdtsc();
	wrmsr(MSR_TSC_ADJUST, SHIFT);
	t1 = rdtsc();
	check(t1 - t0 >= SHIFT && t1 - t0 < SHIFT + SLACK,
	      "TSC went 0x%llx -> 0x%llx across IA32_TSC_ADJUST = 2^40", t0, t1);
	adj = rdmsr(MSR_TSC_ADJUST);
	check(adj == SHIFT, "IA32_TSC_ADJUST reads 0x%llx after writing 2^40", adj);
	wrmsr(MSR_TSC_ADJUST, 0);	/* back by 2^40 */
	t2 = rdtsc();
	check(t2 < t1 && t1 - t2 <= SHIFT && t1 - t2 > SHIFT - SLACK,
	      "TSC went 0x%llx -> 0x%llx across IA32_TSC_ADJUST = 0", t1, t2);
	check(rdmsr(MSR_TSC_ADJUST) == 0, "IA32_TSC_ADJUST not 0 after writing 0");
	check_end();
}

/* A write of IA32_TSC moves IA32_TSC_ADJUST by the TSC's change, and
 * undoing the adjustment undoes the write's move. */
static void tsc_write_moves_adjust(void)
{
	check_begin("tsc_write_moves_adjust");
	t0 = rdtsc();
	wrmsr(MSR_TSC, t0 + SHIFT);
	t1 = rdtsc();
	adj = rdmsr(MSR_TSC_ADJUST);
	/* the TSC at the write was t0 plus what passed since */
	check(adj <= SHIFT && adj > SHIFT - SLACK,
	      "IA32_TSC_ADJUST 0x%llx after IA32_TSC = TSC + 2^40", adj);
	check(t1 >= t0 + SHIFT && t1 < t0 + SHIFT + SLACK,
	      "TSC 0x%llx after writing IA32_TSC = 0x%llx", t1, t0 + SHIFT);
	wrmsr(MSR_TSC_ADJUST, 0);
	t2 = rdtsc();
	/* moved back by adj: t2 = t1 + (time passed) - adj */
	check(t2 + adj >= t1 && t2 + adj < t1 + SLACK,
	      "TSC 0x%llx -> 0x%llx across IA32_TSC_ADJUST 0x%llx -> 0", t1, t2, adj);
	check(rdmsr(MSR_TSC_ADJUST) == 0, "IA32_TSC_ADJUST not 0 after writing 0");
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	if (!listed())
		return;
	adjust_moves_tsc();
	tsc_write_moves_adjust();
}

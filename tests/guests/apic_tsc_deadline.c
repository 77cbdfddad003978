/* The local APIC timer's TSC-deadline mode (SDM Vol. 3A, 11.5.4.1) with
 * the 8259 fully masked: CPUID.01H:ECX.TSC_Deadline[24]; IA32_TSC_DEADLINE
 * (0x6e0) ignoring writes and reading 0 outside TSC-deadline mode; a
 * deadline 5 ms ahead that reads back until it fires, whose interrupt
 * comes after the TSC reached it (not before) while the guest HLTs, and
 * reads 0 once fired; disarming by writing 0; a deadline already past
 * firing at once; leaving the mode disarming it. The TSC's rate is
 * measured on the ACPI PM timer. Times on a loaded host may stretch, so
 * the upper bounds are loose; the lower ones are the architecture's. */
#include "guest.h"

GUEST("apic_tsc_deadline", "tsc-deadline");

#define VEC_TIMER 0x40
#define VEC_SPURIOUS 0xff
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define MSR_TSC_DEADLINE 0x6e0
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

/* Host timing, not guest state: kept out of the exit checksum. */
static volatile VOLATILE_STATE uint32_t ticks, spurious;
static volatile VOLATILE_STATE uint64_t fired_tsc, tsc_per_ms;

static void on_timer(struct trap_frame *tf)
{
	fired_tsc = rdtsc();
	ticks++;
	apic_eoi();
}

static void on_spurious(struct trap_frame *tf) { spurious++; }	/* no EOI (11.9) */

/* Busy-waits ms milliseconds on the PM timer with interrupts as they are. */
static void pm_wait_ms(uint32_t ms)
{
	uint32_t start = pm_timer_read();

	while (pm_timer_us_since(start) < ms * 1000)
		;
}

static void deadline_reads_0(const char *when)
{
	uint64_t v = rdmsr(MSR_TSC_DEADLINE);

	check(v == 0, "%s: 0x%llx, not 0", when, v);
}

static bool has_tsc_deadline(void)
{
	uint32_t r[4];

	check_begin("cpuid");
	cpuid(1, 0, r);
	check(r[2] & CPUID_1_ECX_TSC_DEADLINE, "CPUID.1:ECX 0x%x lacks TSC-deadline (bit 24)",
	      r[2]);
	check_end();
	return r[2] & CPUID_1_ECX_TSC_DEADLINE;
}

/* The TSC's rate, the least of three 10 ms PM-timer intervals (a host
 * that stalls the guest between the reads only makes one longer). */
static void calibrate(void)
{
	uint64_t least = ~0ull;

	check_begin("calibrate");
	for (int i = 0; i < 3; i++) {
		uint32_t start = pm_timer_read();
		uint64_t t0 = rdtsc();
		uint32_t us;
		while ((us = pm_timer_us_since(start)) < 10000)
			;
		uint64_t per_ms = (rdtsc() - t0) * 1000 / us;
		if (per_ms < least)
			least = per_ms;
	}
	tsc_per_ms = least;
	/* 10 MHz to 10 GHz: Bochs (the vmx emulated host) counts the TSC at
	 * its instruction rate, 99.5 MHz measured with ips=100000000 */
	check(least >= 10000 && least <= 10000000, "TSC at %llu kHz", least);
	check_end();
}

/* 11.5.4.1: "In other timer modes (LVT bit 18 = 0), the IA32_TSC_DEADLINE
 * MSR reads zero and writes are ignored." */
static void other_modes(void)
{
	check_begin("other_modes");
	apic_write(APIC_LVT_TIMER, VEC_TIMER);			/* one-shot */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000);
	deadline_reads_0("IA32_TSC_DEADLINE in one-shot mode");
	apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
	deadline_reads_0("IA32_TSC_DEADLINE on entering the mode");
	check_eq("LVT timer", apic_read(APIC_LVT_TIMER) & 0x700ff, LVT_TSC_DEADLINE | VEC_TIMER);
	pm_wait_ms(2);
	check_eq("interrupts from the ignored write", ticks, 0);
	check_end();
}

static void arm_and_fire(void)
{
	check_begin("arm_and_fire");
	ticks = 0;
	uint64_t deadline = rdtsc() + 5 * tsc_per_ms;
	wrmsr(MSR_TSC_DEADLINE, deadline);
	uint64_t v = rdmsr(MSR_TSC_DEADLINE);
	/* a host that stalled the guest past the deadline: it fired */
	check(v == deadline || (v == 0 && rdtsc() >= deadline),
	      "IA32_TSC_DEADLINE read 0x%llx after writing 0x%llx", v, deadline);
	uint32_t start = pm_timer_read();
	while (ticks == 0 && pm_timer_us_since(start) < 2000000)
		sti_hlt();
	cli();
	check_eq("deadline interrupts", ticks, 1);
	check(fired_tsc >= deadline, "the interrupt came %llu TSC ticks before the deadline",
	      deadline - fired_tsc);
	check(fired_tsc - deadline < 1000 * tsc_per_ms, "the interrupt came %llu ms late",
	      (fired_tsc - deadline) / tsc_per_ms);
	deadline_reads_0("IA32_TSC_DEADLINE once fired");
	check_eq("current count in TSC-deadline mode", apic_read(APIC_TIMER_CCR), 0);
	check_end();
}

static void disarm(void)
{
	check_begin("disarm");
	ticks = 0;
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 3 * tsc_per_ms);
	wrmsr(MSR_TSC_DEADLINE, 0);
	deadline_reads_0("IA32_TSC_DEADLINE after writing 0");
	sti();
	pm_wait_ms(10);
	cli();
	check_eq("interrupts after disarming", ticks, 0);
	check_end();
}

/* A deadline the TSC has passed fires at once: taken at the STI's end of
 * shadow, before a millisecond has gone by. */
static void past(void)
{
	check_begin("past");
	ticks = 0;
	wrmsr(MSR_TSC_DEADLINE, rdtsc() - 1000);
	sti();
	pm_wait_ms(1);
	cli();
	check_eq("interrupts from a deadline just past", ticks, 1);
	wrmsr(MSR_TSC_DEADLINE, 1);
	sti();
	pm_wait_ms(1);
	cli();
	check_eq("interrupts from deadline 1", ticks, 2);
	deadline_reads_0("IA32_TSC_DEADLINE after");
	check_end();
}

/* 11.5.4.1: a change of timer mode disarms the timer. The deadline is
 * 20 ms ahead and the wait 40 ms; if the mode change itself came after
 * the deadline (the guest's vCPU stalled that long on a loaded host: its
 * MSR and LVT writes are exits), the timer had fired, as it would on
 * hardware, and the round is taken again. Interrupts still owed by
 * past() are taken first. */
static void mode_change(void)
{
	check_begin("mode_change");
	sti();
	pm_wait_ms(2);
	cli();
	int round;
	for (round = 0; round < 5; round++) {
		ticks = 0;
		uint64_t deadline = rdtsc() + 20 * tsc_per_ms;
		wrmsr(MSR_TSC_DEADLINE, deadline);
		apic_write(APIC_LVT_TIMER, VEC_TIMER);			/* one-shot */
		apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
		if (rdtsc() >= deadline) {
			sti();
			pm_wait_ms(2);
			cli();
			continue;
		}
		deadline_reads_0("IA32_TSC_DEADLINE after a mode change");
		sti();
		pm_wait_ms(40);
		cli();
		check_eq("interrupts after the mode change", ticks, 0);
		break;
	}
	check(round < 5, "the mode change came after a 20 ms deadline 5 times");
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(VEC_TIMER, on_timer);
	trap_set_handler(VEC_SPURIOUS, on_spurious);
	pic_init(0);			/* every 8259 line masked */
	if (!has_tsc_deadline())
		return;
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);	/* software-enabled */
	calibrate();
	other_modes();
	arm_and_fire();
	disarm();
	past();
	mode_change();
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
}

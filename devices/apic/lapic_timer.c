/*
 * The local APIC timer (SDM Vol. 3A, 11.5.4): a 32-bit down-counter
 * clocked at LAPIC_BUS_HZ divided by the divide configuration register,
 * one-shot or periodic, or TSC-deadline (11.5.4.1). Time is env->now_ns:
 * the counter is computed from when it was loaded, never ticked, and the
 * VMM wakes for the next expiry through next_deadline.
 */
#include "devices/apic/lapic_internal.h"

#define NS_PER_BUS_TICK	(1000000000ull / LAPIC_BUS_HZ)
#define DCR_WRITABLE	0xbu	/* bits 0, 1 and 3 (Figure 11-10) */
#define LVT_TIMER_WRITABLE (LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE)

/* Figure 11-10: bits 3,1,0 = 000 divides by 2, ... 110 by 128, 111 by 1. */
static uint64_t ns_per_count(const struct lapic *a)
{
	unsigned v = (a->dcr & 3) | ((a->dcr >> 1) & 4);

	return (v == 7 ? 1 : 2ull << v) * NS_PER_BUS_TICK;
}

static uint32_t mode(const struct lapic *a)
{
	return a->lvt[LVT_TIMER] & LVT_TIMER_MODE;
}

static bool tsc_deadline_mode(const struct lapic *a)
{
	return mode(a) == LVT_TIMER_TSC_DEADLINE;
}

static bool periodic(const struct lapic *a)
{
	return mode(a) == LVT_TIMER_PERIODIC;
}

static uint64_t expiry(const struct lapic *a)
{
	return a->load_ns + a->load_count * ns_per_count(a);
}

/* 11.5.4: the current count, 0 once a one-shot count has run out; a
 * periodic count reloads from the initial count at 0. */
uint32_t lapic_timer_current(const struct lapic *a, uint64_t now)
{
	if (tsc_deadline_mode(a) || !a->load_count || now < a->load_ns)
		return tsc_deadline_mode(a) ? 0 : a->load_count;
	uint64_t counted = (now - a->load_ns) / ns_per_count(a);
	if (counted < a->load_count)
		return a->load_count - (uint32_t)counted;
	if (!periodic(a) || !a->initial_count)
		return 0;
	return a->initial_count - (uint32_t)((counted - a->load_count) % a->initial_count);
}

/* Timer interrupts are edge-triggered fixed interrupts (11.5.1). */
static void fire(struct lapic *a)
{
	uint32_t lvt = a->lvt[LVT_TIMER];

	if (!(lvt & LVT_MASKED))
		lapic_accept(a, lvt & LVT_VECTOR, false);
}

/* A periodic timer the VMM served late owes the periods it missed, as
 * KVM's lapic.c does (advance_periodic_target_expiration: the next target
 * is the previous one plus the period, not now plus the period): a guest
 * whose clock is its tick count (Linux with refined-jiffies, when neither
 * the TSC nor the PM timer could be calibrated) keeps the host's time.
 * One owed period is raised per poll, and only once the last one left
 * the IRR (the guest took it): the IRR holds one request per vector, so a
 * second edge there would merge into the first. More than
 * LAPIC_MAX_OWED_NS behind (a VM stopped, a host that lost the vCPU for
 * long), the older periods are dropped so the guest is never stormed. */
#define LAPIC_MAX_OWED_NS	1000000000ull

static uint64_t period_ns(const struct lapic *a)
{
	return a->initial_count * ns_per_count(a);
}

static bool vector_pending(const struct lapic *a)
{
	return vec_test(a->irr, a->lvt[LVT_TIMER] & LVT_VECTOR);
}

/* Whether the guest would see an interrupt from this timer at all. */
static bool delivering(const struct lapic *a)
{
	return !(a->lvt[LVT_TIMER] & LVT_MASKED);
}

void lapic_timer_poll(void *dev, uint64_t now)
{
	struct lapic *a = dev;

	if (tsc_deadline_mode(a)) {
		if (a->tsc_deadline && now >= a->tsc_deadline_ns) {
			/* 11.5.4.1: the MSR reads 0 once the timer fired */
			a->tsc_deadline = a->tsc_deadline_ns = 0;
			fire(a);
		}
		return;
	}
	if (!a->load_count || now < expiry(a))
		return;
	uint64_t at = expiry(a);
	if (!periodic(a) || !a->initial_count) {
		fire(a);
		a->load_count = 0;
		return;
	}
	uint64_t period = period_ns(a);
	if (!delivering(a)) {
		/* masked: nothing is owed; the period's phase is kept */
		a->load_ns = at + (now - at) / period * period;
		a->load_count = a->initial_count;
		return;
	}
	if (now - at > LAPIC_MAX_OWED_NS) {
		uint64_t dropped = (now - at - LAPIC_MAX_OWED_NS) / period * period;
		a->load_ns += dropped;
		at += dropped;
	}
	if (vector_pending(a))
		return;		/* owed: raised once the guest took the last one */
	fire(a);
	a->load_ns = at;	/* the next period ends one period after this one */
	a->load_count = a->initial_count;
}

/* While the timer's LVT is masked nothing wakes the VMM: the count is
 * computed, and an LVT write catches up first (lapic_timer_write_lvt). */
uint64_t lapic_timer_deadline(void *dev)
{
	struct lapic *a = dev;

	if (a->lvt[LVT_TIMER] & LVT_MASKED)
		return UINT64_MAX;
	if (tsc_deadline_mode(a))
		return a->tsc_deadline ? a->tsc_deadline_ns : UINT64_MAX;
	/* A period owed behind a request the guest has not taken yet is
	 * raised at the first poll after it takes it (its EOI exits). */
	if (periodic(a) && vector_pending(a))
		return UINT64_MAX;
	return a->load_count ? expiry(a) : UINT64_MAX;
}

/* 11.5.4.1: a change into or out of TSC-deadline mode disarms the timer.
 * Mode 11b is reserved; it counts as one-shot here. A software-disabled
 * APIC keeps the mask bit set (11.4.7.2). */
void lapic_timer_write_lvt(struct lapic *a, uint32_t value, uint64_t now)
{
	bool was_deadline = tsc_deadline_mode(a);

	lapic_timer_poll(a, now);	/* expiries under the old LVT */
	value &= LVT_TIMER_WRITABLE;
	if (!lapic_enabled(a))
		value |= LVT_MASKED;
	a->lvt[LVT_TIMER] = value;
	if (was_deadline != tsc_deadline_mode(a)) {
		a->initial_count = a->load_count = 0;
		a->tsc_deadline = a->tsc_deadline_ns = 0;
	}
}

/* 11.5.4: writing the initial count (re)starts the count; 0 stops it.
 * Ignored in TSC-deadline mode (11.5.4.1). */
void lapic_timer_write_initial(struct lapic *a, uint32_t count, uint64_t now)
{
	if (tsc_deadline_mode(a))
		return;
	a->initial_count = count;
	a->load_count = count;
	a->load_ns = now;
}

/* A new divisor applies from now on: the count so far is kept. */
void lapic_timer_write_dcr(struct lapic *a, uint32_t value, uint64_t now)
{
	lapic_timer_poll(a, now);
	uint32_t current = lapic_timer_current(a, now);
	a->dcr = value & DCR_WRITABLE;
	if (a->load_count) {
		a->load_count = current;
		a->load_ns = now;
	}
}

/* 11.5.4.1: in TSC-deadline mode a non-zero write arms the timer for when
 * the TSC reaches tsc (at once if it has: the caller polls right after),
 * and 0 disarms it; in the other modes writes are ignored and reads give
 * 0. deadline_ns: tsc as a time of env->now_ns. */
void lapic_timer_write_tsc_deadline(struct lapic *a, uint64_t tsc, uint64_t deadline_ns)
{
	if (!tsc_deadline_mode(a))
		return;
	a->tsc_deadline = tsc;
	a->tsc_deadline_ns = tsc ? deadline_ns : 0;
}

uint64_t lapic_timer_read_tsc_deadline(const struct lapic *a)
{
	return tsc_deadline_mode(a) ? a->tsc_deadline : 0;
}

/* For the stop report (device_model.describe): the timer's LVT and mode,
 * its count and when it next fires, relative to now. */
void lapic_timer_describe(const struct lapic *a, uint64_t now, char *buf, size_t len)
{
	static const char *const modes[] = { "one-shot", "periodic", "tsc-deadline", "reserved" };
	uint32_t lvt = a->lvt[LVT_TIMER];
	uint64_t next = lapic_timer_deadline((void *)a);
	int n = snprintf(buf, len, "timer lvt 0x%05x (%s%s) initial %u divide-reg 0x%x current %u",
			 lvt, modes[(lvt & LVT_TIMER_MODE) >> 17],
			 lvt & LVT_MASKED ? ", masked" : "", a->initial_count, a->dcr,
			 lapic_timer_current(a, now));

	if (n < 0 || (size_t)n >= len)
		return;
	if (periodic(a) && a->load_count && vector_pending(a))
		snprintf(buf + n, len - n, ", its vector waits in the IRR (periods owed: %.1f ms)",
			 now > expiry(a) ? (now - expiry(a)) / 1e6 : 0.0);
	else if (next == UINT64_MAX)
		snprintf(buf + n, len - n, ", disarmed");
	else if (next <= now)
		snprintf(buf + n, len - n, ", due %.3f ms ago", (now - next) / 1e6);
	else
		snprintf(buf + n, len - n, ", fires in %.3f ms", (next - now) / 1e6);
}

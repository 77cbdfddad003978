/*
 * The guest's TSC as the devices' clock sees it (device_env.tsc_to_ns):
 * every engine's guest TSC ticks at the host's rate (bt reads it, kvm,
 * svm and vmx offset it), so a guest TSC value is a time once the VMM
 * knows that rate and one (guest TSC, time) pair, which each EXIT_MSR
 * brings (vcpu_exit.msr.tsc). The rate is measured against
 * CLOCK_MONOTONIC from when the VM was made, so it grows more exact as
 * the VM runs.
 */
#ifndef HYVM_GUEST_TSC_H
#define HYVM_GUEST_TSC_H

#include <stdint.h>

struct guest_tsc_clock {
	uint64_t host_tsc0, ns0;	/* a (host TSC, CLOCK_MONOTONIC) pair at the start */
	uint64_t guest_tsc, ns;		/* the guest's TSC at time ns (the last note) */
};

void guest_tsc_init(struct guest_tsc_clock *c);
/* The guest's TSC read tsc at time now_ns. */
void guest_tsc_note(struct guest_tsc_clock *c, uint64_t tsc, uint64_t now_ns);
/* A guest TSC value as a time of CLOCK_MONOTONIC, never 0. */
uint64_t guest_tsc_to_ns(struct guest_tsc_clock *c, uint64_t tsc);
/* The conversion itself: anchor_tsc at anchor_ns, hz ticks a second; a
 * value before the anchor gives an earlier time, clamped to 1 and to
 * UINT64_MAX - 1 (unit-tested). */
uint64_t guest_tsc_ns_at(uint64_t anchor_tsc, uint64_t anchor_ns, uint64_t hz, uint64_t tsc);

#endif

/*
 * The xAPIC local APIC (SDM Vol. 3A, chapter 11), one per vCPU: what the
 * rest of hyvm may call besides the device model. Everything else goes
 * through the MMIO page at LAPIC_DEFAULT_BASE and the interrupt router.
 */
#ifndef HYVM_LAPIC_H
#define HYVM_LAPIC_H

#include <stdint.h>

/* IA32_APIC_BASE's reset base (11.4.4). Relocation through the MSR is not
 * modelled: the page stays here (see lapic.c). */
#define LAPIC_DEFAULT_BASE	0xfee00000ull
#define LAPIC_PAGE_SIZE		0x1000

/* The timer's input clock, before the divide configuration register
 * divides it (11.5.4): the "bus clock" or "core crystal clock", which the
 * SDM leaves to the model. 1 GHz as QEMU's APIC (its timer counts
 * nanoseconds), so one tick is one nanosecond of env->now_ns. Guests do
 * not read it from CPUID leaf 0x15 (the model lists no such leaf): Linux
 * calibrates the APIC timer against the PIT. */
#define LAPIC_BUS_HZ		1000000000ull

struct lapic;

/* TSC-deadline mode (11.5.4.1) is armed through IA32_TSC_DEADLINE, which
 * the VMM's MSR bus (device_env.msr) brings here from every engine
 * (EXIT_MSR); env->tsc_to_ns turns the guest's TSC value into a time of
 * env->now_ns. */

/* Counters of what the model accepts but does not carry out, for tests
 * and diagnostics. */
struct lapic_counters {
	unsigned long nmi_dropped;	/* NMI messages/IPIs: no NMI path to engines */
	unsigned long ipi_ignored;	/* INIT, STARTUP, SMI: one vCPU, no SMM */
	unsigned long bad_access;	/* sizes/offsets the SDM leaves undefined */
};
void lapic_counters(const struct lapic *a, struct lapic_counters *out);

#endif

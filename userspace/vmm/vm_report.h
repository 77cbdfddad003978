/*
 * Where a guest was when hyvm was stopped from outside (SIGINT/SIGTERM,
 * the test harnesses' timeouts): the stop report. With HYVM_STOP_REPORT=1
 * the VMM loop keeps a little history as it runs (the last exit, exit
 * counts a few seconds back, whether the vCPU waits in HLT) and, at an
 * interrupted stop, prints on stderr the vCPU's registers, that history,
 * and one line from every device that describes itself (device_model.
 * describe: the interrupt controllers and the APIC timer), so a guest that
 * stalled says whether it spun, halted with nothing to wake it, or waited
 * on an interrupt stuck in service.
 *
 * Always on, whatever the variable: an interrupt the engine refused after
 * an exit that said it would take one (engine.h: inject_irq) is said once
 * on stderr and counted; the controller had moved it to in-service, so the
 * guest never sees it and never ends it.
 */
#ifndef HYVM_VM_REPORT_H
#define HYVM_VM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engines/engine.h"

/* Exit counts are marked every VM_WATCH_MARK_NS; the report counts from
 * the older of the two marks, so it covers the last 5-10 seconds. */
#define VM_WATCH_MARK_NS	5000000000ull

struct vm_watch {
	bool enabled;			/* HYVM_STOP_REPORT=1 */
	uint64_t last_exit_ns, last_exit_rip;
	enum exit_kind last_exit_kind;
	uint64_t halted_since_ns;	/* 0: not waiting in HLT */
	uint64_t mark_ns[2];		/* [0] older, [1] newer */
	uint64_t mark[2][EXIT_KIND_COUNT];
	uint64_t irqs_refused;
	int first_refused_vector;
};

struct vm;

/* At the start of vm_run: reads HYVM_STOP_REPORT, marks the counts. */
void vm_watch_start(struct vm *vm);
/* After each exit the VMM loop saw (vm->exits already counted). */
void vm_watch_exit(struct vm *vm, const struct vcpu_exit *exit);
/* The vCPU starts (true) or stops (false) waiting in HLT. */
void vm_watch_halted(struct vm *vm, bool halted);
/* inject_irq failed for vector: said once on stderr, counted. */
void vm_watch_irq_refused(struct vm *vm, uint8_t vector);
/* The report, if enabled (lines start "hyvm: stop report: "). */
void vm_report_stop(struct vm *vm, FILE *f);

#endif

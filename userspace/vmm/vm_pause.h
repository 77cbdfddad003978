/*
 * Pausing the VM from outside the guest (the gdb stub, userspace/gdb/):
 * a request from anywhere on the vCPU thread, or from a signal handler,
 * stops the run loop at the next clean point, an exit after which the
 * vCPU state is whole (kicked, halted, an interrupt window, a debug stop;
 * never between an IN and its completion), and calls the pause hook
 * there. The hook returns when the VM should run on.
 */
#ifndef HYVM_VM_PAUSE_H
#define HYVM_VM_PAUSE_H

#include <stdbool.h>

struct vm;
struct vcpu_exit;

struct vm_pause_hook {
	/* The VM stands still: exit is the exit it stopped at (EXIT_DEBUG for
	 * a breakpoint or step), NULL before the first run. */
	void (*paused)(void *ctx, struct vm *vm, const struct vcpu_exit *exit);
	void *ctx;
};

/* Async-signal-safe. */
void vm_request_pause(struct vm *vm);
/* The run loop's side: after each handled exit (NULL: before the first
 * run). Calls the hook at a clean point when a pause was requested or
 * the engine stopped for the debugger; elsewhere makes the next run end
 * at once. */
void vm_pause_point(struct vm *vm, const struct vcpu_exit *exit);

#endif

/*
 * Pausing the VM at a clean point and resuming it: for the control
 * socket (stop/cont, checkpoints) and the GDB stub alike. Everything runs
 * on the vCPU thread: a request comes from a callback between guest runs
 * (an fd_watch ready callback), and the run loop holds the VM once the
 * vCPU is at a clean point:
 *
 *  - out of the engine (we are between vcpu_run calls), and
 *  - after an exit that leaves nothing for the next entry: an IN or an
 *    MMIO read is completed by the engine on the next vcpu_run, and KVM
 *    advances RIP past an OUT only then (engine.h). After such an exit the
 *    loop kicks the vCPU and runs it once more, which completes the access
 *    and returns EXIT_KICKED at once (the hybrid engine's "settle").
 *
 * An interrupt the VMM acknowledged is injected right before vcpu_run
 * and taken by the engine inside it, so at a clean point no event is half
 * delivered; an engine that stops in the middle of delivering one reports
 * it in hyvm_cpu_state.event, which a checkpoint carries.
 *
 * While held, the loop polls only the watched fds (the control socket,
 * disk completions) and the console: the guest does not run, its device
 * timers are not polled (they catch up on resume as after a long exit).
 *
 * The GDB stub (userspace/gdb/) stops the VM a second way: its request may
 * come from a signal handler or its listener (vm_pause_request_async), and
 * at the next clean exit, or at a debug exit (EXIT_DEBUG: a breakpoint or a
 * step), vm_pause_debug_point calls its hook, which talks to gdb and
 * returns when the VM should run on. While gdb holds the VM, the control
 * socket is not served.
 */
#ifndef HYVM_VM_PAUSE_H
#define HYVM_VM_PAUSE_H

#include <signal.h>
#include <stdbool.h>
#include "engines/engine.h"

struct vm;

struct vm_pause_hook {
	/* The VM stands still: exit is the exit it stopped at (EXIT_DEBUG for
	 * a breakpoint or step), NULL before the first run. */
	void (*paused)(void *ctx, struct vm *vm, const struct vcpu_exit *exit);
	void *ctx;
};

/* Who wants the VM paused: it runs again only when nobody does. */
#define VM_PAUSE_USER		0x1u	/* QMP stop, until cont */
#define VM_PAUSE_DEBUGGER	0x2u	/* the GDB stub */
#define VM_PAUSE_ACTION		0x4u	/* a one-shot action (a checkpoint) */

#define VM_PAUSE_MAX_ACTIONS	4

/* Called once with the vCPU held at a clean point (a checkpoint's write).
 * It may release pauses or ask the run to stop. */
typedef void (*vm_pause_action)(struct vm *vm, void *ctx);

struct vm_pause {
	unsigned want;			/* VM_PAUSE_* bits */
	bool held;			/* the loop is holding the vCPU now */
	bool resume_in_hlt;		/* held while the guest waited in HLT */
	struct { vm_pause_action fn; void *ctx; } action[VM_PAUSE_MAX_ACTIONS];
	unsigned nr_actions;
	/* Optional: told when the VM becomes held or runs again (QMP's STOP
	 * and RESUME events). */
	void (*changed)(void *ctx, bool held);
	void *changed_ctx;
	/* the debugger's stop (vm_pause_request_async, vm_pause_debug_point) */
	volatile sig_atomic_t debug_requested;
	struct vm_pause_hook debug_hook;
};

void vm_pause_request(struct vm *vm, unsigned who);
void vm_pause_release(struct vm *vm, unsigned who);
/* Runs fn once at the next clean point (pausing the VM for it); -1 when
 * too many are queued. */
int vm_pause_run_action(struct vm *vm, vm_pause_action fn, void *ctx);
bool vm_pause_wanted(const struct vm *vm);
/* Any stop asked for, the debugger's included: a halted vCPU stops waiting. */
bool vm_pause_any(const struct vm *vm);

/* The debugger's request: async-signal-safe, kicks the vCPU. */
void vm_pause_request_async(struct vm *vm);
/* The run loop's side: after each handled exit (NULL: before the first
 * run). Calls the debug hook at a clean point when the debugger asked or
 * the engine stopped for it; elsewhere makes the next run end at once. */
void vm_pause_debug_point(struct vm *vm, const struct vcpu_exit *exit);

/* For vm_run: whether the last exit leaves the vCPU at a clean point. */
bool vm_pause_clean_exit(const struct vcpu_exit *e);
/* For vm_run, at a clean point with a pause wanted: runs the actions, then
 * waits (polling the watched fds and the console) until no pause is
 * wanted or a stop is requested. */
void vm_pause_hold(struct vm *vm);

#endif

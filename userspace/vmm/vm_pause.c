/* Pausing the VM at a clean point; see vm_pause.h. */
#include <poll.h>
#include "vmm/vm.h"
#include "vmm/vm_pause.h"

#define HOLD_POLL_MS	50	/* how often a held VM looks at a stop request */

void vm_pause_request(struct vm *vm, unsigned who)
{
	vm->pause.want |= who;
	/* the callback runs between guest runs, so the vCPU is out of the
	 * engine already; a kick makes a settle run (vm_run) end at once */
	if (vm->vcpu)
		vm->engine->kick(vm->vcpu);
}

void vm_pause_release(struct vm *vm, unsigned who)
{
	vm->pause.want &= ~who;
}

int vm_pause_run_action(struct vm *vm, vm_pause_action fn, void *ctx)
{
	struct vm_pause *p = &vm->pause;

	if (p->nr_actions == VM_PAUSE_MAX_ACTIONS)
		return -1;
	p->action[p->nr_actions].fn = fn;
	p->action[p->nr_actions].ctx = ctx;
	p->nr_actions++;
	vm_pause_request(vm, VM_PAUSE_ACTION);
	return 0;
}

bool vm_pause_wanted(const struct vm *vm)
{
	return vm->pause.want != 0;
}

bool vm_pause_any(const struct vm *vm)
{
	return vm->pause.want != 0 || vm->pause.debug_requested;
}

bool vm_pause_clean_exit(const struct vcpu_exit *e)
{
	switch (e->kind) {
	case EXIT_NONE:		/* nothing ran yet */
	case EXIT_KICKED:
	case EXIT_HLT:
	case EXIT_IRQ_WINDOW:
	case EXIT_DEBUG:	/* a breakpoint or a step: the instruction is done */
		return true;
	default:
		return false;
	}
}

static void run_actions(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	/* an action may queue another (a save that quits): take them in order */
	for (unsigned i = 0; i < p->nr_actions; i++)
		p->action[i].fn(vm, p->action[i].ctx);
	p->nr_actions = 0;
	vm_pause_release(vm, VM_PAUSE_ACTION);
}

void vm_pause_hold(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	p->held = true;
	if (p->changed)
		p->changed(p->changed_ctx, true);
	while (!vm->stop_requested) {
		if (p->nr_actions)
			run_actions(vm);
		if (!p->want || vm->stop_requested)
			break;
		if (vm->input_hook.pump && vm->input_hook.pump(vm->input_hook.ctx)) {
			vm->env.request_stop(vm->env.stop_ctx, VM_STOP_CONSOLE_QUIT, 0);
			break;
		}
		struct pollfd pfd = {
			.fd = vm->input_hook.pump ? vm->input_hook.watch_fd : -1, .events = POLLIN,
		};
		fd_watch_poll(&vm->fd_watch, &pfd, 1, HOLD_POLL_MS);
	}
	p->held = false;
	if (p->changed)
		p->changed(p->changed_ctx, false);
}

void vm_pause_request_async(struct vm *vm)
{
	vm->pause.debug_requested = 1;
	if (vm->vcpu)
		vm->engine->kick(vm->vcpu);
}

void vm_pause_debug_point(struct vm *vm, const struct vcpu_exit *exit)
{
	struct vm_pause *p = &vm->pause;
	bool debug_stop = exit && exit->kind == EXIT_DEBUG;

	if (!p->debug_requested && !debug_stop)
		return;
	if (!p->debug_hook.paused) {
		p->debug_requested = 0;
		return;
	}
	if (exit && !vm_pause_clean_exit(exit)) {
		vm->engine->kick(vm->vcpu);	/* the next run stops at once */
		return;
	}
	p->debug_requested = 0;
	p->debug_hook.paused(p->debug_hook.ctx, vm, exit);
}

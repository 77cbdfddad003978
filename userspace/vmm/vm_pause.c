/* Pausing the run loop at a clean point; see vm_pause.h. */
#include "vmm/vm.h"
#include "vmm/vm_pause.h"

void vm_request_pause(struct vm *vm)
{
	vm->pause_requested = 1;
	if (vm->vcpu)
		vm->engine->kick(vm->vcpu);
}

/* After these the engine has finished the instruction it stopped in (an
 * IN or an MMIO read completes only on the next run, so not after those). */
static bool clean_exit(const struct vcpu_exit *exit)
{
	switch (exit->kind) {
	case EXIT_NONE:
	case EXIT_HLT:
	case EXIT_IRQ_WINDOW:
	case EXIT_KICKED:
	case EXIT_DEBUG:
		return true;
	default:
		return false;
	}
}

void vm_pause_point(struct vm *vm, const struct vcpu_exit *exit)
{
	bool debug_stop = exit && exit->kind == EXIT_DEBUG;

	if (!vm->pause_requested && !debug_stop)
		return;
	if (!vm->pause_hook.paused) {
		vm->pause_requested = 0;
		return;
	}
	if (exit && !clean_exit(exit)) {
		vm->engine->kick(vm->vcpu);	/* the next run stops at once */
		return;
	}
	vm->pause_requested = 0;
	vm->pause_hook.paused(vm->pause_hook.ctx, vm, exit);
}

/*
 * The kvm engine's debugging (engine_ops.set_guest_debug): KVM_SET_GUEST_DEBUG
 * with KVM_GUESTDBG_ENABLE, _SINGLESTEP and _USE_HW_BP (KVM API,
 * Documentation/virt/kvm/api.rst 4.59), and KVM_EXIT_DEBUG back as an
 * EXIT_DEBUG. Breakpoints and watchpoints share the four debug registers:
 * the debugger's software breakpoints take the slots its hardware ones
 * leave free (none is written into guest memory).
 */
#ifndef HYVM_KVM_DEBUG_H
#define HYVM_KVM_DEBUG_H

#include <stddef.h>
#include <linux/kvm.h>
#include "engines/engine.h"

struct kvm_debug_slots {
	uint64_t dr[4];
	uint32_t dr7;
};

/* 0, or -1 with one line in err (too many breakpoints, the ioctl refused). */
int kvm_debug_set(int vcpu_fd, const struct engine_debug *d, struct kvm_debug_slots *slots,
		  char *err, size_t errlen);
/* A KVM_EXIT_DEBUG as an EXIT_DEBUG (or an EXIT_ERROR for an exception
 * we did not ask for). */
void kvm_debug_exit(const struct kvm_run *run, const struct kvm_debug_slots *slots,
		    struct vcpu_exit *exit);

#endif

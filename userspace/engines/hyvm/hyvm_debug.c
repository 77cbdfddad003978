/*
 * The svm and vmx engines' debugging (engine_ops.set_guest_debug) through
 * hyvm.ko's HYVM_SET_GUEST_DEBUG (include/hyvm/ioctl.h, API 6), and its
 * HYVM_EXIT_DEBUG back as an EXIT_DEBUG. As on kvm, the debugger's
 * software breakpoints take the debug registers its hardware ones leave
 * free (none is written into guest memory): four in all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "engines/hyvm/engine_hyvm.h"

#define DR6_BS	(1u << 14)	/* single step (SDM Vol. 3B 18.2.3) */

int hyvm_engine_set_guest_debug(struct engine_vcpu *vcpu, const struct engine_debug *d,
				char *err, size_t errlen)
{
	const char *name = vcpu->vm->vendor->name;
	struct hyvm_guest_debug g = { 0 };

	if (d) {
		uint64_t dr7 = d->dr7;

		memcpy(g.dr, d->dr, sizeof(g.dr));
		for (unsigned i = 0; i < d->nr_sw; i++) {
			unsigned slot;
			for (slot = 0; slot < 4 && (dr7 >> (2 * slot) & 3); slot++)
				;
			if (slot == 4) {
				snprintf(err, errlen, "%s: at most 4 breakpoints and watchpoints in all "
					 "(the debug registers)", name);
				return -1;
			}
			g.dr[slot] = d->sw[i];
			/* L bit, R/W 00 execute, LEN 00 */
			dr7 = (dr7 & ~(0xfull << (16 + 4 * slot))) | 1ull << (2 * slot);
		}
		if (d->single_step)
			g.flags |= HYVM_DEBUG_SINGLESTEP;
		if (dr7 & 0xff) {
			g.flags |= HYVM_DEBUG_HW_BP;
			g.dr7 = dr7 | 0x300;	/* GE/LE: exact data breakpoints (18.2.4) */
		} else {
			memset(g.dr, 0, sizeof(g.dr));
		}
	}
	if (ioctl(vcpu->fd, HYVM_SET_GUEST_DEBUG, &g) < 0) {
		if (errno == EOPNOTSUPP)
			snprintf(err, errlen, "%s: hyvm.ko cannot %s on this CPU", name,
				 (g.flags & HYVM_DEBUG_SINGLESTEP) ?
				 "single-step (VT-x without the monitor trap flag)" :
				 "load the guest's DR7 (VT-x without debug controls)");
		else
			snprintf(err, errlen, "%s: HYVM_SET_GUEST_DEBUG: %s", name, strerror(errno));
		return -1;
	}
	vcpu->debug = g;
	return 0;
}

void hyvm_engine_debug_exit(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	const struct hyvm_guest_debug *g = &vcpu->debug;
	uint64_t dr6 = vcpu->run->debug.dr6;

	exit->kind = EXIT_DEBUG;
	exit->debug.addr = vcpu->run->rip;
	exit->debug.reason = DEBUG_STOP_STEP;
	for (int i = 0; i < 4; i++) {
		if (!(dr6 >> i & 1) || !(g->dr7 >> (2 * i) & 3))
			continue;
		bool exec = !(g->dr7 >> (16 + 4 * i) & 3);
		exit->debug.reason = exec ? DEBUG_STOP_BREAK : DEBUG_STOP_WATCH;
		exit->debug.addr = exec ? vcpu->run->rip : g->dr[i];
		return;
	}
	if (!(dr6 & DR6_BS))
		snprintf(exit->error.msg, sizeof(exit->error.msg), "debug exit, DR6 %#llx",
			 (unsigned long long)dr6);
}

/* An MMIO or string I/O instruction user space finished is a step too,
 * as the module counts its own (hyvm.ko's hyvm_step_completed). */
bool hyvm_engine_step_after_emulation(struct engine_vcpu *vcpu, struct vcpu_exit *exit,
				      uint64_t rip)
{
	if (!(vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP))
		return false;
	exit->kind = EXIT_DEBUG;
	exit->rip = rip;
	exit->debug.reason = DEBUG_STOP_STEP;
	exit->debug.addr = rip;
	return true;
}

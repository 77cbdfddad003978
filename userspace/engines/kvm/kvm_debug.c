/* The kvm engine's debugging; see kvm_debug.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "engines/kvm/kvm_debug.h"

#define DR6_BS	(1u << 14)	/* single step (SDM Vol. 3B 18.2.3) */

int kvm_debug_set(int vcpu_fd, const struct engine_debug *d, struct kvm_debug_slots *slots,
		  char *err, size_t errlen)
{
	struct kvm_guest_debug g = { 0 };
	struct kvm_debug_slots s = { 0 };

	if (d) {
		s.dr7 = d->dr7;
		memcpy(s.dr, d->dr, sizeof(s.dr));
		for (unsigned i = 0; i < d->nr_sw; i++) {
			int slot;
			for (slot = 0; slot < 4 && (s.dr7 >> (2 * slot) & 3); slot++)
				;
			if (slot == 4) {
				snprintf(err, errlen, "kvm: at most 4 breakpoints and watchpoints in all "
					 "(the debug registers)");
				return -1;
			}
			s.dr[slot] = d->sw[i];
			/* L bit, R/W 00 execute, LEN 00 */
			s.dr7 = (s.dr7 & ~(0xfu << (16 + 4 * slot))) | 1u << (2 * slot);
		}
		g.control = KVM_GUESTDBG_ENABLE;
		if (d->single_step)
			g.control |= KVM_GUESTDBG_SINGLESTEP;
#ifdef KVM_GUESTDBG_BLOCKIRQ
		/* a step runs the guest's next instruction, not an interrupt
		 * handler (kernels from 5.15; older ones refuse the bit) */
		if (d->single_step)
			g.control |= KVM_GUESTDBG_BLOCKIRQ;
#endif
		if (s.dr7 & 0xff) {
			g.control |= KVM_GUESTDBG_USE_HW_BP;
			memcpy(g.arch.debugreg, s.dr, sizeof(s.dr));
			/* GE/LE as the SDM recommends for exact data breakpoints
			 * (18.2.4), bit 10 reads as 1 */
			g.arch.debugreg[7] = s.dr7 | 0x700;
		}
		if (!(g.control & ~KVM_GUESTDBG_ENABLE))
			g.control = 0;	/* nothing asked: off */
	}
	int r = ioctl(vcpu_fd, KVM_SET_GUEST_DEBUG, &g);
#ifdef KVM_GUESTDBG_BLOCKIRQ
	if (r < 0 && errno == EINVAL && (g.control & KVM_GUESTDBG_BLOCKIRQ)) {
		g.control &= ~KVM_GUESTDBG_BLOCKIRQ;
		r = ioctl(vcpu_fd, KVM_SET_GUEST_DEBUG, &g);
	}
#endif
	if (r < 0) {
		snprintf(err, errlen, "kvm: KVM_SET_GUEST_DEBUG: %s", strerror(errno));
		return -1;
	}
	*slots = s;
	return 0;
}

void kvm_debug_exit(const struct kvm_run *run, const struct kvm_debug_slots *slots,
		    struct vcpu_exit *exit)
{
	const struct kvm_debug_exit_arch *a = &run->debug.arch;

	exit->kind = EXIT_DEBUG;
	exit->debug.addr = a->pc;
	if (a->exception == 1 && !(a->dr6 & DR6_BS)) {
		for (int i = 0; i < 4; i++) {
			if (!(a->dr6 >> i & 1) || !(slots->dr7 >> (2 * i) & 3))
				continue;
			bool exec = !(slots->dr7 >> (16 + 4 * i) & 3);
			exit->debug.reason = exec ? DEBUG_STOP_BREAK : DEBUG_STOP_WATCH;
			exit->debug.addr = exec ? a->pc : slots->dr[i];
			return;
		}
	}
	exit->debug.reason = a->exception == 3 ? DEBUG_STOP_BREAK : DEBUG_STOP_STEP;
}

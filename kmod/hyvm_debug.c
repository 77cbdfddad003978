// SPDX-License-Identifier: GPL-2.0
/*
 * HYVM_SET_GUEST_DEBUG (include/hyvm/ioctl.h): the checks both backends
 * share. A setting that passes is kept in vcpu->debug and handed to the
 * backend, which applies it at the next entry.
 */
#include <linux/errno.h>
#include <linux/uaccess.h>
#include "hyvm.h"

#define DR7_ENABLES	0xffULL		/* L0-3, G0-3 */
#define DR7_LE_GE	0x300ULL	/* exact breakpoints (SDM 18.2.4) */
#define DR7_RES1	0x400ULL	/* bit 10 reads as 1 */
#define DR7_SLOTS	0xffff0000ULL	/* R/W and LEN of each slot */
#define DR7_RW_IO	2u		/* only with CR4.DE: not offered */

static bool canonical(u64 la)
{
	return (u64)((s64)(la << 16) >> 16) == la;
}

/* SDM Vol. 3B 18.2.4-18.2.5: what a DR7 and DR0-3 may hold here. */
static bool debug_regs_valid(const struct hyvm_guest_debug *d)
{
	static const u8 len_bytes[4] = { 1, 2, 8, 4 };
	int i;

	if (d->dr7 & ~(DR7_ENABLES | DR7_LE_GE | DR7_RES1 | DR7_SLOTS))
		return false;	/* GD, reserved bits, bits 32-63 */
	for (i = 0; i < 4; i++) {
		unsigned int rw = (d->dr7 >> (16 + 4 * i)) & 3;
		unsigned int len = (d->dr7 >> (18 + 4 * i)) & 3;

		/* every address is loaded into DR0-3: a non-canonical one
		 * would fault in MOV DR (#GP) */
		if (!canonical(d->dr[i]))
			return false;
		if (!((d->dr7 >> (2 * i)) & 3))
			continue;
		if (rw == DR7_RW_IO || (rw == 0 && len != 0))
			return false;	/* I/O; an execute breakpoint has LEN 00 */
		if (d->dr[i] & (len_bytes[len] - 1))
			return false;	/* unaligned: the CPU would mask it */
	}
	return true;
}

long hyvm_set_guest_debug(struct hyvm_vcpu *vcpu, const void __user *uarg)
{
	struct hyvm_guest_debug d;
	int i, ret;

	if (copy_from_user(&d, uarg, sizeof(d)))
		return -EFAULT;
	if ((d.flags & ~HYVM_DEBUG_FLAGS) || d.pad)
		return -EINVAL;
	if (!(d.flags & HYVM_DEBUG_HW_BP)) {
		for (i = 0; i < 4; i++)
			if (d.dr[i])
				return -EINVAL;
		if (d.dr7)
			return -EINVAL;
	} else if (!debug_regs_valid(&d)) {
		return -EINVAL;
	}
	d.dr7 |= DR7_RES1;
	ret = hyvm_backend->set_guest_debug(vcpu, &d);
	if (ret)
		return ret;
	vcpu->debug = d;
	return 0;
}

/*
 * An instruction the module completed itself (CPUID, an I/O port access,
 * RDMSR/WRMSR after user space answered it) is a step of its own, as if
 * the CPU had run it: while single-stepping, the run stops after it
 * rather than running one more instruction. rip_before is where the
 * instruction stood; true (run->exit_kind set): stop now.
 */
bool hyvm_step_completed(struct hyvm_vcpu *vcpu, u64 rip_before, u64 rip_now)
{
	if (!(vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP) || rip_before == rip_now)
		return false;
	vcpu->run->exit_kind = HYVM_EXIT_DEBUG;
	vcpu->run->debug.dr6 = 1ULL << 14;	/* BS */
	vcpu->run->rip = rip_now;
	return true;
}

/* At the start of HYVM_RUN: the last run returned to user space after
 * completing an instruction (an OUT, a HLT skipped): that was the step. */
bool hyvm_step_owed(struct hyvm_vcpu *vcpu, u64 rip_now)
{
	bool owed = vcpu->step_owed;

	vcpu->step_owed = false;
	return owed && hyvm_step_completed(vcpu, rip_now + 1, rip_now);
}

/* After an exit handler: see hyvm_step_completed. A handler that goes to
 * user space (ret 0) with the instruction done owes the step to the next
 * HYVM_RUN. Returns the handler's result, 0 if the step stops here. */
int hyvm_step_after_exit(struct hyvm_vcpu *vcpu, int ret, u64 rip_at_exit, u64 rip_now)
{
	if (!(vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP) || rip_at_exit == rip_now ||
	    ret < 0 || vcpu->run->exit_kind == HYVM_EXIT_DEBUG)
		return ret;
	if (ret == 0) {
		vcpu->step_owed = true;
		return 0;
	}
	hyvm_step_completed(vcpu, rip_at_exit, rip_now);
	return 0;
}

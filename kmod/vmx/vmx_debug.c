// SPDX-License-Identifier: GPL-2.0
/*
 * HYVM_SET_GUEST_DEBUG on VT-x.
 *
 * Single step: the monitor trap flag (SDM Vol. 3C 25.5.2: a VM exit after
 * the next instruction, or after the delivery of an injected event, 26.7.2),
 * used only where IA32_VMX_(TRUE_)PROCBASED_CTLS allow it to be 1; the
 * guest sees nothing of it. Elsewhere RFLAGS.TF with #DB intercepted,
 * hidden from the guest (vmx_step_tf.c).
 *
 * Hardware breakpoints: the debugger's DR7 in the VMCS (loaded on entry
 * with "load debug controls", SDM 26.3.2.1) and its DR0-3 in the
 * hardware registers for the entry, #DB in the exception bitmap. A #DB
 * exit leaves DR6 alone and gives its B0-B3/BS in the exit qualification
 * (SDM 27.1, Table 27-1). The guest's own debug registers are unaffected:
 * its MOV DR always exits and is kept in struct vmx_vcpu (vmx_exit.c), and
 * never reaches the hardware. A #DB that is not the debugger's (the
 * guest's TF, INT1) is delivered to the guest with its DR6 bits.
 */
#include <linux/kernel.h>
#include <linux/hw_breakpoint.h>
#include <linux/sched.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include "vmx.h"

#define DR6_BS		(1ULL << 14)
#define DR6_BD		(1ULL << 13)
#define X86_VEC_DB	1

static bool stepping(struct hyvm_vcpu *vcpu)
{
	return vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP;
}

static bool hw_bp(struct hyvm_vcpu *vcpu)
{
	return vcpu->debug.flags & HYVM_DEBUG_HW_BP;
}

int vmx_set_guest_debug(struct hyvm_vcpu *vcpu, const struct hyvm_guest_debug *d)
{
	if ((d->flags & HYVM_DEBUG_HW_BP) && !(vmx_cfg.entry & VM_ENTRY_LOAD_DEBUG_CONTROLS))
		return -EOPNOTSUPP;
	return 0;
}

static bool step_by_tf(struct hyvm_vcpu *vcpu)
{
	return stepping(vcpu) && !vmx_cfg.mtf;
}

/* VMCS current, before the entry: the controls and the debugger's DR7. */
void vmx_debug_before_entry(struct hyvm_vcpu *vcpu)
{
	if (step_by_tf(vcpu))
		vmx_step_tf_before_entry(vcpu);
	else
		vmx_step_tf_off(vcpu);
	if (vmx_cfg.mtf) {
		if (stepping(vcpu))
			vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MONITOR_TRAP_FLAG);
		else
			vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MONITOR_TRAP_FLAG);
	}
	vmcs_write(EXCEPTION_BITMAP, hw_bp(vcpu) || step_by_tf(vcpu) ? 1u << X86_VEC_DB : 0);
	vmcs_write(GUEST_DR7, hw_bp(vcpu) ? vcpu->debug.dr7 : 0x400);
}

/* Interrupts off, just before VM entry: DR0-3 as the debugger set them.
 * The host's come back in swap_out (hw_breakpoint_restore) if it has any
 * armed; else DR7 = 0x400 after the exit (SDM 27.5.1) disarms ours. */
void vmx_debug_load_drs(struct hyvm_vcpu *vcpu)
{
	if (!hw_bp(vcpu))
		return;
	set_debugreg(vcpu->debug.dr[0], 0);
	set_debugreg(vcpu->debug.dr[1], 1);
	set_debugreg(vcpu->debug.dr[2], 2);
	set_debugreg(vcpu->debug.dr[3], 3);
}

static int debug_exit(struct hyvm_vcpu *vcpu, u64 dr6)
{
	vcpu->run->debug.dr6 = dr6;
	vcpu->run->exit_kind = HYVM_EXIT_DEBUG;
	return 0;
}

int vmx_handle_mtf(struct hyvm_vcpu *vcpu)
{
	if (!stepping(vcpu))
		return 1;	/* stepping was turned off meanwhile */
	return debug_exit(vcpu, DR6_BS);
}

/* A #DB exit (exception bitmap bit 1). */
int vmx_handle_db(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;
	u64 qual = vmcs_read(EXIT_QUALIFICATION);
	u64 hits = 0;
	int i;

	if (hw_bp(vcpu))
		for (i = 0; i < 4; i++)
			if ((qual >> i & 1) && (vcpu->debug.dr7 >> (2 * i) & 3))
				hits |= 1ULL << i;
	if (step_by_tf(vcpu) && (qual & DR6_BS)) {
		hits |= DR6_BS;
		vmx_step_tf_done(vcpu);
	}
	if (!hits) {
		/* the guest's own: DR6 as the CPU would have set it (SDM
		 * 18.2.3), then the exception */
		vv->dr6 = (vv->dr6 & ~0xfULL) | (qual & (0xfULL | DR6_BD | DR6_BS));
		vmx_inject_exception(X86_VEC_DB, false, 0);
		return 1;
	}
	if ((hits & DR6_BS) && !vv->step_tf.tf_was_added) {
		/* the guest's own TF was set too: its #DB as well */
		vv->dr6 |= DR6_BS;
		vmx_inject_exception(X86_VEC_DB, false, 0);
	}
	/* an execute breakpoint is a fault: RF lets its instruction run at
	 * the next entry (SDM 18.3.1.1) */
	for (i = 0; i < 4; i++)
		if ((hits >> i & 1) && !(vcpu->debug.dr7 >> (16 + 4 * i) & 3))
			vmcs_write(GUEST_RFLAGS, vmcs_read(GUEST_RFLAGS) | X86_EFLAGS_RF);
	return debug_exit(vcpu, hits);
}

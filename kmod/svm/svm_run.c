// SPDX-License-Identifier: GPL-2.0
/*
 * The svm backend's object lifecycle and run loop. The loop stays in the
 * kernel for exits that need no device (CPUID, MSRs, nested page faults
 * on RAM, host interrupts) and returns to user space for the rest.
 */
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include "svm.h"

static atomic64_t next_vcpu_id = ATOMIC64_INIT(1);

/* Nested page table entries (APM 15.25.5): tables and RAM leaves fully
 * permitted, A and D preset so the walker never writes them back. */
static const struct hyvm_npt_format svm_npt_format = {
	.present = NPT_P,
	.table = NPT_P | NPT_RW | NPT_US | NPT_A,
	.leaf = NPT_P | NPT_RW | NPT_US | NPT_A | NPT_D,
	.write = NPT_RW | NPT_D,	/* ROM: read, and execute (NX clear) */
	.large = NPT_PS,
};

static int svm_vm_init(struct hyvm_vm *vm)
{
	struct svm_vm *v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!v)
		return -ENOMEM;
	ret = hyvm_npt_init(&v->npt, &svm_npt_format);
	if (ret) {
		kfree(v);
		return ret;
	}
	vm->backend = v;
	return 0;
}

static void svm_vm_free(struct hyvm_vm *vm)
{
	struct svm_vm *v = vm->backend;

	hyvm_npt_free(&v->npt);
	kfree(v);
	vm->backend = NULL;
}

static int svm_vcpu_init(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	struct svm_vm *v = vcpu->vm->backend;

	if (!sv)
		return -ENOMEM;
	sv->vmcb = (struct vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!sv->vmcb) {
		kfree(sv);
		return -ENOMEM;
	}
	sv->vmcb_pa = __pa(sv->vmcb);
	sv->id = atomic64_inc_return(&next_vcpu_id);
	sv->last_cpu = -1;
	svm_vmcb_init(sv, __pa(v->npt.root));
	vcpu->backend = sv;
	return 0;
}

static void svm_vcpu_free(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;

	if (!sv)
		return;
	free_page((unsigned long)sv->vmcb);
	kfree(sv);
	vcpu->backend = NULL;
}

/* APM 15.21.4: a virtual interrupt (V_IRQ) with VINTR intercepted exits
 * exactly when the guest could take an interrupt. */
static void svm_arm_irq_window(struct hyvm_vcpu *vcpu)
{
	struct vmcb *v = ((struct svm_vcpu *)vcpu->backend)->vmcb;

	/* none while single-stepping: interrupts are held off */
	if (vcpu->irq_window_wanted && !((struct svm_vcpu *)vcpu->backend)->dbg.step) {
		v->control.int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK | (0xf << V_INTR_PRIO_SHIFT);
		svm_set_intercept(v, INTERCEPT_VINTR);
	} else {
		v->control.int_ctl &= ~(V_IRQ_MASK | V_IGN_TPR_MASK | V_INTR_PRIO_MASK);
		svm_clr_intercept(v, INTERCEPT_VINTR);
	}
}

/*
 * APM 15.20: an event cut short by the exit is in EXITINTINFO and must be
 * injected again. A software interrupt or INT3/INTO is not: without
 * next-RIP save RIP still points at the instruction, which runs again.
 */
static void svm_requeue_event(struct svm_vcpu *sv)
{
	struct vmcb_control_area *c = &sv->vmcb->control;
	u32 info = c->exit_int_info;
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;
	u8 vec = info & SVM_EXITINTINFO_VEC_MASK;

	c->event_inj = 0;
	if (!(info & SVM_EXITINTINFO_VALID) || type == SVM_EXITINTINFO_TYPE_SOFT ||
	    (type == SVM_EXITINTINFO_TYPE_EXEPT && (vec == 3 || vec == 4)))
		return;
	c->event_inj = info;
	c->event_inj_err = c->exit_int_info_err;
}

static int svm_run(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct hyvm_run *run = vcpu->run;
	u64 rip;
	int ret;

	run->runs++;
	run->exit_kind = HYVM_EXIT_NONE;
	if (sv->state_lost) {		/* never enter the host's own state */
		svm_fail_host_state(vcpu);
		goto out;
	}
	rip = sv->vmcb->save.rip;
	svm_complete_in(vcpu);
	svm_complete_msr(vcpu);
	/* a step done by completing an instruction (hyvm_debug.c) */
	if (hyvm_step_owed(vcpu, rip) || hyvm_step_completed(vcpu, rip, sv->vmcb->save.rip))
		goto out;
	for (;;) {
		if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
			run->exit_kind = HYVM_EXIT_INTR;
			break;
		}
		if (vcpu->irq_window_wanted && svm_irq_window_open(sv)) {
			run->exit_kind = HYVM_EXIT_IRQ_WINDOW;
			break;
		}
		cond_resched();
		/*
		 * APM 15.21.1: without V_INTR_MASKING the guest's RFLAGS.IF
		 * masks the host's interrupts too, and a guest at IF=0 in a
		 * loop keeps this CPU forever (no INTR exit, no tick: an RCU
		 * stall). svm_vmcb_init sets it, but a #VMEXIT may write the
		 * whole field: QEMU's TCG SVM, refusing a VMRUN, stored its
		 * host's int_ctl (0) there, and the vCPU's next valid state
		 * with IF=0 stopped the emulated host (hyvm_fuzz, 2026-12-04).
		 * So it is set again before every entry.
		 */
		sv->vmcb->control.int_ctl |= V_INTR_MASKING_MASK;
		svm_arm_irq_window(vcpu);
		svm_debug_before_entry(vcpu);

		svm_enter_guest(sv);
		run->entries++;

		run->raw_reason = sv->vmcb->control.exit_code;
		run->rip = sv->vmcb->save.rip;
		run->exit_count[hyvm_counter_index(sv->vmcb->control.exit_code |
			((u64)sv->vmcb->control.exit_code_hi << 32))]++;
		if (unlikely(svm_vmcb_holds_host_state(vcpu)))
			break;
		svm_debug_after_exit(vcpu);
		sv->vmcb->control.int_ctl &= ~V_IRQ_MASK;
		svm_requeue_event(sv);

		ret = svm_handle_exit(vcpu);
		ret = hyvm_step_after_exit(vcpu, ret, run->rip, sv->vmcb->save.rip);
		if (ret <= 0)
			break;
		run->handled_in_kernel++;
	}
out:
	run->irq_window_open = svm_irq_window_open(sv);
	/* an interrupt injected now would be overwritten by the owed
	 * RDMSR/WRMSR's #GP (svm_complete_msr): none until it is done */
	if (sv->pending_msr.active)
		run->irq_window_open = 0;
	/* Three stores let user space see mode switches at once; none of
	 * the host's (svm_get_state says why). */
	run->cr0 = sv->state_lost ? 0 : sv->vmcb->save.cr0;
	run->cr4 = sv->state_lost ? 0 : sv->vmcb->save.cr4;
	run->efer = sv->state_lost ? 0 : sv->vmcb->save.efer & ~EFER_SVME;
	run->ctl_valid = 1;
	return 0;
}

/* Only right after an exit that said the window is open. */
static int svm_inject_irq(struct hyvm_vcpu *vcpu, u8 vector)
{
	struct svm_vcpu *sv = vcpu->backend;

	if (!svm_irq_window_open(sv))
		return -EBUSY;
	sv->vmcb->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR | vector;
	return 0;
}

static void svm_backend_exit(void)
{
	svm_cpu_exit();
}

static const struct hyvm_backend svm_backend = {
	.name = "svm",
	.vm_init = svm_vm_init,
	.vm_free = svm_vm_free,
	.vcpu_init = svm_vcpu_init,
	.vcpu_free = svm_vcpu_free,
	.run = svm_run,
	.get_state = svm_get_state,
	.set_state = svm_set_state,
	.inject_irq = svm_inject_irq,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.set_guest_debug = svm_set_guest_debug,
	.exit = svm_backend_exit,
};

const struct hyvm_backend *hyvm_svm_init(const struct hyvm_capabilities *caps)
{
	if (svm_cpu_init())
		return NULL;
	return &svm_backend;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The vmx backend's object lifecycle, the entry sequence around
 * VMLAUNCH/VMRESUME, and the run loop. The loop stays in the kernel for
 * exits that need no device (CPUID, MSRs, CR and DR accesses, EPT
 * violations on RAM, host interrupts, PAUSE) and returns to user space
 * for the rest.
 */
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/hw_breakpoint.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include "vmx.h"

#define VPID_COUNT	(1u << 16)
static DECLARE_BITMAP(vpid_map, VPID_COUNT);
static DEFINE_SPINLOCK(vpid_lock);

static u16 vpid_alloc(void)
{
	unsigned long v;

	if (!vmx_cfg.vpid)
		return 0;
	spin_lock(&vpid_lock);
	v = find_next_zero_bit(vpid_map, VPID_COUNT, 1);	/* 0 is the host's */
	if (v < VPID_COUNT)
		__set_bit(v, vpid_map);
	spin_unlock(&vpid_lock);
	return v < VPID_COUNT ? v : 0;
}

static void vpid_free(u16 v)
{
	if (!v)
		return;
	spin_lock(&vpid_lock);
	__clear_bit(v, vpid_map);
	spin_unlock(&vpid_lock);
}

static int vmx_vm_init(struct hyvm_vm *vm)
{
	struct vmx_vm *v = kzalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!v)
		return -ENOMEM;
	ret = vmx_enable();
	if (ret)
		goto free;
	ret = vmx_ept_init(v);
	if (ret) {
		vmx_disable();
		goto free;
	}
	vm->backend = v;
	return 0;
free:
	kfree(v);
	return ret;
}

static void vmx_vm_free(struct hyvm_vm *vm)
{
	vmx_ept_free(vm->backend);
	kfree(vm->backend);
	vm->backend = NULL;
	vmx_disable();
}

static int vmx_vcpu_init(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = kzalloc(sizeof(*vv), GFP_KERNEL_ACCOUNT);
	struct vmx_vm *v = vcpu->vm->backend;
	int ret;

	if (!vv)
		return -ENOMEM;
	vv->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vv->vmcs) {
		kfree(vv);
		return -ENOMEM;
	}
	*(u32 *)vv->vmcs = vmx_cfg.revision;	/* SDM 24.2 */
	vv->vmcs_pa = __pa(vv->vmcs);
	vv->cpu = -1;
	vv->vcpu = vcpu;
	vv->vpid = vpid_alloc();
	if (vmx_cfg.vpid && !vv->vpid) {
		ret = -ENOSPC;
		goto fail;
	}
	preempt_disable();
	ret = vmx_vcpu_first_load(vv);
	if (!ret)
		vmx_vmcs_setup(vv, v->eptp);
	preempt_enable();
	if (ret)
		goto fail;
	vcpu->backend = vv;
	return 0;
fail:
	vmx_vcpu_clear(vv);
	vpid_free(vv->vpid);
	free_page((unsigned long)vv->vmcs);
	kfree(vv);
	return ret;
}

static void vmx_vcpu_free(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;

	if (!vv)
		return;
	vmx_vcpu_clear(vv);
	vpid_free(vv->vpid);
	free_page((unsigned long)vv->vmcs);
	kfree(vv);
	vcpu->backend = NULL;
}

/* Host state a VM exit does not restore (SDM 27.5): DS/ES/FS/GS
 * selectors, the GDT and TR limits, DR7, and MSRs the guest's
 * SYSCALL/SWAPGS read, which hyvm swaps only while the guest can use
 * them (EFER.SCE, long mode). */
struct host_regs {
	u16 ds, es, fs, gs;
	u64 kernel_gs_base;
	u64 star, lstar, cstar, sfmask;
};

static void swap_in(struct vmx_vcpu *vv, struct host_regs *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	if (vv->efer & EFER_LMA)
		wrmsrl(MSR_KERNEL_GS_BASE, vv->kernel_gs_base);
	if (vv->efer & EFER_SCE) {
		rdmsrl(MSR_STAR, h->star);
		rdmsrl(MSR_LSTAR, h->lstar);
		rdmsrl(MSR_CSTAR, h->cstar);
		rdmsrl(MSR_SYSCALL_MASK, h->sfmask);
		wrmsrl(MSR_STAR, vv->star);
		wrmsrl(MSR_LSTAR, vv->lstar);
		wrmsrl(MSR_CSTAR, vv->cstar);
		wrmsrl(MSR_SYSCALL_MASK, vv->sfmask);
	}
	if (native_read_cr2() != vv->cr2)
		native_write_cr2(vv->cr2);	/* CR2 is not in the VMCS */
}

static void swap_out(struct vmx_vcpu *vv, const struct host_regs *h)
{
	vv->cr2 = native_read_cr2();
	if (vv->efer & EFER_SCE) {
		wrmsrl(MSR_STAR, h->star);
		wrmsrl(MSR_LSTAR, h->lstar);
		wrmsrl(MSR_CSTAR, h->cstar);
		wrmsrl(MSR_SYSCALL_MASK, h->sfmask);
	}
	if (h->ds | h->es) {
		loadsegment(ds, h->ds);
		loadsegment(es, h->es);
	}
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, vv->host_fs_base);
	}
	if (h->gs)
		load_gs_index(h->gs);
	if (vv->efer & EFER_LMA)
		rdmsrl(MSR_KERNEL_GS_BASE, vv->kernel_gs_base);
	if ((vv->efer & EFER_LMA) || h->gs)
		wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	load_fixmap_gdt(smp_processor_id());	/* GDTR.limit = 0xffff after exit */
	invalidate_tss_limit();			/* TR.limit = 0x67 after exit */
	if (hw_breakpoint_active())		/* DR7 = 0x400 after exit */
		hw_breakpoint_restore();
}

/*
 * One entry and exit. Preemption is off (kernel_fpu_begin) and the VMCS
 * current. Interrupts are off from just before entry until the host state
 * is whole again; an external interrupt that caused the exit is still
 * pending in the APIC (no acknowledge on exit) and is taken on
 * local_irq_enable(), an NMI is raised again by hand (SDM 27.5.5 does not
 * deliver it).
 */
static int vmx_enter_guest(struct vmx_vcpu *vv, u64 eptp)
{
	struct host_regs h;
	u32 reason;
	int ret;

	vmx_vmcs_set_host_task(vv);
	if (vv->flush) {
		vmx_flush_tlb(vv, eptp);
		vv->flush = false;
	}
	asm volatile("fxrstorq %0" : : "m"(*(u8 (*)[512])vv->fxsave));
	local_irq_disable();
	swap_in(vv, &h);
	vmx_debug_load_drs(vv->vcpu);
	ret = hyvm_vmx_vmenter(vv->gprs, vv->launched);
	swap_out(vv, &h);
	if (!ret) {
		reason = vmcs_read(VM_EXIT_REASON);
		if (reason == EXIT_REASON_EXCEPTION_NMI &&
		    (vmcs_read(VM_EXIT_INTR_INFO) & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			asm volatile("int $2");
		if (!(reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
			vv->launched = true;
	}
	local_irq_enable();
	asm volatile("fxsaveq %0" : "=m"(*(u8 (*)[512])vv->fxsave));
	return ret;
}

/*
 * SDM 27.2.4: an event whose delivery the exit cut short is in the IDT-
 * vectoring information and must be injected again. A software interrupt
 * or exception is not: RIP still points at its instruction, which runs
 * again.
 */
static void vmx_requeue_event(void)
{
	u32 info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;

	if (!(info & VECTORING_INFO_VALID_MASK) || type == INTR_TYPE_SOFT_INTR ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SOFT_EXCEPTION)
		return;
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_RESVD_BITS_MASK);
	if (info & VECTORING_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
}

/* VM-entry instruction error (SDM 30.4) as a failed run. */
static void entry_failed(struct hyvm_vcpu *vcpu)
{
	vcpu->run->exit_kind = HYVM_EXIT_FAIL;
	vcpu->run->fail.hw_reason = (1ULL << 32) | (u32)vmcs_read(VM_INSTRUCTION_ERROR);
	vcpu->run->fail.info1 = vcpu->run->fail.info2 = 0;
	vcpu->run->fail.exit_int_info = 0;
	vcpu->run->fail.flags = 0;
}

/* One pass: enter, count, handle. <0 error, else a handler's result. */
static int vmx_run_once(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;
	struct vmx_vm *v = vcpu->vm->backend;
	struct hyvm_run *run = vcpu->run;
	u32 reason;
	u64 rip;
	int ret;

	kernel_fpu_begin();	/* also disables preemption */
	ret = vmx_vcpu_load(vv);
	if (ret)
		goto out;
	rip = vmcs_read(GUEST_RIP);
	vmx_complete_msr(vcpu);	/* needs the VMCS current */
	/* a step done by completing an instruction (hyvm_debug.c) */
	if (hyvm_step_owed(vcpu, rip) ||
	    hyvm_step_completed(vcpu, rip, vmcs_read(GUEST_RIP)))
		goto out;	/* ret 0: to user space */
	if (vmx_cannot_enter(vv)) {
		run->exit_kind = HYVM_EXIT_MODE;
		goto out;	/* ret 0: to user space, until SET_STATE */
	}
	if (vcpu->irq_window_wanted && vmx_irq_window_open(vv)) {
		run->exit_kind = HYVM_EXIT_IRQ_WINDOW;
		goto out;	/* ret 0: to user space */
	}
	/* SDM 25.2: exits as soon as the guest can take an interrupt */
	if (vcpu->irq_window_wanted && !(vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP))
		vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING);
	else
		vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING);
	vmx_debug_before_entry(vcpu);

	if (vmx_enter_guest(vv, v->eptp)) {
		entry_failed(vcpu);
		goto out;
	}
	run->entries++;
	reason = vmcs_read(VM_EXIT_REASON);
	vmx_step_tf_after_exit(vcpu, reason);
	run->raw_reason = reason;
	run->rip = vmcs_read(GUEST_RIP);
	run->exit_count[hyvm_counter_index(reason & 0xffff)]++;
	vmx_requeue_event();
	ret = vmx_handle_exit(vcpu, reason);
	if (ret != VMX_EXIT_EPT_MAP)
		ret = hyvm_step_after_exit(vcpu, ret, run->rip, vmcs_read(GUEST_RIP));
out:
	if (ret >= 0) {		/* the VMCS is current */
		run->irq_window_open = vmx_irq_window_open(vv);
		/* an interrupt injected now would be overwritten by the owed
		 * RDMSR/WRMSR's #GP (vmx_complete_msr): none until it is done */
		if (vv->pending_msr.active)
			run->irq_window_open = 0;
		/* the guest's view, so user space sees mode switches at once */
		run->cr0 = vmx_guest_cr0(vv);
		run->cr4 = vv->cr4;
		run->efer = vv->efer;
		run->ctl_valid = 1;
	}
	kernel_fpu_end();
	return ret;
}

/*
 * run->irq_window_open for a run that returns without an exit of its own
 * (immediate_exit or a signal before the first entry). The last exit's
 * answer is stale then: an interrupt injected since it (HYVM_INJECT_IRQ)
 * waits in the VM-entry interruption-information field, one event per
 * entry (SDM 26.6), so the window is closed until it is delivered. Left
 * stale, user space took a kick after an injection as an open window,
 * acknowledged the next vector in its APIC and lost it to -EBUSY: the
 * vector stayed in service, blocking every interrupt of its priority
 * class and below (SDM 11.8.3.1), and a guest that then halted waited
 * for good.
 */
static void vmx_report_window(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;
	bool open = false;

	preempt_disable();
	if (!vmx_vcpu_load(vv))
		open = vmx_irq_window_open(vv);
	preempt_enable();
	vcpu->run->irq_window_open = open;
}

static int vmx_run(struct hyvm_vcpu *vcpu)
{
	struct hyvm_run *run = vcpu->run;
	int ret;

	run->runs++;
	run->exit_kind = HYVM_EXIT_NONE;
	vmx_complete_in(vcpu);
	for (;;) {
		if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
			run->exit_kind = HYVM_EXIT_INTR;
			vmx_report_window(vcpu);
			break;
		}
		cond_resched();
		ret = vmx_run_once(vcpu);
		if (ret < 0)
			return ret;
		if (ret == VMX_EXIT_EPT_MAP) {
			/* the gpa the exit saw, not run->mmio.gpa: user space and a
			 * guest that has the run page as RAM can rewrite that page */
			ret = hyvm_npt_map(vcpu->vm, &((struct vmx_vm *)vcpu->vm->backend)->ept,
					   ((struct vmx_vcpu *)vcpu->backend)->ept_gpa);
			if (ret == -ENOENT) {
				run->exit_kind = HYVM_EXIT_MMIO;
				break;
			}
			if (ret)
				return ret;
			ret = 1;
		}
		if (ret == 0)
			break;
		run->handled_in_kernel++;
	}
	return 0;
}

/* Only right after an exit that said the window is open (SDM 26.6). */
static int vmx_inject_irq(struct hyvm_vcpu *vcpu, u8 vector)
{
	struct vmx_vcpu *vv = vcpu->backend;
	int ret;

	preempt_disable();
	ret = vmx_vcpu_load(vv);
	if (!ret && !vmx_irq_window_open(vv))
		ret = -EBUSY;
	if (!ret)
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
			   INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | vector);
	preempt_enable();
	return ret;
}

static void vmx_backend_exit(void)
{
	vmx_cpu_exit();
}

static const struct hyvm_backend vmx_backend = {
	.name = "vmx",
	.vm_init = vmx_vm_init,
	.vm_free = vmx_vm_free,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_free = vmx_vcpu_free,
	.run = vmx_run,
	.get_state = vmx_get_state,
	.set_state = vmx_set_state,
	.inject_irq = vmx_inject_irq,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.set_guest_debug = vmx_set_guest_debug,
	.exit = vmx_backend_exit,
};

const struct hyvm_backend *hyvm_vmx_init(struct hyvm_capabilities *caps)
{
	if (vmx_setup_config(caps) || vmx_cpu_init())
		return NULL;
	return &vmx_backend;
}

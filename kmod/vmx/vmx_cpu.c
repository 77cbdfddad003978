// SPDX-License-Identifier: GPL-2.0
/*
 * VMX operation per CPU and where each VMCS lives.
 *
 * hyvm enters VMX operation (VMXON) on every CPU when its first VM is
 * created and leaves it (VMXOFF) when its last VM is closed, as KVM does,
 * so a kvm_intel loaded in the same kernel can use VT-x whenever no hyvm
 * VM exists. If another hypervisor holds VMX operation (CR4.VMXE already
 * set), VM creation fails with -EBUSY instead of touching it.
 *
 * A VMCS is active on at most one CPU (SDM 24.1): before it is made
 * current on another CPU it is VMCLEARed on the old one (SDM 24.11.1), and
 * it must then be entered with VMLAUNCH again.
 */
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>
#include "vmx.h"

struct vmx_cpu {
	void *vmxon_region;		/* SDM 24.11.5 */
	bool on;
	struct vmx_vcpu *current_vmcs;	/* what VMPTRLD made current here */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpus);
static DEFINE_MUTEX(vmx_users_lock);
static unsigned int vmx_users;
static atomic_t vmx_busy, vmx_failed;

static int vmxon(u64 pa)
{
	asm goto("1: vmxon %[pa]\n\t"
			  "jbe %l[fail]\n\t"
			  _ASM_EXTABLE(1b, %l[fail])
			  : : [pa] "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	return -EIO;
}

static int vmptrld(u64 pa)
{
	asm goto("vmptrld %[pa]\n\t"
			  "jbe %l[fail]"
			  : : [pa] "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	return -EIO;
}

static void vmclear(u64 pa)
{
	asm volatile("vmclear %0" : : "m"(pa) : "cc", "memory");
}

/* SDM 23.7: CR4.VMXE, then VMXON with the revision-stamped region. */
static void vmx_on_cpu(void *unused)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);

	if (c->on)
		return;
	if (cr4_read_shadow() & X86_CR4_VMXE) {
		atomic_inc(&vmx_busy);	/* kvm_intel (or another) is in VMX operation */
		return;
	}
	*(u32 *)c->vmxon_region = vmx_cfg.revision;
	cr4_set_bits(X86_CR4_VMXE);
	if (vmxon(__pa(c->vmxon_region))) {
		cr4_clear_bits(X86_CR4_VMXE);
		atomic_inc(&vmx_failed);
		return;
	}
	c->on = true;
}

/* Every VMCS has been VMCLEARed by then: VMs hold the users count. */
static void vmx_off_cpu(void *unused)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);

	if (!c->on)
		return;
	asm volatile("vmxoff" : : : "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	c->on = false;
	c->current_vmcs = NULL;
}

int vmx_enable(void)
{
	int ret = 0;

	mutex_lock(&vmx_users_lock);
	if (vmx_users++ == 0) {
		atomic_set(&vmx_busy, 0);
		atomic_set(&vmx_failed, 0);
		on_each_cpu(vmx_on_cpu, NULL, 1);
		if (atomic_read(&vmx_busy) || atomic_read(&vmx_failed)) {
			on_each_cpu(vmx_off_cpu, NULL, 1);
			vmx_users = 0;
			ret = -EBUSY;
			pr_warn_ratelimited("hyvm: cannot enter VMX operation: %s\n",
					    atomic_read(&vmx_busy) ?
					    "VT-x is in use by another hypervisor (kvm_intel with a VM running?)" :
					    "VMXON failed");
		}
	}
	mutex_unlock(&vmx_users_lock);
	return ret;
}

void vmx_disable(void)
{
	mutex_lock(&vmx_users_lock);
	if (!WARN_ON_ONCE(!vmx_users) && --vmx_users == 0)
		on_each_cpu(vmx_off_cpu, NULL, 1);
	mutex_unlock(&vmx_users_lock);
}

static void vmclear_here(void *arg)
{
	struct vmx_vcpu *vv = arg;
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);

	vmclear(vv->vmcs_pa);
	if (c->current_vmcs == vv)
		c->current_vmcs = NULL;
	vv->cpu = -1;
	vv->launched = false;
}

/*
 * Make vv's VMCS current on this CPU. Preemption disabled, interrupts
 * enabled (the VMCLEAR on the old CPU is a cross call).
 */
static int ensure_on(struct vmx_cpu *c)
{
	if (!c->on) {		/* a CPU brought online after VMXON */
		local_irq_disable();
		vmx_on_cpu(NULL);
		local_irq_enable();
		if (!c->on)
			return -EBUSY;
	}
	return 0;
}

int vmx_vcpu_load(struct vmx_vcpu *vv)
{
	struct vmx_cpu *c = this_cpu_ptr(&vmx_cpus);
	int cpu = smp_processor_id();
	bool moved = vv->cpu != cpu;

	if (ensure_on(c))
		return -EBUSY;
	if (moved && vv->cpu >= 0)
		smp_call_function_single(vv->cpu, vmclear_here, vv, 1);
	if (c->current_vmcs != vv) {
		if (vmptrld(vv->vmcs_pa))
			return -EIO;
		c->current_vmcs = vv;
	}
	if (moved) {
		vv->cpu = cpu;
		vv->launched = false;
		vv->flush = true;
		vmx_vmcs_set_host_cpu();
	}
	return 0;
}

/* A new VMCS: VMCLEAR initializes its launch state (SDM 24.11.3). */
int vmx_vcpu_first_load(struct vmx_vcpu *vv)
{
	if (ensure_on(this_cpu_ptr(&vmx_cpus)))
		return -EBUSY;
	vmclear(vv->vmcs_pa);
	return vmx_vcpu_load(vv);
}

/* Before the VMCS page is freed. */
void vmx_vcpu_clear(struct vmx_vcpu *vv)
{
	int cpu = READ_ONCE(vv->cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmclear_here, vv, 1);
}

/*
 * SDM 28.3.3.3-4: translations tagged with this vCPU's VPID and EPTP may
 * be left on this CPU from an earlier stay, or from a freed VM whose EPT
 * root page had the same address. Called before entry on arrival.
 */
void vmx_flush_tlb(struct vmx_vcpu *vv, u64 eptp)
{
	struct { u64 eptp, rsvd; } ed = { eptp, 0 };
	struct { u64 vpid, gva; } vd = { vv->vpid, 0 };

	asm volatile("invept %0, %1" : : "m"(ed),
		     "r"((unsigned long)(vmx_cfg.invept_single ? VMX_EPT_EXTENT_CONTEXT :
					 VMX_EPT_EXTENT_GLOBAL)) : "cc", "memory");
	if (vmx_cfg.vpid)
		asm volatile("invvpid %0, %1" : : "m"(vd),
			     "r"((unsigned long)VMX_VPID_EXTENT_SINGLE_CONTEXT) : "cc", "memory");
}

int vmx_cpu_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page *p = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);

		if (!p) {
			vmx_cpu_exit();
			return -ENOMEM;
		}
		per_cpu(vmx_cpus, cpu).vmxon_region = page_address(p);
	}
	return 0;
}

void vmx_cpu_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *c = per_cpu_ptr(&vmx_cpus, cpu);

		if (c->vmxon_region)
			free_page((unsigned long)c->vmxon_region);
		c->vmxon_region = NULL;
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Filling a VMCS: execution controls, the host state a VM exit loads
 * (SDM 24.5, 27.5), and the guest's power-on state (SDM 10.1.1).
 */
#include <linux/kernel.h>
#include <asm/desc.h>
#include <asm/mmu_context.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include "vmx.h"

static void guest_seg(unsigned int i, u16 sel, u64 base, u32 limit, u32 ar)
{
	/* field encodings of one segment are 2 apart, ES first (SDM B.1-B.4) */
	vmcs_write(GUEST_ES_SELECTOR + 2 * i, sel);
	vmcs_write(GUEST_ES_BASE + 2 * i, base);
	vmcs_write(GUEST_ES_LIMIT + 2 * i, limit);
	vmcs_write(GUEST_ES_AR_BYTES + 2 * i, ar);
}

/* Host state that is the same on every CPU and for every task. */
static void host_constant(void)
{
	struct desc_ptr idt;
	u64 pat, efer;

	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	/* DS/ES/FS/GS are reloaded by hand after the exit when not null */
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_RIP, (unsigned long)hyvm_vmx_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, pat);
	vmcs_write(HOST_IA32_SYSENTER_CS, pat);
	rdmsrl(MSR_IA32_SYSENTER_EIP, pat);
	vmcs_write(HOST_IA32_SYSENTER_EIP, pat);
	rdmsrl(MSR_IA32_CR_PAT, pat);
	vmcs_write(HOST_IA32_PAT, pat);
	rdmsrl(MSR_EFER, efer);
	vmcs_write(HOST_IA32_EFER, efer);
}

/* Host state that differs per CPU: written when the VMCS arrives here. */
void vmx_vmcs_set_host_cpu(void)
{
	int cpu = smp_processor_id();
	u64 v;

	vmcs_write(HOST_TR_BASE, (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_write(HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_GS_BASE, v);		/* the kernel's per-CPU base */
	vmcs_write(HOST_GS_BASE, v);
}

/* Host state of the running task: checked before every entry. */
void vmx_vmcs_set_host_task(struct vmx_vcpu *vv)
{
	unsigned long cr3 = __get_current_cr3_fast(), cr4 = cr4_read_shadow();
	u64 fs;

	if (cr3 != vv->host_cr3) {
		vmcs_write(HOST_CR3, cr3);
		vv->host_cr3 = cr3;
	}
	if (cr4 != vv->host_cr4) {
		vmcs_write(HOST_CR4, cr4);
		vv->host_cr4 = cr4;
	}
	rdmsrl(MSR_FS_BASE, fs);
	if (fs != vv->host_fs_base) {
		vmcs_write(HOST_FS_BASE, fs);
		vv->host_fs_base = fs;
	}
}

/* A new VMCS, current on this CPU: controls, host state, power-on guest. */
void vmx_vmcs_setup(struct vmx_vcpu *vv, u64 eptp)
{
	unsigned int i;

	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_cfg.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_cfg.proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_cfg.proc2);
	vmcs_write(VM_EXIT_CONTROLS, vmx_cfg.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_cfg.entry);
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(EPT_POINTER, eptp);
	if (vmx_cfg.vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vv->vpid);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);	/* SDM 26.3.1.5 */
	vmcs_write(TSC_OFFSET, 0);
	if (vmx_cfg.preempt_timer)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, vmx_cfg.preempt_timer);
	/* The guest owns only CR0.TS; every other CR0/CR4 change exits. */
	vmcs_write(CR0_GUEST_HOST_MASK, ~(unsigned long)X86_CR0_TS);
	vmcs_write(CR4_GUEST_HOST_MASK, ~0UL);

	host_constant();
	vv->host_cr3 = vv->host_cr4 = vv->host_fs_base = ~0ULL;

	/* SDM 10.1.1, Table 10-1: the state after RESET */
	guest_seg(0, 0, 0, 0xffff, 0x93);			/* ES */
	guest_seg(1, 0xf000, 0xffff0000, 0xffff, 0x9b);		/* CS */
	for (i = 2; i < 6; i++)
		guest_seg(i, 0, 0, 0xffff, 0x93);
	guest_seg(6, 0, 0, 0xffff, 0x82);			/* LDTR */
	guest_seg(7, 0, 0, 0xffff, 0x8b);			/* TR */
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_RIP, 0xfff0);
	vmcs_write(GUEST_RSP, 0);
	vmcs_write(GUEST_RFLAGS, 2);
	vmcs_write(GUEST_DR7, 0x400);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vv->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	vv->cr3 = vv->cr4 = vv->cr8 = vv->efer = 0;
	vv->dr6 = 0xffff0ff0;
	vv->dr7 = 0x400;
	vmx_apply_paging_mode(vv);

	memset(vv->fxsave, 0, sizeof(vv->fxsave));
	*(u16 *)&vv->fxsave[0] = 0x37f;			/* FCW */
	*(u32 *)&vv->fxsave[24] = 0x1f80;		/* MXCSR */
}

// SPDX-License-Identifier: GPL-2.0
/*
 * CR0, CR3, CR4, CR8 and EFER as the guest sees them, and the values the
 * hardware runs with. VMX fixes some CR0/CR4 bits while in VMX operation
 * (SDM 23.8): the guest reads its own values through the read shadows
 * (SDM 25.3), and every write to a bit it does not own exits here.
 *
 * Without unrestricted guest, CR0.PE and CR0.PG must stay 1 (SDM
 * 26.3.1.1). A guest in protected mode without paging then runs with
 * paging on through an identity map of 4 MiB pages at VMX_IDMAP_GPA
 * (KVM's method): linear = guest-physical, as with paging off. Real mode
 * needs unrestricted guest: a guest that clears CR0.PE there stops with
 * HYVM_EXIT_MODE after the write, for user space to run it elsewhere (the
 * hybrid engine moves it to bt).
 */
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <asm/msr.h>
#include "vmx.h"

/* CR4 bits a guest may set: none of VMXE, SMXE, PCIDE, OSXSAVE, PKE, LA57,
 * which hyvm's CPUID does not offer. */
#define CR4_GUEST_OK	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
			 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
			 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_SMEP | X86_CR4_SMAP)

#define EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

static bool idmap_mode(struct vmx_vcpu *vv)
{
	return !vmx_cfg.unrestricted && !(vv->cr0 & X86_CR0_PG);
}

/* The guest's CR0: TS is the guest's own (not intercepted). */
u64 vmx_guest_cr0(struct vmx_vcpu *vv)
{
	return (vv->cr0 & ~(u64)X86_CR0_TS) | (vmcs_read(GUEST_CR0) & X86_CR0_TS);
}

/* Hardware CR0/CR3/CR4/EFER and the IA-32e entry control from the guest's
 * values (SDM 26.3.1.1: fixed bits; 24.8.1: IA-32e mode guest = LMA). */
void vmx_apply_paging_mode(struct vmx_vcpu *vv)
{
	u64 cr0 = (vv->cr0 | vmx_cfg.cr0_fixed0) & vmx_cfg.cr0_fixed1;
	u64 cr4 = (vv->cr4 | vmx_cfg.cr4_fixed0) & vmx_cfg.cr4_fixed1;
	u64 efer = vv->efer;
	u32 proc = vmcs_read(CPU_BASED_VM_EXEC_CONTROL) &
		~(CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING);
	u32 entry = vmx_cfg.entry;

	if (idmap_mode(vv)) {
		cr4 = (cr4 & ~(u64)(X86_CR4_PAE | X86_CR4_SMEP | X86_CR4_SMAP)) | X86_CR4_PSE;
		efer &= ~(u64)EFER_LME;		/* SDM 26.3.1.1: LME = LMA when PG */
		proc |= CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING;
		vmcs_write(GUEST_CR3, VMX_IDMAP_GPA);
	} else {
		vmcs_write(GUEST_CR3, vv->cr3);
	}
	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	vmcs_write(GUEST_CR0, cr0);
	vmcs_write(CR0_READ_SHADOW, vv->cr0);
	vmcs_write(GUEST_CR4, cr4);
	vmcs_write(CR4_READ_SHADOW, vv->cr4);
	vmcs_write(GUEST_IA32_EFER, efer);
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
}

/*
 * SDM 26.3.1.6 / 4.4.1: with EPT, PAE paging outside long mode takes its
 * four PDPTEs from the VMCS; load them from guest memory as MOV to CR3
 * would. -EINVAL: not in RAM or reserved bits set (#GP for the guest).
 */
int vmx_load_pdptrs(struct vmx_vcpu *vv)
{
	u64 gpa = vv->cr3 & 0xffffffe0ULL, pdpte[4];
	struct page *page = hyvm_gpa_to_page(vv->vcpu->vm, gpa, NULL);
	void *p;
	int i;

	if (!page)
		return -EINVAL;
	p = kmap_local_page(page);
	memcpy(pdpte, p + offset_in_page(gpa), sizeof(pdpte));
	kunmap_local(p);
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & (0x1e6ULL | (~0ULL << 52))))
			return -EINVAL;
	for (i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTR0 + 2 * i, pdpte[i]);
	return 0;
}

/* The guest's CR3: its own while paging runs without exits on CR3. */
u64 vmx_guest_cr3(struct vmx_vcpu *vv)
{
	if (!idmap_mode(vv))
		vv->cr3 = vmcs_read(GUEST_CR3);
	return vv->cr3;
}

static bool pae_paging(struct vmx_vcpu *vv)
{
	return (vv->cr0 & X86_CR0_PG) && (vv->cr4 & X86_CR4_PAE) && !(vv->efer & EFER_LMA);
}

/*
 * Real mode without unrestricted guest: the write is done in the guest's
 * view (CR0, EFER.LMA, CR3 already saved) but not in the VMCS, whose CR0
 * must keep PE and PG (SDM 26.3.1.1), so the state user space reads is the
 * real-mode one and the vCPU does not enter again until it is replaced
 * (vmx_cannot_enter). The segment registers keep their protected-mode
 * caches, as the CPU's do until each is loaded (SDM 9.9.2).
 */
static void enter_real_mode_unrunnable(struct vmx_vcpu *vv, u64 old, u64 val)
{
	if (old & X86_CR0_PG)
		vv->efer &= ~(u64)EFER_LMA;
	vv->cr0 = val;
	/* TS lives in the VMCS (vmx_guest_cr0) */
	vmcs_write(GUEST_CR0, (vmcs_read(GUEST_CR0) & ~(u64)X86_CR0_TS) | (val & X86_CR0_TS));
	vv->flush = true;
}

/* True while the guest's state is real mode on a CPU without unrestricted
 * guest: HYVM_RUN answers HYVM_EXIT_MODE without entering. */
bool vmx_cannot_enter(struct vmx_vcpu *vv)
{
	return !vmx_cfg.unrestricted && !(vv->cr0 & X86_CR0_PE);
}

/* MOV to CR0 (SDM Vol. 2, MOV CR; Vol. 3A 9.8.5 for IA-32e activation).
 * -EINVAL: #GP; -EOPNOTSUPP: done, but the result is real mode, which
 * needs unrestricted guest (user space continues elsewhere). */
int vmx_set_cr0(struct vmx_vcpu *vv, u64 val)
{
	u64 old = vmx_guest_cr0(vv), old_efer = vv->efer;
	u64 efer = vv->efer;

	vmx_guest_cr3(vv);
	val |= X86_CR0_ET;
	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return -EINVAL;
	if (!(val & X86_CR0_PE) && !vmx_cfg.unrestricted) {
		enter_real_mode_unrunnable(vv, old, val);
		return -EOPNOTSUPP;
	}
	if (!(old & X86_CR0_PG) && (val & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(vv->cr4 & X86_CR4_PAE))
			return -EINVAL;
		efer |= EFER_LMA;
	} else if ((old & X86_CR0_PG) && !(val & X86_CR0_PG)) {
		efer &= ~(u64)EFER_LMA;
	}
	vv->cr0 = val;
	vv->efer = efer;
	if (pae_paging(vv) && vmx_load_pdptrs(vv)) {
		vv->cr0 = old;
		vv->efer = old_efer;
		return -EINVAL;
	}
	vmx_apply_paging_mode(vv);
	if ((old ^ val) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
		vv->flush = true;	/* such a MOV flushes the TLB (SDM 4.10.4.1) */
	return 0;
}

int vmx_set_cr4(struct vmx_vcpu *vv, u64 val)
{
	u64 old = vv->cr4;

	vmx_guest_cr3(vv);
	if (!vmx_cr4_valid(val) || ((vv->efer & EFER_LMA) && !(val & X86_CR4_PAE)))
		return -EINVAL;
	vv->cr4 = val;
	if (pae_paging(vv) && ((old ^ val) & (X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE)) &&
	    vmx_load_pdptrs(vv)) {
		vv->cr4 = old;
		return -EINVAL;
	}
	vmx_apply_paging_mode(vv);
	vv->flush = true;
	return 0;
}

bool vmx_cr4_valid(u64 cr4)
{
	return !(cr4 & ~(u64)CR4_GUEST_OK) && !(cr4 & ~vmx_cfg.cr4_fixed1);
}

/* Only while CR3 accesses exit: the guest has paging off and runs on the
 * identity map, so its CR3 is just remembered. */
void vmx_set_cr3(struct vmx_vcpu *vv, u64 val)
{
	vv->cr3 = val;
}

/* WRMSR EFER: LMA is the CPU's to set; LME may not change under paging. */
int vmx_set_efer(struct vmx_vcpu *vv, u64 val)
{
	if ((val & ~(u64)EFER_ALLOWED) ||
	    ((vv->cr0 & X86_CR0_PG) && ((val ^ vv->efer) & EFER_LME)))
		return -EINVAL;
	vmx_guest_cr3(vv);
	vv->efer = (val & ~(u64)EFER_LMA) | (vv->efer & EFER_LMA);
	vmx_apply_paging_mode(vv);
	return 0;
}

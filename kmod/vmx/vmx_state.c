// SPDX-License-Identifier: GPL-2.0
/*
 * struct hyvm_cpu_state to and from the VMCS guest-state area (SDM 24.4)
 * and the state hyvm keeps beside it (CR2, DRs, syscall MSRs, FPU).
 * set_state rejects what VM entry's checks (SDM 26.3.1) would refuse in a
 * way user space can act on, so a bad state is an error here rather than a
 * failed entry later.
 */
#include <linux/kernel.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <asm/msr.h>
#include "vmx.h"

/* exceptions that push an error code (SDM 6.3.1, Table 6-1) */
#define ERR_VECTORS	(BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | \
			 BIT(17) | BIT(21))

static const u8 intr_type_out[8] = {
	[0] = HYVM_EVENT_EXTINT, [2] = HYVM_EVENT_NMI,
	[3] = HYVM_EVENT_EXCEPTION, [4] = HYVM_EVENT_SOFTINT,
	[6] = HYVM_EVENT_EXCEPTION,
};

void vmx_get_state(struct hyvm_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	struct vmx_vcpu *vv = vcpu->backend;
	u32 info, intr;
	int i;

	memset(st, 0, sizeof(*st));
	preempt_disable();
	if (vmx_vcpu_load(vv)) {
		preempt_enable();
		return;
	}
	memcpy(st->gpr, vv->gprs, sizeof(st->gpr));
	st->gpr[HYVM_RSP] = vmcs_read(GUEST_RSP);
	st->rip = vmcs_read(GUEST_RIP);
	st->rflags = vmcs_read(GUEST_RFLAGS);
	for (i = 0; i < HYVM_NR_SEGS; i++) {
		st->seg[i].selector = vmcs_read(GUEST_ES_SELECTOR + 2 * i);
		st->seg[i].base = vmcs_read(GUEST_ES_BASE + 2 * i);
		st->seg[i].limit = vmcs_read(GUEST_ES_LIMIT + 2 * i);
		st->seg[i].attrib = hyvm_ar_from_vmx(vmcs_read(GUEST_ES_AR_BYTES + 2 * i));
	}
	st->gdtr.base = vmcs_read(GUEST_GDTR_BASE);
	st->gdtr.limit = vmcs_read(GUEST_GDTR_LIMIT);
	st->idtr.base = vmcs_read(GUEST_IDTR_BASE);
	st->idtr.limit = vmcs_read(GUEST_IDTR_LIMIT);
	st->cr0 = vmx_guest_cr0(vv);
	st->cr2 = vv->cr2;
	st->cr3 = vmx_guest_cr3(vv);
	st->cr4 = vv->cr4;
	st->cr8 = vv->cr8;
	st->efer = vv->efer;
	st->dr6 = vv->dr6;
	st->dr7 = vv->dr7;
	st->sysenter_cs = vmcs_read(GUEST_SYSENTER_CS);
	st->sysenter_esp = vmcs_read(GUEST_SYSENTER_ESP);
	st->sysenter_eip = vmcs_read(GUEST_SYSENTER_EIP);
	st->star = vv->star;
	st->lstar = vv->lstar;
	st->cstar = vv->cstar;
	st->sfmask = vv->sfmask;
	st->kernel_gs_base = vv->kernel_gs_base;
	st->pat = vmcs_read(GUEST_IA32_PAT);
	st->tsc = rdtsc() + vmcs_read(TSC_OFFSET);
	info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	if (info & INTR_INFO_VALID_MASK) {
		st->event.type = intr_type_out[(info & INTR_INFO_INTR_TYPE_MASK) >> 8];
		st->event.vector = info & INTR_INFO_VECTOR_MASK;
		st->event.has_error_code = !!(info & INTR_INFO_DELIVER_CODE_MASK);
		st->event.error_code = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	}
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & GUEST_INTR_STATE_STI)
		st->interruptibility |= HYVM_INTR_SHADOW_STI;
	if (intr & GUEST_INTR_STATE_MOV_SS)
		st->interruptibility |= HYVM_INTR_SHADOW_MOVSS;
	if (intr & GUEST_INTR_STATE_NMI)
		st->interruptibility |= HYVM_NMI_BLOCKED;
	preempt_enable();
	memcpy(st->fxsave, vv->fxsave, sizeof(st->fxsave));
}

/* SDM 24.8.3: VM-entry interruption-information field. */
static int event_in(u32 *info, const struct hyvm_pending_event *e, bool pe)
{
	u32 type;

	*info = 0;
	switch (e->type) {
	case HYVM_EVENT_NONE:
		return 0;
	case HYVM_EVENT_EXTINT:
		type = INTR_TYPE_EXT_INTR;
		break;
	case HYVM_EVENT_NMI:
		if (e->vector != 2)
			return -EINVAL;
		type = INTR_TYPE_NMI_INTR;
		break;
	case HYVM_EVENT_EXCEPTION:
		if (e->vector >= 32 || e->vector == 2)
			return -EINVAL;
		type = INTR_TYPE_HARD_EXCEPTION;
		break;
	default:
		/* a software interrupt needs its instruction length, which the
		 * state does not carry; RIP at the INT re-executes it instead */
		return -EINVAL;
	}
	if (e->has_error_code > 1 ||
	    (e->has_error_code && (type != INTR_TYPE_HARD_EXCEPTION || !pe ||
				   !(ERR_VECTORS & BIT(e->vector)))))
		return -EINVAL;
	*info = INTR_INFO_VALID_MASK | type | e->vector |
		(e->has_error_code ? INTR_INFO_DELIVER_CODE_MASK : 0);
	return 0;
}

static int check_state(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st, u32 *ev)
{
	bool pg = st->cr0 & X86_CR0_PG;

	/* hyvm_state_valid: reserved bits, PG without PE, LMA = LME with
	 * paging, long mode with PAE (SDM 26.3.1.1); here VMX's own CR4 */
	if (!hyvm_state_valid(vcpu, st) || !vmx_cr4_valid(st->cr4) ||
	    ((st->interruptibility & HYVM_INTR_SHADOW_STI) && !(st->rflags & X86_EFLAGS_IF)))
		return -EINVAL;
	if (!(st->cr0 & X86_CR0_PE) && !vmx_cfg.unrestricted)
		return -EOPNOTSUPP;	/* real mode needs unrestricted guest */
	if (!pg && !vmx_cfg.unrestricted && hyvm_gpa_to_page(vcpu->vm, VMX_IDMAP_GPA, NULL))
		return -EINVAL;		/* RAM where the identity map must go */
	return event_in(ev, &st->event, st->cr0 & X86_CR0_PE);
}

int vmx_set_state(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st)
{
	struct vmx_vcpu *vv = vcpu->backend;
	u32 ev = 0, intr = 0;
	int i, ret;

	ret = check_state(vcpu, st, &ev);
	if (ret)
		return ret;
	preempt_disable();
	ret = vmx_vcpu_load(vv);
	if (ret)
		goto out;
	if ((st->cr0 & X86_CR0_PG) && (st->cr4 & X86_CR4_PAE) && !(st->efer & EFER_LMA)) {
		u64 cr3 = vv->cr3;

		vv->cr3 = st->cr3;
		ret = vmx_load_pdptrs(vv);
		vv->cr3 = cr3;
		if (ret)
			goto out;
	}
	vv->cr0 = st->cr0 | X86_CR0_ET;
	vv->cr3 = st->cr3;
	vv->cr4 = st->cr4;
	vv->efer = st->efer;
	vmx_apply_paging_mode(vv);

	memcpy(vv->gprs, st->gpr, sizeof(vv->gprs));
	vmcs_write(GUEST_RSP, st->gpr[HYVM_RSP]);
	vmcs_write(GUEST_RIP, st->rip);
	vmcs_write(GUEST_RFLAGS, st->rflags | 2);
	for (i = 0; i < HYVM_NR_SEGS; i++) {
		vmcs_write(GUEST_ES_SELECTOR + 2 * i, st->seg[i].selector);
		vmcs_write(GUEST_ES_BASE + 2 * i, st->seg[i].base);
		vmcs_write(GUEST_ES_LIMIT + 2 * i, st->seg[i].limit);
		vmcs_write(GUEST_ES_AR_BYTES + 2 * i, vmx_ar_from_hyvm(st->seg[i].attrib));
	}
	vmcs_write(GUEST_GDTR_BASE, st->gdtr.base);
	vmcs_write(GUEST_GDTR_LIMIT, st->gdtr.limit & 0xffff);
	vmcs_write(GUEST_IDTR_BASE, st->idtr.base);
	vmcs_write(GUEST_IDTR_LIMIT, st->idtr.limit & 0xffff);
	vv->cr2 = st->cr2;
	vv->cr8 = st->cr8;
	vv->dr6 = st->dr6;
	vv->dr7 = st->dr7;
	vmcs_write(GUEST_SYSENTER_CS, st->sysenter_cs);
	vmcs_write(GUEST_SYSENTER_ESP, st->sysenter_esp);
	vmcs_write(GUEST_SYSENTER_EIP, st->sysenter_eip);
	vv->star = st->star;
	vv->lstar = st->lstar;
	vv->cstar = st->cstar;
	vv->sfmask = st->sfmask;
	vv->kernel_gs_base = st->kernel_gs_base;
	vmcs_write(GUEST_IA32_PAT, st->pat);
	if (st->tsc)
		vmcs_write(TSC_OFFSET, st->tsc - rdtsc());
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, ev);
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, st->event.error_code);
	if (st->interruptibility & HYVM_INTR_SHADOW_STI)
		intr |= GUEST_INTR_STATE_STI;
	else if (st->interruptibility & HYVM_INTR_SHADOW_MOVSS)
		intr |= GUEST_INTR_STATE_MOV_SS;	/* not both (SDM 26.3.1.5) */
	if (st->interruptibility & HYVM_NMI_BLOCKED)
		intr |= GUEST_INTR_STATE_NMI;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vv->pending_in.active = false;
	vv->pending_msr.active = false;
	memcpy(vv->fxsave, st->fxsave, sizeof(vv->fxsave));
	vv->flush = true;
out:
	preempt_enable();
	return ret;
}

/* The registers and MSRs hyvm_msr.c and hyvm_cpuid.c reach through
 * struct hyvm_backend: the VMCS's guest-state area (SDM 24.4) or beside
 * it. Only while handling an exit: the VMCS is current. */
u64 vmx_get_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg)
{
	struct vmx_vcpu *vv = vcpu->backend;

	switch (reg) {
	case HYVM_REG_CR0:		return vmx_guest_cr0(vv);
	case HYVM_REG_CR4:		return vv->cr4;
	case HYVM_REG_EFER:		return vv->efer;
	case HYVM_REG_STAR:		return vv->star;
	case HYVM_REG_LSTAR:		return vv->lstar;
	case HYVM_REG_CSTAR:		return vv->cstar;
	case HYVM_REG_SFMASK:		return vv->sfmask;
	case HYVM_REG_KERNEL_GS_BASE:	return vv->kernel_gs_base;
	case HYVM_REG_FS_BASE:		return vmcs_read(GUEST_FS_BASE);
	case HYVM_REG_GS_BASE:		return vmcs_read(GUEST_GS_BASE);
	case HYVM_REG_SYSENTER_CS:	return vmcs_read(GUEST_SYSENTER_CS);
	case HYVM_REG_SYSENTER_ESP:	return vmcs_read(GUEST_SYSENTER_ESP);
	case HYVM_REG_SYSENTER_EIP:	return vmcs_read(GUEST_SYSENTER_EIP);
	case HYVM_REG_PAT:		return vmcs_read(GUEST_IA32_PAT);
	case HYVM_REG_TSC_OFFSET:	return vmcs_read(TSC_OFFSET);
	}
	return 0;
}

int vmx_set_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val)
{
	struct vmx_vcpu *vv = vcpu->backend;

	switch (reg) {
	case HYVM_REG_CR0:
	case HYVM_REG_CR4:
		return -EINVAL;
	case HYVM_REG_EFER:		return vmx_set_efer(vv, val);
	case HYVM_REG_STAR:		vv->star = val; break;
	case HYVM_REG_LSTAR:		vv->lstar = val; break;
	case HYVM_REG_CSTAR:		vv->cstar = val; break;
	case HYVM_REG_SFMASK:		vv->sfmask = val; break;
	case HYVM_REG_KERNEL_GS_BASE:	vv->kernel_gs_base = val; break;
	case HYVM_REG_FS_BASE:		vmcs_write(GUEST_FS_BASE, val); break;
	case HYVM_REG_GS_BASE:		vmcs_write(GUEST_GS_BASE, val); break;
	case HYVM_REG_SYSENTER_CS:	vmcs_write(GUEST_SYSENTER_CS, val); break;
	case HYVM_REG_SYSENTER_ESP:	vmcs_write(GUEST_SYSENTER_ESP, val); break;
	case HYVM_REG_SYSENTER_EIP:	vmcs_write(GUEST_SYSENTER_EIP, val); break;
	case HYVM_REG_PAT:		vmcs_write(GUEST_IA32_PAT, val); break;
	case HYVM_REG_TSC_OFFSET:	vmcs_write(TSC_OFFSET, val); break;
	}
	return 0;
}

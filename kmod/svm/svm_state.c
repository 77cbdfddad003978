// SPDX-License-Identifier: GPL-2.0
/*
 * The VMCB (AMD APM Vol. 2, Appendix B) and its conversion to and from
 * struct hyvm_cpu_state. The VMCB's segment attribute format is the one
 * hyvm_cpu_state uses, so segments copy across almost unchanged.
 */
#include <linux/string.h>
#include <asm/msr.h>
#include "svm.h"

#define MXCSR_OFFSET	24

static void set_seg(struct vmcb_seg *v, u16 sel, u16 attrib, u32 limit, u64 base)
{
	v->selector = sel;
	v->attrib = attrib;
	v->limit = limit;
	v->base = base;
}

/* Power-on state (APM Vol. 2, 14.1.3) and the intercepts hyvm needs. */
void svm_vmcb_init(struct svm_vcpu *sv, u64 nested_cr3)
{
	struct vmcb_control_area *c = &sv->vmcb->control;
	struct vmcb_save_area *s = &sv->vmcb->save;
	static const unsigned int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_INIT,
		INTERCEPT_CPUID, INTERCEPT_HLT, INTERCEPT_INVLPGA,
		INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT, INTERCEPT_SHUTDOWN,
		INTERCEPT_RSM, INTERCEPT_INVD, INTERCEPT_PAUSE,
		/* the model's counters are hyvm_msr.c's, not the host's */
		INTERCEPT_RDPMC,
		/* APM 15.5.1: VMRUN must be intercepted; the rest of SVM is
		 * not offered to the guest (no nested virtualization). */
		INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
		INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
		INTERCEPT_SKINIT, INTERCEPT_MONITOR, INTERCEPT_MWAIT,
		INTERCEPT_XSETBV, INTERCEPT_RDPRU,
		/* MOV to a debug register: done in svm_exit.c, never by
		 * the guest (QEMU's breakpoints, handle_dr_write says) */
		INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE, INTERCEPT_DR2_WRITE,
		INTERCEPT_DR3_WRITE, INTERCEPT_DR4_WRITE, INTERCEPT_DR5_WRITE,
		INTERCEPT_DR6_WRITE, INTERCEPT_DR7_WRITE,
	};
	unsigned int i;

	memset(sv->vmcb, 0, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(sv->vmcb, intercepts[i]);
	c->iopm_base_pa = svm_iopm_pa;
	c->msrpm_base_pa = svm_msrpm_pa;
	c->asid = svm_asid;
	c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	c->int_ctl = V_INTR_MASKING_MASK;	/* APM 15.21.1 */
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = nested_cr3;

	set_seg(&s->cs, 0xf000, 0x9b, 0xffff, 0xffff0000);
	set_seg(&s->ds, 0, 0x93, 0xffff, 0);
	s->es = s->ss = s->fs = s->gs = s->ds;
	set_seg(&s->ldtr, 0, 0x82, 0xffff, 0);
	set_seg(&s->tr, 0, 0x8b, 0xffff, 0);
	set_seg(&s->gdtr, 0, 0, 0xffff, 0);
	set_seg(&s->idtr, 0, 0, 0xffff, 0);
	s->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	s->efer = EFER_SVME;		/* APM 15.5.1: guest EFER.SVME must be 1 */
	s->rflags = 2;
	s->rip = 0xfff0;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ULL;

	memset(sv->fxsave, 0, sizeof(sv->fxsave));
	*(u16 *)&sv->fxsave[0] = 0x37f;			/* FCW */
	*(u32 *)&sv->fxsave[MXCSR_OFFSET] = 0x1f80;
}

static void seg_out(struct hyvm_segment *h, const struct vmcb_seg *v)
{
	h->selector = v->selector;
	h->base = v->base;
	h->limit = v->limit;
	h->attrib = v->attrib & 0xfff;
	if (!(v->attrib & HYVM_SEG_P))
		h->attrib |= HYVM_SEG_UNUSABLE;
}

static void seg_in(struct vmcb_seg *v, const struct hyvm_segment *h)
{
	v->selector = h->selector;
	v->base = h->base;
	v->limit = h->limit;
	v->attrib = h->attrib & 0xfff;
	if (h->attrib & HYVM_SEG_UNUSABLE)
		v->attrib &= ~HYVM_SEG_P;
}

/*
 * TR's busy bit (type bit 1). hyvm_cpu_state holds TR as the SDM has it
 * after LTR, a busy TSS (type 3 or 11; VMX's entry checks require it:
 * SDM Vol. 3C "Checks on Guest Segment Registers"), as KVM's
 * svm_get_segment reports it. An AMD CPU does not keep the busy bit in
 * the VMCB's TR (hence KVM's "busy flag isn't exposed" work-around), and
 * QEMU TCG running us as the host aborts ("invalid tss type") on an
 * interrupt from CPL 3 whose TR type has it: so it goes in as available
 * and comes out busy.
 */
static void tr_out(struct hyvm_segment *h)
{
	if (h->attrib & 1)	/* a TSS type, 1 or 9 */
		h->attrib |= 2;
}

static void tr_in(struct vmcb_seg *v)
{
	if (v->attrib & 1)
		v->attrib &= ~2;
}

static const u8 evtinj_type_out[8] = {
	[0] = HYVM_EVENT_EXTINT, [2] = HYVM_EVENT_NMI,
	[3] = HYVM_EVENT_EXCEPTION, [4] = HYVM_EVENT_SOFTINT,
};

void svm_get_state(struct hyvm_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct vmcb_control_area *c = &sv->vmcb->control;
	struct vmcb_seg *segs[HYVM_NR_SEGS] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldtr, &s->tr,
	};
	int i;

	memset(st, 0, sizeof(*st));
	/* A VMCB holding the host's own registers (svm_exit.c,
	 * svm_vmcb_holds_host_state) gives none of them to user space: they
	 * are kernel addresses (RIP in hyvm.ko, RSP, GDT/IDT bases, CR3),
	 * and a SET_STATE of them on another vCPU would make its VMCB hold
	 * the host's state with no failed VMRUN behind it. All zero. */
	if (sv->state_lost)
		return;
	memcpy(st->gpr, sv->gprs, sizeof(st->gpr));
	st->gpr[HYVM_RAX] = s->rax;
	st->gpr[HYVM_RSP] = s->rsp;
	st->rip = s->rip;
	st->rflags = s->rflags;
	for (i = 0; i < HYVM_NR_SEGS; i++)
		seg_out(&st->seg[i], segs[i]);
	tr_out(&st->seg[HYVM_TR]);
	st->gdtr.base = s->gdtr.base;
	st->gdtr.limit = s->gdtr.limit;
	st->idtr.base = s->idtr.base;
	st->idtr.limit = s->idtr.limit;
	st->cr0 = s->cr0;
	st->cr2 = s->cr2;
	st->cr3 = s->cr3;
	st->cr4 = s->cr4;
	st->cr8 = c->int_ctl & V_TPR_MASK;
	st->efer = s->efer & ~EFER_SVME;
	st->dr6 = s->dr6;
	st->dr7 = s->dr7;
	st->sysenter_cs = s->sysenter_cs;
	st->sysenter_esp = s->sysenter_esp;
	st->sysenter_eip = s->sysenter_eip;
	st->star = s->star;
	st->lstar = s->lstar;
	st->cstar = s->cstar;
	st->sfmask = s->sfmask;
	st->kernel_gs_base = s->kernel_gs_base;
	st->pat = s->g_pat;
	st->tsc = rdtsc() + c->tsc_offset;
	if (c->event_inj & SVM_EVTINJ_VALID) {
		st->event.type = evtinj_type_out[(c->event_inj & SVM_EVTINJ_TYPE_MASK) >> SVM_EVTINJ_TYPE_SHIFT];
		st->event.vector = c->event_inj & SVM_EVTINJ_VEC_MASK;
		st->event.has_error_code = !!(c->event_inj & SVM_EVTINJ_VALID_ERR);
		st->event.error_code = c->event_inj_err;
	}
	if (c->int_state & SVM_INTERRUPT_SHADOW_MASK)
		st->interruptibility |= HYVM_INTR_SHADOW_STI;
	memcpy(st->fxsave, sv->fxsave, sizeof(st->fxsave));
}

static int event_in(u32 *inj, u32 *err, const struct hyvm_pending_event *e)
{
	u32 type;

	switch (e->type) {
	case HYVM_EVENT_NONE:
		*inj = 0;
		return 0;
	case HYVM_EVENT_EXTINT:
		type = SVM_EVTINJ_TYPE_INTR;
		break;
	case HYVM_EVENT_NMI:
		if (e->vector != 2)
			return -EINVAL;
		type = SVM_EVTINJ_TYPE_NMI;
		break;
	case HYVM_EVENT_EXCEPTION:
		if (e->vector >= 32 || e->vector == 2)
			return -EINVAL;
		type = SVM_EVTINJ_TYPE_EXEPT;
		break;
	case HYVM_EVENT_SOFTINT:
		type = SVM_EVTINJ_TYPE_SOFT;
		break;
	default:
		return -EINVAL;
	}
	if (e->has_error_code > 1 || (e->has_error_code && type != SVM_EVTINJ_TYPE_EXEPT))
		return -EINVAL;
	*inj = SVM_EVTINJ_VALID | type | e->vector |
		(e->has_error_code ? SVM_EVTINJ_VALID_ERR : 0);
	*err = e->error_code;
	return 0;
}

/* Rejects what VMRUN's consistency checks (APM 15.5.1) or FXRSTOR would
 * refuse, so a bad state is an error here rather than a failed entry. */
int svm_set_state(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct vmcb_control_area *c = &sv->vmcb->control;
	struct vmcb_seg *segs[HYVM_NR_SEGS] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldtr, &s->tr,
	};
	u32 inj = 0, inj_err = 0;
	int i;

	if (!hyvm_state_valid(vcpu, st))
		return -EINVAL;
	if (event_in(&inj, &inj_err, &st->event))
		return -EINVAL;

	memcpy(sv->gprs, st->gpr, sizeof(sv->gprs));
	s->rax = st->gpr[HYVM_RAX];
	s->rsp = st->gpr[HYVM_RSP];
	s->rip = st->rip;
	s->rflags = st->rflags | 2;
	for (i = 0; i < HYVM_NR_SEGS; i++)
		seg_in(segs[i], &st->seg[i]);
	tr_in(&s->tr);
	s->gdtr.base = st->gdtr.base;
	s->gdtr.limit = st->gdtr.limit;
	s->idtr.base = st->idtr.base;
	s->idtr.limit = st->idtr.limit;
	s->cr0 = st->cr0;
	s->cr2 = st->cr2;
	s->cr3 = st->cr3;
	s->cr4 = st->cr4;
	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | st->cr8;
	s->efer = st->efer | EFER_SVME;
	s->dr6 = st->dr6;
	s->dr7 = st->dr7;
	s->sysenter_cs = st->sysenter_cs;
	s->sysenter_esp = st->sysenter_esp;
	s->sysenter_eip = st->sysenter_eip;
	s->star = st->star;
	s->lstar = st->lstar;
	s->cstar = st->cstar;
	s->sfmask = st->sfmask;
	s->kernel_gs_base = st->kernel_gs_base;
	s->g_pat = st->pat;
	/* APM 15.7.1: CPL comes from SS.DPL in protected mode. */
	if (!(st->cr0 & X86_CR0_PE))
		s->cpl = 0;
	else if (st->rflags & X86_EFLAGS_VM)
		s->cpl = 3;
	else
		s->cpl = hyvm_seg_dpl(&st->seg[HYVM_SS]);
	if (st->tsc)
		c->tsc_offset = st->tsc - rdtsc();
	c->event_inj = inj;
	c->event_inj_err = inj_err;
	c->int_state = (st->interruptibility & (HYVM_INTR_SHADOW_STI | HYVM_INTR_SHADOW_MOVSS)) ?
		SVM_INTERRUPT_SHADOW_MASK : 0;
	sv->pending_in.active = false;
	sv->pending_msr.active = false;
	sv->state_lost = false;
	memcpy(sv->fxsave, st->fxsave, sizeof(sv->fxsave));
	sv->flush = true;
	return 0;
}

/* The registers and MSRs hyvm_msr.c and hyvm_cpuid.c reach through
 * struct hyvm_backend: all in the VMCB (APM Appendix B). */
u64 svm_get_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;

	switch (reg) {
	case HYVM_REG_CR0:		return s->cr0;
	case HYVM_REG_CR4:		return s->cr4;
	case HYVM_REG_EFER:		return s->efer & ~EFER_SVME;
	case HYVM_REG_STAR:		return s->star;
	case HYVM_REG_LSTAR:		return s->lstar;
	case HYVM_REG_CSTAR:		return s->cstar;
	case HYVM_REG_SFMASK:		return s->sfmask;
	case HYVM_REG_KERNEL_GS_BASE:	return s->kernel_gs_base;
	case HYVM_REG_FS_BASE:		return s->fs.base;
	case HYVM_REG_GS_BASE:		return s->gs.base;
	case HYVM_REG_SYSENTER_CS:	return s->sysenter_cs;
	case HYVM_REG_SYSENTER_ESP:	return s->sysenter_esp;
	case HYVM_REG_SYSENTER_EIP:	return s->sysenter_eip;
	case HYVM_REG_PAT:		return s->g_pat;
	case HYVM_REG_TSC_OFFSET:	return sv->vmcb->control.tsc_offset;
	}
	return 0;
}

int svm_set_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;

	switch (reg) {
	case HYVM_REG_CR0:
	case HYVM_REG_CR4:
		return -EINVAL;
	/* APM 15.5.1: the guest's EFER.SVME must stay 1 under VMRUN */
	case HYVM_REG_EFER:		s->efer = val | EFER_SVME; break;
	case HYVM_REG_STAR:		s->star = val; break;
	case HYVM_REG_LSTAR:		s->lstar = val; break;
	case HYVM_REG_CSTAR:		s->cstar = val; break;
	case HYVM_REG_SFMASK:		s->sfmask = val; break;
	case HYVM_REG_KERNEL_GS_BASE:	s->kernel_gs_base = val; break;
	case HYVM_REG_FS_BASE:		s->fs.base = val; break;
	case HYVM_REG_GS_BASE:		s->gs.base = val; break;
	case HYVM_REG_SYSENTER_CS:	s->sysenter_cs = val; break;
	case HYVM_REG_SYSENTER_ESP:	s->sysenter_esp = val; break;
	case HYVM_REG_SYSENTER_EIP:	s->sysenter_eip = val; break;
	case HYVM_REG_PAT:		s->g_pat = val; break;
	case HYVM_REG_TSC_OFFSET:	sv->vmcb->control.tsc_offset = val; break;
	}
	return 0;
}

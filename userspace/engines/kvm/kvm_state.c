/* hyvm_cpu_state <-> KVM register structs. KVM unpacks descriptor
 * attributes into fields; hyvm keeps them packed as in the descriptor. */
#include <stddef.h>
#include <string.h>
#include <hyvm/x86.h>
#include "engines/kvm/kvm_state.h"
#include "cpu/cpu_msr.h"

void kvm_segment_from_hyvm(struct kvm_segment *k, const struct hyvm_segment *h)
{
	memset(k, 0, sizeof(*k));
	k->base = h->base;
	k->limit = h->limit;
	k->selector = h->selector;
	k->type = h->attrib & HYVM_SEG_TYPE_MASK;
	k->s = !!(h->attrib & HYVM_SEG_S);
	k->dpl = hyvm_seg_dpl(h);
	k->present = !!(h->attrib & HYVM_SEG_P);
	k->avl = !!(h->attrib & HYVM_SEG_AVL);
	k->l = !!(h->attrib & HYVM_SEG_L);
	k->db = !!(h->attrib & HYVM_SEG_DB);
	k->g = !!(h->attrib & HYVM_SEG_G);
	k->unusable = !!(h->attrib & HYVM_SEG_UNUSABLE);
}

void hyvm_segment_from_kvm(struct hyvm_segment *h, const struct kvm_segment *k)
{
	memset(h, 0, sizeof(*h));
	h->base = k->base;
	h->limit = k->limit;
	h->selector = k->selector;
	h->attrib = (k->type & HYVM_SEG_TYPE_MASK) |
		    (k->s ? HYVM_SEG_S : 0) |
		    ((k->dpl & 3u) << HYVM_SEG_DPL_SHIFT) |
		    (k->present ? HYVM_SEG_P : 0) |
		    (k->avl ? HYVM_SEG_AVL : 0) |
		    (k->l ? HYVM_SEG_L : 0) |
		    (k->db ? HYVM_SEG_DB : 0) |
		    (k->g ? HYVM_SEG_G : 0) |
		    (k->unusable ? HYVM_SEG_UNUSABLE : 0);
}

void kvm_regs_from_state(struct kvm_regs *r, const struct hyvm_cpu_state *st)
{
	const __u64 *g = st->gpr;

	*r = (struct kvm_regs){
		.rax = g[HYVM_RAX], .rbx = g[HYVM_RBX], .rcx = g[HYVM_RCX],
		.rdx = g[HYVM_RDX], .rsi = g[HYVM_RSI], .rdi = g[HYVM_RDI],
		.rsp = g[HYVM_RSP], .rbp = g[HYVM_RBP],
		.r8 = g[HYVM_R8], .r9 = g[HYVM_R9], .r10 = g[HYVM_R10],
		.r11 = g[HYVM_R11], .r12 = g[HYVM_R12], .r13 = g[HYVM_R13],
		.r14 = g[HYVM_R14], .r15 = g[HYVM_R15],
		.rip = st->rip, .rflags = st->rflags,
	};
}

void state_from_kvm_regs(struct hyvm_cpu_state *st, const struct kvm_regs *r)
{
	__u64 *g = st->gpr;

	g[HYVM_RAX] = r->rax; g[HYVM_RBX] = r->rbx; g[HYVM_RCX] = r->rcx;
	g[HYVM_RDX] = r->rdx; g[HYVM_RSI] = r->rsi; g[HYVM_RDI] = r->rdi;
	g[HYVM_RSP] = r->rsp; g[HYVM_RBP] = r->rbp;
	g[HYVM_R8] = r->r8; g[HYVM_R9] = r->r9; g[HYVM_R10] = r->r10;
	g[HYVM_R11] = r->r11; g[HYVM_R12] = r->r12; g[HYVM_R13] = r->r13;
	g[HYVM_R14] = r->r14; g[HYVM_R15] = r->r15;
	st->rip = r->rip;
	st->rflags = r->rflags;
}

static struct kvm_segment *kvm_seg_slot(struct kvm_sregs *s, int i)
{
	struct kvm_segment *slots[HYVM_NR_SEGS] = {
		&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldt, &s->tr,
	};
	return slots[i];
}

void kvm_sregs_from_state(struct kvm_sregs *s, const struct hyvm_cpu_state *st)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < HYVM_NR_SEGS; i++)
		kvm_segment_from_hyvm(kvm_seg_slot(s, i), &st->seg[i]);
	s->gdt.base = st->gdtr.base;
	s->gdt.limit = st->gdtr.limit;
	s->idt.base = st->idtr.base;
	s->idt.limit = st->idtr.limit;
	s->cr0 = st->cr0;
	s->cr2 = st->cr2;
	s->cr3 = st->cr3;
	s->cr4 = st->cr4;
	s->cr8 = st->cr8;
	s->efer = st->efer;
	/* IA32_APIC_BASE is not part of hyvm_cpu_state: the kvm engine sets
	 * the CPU model's value (hyvm_cpuid_apic_base) over this default of
	 * a BSP whose APIC is disabled. */
	s->apic_base = 0xfee00000ull | (1ull << 8);
}

void state_from_kvm_sregs(struct hyvm_cpu_state *st, const struct kvm_sregs *s)
{
	for (int i = 0; i < HYVM_NR_SEGS; i++)
		hyvm_segment_from_kvm(&st->seg[i], kvm_seg_slot((struct kvm_sregs *)s, i));
	st->gdtr = (struct hyvm_dtable){ .base = s->gdt.base, .limit = s->gdt.limit };
	st->idtr = (struct hyvm_dtable){ .base = s->idt.base, .limit = s->idt.limit };
	st->cr0 = s->cr0;
	st->cr2 = s->cr2;
	st->cr3 = s->cr3;
	st->cr4 = s->cr4;
	st->cr8 = s->cr8;
	st->efer = s->efer;
}

/* struct kvm_fpu is an unpacked FXSAVE image; the FXSAVE layout is in the
 * SDM Vol. 1, Table 10-2. */
void kvm_fpu_from_state(struct kvm_fpu *f, const struct hyvm_cpu_state *st)
{
	const __u8 *x = st->fxsave;

	memset(f, 0, sizeof(*f));
	memcpy(&f->fcw, x + 0, 2);
	memcpy(&f->fsw, x + 2, 2);
	f->ftwx = x[4];
	memcpy(&f->last_opcode, x + 6, 2);
	memcpy(&f->last_ip, x + 8, 8);
	memcpy(&f->last_dp, x + 16, 8);
	memcpy(&f->mxcsr, x + 24, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], x + 32 + 16 * i, 16);
	for (int i = 0; i < 16; i++)
		memcpy(f->xmm[i], x + 160 + 16 * i, 16);
}

void state_from_kvm_fpu(struct hyvm_cpu_state *st, const struct kvm_fpu *f)
{
	__u8 *x = st->fxsave;

	memset(x, 0, sizeof(st->fxsave));
	memcpy(x + 0, &f->fcw, 2);
	memcpy(x + 2, &f->fsw, 2);
	x[4] = f->ftwx;
	memcpy(x + 6, &f->last_opcode, 2);
	memcpy(x + 8, &f->last_ip, 8);
	memcpy(x + 16, &f->last_dp, 8);
	memcpy(x + 24, &f->mxcsr, 4);
	for (int i = 0; i < 8; i++)
		memcpy(x + 32 + 16 * i, f->fpr[i], 16);
	for (int i = 0; i < 16; i++)
		memcpy(x + 160 + 16 * i, f->xmm[i], 16);
}

void kvm_events_from_state(struct kvm_vcpu_events *e, const struct hyvm_cpu_state *st)
{
	const struct hyvm_pending_event *ev = &st->event;

	memset(e, 0, sizeof(*e));
	e->flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
	e->interrupt.shadow = (st->interruptibility & HYVM_INTR_SHADOW_STI ? KVM_X86_SHADOW_INT_STI : 0) |
			      (st->interruptibility & HYVM_INTR_SHADOW_MOVSS ? KVM_X86_SHADOW_INT_MOV_SS : 0);
	e->nmi.masked = !!(st->interruptibility & HYVM_NMI_BLOCKED);
	switch (ev->type) {
	case HYVM_EVENT_EXCEPTION:
		e->exception.injected = 1;
		e->exception.nr = ev->vector;
		e->exception.has_error_code = ev->has_error_code;
		e->exception.error_code = ev->error_code;
		break;
	case HYVM_EVENT_EXTINT:
	case HYVM_EVENT_SOFTINT:
		e->interrupt.injected = 1;
		e->interrupt.nr = ev->vector;
		e->interrupt.soft = ev->type == HYVM_EVENT_SOFTINT;
		break;
	case HYVM_EVENT_NMI:
		e->nmi.injected = 1;
		break;
	}
}

void state_from_kvm_events(struct hyvm_cpu_state *st, const struct kvm_vcpu_events *e)
{
	struct hyvm_pending_event *ev = &st->event;

	memset(ev, 0, sizeof(*ev));
	st->interruptibility = (e->interrupt.shadow & KVM_X86_SHADOW_INT_STI ? HYVM_INTR_SHADOW_STI : 0) |
			       (e->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS ? HYVM_INTR_SHADOW_MOVSS : 0) |
			       (e->nmi.masked ? HYVM_NMI_BLOCKED : 0);
	if (e->exception.injected) {
		ev->type = HYVM_EVENT_EXCEPTION;
		ev->vector = e->exception.nr;
		ev->has_error_code = e->exception.has_error_code;
		ev->error_code = e->exception.error_code;
	} else if (e->interrupt.injected) {
		ev->type = e->interrupt.soft ? HYVM_EVENT_SOFTINT : HYVM_EVENT_EXTINT;
		ev->vector = e->interrupt.nr;
	} else if (e->nmi.injected || e->nmi.pending) {
		/* An NMI KVM latched but has not begun to deliver (KVM_NMI,
		 * or one that came while NMIs were blocked) is one the next
		 * entry delivers: hyvm's pending event. With an exception or
		 * interrupt in delivery the one slot is theirs, delivered
		 * first as the CPU would (SDM Vol. 3A 6.9), and the latched
		 * NMI is not carried. */
		ev->type = HYVM_EVENT_NMI;
		ev->vector = 2;
	}
}

struct msr_field { __u32 index; size_t offset; };

static const struct msr_field msr_fields[KVM_STATE_NR_MSRS] = {
	{ MSR_IA32_SYSENTER_CS, offsetof(struct hyvm_cpu_state, sysenter_cs) },
	{ MSR_IA32_SYSENTER_ESP, offsetof(struct hyvm_cpu_state, sysenter_esp) },
	{ MSR_IA32_SYSENTER_EIP, offsetof(struct hyvm_cpu_state, sysenter_eip) },
	{ MSR_STAR, offsetof(struct hyvm_cpu_state, star) },
	{ MSR_LSTAR, offsetof(struct hyvm_cpu_state, lstar) },
	{ MSR_CSTAR, offsetof(struct hyvm_cpu_state, cstar) },
	{ MSR_SFMASK, offsetof(struct hyvm_cpu_state, sfmask) },
	{ MSR_KERNEL_GS_BASE, offsetof(struct hyvm_cpu_state, kernel_gs_base) },
	{ MSR_IA32_PAT, offsetof(struct hyvm_cpu_state, pat) },
	{ MSR_IA32_TSC, offsetof(struct hyvm_cpu_state, tsc) },
};

void kvm_msrs_from_state(struct kvm_msrs_buf *m, const struct hyvm_cpu_state *st)
{
	memset(m, 0, sizeof(*m));
	m->hdr.nmsrs = KVM_STATE_NR_MSRS;
	for (unsigned i = 0; i < m->hdr.nmsrs; i++) {
		m->entries[i].index = msr_fields[i].index;
		memcpy(&m->entries[i].data, (const char *)st + msr_fields[i].offset, 8);
	}
}

void state_from_kvm_msrs(struct hyvm_cpu_state *st, const struct kvm_msrs_buf *m)
{
	for (unsigned i = 0; i < m->hdr.nmsrs && i < KVM_STATE_NR_MSRS; i++)
		for (unsigned f = 0; f < KVM_STATE_NR_MSRS; f++)
			if (msr_fields[f].index == m->entries[i].index) {
				memcpy((char *)st + msr_fields[f].offset, &m->entries[i].data, 8);
				break;
			}
}

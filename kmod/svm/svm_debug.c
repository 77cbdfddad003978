// SPDX-License-Identifier: GPL-2.0
/*
 * HYVM_SET_GUEST_DEBUG on AMD-V.
 *
 * Single step: RFLAGS.TF set for the entry with #DB intercepted; the trap
 * after the instruction (APM Vol. 2, 13.1.1.4 single-step; 15.12 exception
 * intercepts) returns HYVM_EXIT_DEBUG. The guest does not see that TF:
 * it is cleared after every #VMEXIT (so HYVM_GET_STATE and the next
 * instruction never hold it), a PUSHF run under it (intercepted first,
 * APM 15.9) has the pushed copy's TF cleared in guest memory afterwards,
 * and after a POPF or IRET (intercepted first) TF is the guest's own, as
 * it popped it. A guest whose own TF is set gets its #DB as well: the
 * step stops, and the #DB is delivered at the next entry.
 *
 * Hardware breakpoints: the debugger's DR0-3 in the hardware registers
 * and its DR7 in the VMCB for each entry (VMRUN loads DR7 and DR6 only,
 * APM 15.5.1), the guest's DR7 and DR6 put back after the exit; for QEMU
 * TCG also in the host's DR7 (svm_cpu.c), lower-half slots only. Not
 * supported: the guest's own DR0-3 and DR7 meanwhile (its reads see the
 * debugger's; its writes, intercepted, are kept for after: handle_dr_write).
 *
 * A #DB that is not the debugger's is the guest's: delivered to it.
 * Interrupts are held off while stepping (no VINTR, window closed).
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include "svm.h"

#define DR6_BS		(1ULL << 14)	/* single step (APM 13.1.1.3) */
#define DR6_B0_3	0xfULL
#define SVM_EXIT_DB	(SVM_EXIT_EXCP_BASE + 1)

static bool stepping(struct hyvm_vcpu *vcpu)
{
	return vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP;
}

static bool hw_bp(struct hyvm_vcpu *vcpu)
{
	return vcpu->debug.flags & HYVM_DEBUG_HW_BP;
}

int svm_set_guest_debug(struct hyvm_vcpu *vcpu, const struct hyvm_guest_debug *d)
{
	struct svm_vcpu *sv = vcpu->backend;
	int i;

	sv->dbg.step = d->flags & HYVM_DEBUG_SINGLESTEP;
	sv->dbg.hw = d->flags & HYVM_DEBUG_HW_BP;
	memcpy(sv->dbg.dr, d->dr, sizeof(sv->dbg.dr));
	/* for the host's DR7 before VMRUN (svm_cpu.c): only slots in the
	 * lower half, which host code never touches there */
	sv->dbg.host_dr7 = d->dr7;
	for (i = 0; i < 4; i++)
		if (d->dr[i] >> 47)
			sv->dbg.host_dr7 &= ~(3ULL << (2 * i));
	if (!sv->dbg.step) {
		sv->dbg.pushf_pending = false;
		sv->dbg.flags_from_guest = false;
	}
	return 0;
}

static void set_intercept(struct vmcb *v, unsigned int bit, bool on)
{
	if (on)
		svm_set_intercept(v, bit);
	else
		svm_clr_intercept(v, bit);
}

/* Just before VMRUN: the intercepts, TF, and the debugger's DR7. */
void svm_debug_before_entry(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;
	bool step = stepping(vcpu);

	set_intercept(v, INTERCEPT_EXCEPTION_OFFSET + 1, step || hw_bp(vcpu));
	sv->dbg.tf_added = step && !(v->save.rflags & X86_EFLAGS_TF);
	if (sv->dbg.tf_added)
		v->save.rflags |= X86_EFLAGS_TF;
	/* only a TF of ours needs hiding from PUSHF, or restoring after
	 * POPF/IRET; each intercept once, then the instruction runs */
	set_intercept(v, INTERCEPT_PUSHF, sv->dbg.tf_added && !sv->dbg.pushf_pending);
	set_intercept(v, INTERCEPT_POPF, sv->dbg.tf_added && !sv->dbg.flags_from_guest);
	set_intercept(v, INTERCEPT_IRET, sv->dbg.tf_added && !sv->dbg.flags_from_guest);
	sv->dbg.guest_dr6 = v->save.dr6;
	if (hw_bp(vcpu)) {
		sv->dbg.guest_dr7 = v->save.dr7;
		v->save.dr7 = vcpu->debug.dr7;
	}
}

/* Right after #VMEXIT, before the exit is handled: the guest's own TF
 * and DR7 back. */
void svm_debug_after_exit(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;
	bool popped = v->control.exit_code == SVM_EXIT_DB && sv->dbg.flags_from_guest;

	if (hw_bp(vcpu))
		v->save.dr7 = sv->dbg.guest_dr7;
	sv->dbg.tf_was_added = sv->dbg.tf_added;
	if (sv->dbg.tf_added && !popped)
		v->save.rflags &= ~X86_EFLAGS_TF;
	if (popped)
		sv->dbg.flags_from_guest = false;
	sv->dbg.tf_added = false;
}

/* PUSHF's copy of RFLAGS, at SS:RSP after
 * it, loses the TF that was ours (bit 8: bit 0 of its second byte). The
 * operand size is what RSP moved by. */
static void hide_pushed_tf(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct hyvm_paging pg = { s->cr0, s->cr3, s->cr4, s->efer };
	bool wide = (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SELECTOR_L_MASK);
	bool big = wide || (s->ss.attrib & SVM_SELECTOR_DB_MASK);
	u64 mask = wide ? ~0ULL : big ? 0xffffffffULL : 0xffffULL;
	u64 moved = (sv->dbg.pushf_rsp - s->rsp) & mask;
	u64 la = wide ? s->rsp : (s->ss.base + (s->rsp & mask)) & 0xffffffffULL;

	if (moved != 2 && moved != 4 && moved != 8)
		return;		/* not the PUSHF's trap (an event came first) */
	if (hyvm_guest_clear_byte_bits(vcpu->vm, &pg, la + 1, 1))
		pr_warn_ratelimited("hyvm: svm: the TF a PUSHF pushed at %#llx stays (not RAM)\n", la);
}

int svm_handle_db(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;
	u64 dr6 = v->save.dr6;
	u64 hits = 0;
	int i;

	if (hw_bp(vcpu))
		for (i = 0; i < 4; i++)
			if ((dr6 >> i & 1) && (vcpu->debug.dr7 >> (2 * i) & 3))
				hits |= 1ULL << i;
	if (stepping(vcpu) && (dr6 & DR6_BS))
		hits |= DR6_BS;
	if (sv->dbg.pushf_pending && (hits & DR6_BS)) {
		sv->dbg.pushf_pending = false;
		if (sv->dbg.tf_was_added)
			hide_pushed_tf(vcpu);
	}
	if (!hits) {
		svm_inject_exception(sv, 1, false, 0);	/* the guest's own */
		return 1;
	}
	if ((hits & DR6_BS) && !sv->dbg.tf_was_added)
		svm_inject_exception(sv, 1, false, 0);	/* its TF was set too */
	else
		v->save.dr6 = sv->dbg.guest_dr6;	/* ours: not the guest's DR6 */
	/* an execute breakpoint is a fault: RF lets its instruction run
	 * at the next entry (APM 13.1.1.6) */
	for (i = 0; i < 4; i++)
		if ((hits >> i & 1) && !(vcpu->debug.dr7 >> (16 + 4 * i) & 3))
			v->save.rflags |= X86_EFLAGS_RF;
	vcpu->run->debug.dr6 = hits;
	vcpu->run->exit_kind = HYVM_EXIT_DEBUG;
	return 0;
}

/* The instruction intercepted before it runs (no next-RIP needed: it
 * runs at the re-entry, with the intercept off). */
int svm_handle_pushf(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;

	sv->dbg.pushf_pending = stepping(vcpu);
	sv->dbg.pushf_rsp = sv->vmcb->save.rsp;
	return 1;
}

int svm_handle_popf_iret(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;

	sv->dbg.flags_from_guest = stepping(vcpu);
	return 1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Single step on VT-x without the monitor trap flag (its allowed-1 bit
 * clear, e.g. Bochs 2.7's haswell model): RFLAGS.TF set for the entry
 * with #DB in the exception bitmap, as svm/svm_debug.c does on AMD-V. The
 * trap after the instruction (SDM Vol. 3B 18.3.1.4) is a #DB VM exit with
 * BS in the exit qualification (SDM 27.1). VT-x has no PUSHF/POPF exits,
 * so the instruction about to run is read before the entry: after a PUSHF
 * the TF of ours it pushed is cleared in guest memory; after POPF or IRET
 * TF is the guest's own, as it popped it. TF is cleared after every VM
 * exit otherwise, so the guest state never holds it.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include "vmx.h"

#define DR6_BS		(1ULL << 14)

static void paging(struct vmx_vcpu *vv, struct hyvm_paging *pg)
{
	pg->cr0 = vmx_guest_cr0(vv);
	pg->cr3 = vmx_guest_cr3(vv);
	pg->cr4 = vv->cr4;
	pg->efer = vv->efer;
}

static bool long_mode_code(struct vmx_vcpu *vv)
{
	return (vv->efer & EFER_LMA) && (vmcs_read(GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
}

/* The opcode at CS:RIP past its legacy and REX prefixes (SDM Vol. 2A
 * 2.1.1, 2.2.1); 0 if it cannot be read. */
static u8 next_opcode(struct vmx_vcpu *vv)
{
	struct hyvm_paging pg;
	bool wide = long_mode_code(vv);
	u64 la = wide ? vmcs_read(GUEST_RIP) :
		(vmcs_read(GUEST_CS_BASE) + vmcs_read(GUEST_RIP)) & 0xffffffffULL;
	u8 insn[15];
	int i;

	paging(vv, &pg);
	if (hyvm_guest_read(vv->vcpu->vm, &pg, la, insn, sizeof(insn)) &&
	    hyvm_guest_read(vv->vcpu->vm, &pg, la, insn, 1))
		return 0;
	for (i = 0; i < (int)sizeof(insn); i++) {
		switch (insn[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
			continue;
		}
		if (wide && (insn[i] & 0xf0) == 0x40)
			continue;
		return insn[i];
	}
	return 0;
}

/* VMCS current, before the entry. */
void vmx_step_tf_before_entry(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;
	struct vmx_step_tf *s = &vv->step_tf;
	u64 rflags = vmcs_read(GUEST_RFLAGS);
	u8 op;

	s->tf_added = !(rflags & X86_EFLAGS_TF);
	if (!s->tf_added)
		return;
	op = next_opcode(vv);
	s->pushf = op == 0x9c;
	s->pushf_rsp = vmcs_read(GUEST_RSP);
	s->entry_rip = vmcs_read(GUEST_RIP);
	s->pops_flags = op == 0x9d || op == 0xcf;	/* POPF, IRET */
	vmcs_write(GUEST_RFLAGS, rflags | X86_EFLAGS_TF);
	/* SDM 26.3.1.5: TF set in a MOV SS/STI shadow needs BS pending */
	if (vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
			   vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) | DR6_BS);
}

/* Not stepping by TF (any more): a trap of ours still pending after an
 * exit between the instruction and its #DB is dropped, not the guest's. */
void vmx_step_tf_off(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;

	if (!vv->step_tf.bs_pending_ours)
		return;
	vv->step_tf.bs_pending_ours = false;
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
		   vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) & ~DR6_BS);
}

/* Right after the exit: the guest's own TF back. */
void vmx_step_tf_after_exit(struct hyvm_vcpu *vcpu, u32 reason)
{
	struct vmx_vcpu *vv = vcpu->backend;
	struct vmx_step_tf *s = &vv->step_tf;
	bool db = reason == EXIT_REASON_EXCEPTION_NMI &&
		  (vmcs_read(VM_EXIT_INTR_INFO) & INTR_INFO_VECTOR_MASK) == 1;

	s->tf_was_added = s->tf_added;
	if (!s->tf_added)
		return;
	s->tf_added = false;
	/* a trap is pending only after an instruction done (RIP moved): an
	 * exit before it (an EPT violation on its fetch) leaves none of
	 * ours; Bochs 2.7 showed one there, and the next entry stopped
	 * without running the instruction */
	if (!db && vmcs_read(GUEST_RIP) == s->entry_rip)
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
			   vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) & ~DR6_BS);
	s->bs_pending_ours = !db && (vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) & DR6_BS);
	if (db && s->pops_flags)
		return;		/* TF is what the guest popped */
	vmcs_write(GUEST_RFLAGS, vmcs_read(GUEST_RFLAGS) & ~X86_EFLAGS_TF);
}

/* At the step's #DB: the copy of RFLAGS a PUSHF pushed loses our TF (bit
 * 8: bit 0 of its second byte, at SS:RSP; the operand size is what RSP
 * moved by). */
void vmx_step_tf_done(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = vcpu->backend;
	struct vmx_step_tf *s = &vv->step_tf;
	struct hyvm_paging pg;
	bool wide = long_mode_code(vv);
	bool big = wide || (vmcs_read(GUEST_SS_AR_BYTES) & VMX_AR_DB_MASK);
	u64 mask = wide ? ~0ULL : big ? 0xffffffffULL : 0xffffULL;
	u64 rsp = vmcs_read(GUEST_RSP);
	u64 moved = (s->pushf_rsp - rsp) & mask;
	u64 la = wide ? rsp : (vmcs_read(GUEST_SS_BASE) + (rsp & mask)) & 0xffffffffULL;

	if (!s->pushf || !s->tf_was_added)
		return;
	s->pushf = false;
	if (moved != 2 && moved != 4 && moved != 8)
		return;
	paging(vv, &pg);
	if (hyvm_guest_clear_byte_bits(vv->vcpu->vm, &pg, la + 1, 1))
		pr_warn_ratelimited("hyvm: vmx: the TF a PUSHF pushed at %#llx stays (not RAM)\n", la);
}

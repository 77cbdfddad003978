/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AMD-V backend. VMCB layout, intercept numbers and exit codes come
 * from the kernel's <asm/svm.h> (AMD APM Vol. 2, Appendix B and C).
 */
#ifndef HYVM_SVM_H
#define HYVM_SVM_H

#include <linux/types.h>
#include <asm/svm.h>
#include "../hyvm.h"
#include "../hyvm_npt.h"

/* Nested page table entries: long-mode page-table entries (APM 15.25.5) */
#define NPT_P		(1ULL << 0)
#define NPT_RW		(1ULL << 1)
#define NPT_US		(1ULL << 2)	/* NPT walks are user accesses (APM 15.25.5) */
#define NPT_A		(1ULL << 5)
#define NPT_D		(1ULL << 6)
#define NPT_PS		(1ULL << 7)

/* HYVM_SET_GUEST_DEBUG's state (svm_debug.c) */
struct svm_debug {
	bool step, hw;
	unsigned long dr[4];		/* the debugger's DR0-3 when hw */
	unsigned long host_dr7;		/* its lower-half slots (svm_cpu.c) */
	bool tf_added;			/* TF is ours for this entry */
	bool tf_was_added;		/* ... for the entry that just exited */
	bool pushf_pending;		/* a PUSHF runs next under our TF */
	bool flags_from_guest;		/* a POPF/IRET runs next: TF is popped */
	u64 pushf_rsp;			/* RSP before that PUSHF */
	u64 guest_dr6, guest_dr7;	/* the guest's, across an entry */
};

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u64 id;				/* unique for the module's life: TLB tagging */
	int last_cpu;
	bool flush;			/* flush this ASID's TLB on next entry */
	u64 gprs[HYVM_NR_GPRS];		/* RAX and RSP live in the VMCB */
	unsigned long dr[4];		/* guest DR0-3: VMRUN does not switch them */
	struct hyvm_pending_in pending_in;
	struct hyvm_pending_msr pending_msr;	/* HYVM_EXIT_MSR owed */
	struct svm_debug dbg;
	/* the VMCB's save area holds the host's registers, not the guest's
	 * (svm_vmcb_holds_host_state): no VMRUN until HYVM_SET_STATE */
	bool state_lost;
	u8 fxsave[512] __aligned(16);
};

struct svm_vm {
	struct hyvm_npt npt;		/* the nested page table (hyvm_npt.c) */
};

/* svm_cpu.c */
extern bool svm_has_nrips;
extern u64 svm_iopm_pa, svm_msrpm_pa;
extern u32 svm_asid;
void svm_enter_guest(struct svm_vcpu *sv);
int svm_cpu_init(void);
void svm_cpu_exit(void);

/* svm_vmrun.S: VMSAVE host, VMLOAD/VMRUN/VMSAVE guest, VMLOAD host. */
void hyvm_svm_vmrun(u64 *gprs, u64 vmcb_pa, u64 host_save_pa);
extern const char hyvm_svm_vmrun_return[];	/* the instruction after VMRUN */
extern const char hyvm_svm_vmrun_insn[];	/* VMRUN */
extern const char hyvm_svm_db_iret[];	/* #DB gate: IRET (svm_cpu.c) */

/* svm_state.c */
void svm_vmcb_init(struct svm_vcpu *sv, u64 nested_cr3);
void svm_get_state(struct hyvm_vcpu *vcpu, struct hyvm_cpu_state *st);
int svm_set_state(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st);
u64 svm_get_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg);
int svm_set_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val);

/* svm_exit.c */
int svm_handle_exit(struct hyvm_vcpu *vcpu);
bool svm_vmcb_holds_host_state(struct hyvm_vcpu *vcpu);
void svm_fail_host_state(struct hyvm_vcpu *vcpu);
void svm_complete_in(struct hyvm_vcpu *vcpu);
void svm_complete_msr(struct hyvm_vcpu *vcpu);
void svm_inject_exception(struct svm_vcpu *sv, u8 vector, bool has_err, u32 err);
bool svm_irq_window_open(struct svm_vcpu *sv);

/* svm_debug.c */
int svm_set_guest_debug(struct hyvm_vcpu *vcpu, const struct hyvm_guest_debug *d);
void svm_debug_before_entry(struct hyvm_vcpu *vcpu);
void svm_debug_after_exit(struct hyvm_vcpu *vcpu);
int svm_handle_db(struct hyvm_vcpu *vcpu);
int svm_handle_pushf(struct hyvm_vcpu *vcpu);
int svm_handle_popf_iret(struct hyvm_vcpu *vcpu);

static inline void svm_set_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] |= 1u << (bit % 32);
}

static inline void svm_clr_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] &= ~(1u << (bit % 32));
}

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Intel VT-x backend. VMCS field encodings, control bits and exit
 * reasons come from the kernel's <asm/vmx.h> (Intel SDM Vol. 3C,
 * Appendix B and C).
 */
#ifndef HYVM_VMX_H
#define HYVM_VMX_H

#include <linux/types.h>
#include <asm/vmx.h>
#include "../hyvm.h"
#include "../hyvm_npt.h"

/* What the CPU offers and what hyvm uses, decided once at load time. */
struct vmx_config {
	u32 revision;			/* VMCS revision identifier (SDM 24.2) */
	u32 pin, proc, proc2, exit, entry;	/* controls we run with */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool vpid;			/* VPID + INVVPID single-context */
	bool unrestricted;		/* real mode and unpaged mode in hardware */
	bool invept_single;		/* else INVEPT all-context */
	u32 preempt_timer;		/* VMX-preemption timer value, 0: none */
	bool mtf;			/* the monitor trap flag may be 1 */
};
extern struct vmx_config vmx_cfg;

/* Single step by RFLAGS.TF where the monitor trap flag is missing
 * (vmx_step_tf.c) */
struct vmx_step_tf {
	bool tf_added;			/* TF is ours for this entry */
	bool tf_was_added;		/* ... for the entry that just exited */
	bool pushf, pops_flags;		/* the instruction stepped: PUSHF; POPF/IRET */
	bool bs_pending_ours;		/* our trap pending across an exit */
	u64 pushf_rsp, entry_rip;
};

struct vmx_vcpu {
	struct hyvm_vcpu *vcpu;
	void *vmcs;			/* one page, SDM 24.2 */
	u64 vmcs_pa;
	int cpu;			/* where the VMCS is active, -1: clear */
	bool launched;			/* VMRESUME rather than VMLAUNCH */
	bool flush;			/* INVVPID/INVEPT before the next entry */
	u16 vpid;
	u64 gprs[HYVM_NR_GPRS];		/* RSP lives in the VMCS */
	/* the guest's view of state that the VMCS holds modified */
	u64 cr0, cr2, cr3, cr4, cr8, efer;
	u64 dr[4], dr6, dr7;
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	/* host values cached in the VMCS */
	u64 host_cr3, host_cr4, host_fs_base;
	struct hyvm_pending_in pending_in;
	struct hyvm_pending_msr pending_msr;	/* HYVM_EXIT_MSR owed */
	u8 msr_insn_len;		/* its RDMSR/WRMSR's length */
	u64 ept_gpa;			/* the EPT violation's, for VMX_EXIT_EPT_MAP */
	struct vmx_step_tf step_tf;
	u8 fxsave[512] __aligned(16);
};

struct vmx_vm {
	struct hyvm_npt ept;		/* the EPT (hyvm_npt.c); its extra page
					 * is the 4 MiB-page identity map for
					 * unpaged guests without unrestricted
					 * guest */
	u64 eptp;
};

/* Guest-physical address of the identity map (below 4 GiB: it is a CR3). */
#define VMX_IDMAP_GPA	0xfffbc000ULL

/* vmx_caps.c */
int vmx_setup_config(struct hyvm_capabilities *caps);

/* vmx_cpu.c: VMXON per CPU, VMCS residency */
int vmx_enable(void);
void vmx_disable(void);
int vmx_vcpu_load(struct vmx_vcpu *vv);
int vmx_vcpu_first_load(struct vmx_vcpu *vv);
void vmx_vcpu_clear(struct vmx_vcpu *vv);
void vmx_flush_tlb(struct vmx_vcpu *vv, u64 eptp);
int vmx_cpu_init(void);
void vmx_cpu_exit(void);

/* vmx_vmcs.c */
void vmx_vmcs_setup(struct vmx_vcpu *vv, u64 eptp);
void vmx_vmcs_set_host_cpu(void);
void vmx_vmcs_set_host_task(struct vmx_vcpu *vv);

/* vmx_vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int hyvm_vmx_vmenter(u64 *gprs, int launched);
void hyvm_vmx_vmexit(void);

/* vmx_ept.c */
int vmx_ept_init(struct vmx_vm *v);
void vmx_ept_free(struct vmx_vm *v);

/* vmx_state.c */
void vmx_get_state(struct hyvm_vcpu *vcpu, struct hyvm_cpu_state *st);
int vmx_set_state(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st);
u64 vmx_get_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg);
int vmx_set_reg(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val);

/* vmx_cr.c: CR0/CR3/CR4 and EFER as the guest sees them vs. hardware */
u64 vmx_guest_cr0(struct vmx_vcpu *vv);
u64 vmx_guest_cr3(struct vmx_vcpu *vv);
int vmx_set_cr0(struct vmx_vcpu *vv, u64 val);
bool vmx_cannot_enter(struct vmx_vcpu *vv);
int vmx_set_cr4(struct vmx_vcpu *vv, u64 val);
bool vmx_cr4_valid(u64 cr4);
void vmx_set_cr3(struct vmx_vcpu *vv, u64 val);
int vmx_set_efer(struct vmx_vcpu *vv, u64 val);
void vmx_apply_paging_mode(struct vmx_vcpu *vv);
int vmx_load_pdptrs(struct vmx_vcpu *vv);

/* vmx_debug.c */
int vmx_set_guest_debug(struct hyvm_vcpu *vcpu, const struct hyvm_guest_debug *d);
void vmx_debug_before_entry(struct hyvm_vcpu *vcpu);
void vmx_debug_load_drs(struct hyvm_vcpu *vcpu);
int vmx_handle_mtf(struct hyvm_vcpu *vcpu);
int vmx_handle_db(struct hyvm_vcpu *vcpu);

/* vmx_step_tf.c */
void vmx_step_tf_before_entry(struct hyvm_vcpu *vcpu);
void vmx_step_tf_off(struct hyvm_vcpu *vcpu);
void vmx_step_tf_after_exit(struct hyvm_vcpu *vcpu, u32 reason);
void vmx_step_tf_done(struct hyvm_vcpu *vcpu);

/* vmx_exit.c */
#define VMX_EXIT_EPT_MAP	2	/* handler: map run->mmio.gpa, re-enter */
int vmx_handle_exit(struct hyvm_vcpu *vcpu, u32 reason);
void vmx_complete_in(struct hyvm_vcpu *vcpu);
void vmx_complete_msr(struct hyvm_vcpu *vcpu);
bool vmx_irq_window_open(struct vmx_vcpu *vv);
void vmx_inject_exception(u8 vector, bool has_err, u32 err);

/* VMREAD/VMWRITE on the current VMCS (SDM 30.3). The caller has made it
 * current on this CPU (vmx_vcpu_load) with preemption disabled. */
static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long val;

	asm volatile("vmread %1, %0" : "=rm"(val) : "r"(field) : "cc");
	return val;
}

static __always_inline void vmcs_write(unsigned long field, unsigned long val)
{
	asm volatile("vmwrite %1, %0" : : "r"(field), "rm"(val) : "cc");
}

static inline void vmcs_set_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(unsigned long field, u32 bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

/* struct hyvm_segment attributes <-> VMX access rights (SDM 24.4.1):
 * bits 0-7 equal, AVL/L/DB/G move from 8-11 to 12-15, unusable is 16. */
static inline u32 vmx_ar_from_hyvm(u32 a)
{
	u32 ar = (a & 0xff) | ((a & 0xf00) << 4);

	/* an unusable SS still gives the CPL in its DPL (SDM 26.3.1.2) */
	return (a & HYVM_SEG_UNUSABLE) ? ar | (1u << 16) : ar;
}

static inline u32 hyvm_ar_from_vmx(u32 ar)
{
	u32 a = (ar & 0xff) | ((ar >> 4) & 0xf00);

	return (ar & (1u << 16)) ? a | HYVM_SEG_UNUSABLE : a;
}

#endif

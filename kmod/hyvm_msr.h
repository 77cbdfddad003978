/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RDMSR/WRMSR for both vendors (hyvm_msr.c), Linux KVM's
 * kvm_get_msr_common/kvm_set_msr_common pattern: one place decides which
 * MSRs exist (the vendor and features of the vCPU's CPUID model) and
 * what a write may hold; the backends only store the MSRs that live in
 * the VMCB or VMCS (struct hyvm_backend get_reg/set_reg).
 */
#ifndef HYVM_MSR_H
#define HYVM_MSR_H

#include <linux/types.h>

struct hyvm_vcpu;

#define HYVM_MTRR_VAR		8	/* MTRRcap.VCNT */
#define HYVM_MTRR_FIXED		11	/* MSRs 250h, 258h, 259h, 268h-26Fh */
#define HYVM_MC_BANKS		4	/* MCG_CAP.Count */
#define HYVM_AMD_PERF		6	/* PerfEvtSel/PerfCtr pairs with PerfCtrExtCore */

/* The MSRs hyvm keeps itself: not in the VMCB/VMCS, never loaded into
 * hardware (the guest's MTRRs and machine-check banks have no effect on
 * the host; its counters do not count). */
struct hyvm_msrs {
	u64 apic_base;
	u64 misc_enable;
	u64 mtrr_def_type;
	u64 mtrr_fixed[HYVM_MTRR_FIXED];
	u64 mtrr_var[2 * HYVM_MTRR_VAR];	/* PHYSBASEn, PHYSMASKn */
	u64 mcg_status, mcg_ctl;
	u64 mc_bank[4 * HYVM_MC_BANKS];		/* MCi_CTL, _STATUS, _ADDR, _MISC */
	u64 amd_perf_sel[HYVM_AMD_PERF], amd_perf_ctr[HYVM_AMD_PERF];
	u64 amd_hwcr;
	u64 amd_nb_cfg;		/* NB_CFG as written; no effect (as KVM) */
	u64 tsc_aux;
};

void hyvm_msrs_reset(struct hyvm_vcpu *vcpu);
/* 0, or -EINVAL: the guest gets #GP(0) and RIP stays. */
int hyvm_get_msr(struct hyvm_vcpu *vcpu, u32 msr, u64 *val);
int hyvm_set_msr(struct hyvm_vcpu *vcpu, u32 msr, u64 val);
/* RDPMC's counter ECX (APM Vol. 3, RDPMC): AMD's PerfCtr0-3 (0-5 with
 * PerfCtrExtCore), as written, 48 bits. 0, or -EINVAL: #GP(0) (a counter
 * the model does not have; the CPL/CR4.PCE check is the caller's). */
int hyvm_rdpmc(struct hyvm_vcpu *vcpu, u32 ecx, u64 *val);

#endif

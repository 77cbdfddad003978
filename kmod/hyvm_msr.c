// SPDX-License-Identifier: GPL-2.0
/*
 * RDMSR and WRMSR as the guest executes them, for both backends (KVM's
 * kvm_get_msr_common/kvm_set_msr_common pattern). An MSR exists when the
 * vCPU's CPU model says so: its vendor (CPUID leaf 0) for the MSRs every
 * part of that vendor has, a CPUID feature bit for the MSRs that feature
 * brings (SDM Vol. 4, Table 2-2 "Architectural MSRs" gives the bit for
 * each; APM Vol. 2, Appendix A). Any other MSR, and a write the SDM/APM
 * say faults (reserved bits, read-only MSRs, non-canonical addresses),
 * raises #GP(0) in the guest. The MSRs that live in the VMCB or VMCS
 * (EFER, the SYSCALL/SYSENTER MSRs, segment bases, PAT, the TSC offset)
 * are checked here and stored by the backend's get_reg/set_reg.
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include "hyvm.h"

enum { EAX, EBX, ECX, EDX };

/* CPUID feature bits that bring MSRs (SDM Vol. 2A, CPUID; APM Vol. 3, E.3) */
static bool has_tsc(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 1, EDX, 4); }
static bool has_sep(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 1, EDX, 11); }
static bool has_mtrr(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 1, EDX, 12); }
static bool has_mca(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 1, EDX, 14); }
static bool has_pat(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 1, EDX, 16); }
static bool has_syscall(struct hyvm_vcpu *v)	{ return hyvm_guest_has(v, 0x80000001, EDX, 11); }
static bool has_nx(struct hyvm_vcpu *v)		{ return hyvm_guest_has(v, 0x80000001, EDX, 20); }
static bool has_lm(struct hyvm_vcpu *v)		{ return hyvm_guest_has(v, 0x80000001, EDX, 29); }
static bool has_tsc_aux(struct hyvm_vcpu *v)
{
	return hyvm_guest_has(v, 0x80000001, EDX, 27) ||	/* RDTSCP */
	       hyvm_guest_has(v, 7, ECX, 22);			/* RDPID */
}
static bool has_perfctr_core(struct hyvm_vcpu *v) { return hyvm_guest_has(v, 0x80000001, ECX, 23); }

/* MCG_CAP (SDM 15.3.1.1): bank count, MCG_CTL present; no CMCI, no LMCE. */
#define MCG_CAP_VALUE		(HYVM_MC_BANKS | BIT_ULL(8))
/* MTRRcap (SDM 11.11.1): VCNT variable ranges, fixed ranges, WC; no SMRR. */
#define MTRRCAP_VALUE		(HYVM_MTRR_VAR | BIT_ULL(8) | BIT_ULL(10))
/* IA32_BIOS_SIGN_ID / AMD PATCH_LEVEL: microcode revision 1 in EDX, as KVM. */
#define UCODE_REV_VALUE		(1ULL << 32)
/* IA32_MISC_ENABLE bits a guest may change (SDM Vol. 4, Table 2-2): fast
 * strings, automatic thermal control, xTPR disable. The others are
 * read-only here; setting LIMIT_CPUID or XD_DISABLE would have to change
 * CPUID, MWAIT enable would need MONITOR. */
#define MISC_ENABLE_WRITABLE	(MSR_IA32_MISC_ENABLE_FAST_STRING | MSR_IA32_MISC_ENABLE_TM1 | \
				 MSR_IA32_MISC_ENABLE_XTPR_DISABLE)
/* APM 13.2.1, PerfEvtSeln: reserved bits (KVM's AMD mask: 19, 21, 63:36) */
#define AMD_PERF_SEL_RESERVED	0xfffffff000280000ULL
#define AMD_PERF_CTR_MASK	((1ULL << 48) - 1)	/* 48-bit counters */
/* HWCR (APM Vol. 2, A.2; as KVM): McStatusWrEn (18) and TscFreqSel (24)
 * are kept; TLB cache, flush filter and IGNNE disables (3, 6, 8) are
 * accepted and ignored; anything else is not implemented: #GP. */
#define HWCR_KEPT		(BIT_ULL(18) | BIT_ULL(24))
#define HWCR_IGNORED		(BIT_ULL(3) | BIT_ULL(6) | BIT_ULL(8))
/* TscFreqSel reads 1 from family 10h on (the TSC counts at P0); Linux
 * warns "TSC doesn't count with P0 frequency!" otherwise. */
#define HWCR_TSC_FREQ_SEL	BIT_ULL(24)

void hyvm_msrs_reset(struct hyvm_vcpu *vcpu)
{
	struct hyvm_msrs *m = &vcpu->msrs;
	int i;

	memset(m, 0, sizeof(*m));
	/* SDM 10.4.4: the APIC at FEE00000h, BSP set on vCPU 0, EN clear
	 * until HYVM_SET_CPUID: hyvm_cpuid.c then applies the model's rule
	 * (hyvm_cpuid_apic_base: EN exactly when the model lists the local
	 * APIC that user space emulates). */
	m->apic_base = 0xfee00000 | (vcpu->index == 0 ? MSR_IA32_APICBASE_BSP : 0);
	m->misc_enable = MSR_IA32_MISC_ENABLE_FAST_STRING | MSR_IA32_MISC_ENABLE_BTS_UNAVAIL |
			 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
	m->amd_hwcr = HWCR_TSC_FREQ_SEL;	/* read only on Intel guests */
	/* SDM 15.3.2.1: all error reporting enabled, as after firmware */
	m->mcg_ctl = ~0ULL;
	for (i = 0; i < HYVM_MC_BANKS; i++)
		m->mc_bank[4 * i] = ~0ULL;
}

static bool canonical(u64 v)
{
	return ((s64)(v << 16) >> 16) == (s64)v;	/* 48-bit linear addresses */
}

/* Bits at and above MAXPHYADDR (CPUID 8000_0008h EAX[7:0], else 36). */
static u64 above_maxphyaddr(struct hyvm_vcpu *vcpu)
{
	u32 r[4];
	unsigned int bits = 36;

	hyvm_guest_cpuid(vcpu, 0x80000000, 0, r);
	if (r[0] >= 0x80000008) {
		hyvm_guest_cpuid(vcpu, 0x80000008, 0, r);
		if ((r[0] & 0xff) >= 32 && (r[0] & 0xff) <= 52)
			bits = r[0] & 0xff;
	}
	return ~0ULL << bits;
}

/* SDM 11.11.1: memory types an MTRR may hold (UC WC WT WP WB). */
static bool mtrr_type_valid(u8 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into mtrr_fixed[] of a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(u32 msr)
{
	if (msr == MSR_MTRRfix64K_00000)
		return 0;
	if (msr == MSR_MTRRfix16K_80000 || msr == MSR_MTRRfix16K_A0000)
		return 1 + msr - MSR_MTRRfix16K_80000;
	if (msr >= MSR_MTRRfix4K_C0000 && msr <= MSR_MTRRfix4K_F8000)
		return 3 + msr - MSR_MTRRfix4K_C0000;
	return -1;
}

#define MTRR_VAR_FIRST	0x200
#define MTRR_VAR_LAST	(MTRR_VAR_FIRST + 2 * HYVM_MTRR_VAR - 1)

/* MTRRs (SDM 11.11.2). *slot is where the MSR lives; false: no such MSR. */
static bool mtrr_slot(struct hyvm_vcpu *vcpu, u32 msr, u64 **slot)
{
	int i = mtrr_fixed_index(msr);

	if (i >= 0)
		*slot = &vcpu->msrs.mtrr_fixed[i];
	else if (msr >= MTRR_VAR_FIRST && msr <= MTRR_VAR_LAST)
		*slot = &vcpu->msrs.mtrr_var[msr - MTRR_VAR_FIRST];
	else if (msr == MSR_MTRRdefType)
		*slot = &vcpu->msrs.mtrr_def_type;
	else
		return false;
	return true;
}

static bool mtrr_write_valid(struct hyvm_vcpu *vcpu, u32 msr, u64 val)
{
	int i;

	if (msr == MSR_MTRRdefType)	/* type 7:0, FE 10, E 11 */
		return !(val & ~0xcffULL) && mtrr_type_valid(val & 0xff);
	if (mtrr_fixed_index(msr) >= 0) {	/* eight type fields */
		for (i = 0; i < 8; i++)
			if (!mtrr_type_valid(val >> (8 * i)))
				return false;
		return true;
	}
	if ((msr - MTRR_VAR_FIRST) % 2 == 0)	/* PHYSBASE: type 7:0, base */
		return !(val & (0xf00ULL | above_maxphyaddr(vcpu))) &&
		       mtrr_type_valid(val & 0xff);
	return !(val & (0x7ffULL | above_maxphyaddr(vcpu)));	/* PHYSMASK: V 11, mask */
}

/* Machine-check MSRs (SDM 15.3): MCG_CAP/STATUS/CTL and the banks. */
static bool mc_bank_msr(u32 msr)
{
	return msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * HYVM_MC_BANKS;
}

static int mce_write(struct hyvm_vcpu *vcpu, u32 msr, u64 val)
{
	struct hyvm_msrs *m = &vcpu->msrs;
	u32 i;

	switch (msr) {
	case MSR_IA32_MCG_STATUS:	/* RIPV EIPV MCIP LMCE_S; rest reserved */
		if (val & ~0xfULL)
			return -EINVAL;
		m->mcg_status = val;
		return 0;
	case MSR_IA32_MCG_CTL:		/* 15.3.1.3: all 0s or all 1s */
		if (val != 0 && val != ~0ULL)
			return -EINVAL;
		m->mcg_ctl = val;
		return 0;
	}
	if (!mc_bank_msr(msr))
		return -EINVAL;		/* MCG_CAP is read-only */
	i = msr - MSR_IA32_MC0_CTL;
	/* MCi_CTL: all 0s or all 1s (AMD lets bit 10 be cleared, as KVM) */
	if (i % 4 == 0 && val != 0 && (val | BIT_ULL(10) | 1) != ~0ULL)
		return -EINVAL;
	/* MCi_STATUS: only zeros (15.3.2.2), unless AMD's HWCR.McStatusWrEn */
	if (i % 4 == 1 && val != 0 &&
	    !(hyvm_guest_is_amd(vcpu) && (m->amd_hwcr & BIT_ULL(18))))
		return -EINVAL;
	m->mc_bank[i] = val;
	return 0;
}

/* AMD's performance counters (APM Vol. 2, 13.2): the legacy PerfEvtSel0-3
 * and PerfCtr0-3 always, PerfCtrExtCore's six interleaved pairs at
 * C001_0200h when CPUID says so; the legacy ones alias the first four.
 * Written values read back; the counters do not count. */
static u64 *amd_perf_slot(struct hyvm_vcpu *vcpu, u32 msr, bool *is_sel)
{
	struct hyvm_msrs *m = &vcpu->msrs;
	u32 i;

	if (!hyvm_guest_is_amd(vcpu))
		return NULL;
	if (msr >= MSR_K7_EVNTSEL0 && msr < MSR_K7_EVNTSEL0 + 4) {
		*is_sel = true;
		return &m->amd_perf_sel[msr - MSR_K7_EVNTSEL0];
	}
	if (msr >= MSR_K7_PERFCTR0 && msr < MSR_K7_PERFCTR0 + 4) {
		*is_sel = false;
		return &m->amd_perf_ctr[msr - MSR_K7_PERFCTR0];
	}
	if (msr >= MSR_F15H_PERF_CTL && msr < MSR_F15H_PERF_CTL + 2 * HYVM_AMD_PERF &&
	    has_perfctr_core(vcpu)) {
		i = (msr - MSR_F15H_PERF_CTL) / 2;
		*is_sel = !((msr - MSR_F15H_PERF_CTL) & 1);
		return *is_sel ? &m->amd_perf_sel[i] : &m->amd_perf_ctr[i];
	}
	return NULL;
}

int hyvm_rdpmc(struct hyvm_vcpu *vcpu, u32 ecx, u64 *val)
{
	if (!hyvm_guest_is_amd(vcpu) || ecx >= (has_perfctr_core(vcpu) ? HYVM_AMD_PERF : 4))
		return -EINVAL;
	*val = vcpu->msrs.amd_perf_ctr[ecx] & AMD_PERF_CTR_MASK;
	return 0;
}

/* The MSRs stored in the VMCB/VMCS, with the feature each needs. */
static bool backend_reg(struct hyvm_vcpu *vcpu, u32 msr, enum hyvm_reg *reg)
{
	bool ok;

	switch (msr) {
	case MSR_EFER:
		*reg = HYVM_REG_EFER;
		ok = has_lm(vcpu) || has_nx(vcpu) || has_syscall(vcpu);
		break;
	case MSR_STAR:
		*reg = HYVM_REG_STAR;
		ok = has_syscall(vcpu) || has_lm(vcpu);
		break;
	case MSR_LSTAR:		*reg = HYVM_REG_LSTAR; ok = has_lm(vcpu); break;
	case MSR_CSTAR:		*reg = HYVM_REG_CSTAR; ok = has_lm(vcpu); break;
	case MSR_SYSCALL_MASK:	*reg = HYVM_REG_SFMASK; ok = has_lm(vcpu); break;
	case MSR_KERNEL_GS_BASE: *reg = HYVM_REG_KERNEL_GS_BASE; ok = has_lm(vcpu); break;
	case MSR_FS_BASE:	*reg = HYVM_REG_FS_BASE; ok = has_lm(vcpu); break;
	case MSR_GS_BASE:	*reg = HYVM_REG_GS_BASE; ok = has_lm(vcpu); break;
	case MSR_IA32_SYSENTER_CS:  *reg = HYVM_REG_SYSENTER_CS; ok = has_sep(vcpu); break;
	case MSR_IA32_SYSENTER_ESP: *reg = HYVM_REG_SYSENTER_ESP; ok = has_sep(vcpu); break;
	case MSR_IA32_SYSENTER_EIP: *reg = HYVM_REG_SYSENTER_EIP; ok = has_sep(vcpu); break;
	case MSR_IA32_CR_PAT:	*reg = HYVM_REG_PAT; ok = has_pat(vcpu); break;
	default:
		return false;
	}
	return ok;
}

int hyvm_get_msr(struct hyvm_vcpu *vcpu, u32 msr, u64 *val)
{
	struct hyvm_msrs *m = &vcpu->msrs;
	enum hyvm_reg reg;
	bool is_sel;
	u64 *slot;

	if (backend_reg(vcpu, msr, &reg)) {
		*val = hyvm_backend->get_reg(vcpu, reg);
		return 0;
	}
	if (mtrr_slot(vcpu, msr, &slot) && has_mtrr(vcpu)) {
		*val = *slot;
		return 0;
	}
	if (mc_bank_msr(msr) && has_mca(vcpu)) {
		*val = m->mc_bank[msr - MSR_IA32_MC0_CTL];
		return 0;
	}
	slot = amd_perf_slot(vcpu, msr, &is_sel);
	if (slot) {
		*val = *slot;
		return 0;
	}
	switch (msr) {
	case MSR_IA32_TSC:
		if (!has_tsc(vcpu))
			return -EINVAL;
		*val = rdtsc() + hyvm_backend->get_reg(vcpu, HYVM_REG_TSC_OFFSET);
		return 0;
	case MSR_IA32_APICBASE:
		/* architectural from P6 and K7 on, every model hyvm offers,
		 * whether or not the APIC is enabled (SDM Vol. 4, Table 2-2) */
		*val = m->apic_base;
		return 0;
	case MSR_MTRRcap:
		if (!has_mtrr(vcpu))
			return -EINVAL;
		*val = MTRRCAP_VALUE;
		return 0;
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_MCG_CTL:
		if (!has_mca(vcpu))
			return -EINVAL;
		*val = msr == MSR_IA32_MCG_CAP ? MCG_CAP_VALUE :
		       msr == MSR_IA32_MCG_STATUS ? m->mcg_status : m->mcg_ctl;
		return 0;
	case MSR_IA32_UCODE_REV:	/* Intel BIOS_SIGN_ID, AMD PATCH_LEVEL */
		*val = UCODE_REV_VALUE;
		return 0;
	case MSR_TSC_AUX:
		if (!has_tsc_aux(vcpu))
			return -EINVAL;
		*val = m->tsc_aux;
		return 0;
	}
	if (hyvm_guest_is_intel(vcpu)) {
		switch (msr) {
		case MSR_IA32_PLATFORM_ID:	/* no platform bits: 0 */
			*val = 0;
			return 0;
		case MSR_IA32_FEAT_CTL:		/* locked, VMX/SMX off (SDM 23.7) */
			*val = FEAT_CTL_LOCKED;
			return 0;
		case MSR_IA32_MISC_ENABLE:
			*val = m->misc_enable;
			return 0;
		}
	}
	if (hyvm_guest_is_amd(vcpu) && msr == MSR_K7_HWCR) {
		*val = m->amd_hwcr;
		return 0;
	}
	if (hyvm_guest_is_amd(vcpu) && msr == MSR_AMD64_NB_CFG) {
		*val = m->amd_nb_cfg;
		return 0;
	}
	/* Interrupt Pending Message (family 0Fh/10h BKDG): Linux reads it on
	 * CPUs with AMD erratum 400 to see whether C1E is enabled. 0: no
	 * SMI/IO message on pending interrupts, so no C1E, as KVM answers
	 * (kvm_get_msr_common reads it as 0); writes stay #GP. */
	if (hyvm_guest_is_amd(vcpu) && msr == MSR_K8_INT_PENDING_MSG) {
		*val = 0;
		return 0;
	}
	return -EINVAL;
}

/* EFER (SDM 2.2.1, APM 3.1.7): SCE always, LME/LMA with long mode, NX
 * with NX; LME may not change while paging is on; LMA is the CPU's. */
static int efer_write(struct hyvm_vcpu *vcpu, u64 val)
{
	u64 allowed = EFER_SCE, old = hyvm_backend->get_reg(vcpu, HYVM_REG_EFER);

	if (has_lm(vcpu))
		allowed |= EFER_LME | EFER_LMA;
	if (has_nx(vcpu))
		allowed |= EFER_NX;
	if ((val & ~allowed) ||
	    ((hyvm_backend->get_reg(vcpu, HYVM_REG_CR0) & X86_CR0_PG) &&
	     ((val ^ old) & EFER_LME)))
		return -EINVAL;
	val = (val & ~(u64)EFER_LMA) | (old & EFER_LMA);
	return hyvm_backend->set_reg(vcpu, HYVM_REG_EFER, val);
}

static int backend_write(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val)
{
	switch (reg) {
	case HYVM_REG_EFER:
		return efer_write(vcpu, val);
	/* WRMSR: #GP for a non-canonical address (SDM Vol. 2B WRMSR, APM
	 * Vol. 3 WRMSR); VM entry would refuse one too (SDM 26.3.1). */
	case HYVM_REG_LSTAR:
	case HYVM_REG_CSTAR:
	case HYVM_REG_KERNEL_GS_BASE:
	case HYVM_REG_FS_BASE:
	case HYVM_REG_GS_BASE:
	case HYVM_REG_SYSENTER_ESP:
	case HYVM_REG_SYSENTER_EIP:
		if (!canonical(val))
			return -EINVAL;
		break;
	case HYVM_REG_PAT:
		if (!hyvm_pat_valid(val))
			return -EINVAL;
		break;
	default:
		break;
	}
	return hyvm_backend->set_reg(vcpu, reg, val);
}

int hyvm_set_msr(struct hyvm_vcpu *vcpu, u32 msr, u64 val)
{
	struct hyvm_msrs *m = &vcpu->msrs;
	enum hyvm_reg reg;
	bool is_sel;
	u64 *slot;

	if (backend_reg(vcpu, msr, &reg))
		return backend_write(vcpu, reg, val);
	if (mtrr_slot(vcpu, msr, &slot) && has_mtrr(vcpu)) {
		if (!mtrr_write_valid(vcpu, msr, val))
			return -EINVAL;
		*slot = val;
		return 0;
	}
	if ((mc_bank_msr(msr) || msr == MSR_IA32_MCG_STATUS || msr == MSR_IA32_MCG_CTL) &&
	    has_mca(vcpu))
		return mce_write(vcpu, msr, val);
	slot = amd_perf_slot(vcpu, msr, &is_sel);
	if (slot) {
		if (is_sel && (val & AMD_PERF_SEL_RESERVED))
			return -EINVAL;
		*slot = is_sel ? val : val & AMD_PERF_CTR_MASK;
		return 0;
	}
	switch (msr) {
	case MSR_IA32_TSC:
		if (!has_tsc(vcpu))
			return -EINVAL;
		return hyvm_backend->set_reg(vcpu, HYVM_REG_TSC_OFFSET, val - rdtsc());
	case MSR_IA32_APICBASE:
		/* SDM 10.4.4: bits 7:0 and 9 reserved, 10 (x2APIC) without
		 * x2APIC, the base within MAXPHYADDR. */
		if (val & (0x6ffULL | above_maxphyaddr(vcpu)))
			return -EINVAL;
		m->apic_base = val;
		return 0;
	case MSR_TSC_AUX:		/* bits 63:32 reserved */
		if (!has_tsc_aux(vcpu) || (val >> 32))
			return -EINVAL;
		m->tsc_aux = val;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* Intel: write 0, CPUID, read (SDM 9.11.7.1); the value is
		 * fixed here. AMD's PATCH_LEVEL is read-only. */
		return hyvm_guest_is_intel(vcpu) ? 0 : -EINVAL;
	}
	if (hyvm_guest_is_intel(vcpu) && msr == MSR_IA32_MISC_ENABLE) {
		if ((val ^ m->misc_enable) & ~MISC_ENABLE_WRITABLE)
			return -EINVAL;
		m->misc_enable = val;
		return 0;
	}
	if (hyvm_guest_is_amd(vcpu) && msr == MSR_K7_HWCR) {
		val &= ~HWCR_IGNORED;
		if (val & ~HWCR_KEPT)
			return -EINVAL;
		m->amd_hwcr = val;
		return 0;
	}
	/* NB_CFG: Linux sets EnableCf8ExtCfg (46) on AMD; kept, no effect */
	if (hyvm_guest_is_amd(vcpu) && msr == MSR_AMD64_NB_CFG) {
		m->amd_nb_cfg = val;
		return 0;
	}
	/* MTRRcap, MCG_CAP, PLATFORM_ID, FEATURE_CONTROL (locked) are
	 * read-only; anything else does not exist. */
	return -EINVAL;
}

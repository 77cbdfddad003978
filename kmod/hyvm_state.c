// SPDX-License-Identifier: GPL-2.0
/*
 * Checks on a struct hyvm_cpu_state that both backends make before it
 * reaches the hardware: what VM entry (SDM 26.3.1) and VMRUN (APM
 * 15.5.1) refuse, what no CPU can be in (MOV to CR0/CR4, WRMSR EFER and
 * POPF/IRET keep a guest out of it), and what FXRSTOR would fault on.
 * The vendor's own rules (VMX's fixed CR0/CR4 bits, events) stay in
 * svm_state.c and vmx_state.c.
 *
 * Why on SVM too, where VMRUN checks less: QEMU's TCG SVM (the emulated
 * AMD host of tests/kmod/run-svm.sh) makes its VMRUN consistency checks
 * (CR0, CR3, CR4 reserved bits, ...) after it has saved the host and
 * before it loads the guest, and its #VMEXIT(INVALID) then stores the
 * host's registers into the VMCB as the guest's (svm_vmcb_holds_host_state)
 * and its own int_ctl (0) over hyvm's: hyvm_fuzz's mutated states (a CR4
 * with bits that CPU lacks) left the vCPU without V_INTR_MASKING, and its
 * next state at IF=0 stopped the emulated host's CPU (svm_run). A state
 * that fails none of these checks never reaches that path.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include "hyvm.h"

#define EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)
#define MXCSR_OFFSET	24
#define MXCSR_MASK	0xffbf	/* no DAZ without MXCSR_MASK (SDM 10.5.1.2) */

/* SDM 26.3.1.4 (VM entry checks RFLAGS), SDM Vol. 1 3.4.3: bits 3, 5,
 * 15 and 22-63 are reserved (0), bit 1 is reserved (1). VMRUN does not
 * check them (APM 15.5.1), but no CPU holds them: POPF and IRET keep
 * them. */
#define RFLAGS_RESERVED	(~0ULL << 22 | BIT_ULL(15) | BIT_ULL(5) | BIT_ULL(3))

/* SDM 11.12.2, APM 7.8.1: memory types 2, 3 and above 7 are reserved. */
bool hyvm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/*
 * The CR4 bits this CPU has (SDM 2.5, APM 3.1.3: setting any other
 * raises #GP, and VMRUN refuses them as MBZ bits): the Pentium-era ones
 * every x86-64 CPU has, and the others by the feature that defines them.
 * Never VMXE or SMXE: hyvm offers no nested VMX or SMX.
 */
static u64 cr4_supported(void)
{
	u64 ok = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE |
		 X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |
		 X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_UMIP))
		ok |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_LA57))
		ok |= X86_CR4_LA57;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		ok |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		ok |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		ok |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		ok |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		ok |= X86_CR4_SMAP;
	if (boot_cpu_has(X86_FEATURE_PKU))
		ok |= X86_CR4_PKE;
	return ok;
}

/* The guest's MAXPHYADDR: its CPUID 8000_0008h EAX[7:0] (SDM Vol. 2A
 * CPUID; 36 when the leaf is absent, SDM 4.1.4), never more than this
 * CPU's, which VM entry and QEMU's VMRUN check CR3 against. */
static unsigned int guest_phys_bits(struct hyvm_vcpu *vcpu)
{
	unsigned int bits = boot_cpu_data.x86_phys_bits, g = 36;
	u32 r[4];

	hyvm_guest_cpuid(vcpu, 0x80000000, 0, r);
	if (r[0] >= 0x80000008) {
		hyvm_guest_cpuid(vcpu, 0x80000008, 0, r);
		g = r[0] & 0xff;
	}
	return g && g < bits ? g : bits;
}

/* Control registers and EFER together: what MOV to CR0/CR4 and WRMSR
 * EFER refuse (SDM 2.5, 9.8.5; APM 14.6), VM entry checks (SDM
 * 26.3.1.1) and VMRUN's list (APM 15.5.1). */
static bool paging_valid(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st)
{
	bool pg = st->cr0 & X86_CR0_PG, pe = st->cr0 & X86_CR0_PE;
	bool lme = st->efer & EFER_LME, lma = st->efer & EFER_LMA;
	u16 cs = st->seg[HYVM_CS].attrib;

	/* CR0[63:32] MBZ (SDM 2.5: #GP; VMRUN refuses them); its reserved
	 * bits 31:0 are ignored by a MOV to CR0, so a guest may have them */
	if ((st->cr0 >> 32) || (st->cr4 & ~cr4_supported()) ||
	    (st->efer & ~(u64)EFER_ALLOWED))
		return false;
	if ((st->cr0 & X86_CR0_NW) && !(st->cr0 & X86_CR0_CD))
		return false;
	if (pg && !pe)				/* MOV CR0: #GP */
		return false;
	/* LMA is LME with paging (APM 14.6.1); long mode needs PAE, and a
	 * CS with both L and D is reserved there (APM 15.5.1) */
	if (lma != (pg && lme) || (lma && !(st->cr4 & X86_CR4_PAE)) ||
	    (lma && (cs & HYVM_SEG_L) && (cs & HYVM_SEG_DB)))
		return false;
	if ((st->cr4 & X86_CR4_PCIDE) && !lma)	/* SDM 4.10.1: #GP */
		return false;
	/* CR3 bits above MAXPHYADDR are reserved in every paging mode that
	 * can hold them (SDM 4.4.1, 4.5.2; VM entry, SDM 26.3.1.1, checks
	 * them whatever the mode, and so does QEMU's VMRUN) */
	return !(st->cr3 >> guest_phys_bits(vcpu));
}

/* RFLAGS as POPF/IRET leave it: reserved bits, and virtual-8086 mode
 * only in protected mode outside long mode (SDM 20.2; VM entry: SDM
 * 26.3.1.4; an IRET to VM=1 in 64-bit mode is #GP). */
static bool rflags_valid(const struct hyvm_cpu_state *st)
{
	if ((st->rflags & RFLAGS_RESERVED) || !(st->rflags & X86_EFLAGS_FIXED))
		return false;
	return !(st->rflags & X86_EFLAGS_VM) ||
	       ((st->cr0 & X86_CR0_PE) && !(st->efer & EFER_LMA));
}

bool hyvm_state_valid(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st)
{
	u32 mxcsr;

	memcpy(&mxcsr, &st->fxsave[MXCSR_OFFSET], sizeof(mxcsr));
	return paging_valid(vcpu, st) && rflags_valid(st) &&
	       !((st->dr6 >> 32) || (st->dr7 >> 32) || st->cr8 > 15 ||
		 !hyvm_pat_valid(st->pat) || (mxcsr & ~MXCSR_MASK) ||
		 (st->interruptibility & ~(HYVM_INTR_SHADOW_STI | HYVM_INTR_SHADOW_MOVSS |
					   HYVM_NMI_BLOCKED)));
}

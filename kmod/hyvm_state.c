// SPDX-License-Identifier: GPL-2.0
/*
 * Checks on a struct hyvm_cpu_state that both backends make before it
 * reaches the hardware: what VM entry (SDM 26.3.1) and VMRUN (APM
 * 15.5.1) refuse alike, and what FXRSTOR would fault on. The vendor's own
 * rules (CR4 bits, LMA, events) stay in svm_state.c and vmx_state.c.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include "hyvm.h"

#define EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)
#define MXCSR_OFFSET	24
#define MXCSR_MASK	0xffbf	/* no DAZ without MXCSR_MASK (SDM 10.5.1.2) */

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

bool hyvm_state_valid(const struct hyvm_cpu_state *st)
{
	u32 mxcsr;

	memcpy(&mxcsr, &st->fxsave[MXCSR_OFFSET], sizeof(mxcsr));
	return !((st->cr0 >> 32) || (st->cr3 >> 52) ||
		 (st->efer & ~(u64)EFER_ALLOWED) || (st->dr6 >> 32) || (st->dr7 >> 32) ||
		 st->cr8 > 15 || (st->rflags >> 32) || !hyvm_pat_valid(st->pat) ||
		 (mxcsr & ~MXCSR_MASK) ||
		 ((st->cr0 & X86_CR0_NW) && !(st->cr0 & X86_CR0_CD)) ||
		 (st->interruptibility & ~(HYVM_INTR_SHADOW_STI | HYVM_INTR_SHADOW_MOVSS |
					   HYVM_NMI_BLOCKED)));
}

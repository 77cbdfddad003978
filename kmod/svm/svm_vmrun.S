/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One world switch into an SVM guest and back (AMD APM Vol. 2, 15.5).
 *
 * VMRUN saves only part of the host state (APM 15.5.1: segment registers
 * CS/SS/DS/ES, RSP, RIP, RFLAGS, RAX, CR0/3/4, EFER, GDTR/IDTR). FS, GS,
 * TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK and SYSENTER_* are
 * swapped with VMSAVE/VMLOAD (APM 15.5.2), and the GPRs other than RAX and
 * RSP by hand. Called with GIF clear, so nothing (not even an NMI) runs
 * on this CPU while GS holds the guest's base.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/unwind_hints.h>
#include "../hyvm_gprs.h"


/* void hyvm_svm_vmrun(u64 *gprs, u64 vmcb_pa, u64 host_save_pa) */
SYM_FUNC_START(hyvm_svm_vmrun)
	HYVM_PUSH_CALLEE_SAVED
	push	%rdi			/* gprs, at 16(%rsp) below */
	push	%rsi			/* vmcb pa */
	push	%rdx			/* host save pa */

	mov	%rdx, %rax
	vmsave	%rax			/* host's hidden segment/syscall state */

	mov	%rsi, %rax
	HYVM_LOAD_GPRS

	vmload	%rax
/* VMRUN itself: QEMU's #VMEXIT for a VMRUN it refuses stores this RIP */
SYM_INNER_LABEL(hyvm_svm_vmrun_insn, SYM_L_GLOBAL)
	vmrun	%rax
/* VMRUN's host RIP (APM 15.5.1): svm_vmcb_holds_host_state() knows it */
SYM_INNER_LABEL(hyvm_svm_vmrun_return, SYM_L_GLOBAL)
	vmsave	%rax

	/* #VMEXIT: RSP, RAX (= vmcb pa) are the host's again */
	mov	16(%rsp), %rax
	HYVM_SAVE_GPRS

	pop	%rax			/* host save pa */
	vmload	%rax
	pop	%rsi
	pop	%rdi
	HYVM_POP_CALLEE_SAVED
	RET
SYM_FUNC_END(hyvm_svm_vmrun)

/*
 * The #DB gate of svm_cpu.c's private IDT, used from just before VMRUN
 * to just after the host's VMLOAD while QEMU's breakpoints are armed for
 * the guest: a #DB that QEMU's TCG SVM holds across #VMEXIT (svm_cpu.c
 * says when) is taken here, on the current stack (no IST: TR may still
 * be the guest's), and dropped. Nothing else can reach it.
 */
SYM_CODE_START(hyvm_svm_db_iret)
	UNWIND_HINT_IRET_REGS
	iretq
SYM_CODE_END(hyvm_svm_db_iret)

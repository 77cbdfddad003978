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

#define G(n) (n * 8)

/* void hyvm_svm_vmrun(u64 *gprs, u64 vmcb_pa, u64 host_save_pa) */
SYM_FUNC_START(hyvm_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* gprs, at 16(%rsp) below */
	push	%rsi			/* vmcb pa */
	push	%rdx			/* host save pa */

	mov	%rdx, %rax
	vmsave	%rax			/* host's hidden segment/syscall state */

	mov	%rsi, %rax
	mov	G(1)(%rdi), %rcx
	mov	G(2)(%rdi), %rdx
	mov	G(3)(%rdi), %rbx
	mov	G(5)(%rdi), %rbp
	mov	G(6)(%rdi), %rsi
	mov	G(8)(%rdi), %r8
	mov	G(9)(%rdi), %r9
	mov	G(10)(%rdi), %r10
	mov	G(11)(%rdi), %r11
	mov	G(12)(%rdi), %r12
	mov	G(13)(%rdi), %r13
	mov	G(14)(%rdi), %r14
	mov	G(15)(%rdi), %r15
	mov	G(7)(%rdi), %rdi

	vmload	%rax
	vmrun	%rax
	vmsave	%rax

	/* #VMEXIT: RSP, RAX (= vmcb pa) are the host's again */
	mov	16(%rsp), %rax
	mov	%rcx, G(1)(%rax)
	mov	%rdx, G(2)(%rax)
	mov	%rbx, G(3)(%rax)
	mov	%rbp, G(5)(%rax)
	mov	%rsi, G(6)(%rax)
	mov	%rdi, G(7)(%rax)
	mov	%r8, G(8)(%rax)
	mov	%r9, G(9)(%rax)
	mov	%r10, G(10)(%rax)
	mov	%r11, G(11)(%rax)
	mov	%r12, G(12)(%rax)
	mov	%r13, G(13)(%rax)
	mov	%r14, G(14)(%rax)
	mov	%r15, G(15)(%rax)

	pop	%rax			/* host save pa */
	vmload	%rax
	pop	%rsi
	pop	%rdi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hyvm_svm_vmrun)

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One world switch into a VMX guest and back (Intel SDM Vol. 3C, 26 and
 * 27). VM entry loads the guest's RSP, RIP and RFLAGS from the VMCS; the
 * other general-purpose registers are loaded and saved here. A VM exit
 * lands at hyvm_vmx_vmexit (the VMCS HOST_RIP) with RSP = HOST_RSP, which
 * is written here just before entry, so the stack holds what was pushed.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/unwind_hints.h>

#define G(n) (n * 8)
#define VMCS_HOST_RSP	0x6c14

/* int hyvm_vmx_vmenter(u64 *gprs, int launched): 0 after a VM exit, 1 if
 * VMLAUNCH/VMRESUME failed (VMfailValid/VMfailInvalid, SDM 30.2). */
SYM_FUNC_START(hyvm_vmx_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* gprs: on top of the stack at the exit */

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail
	UNWIND_HINT_SAVE		/* the stack as the exit will find it */

	cmpl	$0, %esi		/* ZF: not launched yet; MOVs keep flags */
	mov	G(0)(%rdi), %rax
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
	je	.Llaunch
	vmresume
	jmp	.Lfail
.Llaunch:
	vmlaunch
.Lfail:
	pop	%rdi
	mov	$1, %eax
	jmp	.Lout

SYM_INNER_LABEL(hyvm_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	push	%rax
	mov	8(%rsp), %rax		/* gprs */
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
	popq	G(0)(%rax)		/* the guest's RAX */
	pop	%rdi
	xor	%eax, %eax
.Lout:
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(hyvm_vmx_vmenter)

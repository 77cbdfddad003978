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
#include "../hyvm_gprs.h"
#include <asm/unwind_hints.h>

#define VMCS_HOST_RSP	0x6c14

/* int hyvm_vmx_vmenter(u64 *gprs, int launched): 0 after a VM exit, 1 if
 * VMLAUNCH/VMRESUME failed (VMfailValid/VMfailInvalid, SDM 30.2). */
SYM_FUNC_START(hyvm_vmx_vmenter)
	HYVM_PUSH_CALLEE_SAVED
	push	%rdi			/* gprs: on top of the stack at the exit */

	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail
	UNWIND_HINT_SAVE		/* the stack as the exit will find it */

	cmpl	$0, %esi		/* ZF: not launched yet; MOVs keep flags */
	mov	G(0)(%rdi), %rax
	HYVM_LOAD_GPRS
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
	HYVM_SAVE_GPRS
	popq	G(0)(%rax)		/* the guest's RAX */
	pop	%rdi
	xor	%eax, %eax
.Lout:
	HYVM_POP_CALLEE_SAVED
	RET
SYM_FUNC_END(hyvm_vmx_vmenter)

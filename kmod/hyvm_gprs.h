/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assembler macros for the world-switch code of both backends: the host's
 * callee-saved registers, and the guest GPRs other than RAX and RSP, which neither VMRUN (APM 15.5.1) nor VM
 * entry/exit (SDM 26.3.2, 27.5.1) switch, moved between registers and the
 * u64 array indexed as struct hyvm_cpu_state's gpr[] (RAX=0 ... R15=15).
 */
#ifndef HYVM_GPRS_H
#define HYVM_GPRS_H

#define G(n) (n * 8)

/* The callee-saved registers of the kernel's C ABI, and a frame. */
.macro HYVM_PUSH_CALLEE_SAVED
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
.endm

.macro HYVM_POP_CALLEE_SAVED
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
.endm

/* From the array at %rdi; %rdi itself last. Flags are kept. */
.macro HYVM_LOAD_GPRS
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
.endm

/* Into the array at %rax. */
.macro HYVM_SAVE_GPRS
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
.endm

#endif

; Into long mode and back out to compatibility mode. The page tables are
; built by longmode.c; this code sets CR4.PAE, EFER.LME and then CR0.PG in
; one go (the only way into long mode that kvm_pvm accepts, since it runs
; no paging outside long mode), jumps to 64-bit code, runs the checks, and
; returns through a far return to a 32-bit code segment: the caller then
; continues in compatibility mode with paging on (identity-mapped).
bits 32

SEL_CODE32 equ 0x08
SEL_CODE64 equ 0x40
MSR_EFER   equ 0xc0000080
EFER_LME   equ 1 << 8
CR4_PAE    equ 1 << 5
CR0_PG     equ 1 << 31

section .bss
saved_esp: resd 1
global lm_results
lm_results: resq 10     ; see longmode.c for the layout

section .text
; void run_long_mode(uint32_t pml4)
global run_long_mode, long64
run_long_mode:
	push ebx
	push esi
	push edi
	push ebp
	mov [saved_esp], esp
	mov eax, [esp + 20]
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax
	jmp SEL_CODE64:long64

bits 64
long64:
	; [0] a 64-bit add: a REX.W prefix would decode as DEC outside 64-bit mode.
	mov rax, 0x123456789abcdef0
	mov rbx, 0x1111111111111111
	add rax, rbx
	mov [lm_results + 0], rax
	; [1],[2] 64-bit MUL into RDX:RAX.
	mov rax, -1
	mov rcx, 2
	mul rcx
	mov [lm_results + 8], rax
	mov [lm_results + 16], rdx
	; [3] shift and the upper registers.
	mov r15, 0xfedcba9876543210
	shl r15, 8
	mov [lm_results + 24], r15
	; [4] a 32-bit write zero-extends into the full register.
	mov r9, -1
	mov r9d, 0x5
	mov [lm_results + 32], r9
	; [5] RIP-relative addressing finds this very code.
	lea rax, [rel long64]
	mov [lm_results + 40], rax
	; [6] PUSH/POP move RSP by 8.
	mov rbx, rsp
	push rax
	sub rbx, rsp
	pop rax
	mov [lm_results + 48], rbx
	; [7] EFER as seen from 64-bit code (LMA must be set).
	mov ecx, MSR_EFER
	rdmsr
	mov [lm_results + 56], eax
	; [8] a marker that 64-bit code ran to the end.
	mov qword [lm_results + 64], 0x64
	; Far return to 32-bit code: compatibility mode.
	push SEL_CODE32
	mov eax, compat32
	push rax
	o64 retf

bits 32
compat32:
	mov esp, [saved_esp]
	pop ebp
	pop edi
	pop esi
	pop ebx
	ret

; Multiboot v1 header, the entry point, the 256 interrupt stubs and the
; setjmp-like core of catch_fault. Everything else is C (cpu.c).

bits 32

MB_MAGIC  equ 0x1BADB002
MB_FLAGS  equ 0x00000003        ; page-aligned modules, memory info wanted
SEL_DATA32 equ 0x10

section .multiboot progbits alloc noexec nowrite align=4
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

; Its own section, placed after the image by guest.ld: the exit checksum
; (state.c) leaves it out, as timer and UART interrupts push frames on it at
; moments that depend on the host.
section .guest_stack nobits alloc noexec write align=16
stack_bottom:
	resb 16384
global stack_top
stack_top:

section .text
global _start
extern guest_start
_start:
	cli
	cld
	mov esp, stack_top
	push ebx                ; multiboot info
	push eax                ; multiboot magic
	call guest_start
.halt:	cli
	hlt
	jmp .halt

; --- interrupt stubs --------------------------------------------------------
; Each stub makes the frame uniform (a dummy error code where the CPU pushes
; none), pushes its vector and joins isr_common, which builds struct
; trap_frame and calls trap_dispatch(frame).

extern trap_dispatch

%macro STUB 1
isr_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
	push dword %1
%else
	push dword 0
	push dword %1
%endif
	jmp isr_common
%endmacro

%assign v 0
%rep 256
STUB v
%assign v v + 1
%endrep

isr_common:
	pusha
	push ds
	push es
	push fs
	push gs
	mov ax, SEL_DATA32      ; the trap may come from odd or user segments
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	cld
	push esp
	call trap_dispatch
	add esp, 4
	pop gs
	pop fs
	pop es
	pop ds
	popa
	add esp, 8              ; vector and error code
	test byte [esp + 4], 3  ; the interrupted CS: ring 3 needs a real IRET
	jnz .to_ring3
	; Same privilege: POPF + RETF 4 do what IRET would. kvm_pvm's instruction
	; emulator cannot run a protected-mode IRET at CPL0 (emulation failure),
	; and every guest that takes an interrupt would otherwise be unable to
	; run there. The IRET instruction itself is checked by the breakpoint
	; and ring 3 guests. POPF sets no interrupt shadow, so an IRQ may nest
	; before the RETF; it returns through this same path, which is fine.
	push dword [esp + 8]
	popf
	retf 4
.to_ring3:
	iret

section .rodata
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 256
	dd isr_ %+ v
%assign v v + 1
%endrep

; --- catch_fault ------------------------------------------------------------
; bool catch_fault(void (*fn)(void *), void *arg, struct fault *f)
; Saves the callee-saved state, runs fn(arg); catch_longjmp comes back here
; from a trap handler and makes catch_fault return true.

section .bss
global catch_armed, catch_record
catch_armed:  resd 1
catch_record: resd 1
; The caller's callee-saved registers: dead values the compiler left there,
; e.g. a CPUID result (which differs between engines). Kept out of the exit
; checksum, like every VOLATILE_STATE variable.
section .volatile progbits alloc noexec write align=4
ctx_ebx: dd 0
ctx_esi: dd 0
ctx_edi: dd 0
ctx_ebp: dd 0
ctx_esp: dd 0
ctx_eflags: dd 0

section .text
global catch_fault, catch_longjmp
catch_fault:
	mov eax, [esp + 12]
	mov [catch_record], eax
	mov [ctx_ebx], ebx
	mov [ctx_esi], esi
	mov [ctx_edi], edi
	mov [ctx_ebp], ebp
	mov [ctx_esp], esp
	pushf
	pop dword [ctx_eflags]
	mov dword [catch_armed], 1
	mov eax, [esp + 4]
	push dword [esp + 8]
	call eax
	add esp, 4
	mov dword [catch_armed], 0
	xor eax, eax
	ret

catch_longjmp:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov esp, [ctx_esp]
	mov ebx, [ctx_ebx]
	mov esi, [ctx_esi]
	mov edi, [ctx_edi]
	mov ebp, [ctx_ebp]
	push dword [ctx_eflags]
	popf                    ; IF and DF as they were before fn ran
	mov dword [catch_armed], 0
	mov eax, 1
	ret

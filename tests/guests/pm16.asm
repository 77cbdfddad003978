; 16-bit protected mode: code in a D=0 segment on a B=0 stack, interrupts
; and exceptions through 16-bit interrupt and trap gates (6-byte frames,
; a 16-bit error code; SDM Vol. 3A, 6.12.1), 16-bit IRET, far CALL/RETF
; with 16-bit operands, a segment load's #GP through the IDT. The IDT is
; built at IDT16 by the 16-bit code; pm16.c checks rm_results.
bits 32
BASE       equ 0x7000
STACK16    equ 0x6ff0
IDT16      equ 0x8000
SEL_CODE32 equ 0x08
SEL_DATA32 equ 0x10
SEL_CODE16 equ 0x18
SEL_DATA16 equ 0x20
GATE_INT16  equ 0x86
GATE_TRAP16 equ 0x87

%define BLOB(label) (BASE + (label) - blob_start)
%define RES(n) (BLOB(pm16_results) + (n))

%include "lib/pm16_call.inc"
PM16_CALL run_pm16, BLOB(pm16_entry)

global blob_start, blob_end, pm16_results
blob_start:
bits 16
; set_gate: vector in BX, handler offset in AX, type in CL
set_gate:
	shl bx, 3
	mov [IDT16 + bx], ax
	mov word [IDT16 + bx + 2], SEL_CODE16
	mov byte [IDT16 + bx + 4], 0
	mov [IDT16 + bx + 5], cl
	mov word [IDT16 + bx + 6], 0
	ret

pm16_entry:
	mov ax, SEL_DATA16
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, STACK16
	cld
	xor ax, ax
	mov di, IDT16
	mov cx, (0x62 * 8) / 2
	rep stosw
	mov bx, 0
	mov ax, BLOB(de_handler)
	mov cl, GATE_TRAP16
	call set_gate
	mov bx, 13
	mov ax, BLOB(gp_handler)
	mov cl, GATE_INT16
	call set_gate
	mov bx, 0x61
	mov ax, BLOB(int61_handler)
	mov cl, GATE_INT16
	call set_gate
	lidt [BLOB(idt16_ptr)]

	; [0] INT 0x61 through a 16-bit interrupt gate: a 6-byte frame
	sti
	mov [RES(0)], sp                        ; SP before
	mov ax, 0x6100
	int 0x61
	mov [RES(2)], ax                        ; 0x6101
	pushf
	pop ax
	and ax, 0x0200
	mov [RES(8)], ax                        ; IF back after IRET: 0x200
	cli

	; [10] #DE through a 16-bit trap gate, resumed after the DIV
	mov ax, 7
	xor dx, dx
	xor cx, cx
	div cx
	mov [RES(10)], dx                       ; 0xde, set by the handler

	; [12] #GP(0x1238) from a load beyond the GDT's limit: 16-bit error code
	mov ax, 0x1238
	mov es, ax                              ; 2 bytes: the handler skips it
	mov ax, es
	mov [RES(14)], ax                       ; SEL_DATA16: ES unchanged

	; [16] far CALL and RETF with 16-bit operands
	mov [RES(16)], sp
	call SEL_CODE16:BLOB(far16)
.ret_here:
	mov [RES(18)], ax                       ; pushed CS: SEL_CODE16
	sub bx, BLOB(pm16_entry.ret_here)
	mov [RES(20)], bx                       ; pushed IP is the return: 0
	mov [RES(22)], sp                       ; == RES(16)

	; [24] 32-bit operands in 16-bit protected mode
	mov eax, 0x7fffffff
	inc eax
	mov [RES(24)], eax                      ; 0x80000000
	seto al
	mov [RES(28)], al                       ; 1

	cli
	jmp dword SEL_CODE32:back_in_pm32

far16:
	mov bp, sp
	mov ax, [bp + 2]                        ; CS
	mov bx, [bp + 0]                        ; IP
	retf

int61_handler:
	mov [RES(4)], sp                        ; SP in the handler: SP before - 6
	inc ax
	push ax
	pushf
	pop ax
	and ax, 0x0200
	mov [RES(6)], ax                        ; IF in the handler: 0
	pop ax
	iret

de_handler:
	mov dx, 0xde
	push bp
	mov bp, sp
	add word [bp + 2], 2                    ; skip "div cx"
	pop bp
	iret

gp_handler:
	pop word [RES(12)]                      ; the 16-bit error code
	push bp
	mov bp, sp
	add word [bp + 2], 2                    ; skip "mov es, ax"
	pop bp
	iret

align 4
idt16_ptr:
	dw 0x62 * 8 - 1
	dd IDT16
align 4
pm16_results:
	times 32 db 0xff
blob_end:

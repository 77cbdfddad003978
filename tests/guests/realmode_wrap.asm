; Real mode beyond the round trip of realmode.asm: offsets and SP that wrap
; at 64 KiB (string instructions, PUSH at SP = 0), LOOP and JCXZ counting
; CX only, XLAT, PUSHA/POPA and PUSHF/POPF with 16-bit operands, 32-bit
; PUSH/POP under 0x66, near calls and jumps through memory, RET imm16,
; INT n through the IVT and the timer's IRQ 0 through it, with the 8259A
; at vector 8 as a BIOS leaves it. realmode_wrap.c copies the blob to
; RM_BASE and checks rm_results.
bits 32
%include "lib/rm_blob.inc"

%include "lib/pm16_call.inc"
PM16_CALL run_real_mode_wrap, BLOB(pm16_entry)

global rm_blob_start, rm_blob_end, rm_results
rm_blob_start:
bits 16
pm16_entry:
	mov ax, SEL_DATA16
	mov ds, ax
	mov es, ax
	mov ss, ax
	lidt [BLOB(real_mode_ivt)]
	mov eax, cr0
	and al, 0xfe
	mov cr0, eax
	jmp RM_SEG:OFS(rm_entry)

rm_entry:
	mov ax, cs
	mov ds, ax
	xor ax, ax
	mov ss, ax
	mov sp, RM_STACK
	cld

	; [0] REP MOVSB with SI wrapping from 0xffff to 0: 2000:ffff then
	; 2000:0000 copied to 3000:0000 and 3000:0001.
	push ds
	mov ax, 0x2000
	mov ds, ax
	mov byte [0xffff], 0x11
	mov byte [0x0000], 0x22
	mov ax, 0x3000
	mov es, ax
	mov si, 0xffff
	xor di, di
	mov ecx, 0x00010002                     ; only CX counts: 2
	rep movsb
	mov ax, [es:0]
	pop ds
	mov [RES(0)], ax                        ; 0x2211
	mov [RES(2)], si                        ; 1
	mov [RES(4)], di                        ; 2
	mov [RES(6)], ecx                       ; 0x00010000

	; [10] STOSW with DI wrapping: 3000:fffe, then 3000:0000.
	mov di, 0xfffe
	mov ax, 0xbeef
	mov cx, 2
	rep stosw
	mov ax, [es:0]
	mov [RES(10)], ax                       ; 0xbeef
	mov [RES(12)], di                       ; 2

	; [14] LOOP counts CX with 16-bit addressing: ECX's upper half stays.
	mov ecx, 0x00030005
	xor ax, ax
.loop:	add ax, cx
	loop .loop
	mov [RES(14)], ax                       ; 15
	mov [RES(16)], ecx                      ; 0x00030000
	; [20] JCXZ looks at CX only
	mov bx, 0
	jcxz .cx_zero
	mov bx, 1
.cx_zero:
	mov [RES(20)], bx                       ; 0

	; [22] XLAT: AL = [BX + AL]
	mov bx, OFS(xlat_table)
	mov al, 3
	xlat
	mov [RES(22)], al                       ; 0x44

	; [24] PUSHA/POPA: 16 bytes, every register back but SP's slot
	mov ax, 0x1001
	mov bx, 0x2002
	mov cx, 0x3003
	mov dx, 0x4004
	mov si, 0x5005
	mov di, 0x6006
	mov bp, 0x7007
	pusha
	mov bp, sp
	mov ax, [bp + 14]                       ; AX is pushed first
	mov [RES(24)], ax                       ; 0x1001
	mov ax, [bp + 6]                        ; SP as before PUSHA
	mov [RES(26)], ax                       ; RM_STACK
	xor ax, ax
	xor bx, bx
	xor cx, cx
	xor dx, dx
	xor si, si
	xor di, di
	xor bp, bp
	popa
	add ax, bx
	add ax, cx
	add ax, dx
	add ax, si
	add ax, di
	add ax, bp
	mov [RES(28)], ax                       ; 28 * 0x1001 = 0xc01c
	mov [RES(30)], sp                       ; RM_STACK

	; [32] PUSHF/POPF: the arithmetic flags through a 16-bit image
	mov ax, 0x08d5                          ; OF DF? no: OF SF ZF AF PF CF
	and ax, ~0x0400
	push ax
	popf
	pushf
	pop ax
	and ax, 0x08d5
	mov [RES(32)], ax                       ; 0x08d5 without DF
	push word 0x0002
	popf                                    ; flags clear, IF off

	; [34] PUSH at SP = 0 wraps to SS:fffe
	mov ax, 0x5000
	mov ss, ax
	xor sp, sp
	push word 0x1234
	mov [RES(34)], sp                       ; 0xfffe
	pop bx
	mov [RES(36)], sp                       ; 0
	xor ax, ax
	mov ss, ax
	mov sp, RM_STACK
	mov [RES(38)], bx                       ; 0x1234

	; [40] 32-bit PUSH/POP under 0x66 on the 16-bit stack
	push dword 0x12345678
	mov [RES(44)], sp                       ; RM_STACK - 4
	pop edx
	mov [RES(40)], edx

	; [46] near CALL and JMP through memory, RET imm16
	push word 0xaaaa                        ; dropped by "ret 2"
	call word [OFS(callee_ptr)]
	mov [RES(46)], ax                       ; 0x4646
	mov [RES(48)], sp                       ; RM_STACK
	mov bx, OFS(jump_ptr)
	jmp word [bx]
	mov word [RES(50)], 0xdead              ; skipped
.jumped:
	mov word [RES(50)], 0x5050

	; [52] INT 0x60 through the IVT: IF cleared inside, FLAGS back after
	xor ax, ax
	mov es, ax
	mov word [es:0x60 * 4], OFS(int60_handler)
	mov word [es:0x60 * 4 + 2], RM_SEG
	mov word [es:8 * 4], OFS(irq0_handler)
	mov word [es:8 * 4 + 2], RM_SEG
	sti
	mov ax, 0x0101
	int 0x60
	mov [RES(52)], ax                       ; 0x0102: the handler added 1
	pushf
	pop ax
	and ax, 0x0200
	mov [RES(54)], ax                       ; IF back on: 0x200
	cli

	; [58] the PIT's IRQ 0 as vector 8 (the 8259A as a BIOS sets it):
	; three ticks of 10 ms, each through the IVT
	mov al, 0x11                            ; ICW1: edge, cascade, ICW4
	out 0x20, al
	mov al, 0x08                            ; ICW2: IRQ 0-7 at vectors 8-15
	out 0x21, al
	mov al, 0x04                            ; ICW3: slave on IRQ 2
	out 0x21, al
	mov al, 0x01                            ; ICW4: 8086 mode
	out 0x21, al
	mov al, 0xfe                            ; IRQ 0 only
	out 0x21, al
	mov al, 0x34                            ; channel 0, lo/hi, mode 2
	out 0x43, al
	mov al, 11932 & 0xff                    ; 1193182 Hz / 100
	out 0x40, al
	mov al, 11932 >> 8
	out 0x40, al
	mov word [OFS(ticks)], 0
	sti
.wait:	hlt
	cmp word [OFS(ticks)], 3
	jb .wait
	cli
	mov al, 0xff
	out 0x21, al
	mov ax, [OFS(irq_cs)]
	mov [RES(58)], ax                       ; RM_SEG: CS pushed by the IRQ
	mov ax, [OFS(irq_flags)]
	and ax, 0x0200
	mov [RES(60)], ax                       ; IF was set in the pushed FLAGS

	cli
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword SEL_CODE32:back_in_pm32

callee:
	mov ax, 0x4646
	ret 2

int60_handler:
	inc ax
	push bp
	mov bp, sp
	mov bx, [bp + 6]                        ; the pushed FLAGS
	pop bp
	pushf
	pop cx
	and cx, 0x0200
	mov [RES(56)], cx                       ; IF inside the handler: 0
	iret

irq0_handler:
	push ax
	push bp
	mov bp, sp
	mov ax, [bp + 6]                        ; pushed CS
	mov [cs:OFS(irq_cs)], ax
	mov ax, [bp + 8]                        ; pushed FLAGS
	mov [cs:OFS(irq_flags)], ax
	inc word [cs:OFS(ticks)]
	mov al, 0x20                            ; EOI
	out 0x20, al
	pop bp
	pop ax
	iret

align 2
callee_ptr: dw OFS(callee)
jump_ptr:   dw OFS(rm_entry.jumped)
ticks:      dw 0
irq_cs:     dw 0
irq_flags:  dw 0
xlat_table: db 0x11, 0x22, 0x33, 0x44, 0x55
align 4
real_mode_ivt:
	dw 0x3ff
	dd 0
align 4
rm_results:
	times 64 db 0xff
rm_blob_end:

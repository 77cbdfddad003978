; The real-mode round trip: 32-bit protected mode -> 16-bit protected mode
; -> real mode (CR0.PE=0) -> checks -> back to 32-bit protected mode.
; The 16-bit part is a position-dependent blob that realmode.c copies to
; RM_BASE (real-mode code must live below 1 MiB; the guest loads at 1 MiB).
; Inside the blob, addresses are RM_BASE + (label - rm_blob_start).

bits 32
%include "lib/rm_blob.inc"

; void run_real_mode(void): the blob must already be at RM_BASE.
%include "lib/pm16_call.inc"
PM16_CALL run_real_mode, BLOB(pm16_entry)

global rm_blob_start, rm_blob_end, rm_results, rm_message
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
	mov [OFS(rm_results) + 0], ax           ; [0] CS in real mode
	xor ax, ax
	mov ss, ax
	mov sp, RM_STACK

	; [2] segment:offset aliases: 0x1000:0x0010 and 0x1001:0x0000 are both
	; physical 0x10010.
	mov ax, 0x1000
	mov es, ax
	mov byte [es:0x0010], 0xa5
	mov ax, 0x1001
	mov es, ax
	mov al, [es:0x0000]
	mov [OFS(rm_results) + 2], al

	; [4] 32-bit arithmetic under an operand-size prefix.
	mov eax, 0x12345678
	add eax, 0x11111111
	mov [OFS(rm_results) + 4], eax

	; [8] 16-bit add that wraps, and the flags it leaves (CF, ZF).
	mov ax, 0xffff
	add ax, 1
	pushf
	pop bx
	mov [OFS(rm_results) + 8], ax
	mov [OFS(rm_results) + 10], bx

	; [12] 16-bit effective addresses wrap at 64K: [bx+si] with bx=0xffff,
	; si=2 is offset 1 of ES (physical 0x20001).
	mov ax, 0x2000
	mov es, ax
	mov bx, 0xffff
	mov si, 2
	mov byte [es:bx + si], 0x3c
	mov byte [es:0x0001], 0x3c              ; the same byte, written directly
	xor byte [es:bx + si], 0xff             ; 0xc3 if both name one byte
	mov al, [es:0x0001]
	mov [OFS(rm_results) + 12], al

	; [14] near and far calls on a 16-bit stack.
	mov sp, RM_STACK
	call near_callee
	call RM_SEG:OFS(far_callee)
	mov [OFS(rm_results) + 14], ax
	mov [OFS(rm_results) + 16], sp          ; [16] SP back where it was

	; [18] #DE in real mode goes through the IVT and returns with IRET.
	xor ax, ax
	mov es, ax
	mov word [es:0x0000], OFS(de_handler)   ; IVT[0] = RM_SEG:de_handler
	mov word [es:0x0002], RM_SEG
	mov ax, 7
	xor dx, dx
	xor cx, cx
	div cx                                  ; 2 bytes: the handler skips it
	mov [OFS(rm_results) + 18], dx          ; handler set DX = 0xde

	; Report from real mode itself: the UART works at any CPU mode.
	mov si, OFS(rm_message)
.next:	lodsb
	test al, al
	jz .done
	mov bl, al
	mov dx, 0x3fd
.wait:	in al, dx
	test al, 0x20
	jz .wait
	mov dx, 0x3f8
	mov al, bl
	out dx, al
	jmp .next
.done:
	cli
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword SEL_CODE32:back_in_pm32

near_callee:
	mov ax, 0x1111
	ret

far_callee:
	add ax, 0x2222                          ; 0x3333 after near_callee
	retf

de_handler:
	mov dx, 0xde
	push bp
	mov bp, sp
	add word [bp + 2], 2                    ; skip "div cx"
	pop bp
	iret

align 4
real_mode_ivt:
	dw 0x3ff
	dd 0
align 4
rm_results:
	times 20 db 0xff
rm_message:
	db "PASS realmode.serial_from_real_mode", 13, 10, 0
rm_blob_end:

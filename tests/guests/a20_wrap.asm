; The A20 gate in real mode (SDM Vol. 3A, 8.7.13.4 "A20M#"; the PC AT's
; 8042 output port bit 1, PS/2 system control port A 0x92 bit 1): with A20
; off, FFFF:0510 (physical 0x100500) is physical 0x500, for data and for
; code fetch; with A20 on they are two words. The word at 0x100500 is the
; guest's own image (it is loaded at 1 MiB): saved first, restored last,
; with A20 on, so the STATE line's CRC does not change. a20_wrap.c copies
; the blob to RM_BASE and checks rm_results.
bits 32
%include "lib/rm_blob.inc"
LOW        equ 0x0500                   ; 0000:0500, physical 0x500
HIGH       equ 0x0510                   ; FFFF:0510, physical 0x100500

%include "lib/pm16_call.inc"
PM16_CALL run_a20_wrap, BLOB(pm16_entry)

global rm_blob_start, rm_blob_end, rm_results
rm_blob_start:
bits 16
pm16_entry:
	mov ax, SEL_DATA16
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr0
	and al, 0xfe
	mov cr0, eax
	jmp RM_SEG:OFS(rm_entry)

; i8042: wait until the input buffer is empty (status bit 1), then
; command AL to port 0x64, data AH to port 0x60.
kbc_write_outport:
	push ax
.w1:	in al, 0x64
	test al, 2
	jnz .w1
	mov al, 0xd1                            ; write output port
	out 0x64, al
.w2:	in al, 0x64
	test al, 2
	jnz .w2
	pop ax
	mov al, ah
	out 0x60, al
.w3:	in al, 0x64
	test al, 2
	jnz .w3
	ret

rm_entry:
	mov ax, cs
	mov ds, ax                              ; DS: the blob (results)
	xor ax, ax
	mov ss, ax
	mov sp, RM_STACK
	mov fs, ax                              ; FS: 0000
	mov ax, 0xffff
	mov gs, ax                              ; GS: FFFF
	cld

	mov ax, [fs:LOW]
	mov [OFS(saved_low)], ax
	mov ax, [gs:HIGH]
	mov [OFS(saved_high)], ax

	; [0] A20 on (port 0x92): two words
	in al, 0x92
	or al, 2
	and al, 0xfe                            ; never the reset bit
	out 0x92, al
	mov word [fs:LOW], 0x1111
	mov word [gs:HIGH], 0x2222
	mov ax, [fs:LOW]
	mov [RES(0)], ax                        ; 0x1111
	mov ax, [gs:HIGH]
	mov [RES(2)], ax                        ; 0x2222

	; [4] A20 off (port 0x92): one word, both ways
	in al, 0x92
	and al, 0xfc
	out 0x92, al
	in al, 0x92
	and ax, 2
	mov [RES(4)], ax                        ; bit 1 reads back 0
	mov word [gs:HIGH], 0x3333
	mov ax, [fs:LOW]
	mov [RES(6)], ax                        ; 0x3333
	mov word [fs:LOW], 0x4444
	mov ax, [gs:HIGH]
	mov [RES(8)], ax                        ; 0x4444

	; [10] code fetch through the wrap: FFFF:(RM_BASE + x + 0x10) is
	; RM_BASE + x with A20 off
	mov word [RES(10)], 0
	call 0xffff:(BLOB(wrapped_code) + 0x10)

	; [12] A20 on (i8042 output port 0xdf: A20 and the reset line high)
	mov ah, 0xdf
	call kbc_write_outport
	mov word [gs:HIGH], 0x6666
	mov ax, [fs:LOW]
	mov [RES(12)], ax                       ; still 0x4444
	mov ax, [gs:HIGH]
	mov [RES(14)], ax                       ; 0x6666

	; [16] A20 off (i8042 output port 0xdd), then on again (port 0x92):
	; the last writer wins
	mov ah, 0xdd
	call kbc_write_outport
	mov word [gs:HIGH], 0x7777
	mov ax, [fs:LOW]
	mov [RES(16)], ax                       ; 0x7777
	in al, 0x92
	or al, 2
	and al, 0xfe
	out 0x92, al
	mov word [gs:HIGH], 0x8888
	mov ax, [fs:LOW]
	mov [RES(18)], ax                       ; still 0x7777
	mov ax, [gs:HIGH]
	mov [RES(20)], ax                       ; 0x8888

	; A20 on: put both words back
	mov ax, [OFS(saved_low)]
	mov [fs:LOW], ax
	mov ax, [OFS(saved_high)]
	mov [gs:HIGH], ax

	cli
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword SEL_CODE32:back_in_pm32

; Reached only through FFFF:xxxx with A20 off (CS base 0xffff0).
wrapped_code:
	mov word [RES(10)], 0x5555
	retf

align 2
saved_low:  dw 0
saved_high: dw 0
align 4
rm_results:
	times 32 db 0xff
rm_blob_end:

; Unreal ("big real") mode: segment limits loaded in protected mode stay in
; the descriptor cache after CR0.PE is cleared, and a real-mode segment
; load changes only the selector and base (SDM Vol. 3A, 9.9.2 and 20.1.1),
; so 32-bit offsets (0x67) reach above 1 MiB through FS and ES. Also: a
; 32-bit REP MOVSD there, 0xffff:0010 with A20 on, 32-bit registers and
; operands in 16-bit code. unreal.c checks rm_results.
bits 32
%include "lib/rm_blob.inc"
HIGH       equ 0x00200000

%include "lib/pm16_call.inc"
PM16_CALL run_unreal, BLOB(pm16_entry)

global rm_blob_start, rm_blob_end, rm_results
rm_blob_start:
bits 16
pm16_entry:
	mov ax, SEL_DATA16
	mov ds, ax
	mov ss, ax
	mov ax, SEL_DATA32                      ; 4 GiB limit into the caches
	mov es, ax
	mov fs, ax
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
	mov es, ax                              ; base 0, the 4 GiB limit kept
	mov fs, ax
	cld

	; [0] a 32-bit offset through FS: above 1 MiB
	mov esi, HIGH
	mov dword [fs:esi], 0xcafef00d
	mov eax, [fs:esi]
	mov [RES(0)], eax

	; [4] FS reloaded with 0x1000: base 0x10000, limit still 4 GiB
	mov ax, 0x1000
	mov fs, ax
	mov ebx, HIGH - 0x10000
	mov eax, [fs:ebx]
	mov [RES(4)], eax                       ; 0xcafef00d
	xor ax, ax
	mov fs, ax

	; [8] 32-bit scaled index addressing in 16-bit code
	mov ecx, 4
	mov dword [fs:esi + ecx * 4], 0x11223344
	mov eax, [fs:dword HIGH + 16]
	mov [RES(8)], eax

	; [12] REP MOVSD with 32-bit addressing: FS:ESI -> ES:EDI, 5 dwords
	mov esi, HIGH
	mov edi, HIGH + 0x100
	mov ecx, 5
	db 0x64, 0x67, 0x66, 0xf3, 0xa5         ; fs a32 o32 rep movsd
	mov [RES(12)], ecx                      ; 0
	mov [RES(16)], edi                      ; HIGH + 0x114
	mov eax, [es:dword HIGH + 0x110]
	mov [RES(20)], eax                      ; 0x11223344

	; [24] A20 on: ffff:0010 is physical 0x100000, not 0
	mov ax, 0xffff
	mov gs, ax
	mov eax, [gs:0x0010]
	mov [RES(24)], eax

	; [28] 32-bit arithmetic and MOVZX/MOVSX with 16-bit operands
	mov eax, 0x80000000
	add eax, eax                            ; CF, ZF
	setc bl
	setz bh
	mov [RES(28)], bx                       ; 0x0101
	mov ax, 0xff80
	movsx edx, ax
	mov [RES(30)], edx                      ; 0xffffff80
	movzx edx, ax
	mov [RES(34)], edx                      ; 0x0000ff80
	mov ax, 0x1234
	mov bx, 0x5678
	shl eax, 16
	mov ax, bx
	mov [RES(38)], eax                      ; 0x12345678

	cli
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp dword SEL_CODE32:back_in_pm32

align 4
real_mode_ivt:
	dw 0x3ff
	dd 0
align 4
rm_results:
	times 48 db 0xff
rm_blob_end:

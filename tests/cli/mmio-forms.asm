; The instruction forms hyvm's MMIO emulator handles, on guest-physical
; memory that nothing backs (reads all-ones, writes dropped): MOV loads and
; stores (reg, imm, AH), MOVZX/MOVSX, AND/OR/TEST/CMP with their flags,
; XCHG, STOS/LODS/MOVS with and without REP, PUSH from and POP to MMIO,
; ADD in both directions with its flags, REP MOVS from RAM to MMIO, and a
; load through 32-bit paging (a 4 MiB page mapping linear 0x40000000 to 0xe0000000). Exits 0
; (status 1) when all hold, else the failed check's number (status 2n+1).
%include "multiboot_flat.inc"
MMIO equ 0xe0000000

start:
	cld
	mov dword [MMIO], 0x12345678		; stores are dropped
	mov byte [MMIO + 3], 0x5a
	mov [MMIO + 8], ecx
	mov eax, 1
	mov ebx, [MMIO]
	cmp ebx, 0xffffffff
	jne fail

	mov eax, 2
	movzx ebx, byte [MMIO + 1]
	cmp ebx, 0xff
	jne fail
	movsx ebx, word [MMIO + 2]
	cmp ebx, 0xffffffff
	jne fail

	mov eax, 3
	mov ebx, 0x11223344
	mov bh, [MMIO]
	cmp ebx, 0x1122ff44
	jne fail

	mov eax, 4
	and dword [MMIO], 0			; read, write: result 0 sets ZF
	jnz fail
	xor ebx, ebx
	or ebx, [MMIO]
	cmp ebx, 0xffffffff
	jne fail
	test byte [MMIO], 0x80
	jz fail
	cmp dword [MMIO + 4], -1
	jne fail

	mov eax, 5
	mov ebx, 5
	xchg [MMIO], ebx
	cmp ebx, 0xffffffff
	jne fail

	mov eax, 6
	mov edi, MMIO
	stosd
	cmp edi, MMIO + 4
	jne fail
	mov ecx, 3
	rep stosw
	test ecx, ecx
	jnz fail
	cmp edi, MMIO + 10
	jne fail

	mov eax, 7
	mov esi, MMIO + 0x100
	mov edi, buf
	mov ecx, 2
	rep movsd				; MMIO -> RAM
	cmp dword [buf + 4], 0xffffffff
	jne fail
	cmp esi, MMIO + 0x108
	jne fail
	xor eax, eax
	lodsw
	cmp eax, 0xffff
	mov eax, 7
	jne fail

	mov eax, 9
	mov esp, stack_top
	push dword [MMIO + 0x10]
	pop ecx
	cmp ecx, 0xffffffff
	jne fail
	push dword 0x1234
	pop dword [MMIO + 0x14]			; dropped
	cmp esp, stack_top
	jne fail

	mov eax, 10
	mov ecx, 1
	add [MMIO + 0x18], ecx			; 0xffffffff + 1: 0, CF, ZF
	jnc fail
	jnz fail
	mov ecx, 2
	add ecx, [MMIO]				; 2 + 0xffffffff: 1, CF
	jnc fail
	cmp ecx, 1
	jne fail

	mov eax, 11
	mov esi, buf
	mov edi, MMIO + 0x200
	mov ecx, 4
	rep movsd				; RAM -> MMIO
	test ecx, ecx
	jnz fail
	cmp esi, buf + 16
	jne fail
	cmp edi, MMIO + 0x210
	jne fail

	; 32-bit paging with PSE: identity 4 MiB for the code, and
	; linear 0x40000000 -> MMIO.
	mov dword [pd], 0x83
	mov dword [pd + 0x100 * 4], MMIO | 0x83
	mov eax, cr4
	or eax, 0x10
	mov cr4, eax
	mov eax, pd
	mov cr3, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	mov ebx, [0x40000010]
	mov ecx, cr0
	and ecx, 0x7fffffff
	mov cr0, ecx
	mov eax, 8
	cmp ebx, 0xffffffff
	jne fail

	mov dx, 0x3f8
	mov esi, done
	mov ecx, done_len
	rep outsb
	xor eax, eax
fail:
	out 0xf4, eax
	cli
	hlt

done:	db "mmio-forms: all forms read all-ones", 10
done_len equ $ - done
image_end:
align 4096
pd:	resb 4096
buf:	resb 64
stack:	resb 256
stack_top:
bss_end:

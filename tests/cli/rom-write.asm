; A guest given a ROM (tests/cli/memory-map.sh runs it with a 64 KiB file of
; "ROM!" dwords, `--rom FILE`: ending at 4 GiB, its last 64 KiB also at
; 0xf0000). Reads must see the file; MOV writes of each size, through the
; top copy and the legacy alias, with paging off and through 32-bit paging
; (4 MiB pages), must leave it unchanged, as on a PC whose BIOS flash is
; write-protected. Exits 0 (status 1) when all hold, else the failed
; check's number (status 2n+1).
%include "multiboot_flat.inc"
ROM_TOP   equ 0xffff0000	; 64 KiB below 4 GiB
ROM_ALIAS equ 0x000f0000
PATTERN   equ 0x214d4f52	; "ROM!"
PAGED     equ 0x40000000	; linear window onto ROM_TOP's 4 MiB page

start:
	mov esp, stack_top
	mov eax, 1
	cmp dword [ROM_TOP], PATTERN
	jne fail
	cmp dword [0xfffffffc], PATTERN
	jne fail
	mov eax, 2
	cmp dword [ROM_ALIAS + 0xfffc], PATTERN
	jne fail

	mov eax, 3
	mov ebx, ROM_TOP + 0x100
	call write_all_sizes
	jne fail
	mov eax, 4
	mov ebx, ROM_ALIAS + 0x200
	call write_all_sizes
	jne fail
	mov eax, 5			; the top copy saw the alias writes not
	cmp dword [ROM_TOP + 0x200], PATTERN
	jne fail

	; 32-bit paging with PSE: identity for the first 4 MiB, linear
	; PAGED -> the 4 MiB page holding the ROM, and the ROM's own page.
	mov dword [pd], 0x83
	mov dword [pd + (PAGED >> 22) * 4], 0xffc00083
	mov dword [pd + 1023 * 4], 0xffc00083
	mov eax, cr4
	or eax, 0x10
	mov cr4, eax
	mov eax, pd
	mov cr3, eax
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	mov eax, 6
	cmp dword [PAGED + 0x3ffffc], PATTERN
	jne fail
	mov eax, 7
	mov ebx, PAGED + 0x3f0300
	call write_all_sizes
	jne fail
	mov eax, 8
	mov ebx, ROM_TOP + 0x400
	call write_all_sizes
	jne fail
	mov ecx, cr0
	and ecx, 0x7fffffff
	mov cr0, ecx
	mov eax, 9			; and unchanged with paging off again
	cmp dword [ROM_TOP + 0x300], PATTERN
	jne fail
	cmp dword [ROM_TOP + 0x400], PATTERN
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

; Writes a byte, a word, a dword (immediate and register) at ebx and
; reads them back: ZF set iff the ROM still holds the pattern there.
write_all_sizes:
	mov byte [ebx], 0x11
	mov word [ebx + 4], 0x2222
	mov dword [ebx + 8], 0x33333333
	mov ecx, 0x44444444
	mov [ebx + 12], ecx
	cmp byte [ebx], 0x52
	jne .out
	cmp word [ebx + 4], 0x4f52
	jne .out
	cmp dword [ebx + 8], PATTERN
	jne .out
	cmp dword [ebx + 12], PATTERN
.out:
	ret

done:	db "rom-write: ROM reads its file and ignores writes", 10
done_len equ $ - done
image_end:
align 4096
pd:	resb 4096
	resb 4096
stack_top:
bss_end:

; String port I/O: REP OUTSB of a message to the UART (forwards, then
; backwards with DF=1), REP OUTSB longer than one exit's buffer to the POST
; port, REP INSB/INSD from an unclaimed port (reads all-ones), and a REP
; with ECX=0 that must do nothing. Exits 0 (status 1) when all hold, else
; the number of the failed check (status 2n+1).
%include "multiboot_flat.inc"
UNCLAIMED equ 0x2e0


start:
	cld
	mov dx, 0x3f8
	mov esi, msg
	mov ecx, msg_len
	rep outsb
	mov eax, 1
	test ecx, ecx
	jnz fail
	mov eax, 2
	cmp esi, msg + msg_len
	jne fail

	std				; backwards: "\nko sdrawkcab" printed reversed
	mov esi, rev + rev_len - 1
	mov ecx, rev_len
	rep outsb
	cld
	mov eax, 3
	cmp esi, rev - 1
	jne fail

	mov dx, 0x80			; 3000 bytes: several exits' worth
	mov esi, 0x100000
	mov ecx, 3000
	rep outsb
	mov eax, 4
	test ecx, ecx
	jnz fail
	cmp esi, 0x100000 + 3000
	jne fail

	mov dx, UNCLAIMED
	mov edi, buf
	mov ecx, 16
	rep insb
	mov eax, 5
	cmp edi, buf + 16
	jne fail
	mov esi, buf
	mov ecx, 16
.ones:	lodsb
	cmp al, 0xff
	jne fail
	loop .ones

	mov edi, buf + 16
	mov ecx, 2
	rep insd
	mov eax, 6
	cmp dword [buf + 16], 0xffffffff
	jne fail
	cmp dword [buf + 20], 0xffffffff
	jne fail

	mov dword [buf + 24], 0x12345678	; ECX=0: nothing moves
	mov edi, buf + 24
	xor ecx, ecx
	rep insd
	mov eax, 7
	cmp dword [buf + 24], 0x12345678
	jne fail
	cmp edi, buf + 24
	jne fail

	mov edi, buf + 28			; no REP: one element, ECX ignored
	mov ecx, 5
	insw
	mov eax, 8
	cmp ecx, 5
	jne fail
	cmp word [buf + 28], 0xffff
	jne fail

	mov dx, 0x3f8
	mov esi, done
	mov ecx, done_len
	es rep outsb			; a segment override (ES: same base here)
	xor eax, eax
fail:
	out 0xf4, eax
	cli
	hlt

msg:	db "string-io: rep outsb forwards ok", 10
msg_len equ $ - msg
rev:	db 10, "ko sdrawkcab bstuo per :oi-gnirts"
rev_len equ $ - rev
done:	db "string-io: rep insb/insd read all-ones", 10
done_len equ $ - done
image_end:
align 16
buf:	resb 64
bss_end:

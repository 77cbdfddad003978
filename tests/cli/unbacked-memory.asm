; A guest that touches guest-physical memory it does not have: reads of
; unbacked addresses return all-ones (a PC's floating bus) and writes are
; dropped; hyvm must neither crash nor stop. Exits 0 to isa-debug-exit
; (status 1) when it read all-ones, 0x10 (status 33) otherwise.
%include "multiboot_flat.inc"
start:
	mov dword [0xe0000000], 0x12345678      ; far above any --mem
	mov eax, [0xe0000000]
	mov ebx, [0xfffffff0]
	mov edx, 0x10
	cmp eax, 0xffffffff
	jne .out
	cmp ebx, 0xffffffff
	jne .out
	xor edx, edx
.out:
	mov eax, edx
	out 0xf4, eax
	cli
	hlt
image_end:
bss_end:

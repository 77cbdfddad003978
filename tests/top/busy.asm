; A guest that keeps exiting at a steady pace forever, for watching in
; hyvm top: bursts of port writes from one function, port reads from
; another, and an MMIO write, separated by a delay loop.
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0

section .text
	align 4
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global start
start:
	mov esp, stack_top
.forever:
	call write_burst
	call read_port
	call poke_mmio
	call spin
	jmp .forever

write_burst:
	mov ecx, 8
	mov dx, 0x5e0
.loop:	out dx, al
	dec ecx
	jnz .loop
	ret

read_port:
	mov dx, 0x5e4
	in al, dx
	ret

poke_mmio:
	mov dword [0xfec00000], 1
	ret

; Emulated guest code is slow on kvm_pvm and fast elsewhere; a short spin
; keeps exits frequent on both.
spin:
	mov ecx, 200
.loop:	dec ecx
	jnz .loop
	ret

section .bss
	resb 4096
stack_top:

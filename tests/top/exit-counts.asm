; A guest that makes a known number of exits of known kinds, then waits
; quietly (sti; hlt with no interrupt source), so hyvm top can read its
; counts while it runs: 1000 port writes, 300 port reads, 200 MMIO writes
; outside RAM, then one HLT. The counts are checked exactly by
; tests/top/exit-counts.sh; change them together.
; An ELF (nasm -f elf32, ld) so hyvm top can name the exit sites.
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0
OUTS	 equ 1000
INS	 equ 300
MMIOS	 equ 200
PORT_OUT equ 0x5e0			; no device: every access is an exit, nothing else
PORT_IN	 equ 0x5e4
MMIO	 equ 0xfec00000			; I/O APIC's address: no RAM, no device here

section .text
	align 4
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global start
start:
	mov esp, stack_top
	call do_outs
	call do_ins
	call do_mmio
	jmp wait_forever

do_outs:
	mov ecx, OUTS
	mov dx, PORT_OUT
.loop:	out dx, al
	dec ecx
	jnz .loop
	ret

do_ins:
	mov ecx, INS
	mov dx, PORT_IN
.loop:	in al, dx
	dec ecx
	jnz .loop
	ret

do_mmio:
	mov ecx, MMIOS
.loop:	mov [MMIO], eax
	dec ecx
	jnz .loop
	ret

; No device raises an interrupt, so the VMM sleeps in HLT until it is told
; to stop: exactly one HLT exit.
wait_forever:
	sti
	hlt
	jmp wait_forever

section .bss
	resb 4096
stack_top:

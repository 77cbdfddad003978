; A guest that triple-faults: #UD with an empty IDT escalates to #GP,
; #DF and shutdown. Built as a flat binary with the Multiboot a.out kludge,
; so it also exercises that load path.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000                 ; a.out kludge: load by address
header:
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	dd header, header, image_end, bss_end, start
start:
	lidt [empty_idt]
	ud2
empty_idt:
	dw 0
	dd 0
image_end:
bss_end:

; A guest that triple-faults: #UD with an empty IDT escalates to #GP,
; #DF and shutdown. Built as a flat binary with the Multiboot a.out kludge,
; so it also exercises that load path.
%include "multiboot_flat.inc"
start:
	lidt [empty_idt]
	ud2
empty_idt:
	dw 0
	dd 0
image_end:
bss_end:

; Echoes COM1 input back, byte for byte, for the console tests
; (tests/cli/console-tty.sh): prints "serial-echo: ready" once, then polls
; LSR and writes each received byte to THR unchanged. '!' ends the run
; through isa-debug-exit (status 1); anything else, a Ctrl-A included,
; is just echoed, so a test can see which bytes reached the guest.
%include "multiboot_flat.inc"
COM1 equ 0x3f8
LSR equ COM1 + 5
LSR_DR equ 0x01
LSR_THRE equ 0x20

start:
	mov esp, stack_top
	mov esi, ready
.banner:
	lodsb
	test al, al
	jz .poll
	call putc
	jmp .banner
.poll:
	mov dx, LSR
	in al, dx
	test al, LSR_DR
	jnz .got
	pause
	jmp .poll
.got:
	mov dx, COM1
	in al, dx
	cmp al, '!'
	je .done
	call putc
	jmp .poll
.done:
	mov al, 0
	out 0xf4, al
	cli
	hlt

putc:					; al: the byte
	mov bl, al
	mov dx, LSR
.wait:
	in al, dx
	test al, LSR_THRE
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	ret

ready:	db "serial-echo: ready", 13, 10, 0
image_end:
	times 1024 db 0
stack_top:
bss_end:

; The ACPI power button (QMP system_powerdown): enables PWRBTN_EN in PM1_EN
; (PM block at 0x600, as QEMU's pc and hyvm's FADT say), prints
; "power-button: waiting", polls PM1_STS until PWRBTN_STS (bit 8, ACPI 6.4
; 4.8.3.1.1) is set, prints "power-button: pressed", clears the bit by
; writing 1, checks it reads 0 and powers off through PM1a_CNT SLP_EN
; (status 0); a bit that does not clear ends through isa-debug-exit
; (status 3). tests/ctl/power-button.sh presses the button from hyvm ctl
; and from QEMU's own QMP socket.
%include "multiboot_flat.inc"
COM1 equ 0x3f8
LSR equ COM1 + 5
LSR_THRE equ 0x20
PM1_STS equ 0x600
PM1_EN equ 0x602
PM1_CNT equ 0x604
PWRBTN equ 0x0100
SLP_EN equ 0x2000

start:
	mov esp, stack_top
	mov dx, PM1_EN
	mov ax, PWRBTN
	out dx, ax
	mov esi, waiting
	call puts
.poll:
	mov dx, PM1_STS
	in ax, dx
	test ax, PWRBTN
	jnz .pressed
	pause
	jmp .poll
.pressed:
	mov esi, pressed
	call puts
	mov dx, PM1_STS
	mov ax, PWRBTN			; write 1 to clear
	out dx, ax
	in ax, dx
	test ax, PWRBTN
	jnz .stuck
	mov dx, PM1_CNT
	mov ax, SLP_EN
	out dx, ax
	cli
	hlt
.stuck:
	mov al, 1
	out 0xf4, al
	cli
	hlt

puts:					; esi: NUL-terminated
	lodsb
	test al, al
	jz .done
	mov bl, al
	mov dx, LSR
.wait:
	in al, dx
	test al, LSR_THRE
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	jmp puts
.done:
	ret

waiting: db "power-button: waiting", 13, 10, 0
pressed: db "power-button: pressed", 13, 10, 0
image_end:
	times 1024 db 0
stack_top:
bss_end:

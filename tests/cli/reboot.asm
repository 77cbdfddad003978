; Counts its boots in CMOS RAM (byte 0x7e through the RTC's ports 0x70/
; 0x71), which a reset keeps on a PC, under QEMU and under hyvm: boot 1
; resets through the i8042 (command 0xfe), boot 2 through port 0x92
; bit 0, boot 3 clears the byte and ends through isa-debug-exit 0
; (status 1). Each boot prints "reboot: boot N". A reset that does not
; happen prints "reboot: no reset" and exits with 7 (status 15). With
; hyvm run --no-reboot (QEMU -no-reboot) the first reset ends the run.
%include "multiboot_flat.inc"
COM1 equ 0x3f8
CMOS_INDEX equ 0x70
CMOS_DATA equ 0x71
BOOT_BYTE equ 0x7e		; no firmware or RTC meaning, in QEMU or hyvm
TAG equ 0xb0			; high nibble marks a count this guest wrote

start:
	mov esp, stack_top
	mov al, BOOT_BYTE
	out CMOS_INDEX, al
	in al, CMOS_DATA
	mov ah, al
	and ah, 0xf0
	cmp ah, TAG
	je .counted
	mov al, TAG		; power-on: no boot counted yet
.counted:
	inc al
	mov bh, al		; TAG + this boot's number
	mov al, BOOT_BYTE
	out CMOS_INDEX, al
	mov al, bh
	out CMOS_DATA, al

	mov esi, msg_boot
	call puts
	mov al, bh
	and al, 0x0f
	add al, '0'
	call putc
	mov al, 13
	call putc
	mov al, 10
	call putc

	cmp bh, TAG + 1
	je .kbd_reset
	cmp bh, TAG + 2
	je .port92_reset
	mov al, BOOT_BYTE	; boot 3: leave CMOS as found, pass
	out CMOS_INDEX, al
	mov al, 0
	out CMOS_DATA, al
	out 0xf4, al
	jmp .stuck

.kbd_reset:
	in al, 0x64		; wait for the controller's input buffer
	test al, 2
	jnz .kbd_reset
	mov al, 0xfe
	out 0x64, al
	jmp .no_reset
.port92_reset:
	in al, 0x92
	or al, 1
	out 0x92, al
.no_reset:
	mov ecx, 100000		; give a slow reset time before calling it missing
.spin:
	pause
	loop .spin
	mov esi, msg_none
	call puts
	mov al, 7
	out 0xf4, al
.stuck:
	cli
	hlt
	jmp .stuck

puts:				; esi: NUL-terminated
	lodsb
	test al, al
	jz .end
	call putc
	jmp puts
.end:
	ret

putc:				; al: the byte
	mov bl, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	ret

msg_boot: db "reboot: boot ", 0
msg_none: db "reboot: no reset", 13, 10, 0
image_end:
	times 1024 db 0
stack_top:
bss_end:

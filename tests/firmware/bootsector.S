/*
 * A boot sector for the firmware tests (tests/firmware/boot-chain.sh):
 * the BIOS loads it at 0:7c00 and jumps to it in real mode with the boot
 * drive in DL (BIOS Boot Specification 1.01, 6.5.1). It prints one line
 * naming the drive on COM1 (polling LSR's THRE, 16550 data sheet) and
 * powers off through the ACPI PM1a control register at 0x600 + 4 (SLP_EN
 * with SLP_TYP 0, the pc machine's \_S5 in hyvm and QEMU).
 */
	.code16
	.text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
	movb	%dl, drive
	movw	$msg, %si
	call	puts
	movb	drive, %al
	shrb	$4, %al
	call	puthex
	movb	drive, %al
	call	puthex
	movw	$eol, %si
	call	puts
	movw	$0x604, %dx
	movw	$0x2000, %ax
	outw	%ax, %dx
1:	hlt
	jmp	1b

puts:	lodsb
	testb	%al, %al
	jz	2f
	call	putc
	jmp	puts
2:	ret

puthex:	andb	$0xf, %al
	addb	$'0', %al
	cmpb	$'9', %al
	jbe	putc
	addb	$'a' - '0' - 10, %al
putc:	movb	%al, %bl
	movw	$0x3fd, %dx
3:	inb	%dx, %al
	testb	$0x20, %al
	jz	3b
	movw	$0x3f8, %dx
	movb	%bl, %al
	outb	%al, %dx
	ret

msg:	.asciz	"hyvm-bootsector: started by the BIOS, drive 0x"
eol:	.asciz	"\r\n"
drive:	.byte	0
	.org	510
	.word	0xaa55

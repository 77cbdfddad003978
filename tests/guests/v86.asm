; Virtual-8086 mode with a small 32-bit monitor (SDM Vol. 3A, 20.2-20.3):
; entered by IRETD with EFLAGS.VM set, left by interrupts through ring-0
; gates (the v86 segment registers pushed, then nulled). With IOPL < 3,
; CLI/STI/PUSHF/POPF/INT n fault with #GP(0) to the monitor, which logs
; the opcode and steps over it; with IOPL = 3 they run, and INT n goes
; through its DPL-3 gate. IN/OUT obey the TSS's I/O bitmap at any IOPL.
; v86.c sets up the TSS and gates and checks the logs and frames.
bits 32
V86_BASE   equ 0x7000
V86_SEG    equ V86_BASE >> 4
V86_STACK  equ 0x0ff0                  ; in segment 0 (SS = 0)
SEL_DATA32 equ 0x10

%define V86(label) ((label) - v86_blob_start)

section .bss
saved_esp:  resd 1
global gp_log, gp_count, int63_frame, exit_frame, ds_in_handler
gp_log:     resd 16
gp_count:   resd 1
int63_frame: resd 9
exit_frame: resd 9
ds_in_handler: resd 1

section .text
; void run_v86(uint32_t eflags): eflags has VM and the IOPL to run with
global run_v86
run_v86:
	pushad
	mov [saved_esp], esp
	mov eax, [esp + 36]
	push dword 0                            ; GS
	push dword 0                            ; FS
	push dword V86_SEG                      ; DS
	push dword V86_SEG                      ; ES
	push dword 0                            ; SS
	push dword V86_STACK                    ; ESP
	push eax                                ; EFLAGS
	push dword V86_SEG                      ; CS
	push dword 0                            ; EIP
	iretd

; Leaves v86 mode for good: back to run_v86's caller.
v86_done:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov esp, [saved_esp]
	push dword 2                            ; IF, IOPL and the rest clear
	popfd
	popad
	ret

; #GP from v86 mode: [esp] error code, then EIP CS EFLAGS ESP SS ES DS FS GS
global v86_gp_entry
v86_gp_entry:
	push eax
	push ebx
	push ecx
	mov ax, SEL_DATA32
	mov ds, ax
	mov eax, [esp + 20]                     ; CS
	shl eax, 4
	add eax, [esp + 16]                     ; + IP: the faulting instruction
	movzx ebx, byte [eax]
	mov ecx, 1
	cmp bl, 0xcd                            ; INT n: log the vector too
	jne .not_int
	movzx ecx, byte [eax + 1]
	cmp cl, 0x62
	je v86_done                             ; the v86 code's way out
	shl ecx, 8
	or ebx, ecx
	mov ecx, 2
.not_int:
	cmp bl, 0xe4                            ; IN AL, imm8 / OUT imm8, AL
	je .two
	cmp bl, 0xe6
	jne .skip
.two:	mov ecx, 2
.skip:	add [esp + 16], ecx
	cmp dword [esp + 12], 0
	je .log
	or ebx, 0x10000                         ; a non-zero error code
.log:	mov eax, [gp_count]
	cmp eax, 16
	jae .full
	mov [gp_log + eax * 4], ebx
	inc dword [gp_count]
.full:	pop ecx
	pop ebx
	pop eax
	add esp, 4                              ; the error code
	iretd

; INT 0x63 through a DPL-3 gate: records the frame, returns to v86 mode
global v86_int63_entry
v86_int63_entry:
	push eax
	mov eax, ds
	push eax
	mov ax, SEL_DATA32
	mov ds, ax
	pop eax
	mov [ds_in_handler], eax                ; null: the CPU cleared DS
	push esi
	push edi
	push ecx
	push es
	mov es, ax
	lea esi, [esp + 20]
	mov edi, int63_frame
	mov ecx, 9
	cld
	rep movsd
	pop es
	pop ecx
	pop edi
	pop esi
	pop eax
	iretd

; INT 0x62 through a DPL-3 gate (IOPL 3): record the frame, leave
global v86_exit_entry
v86_exit_entry:
	mov ax, SEL_DATA32
	mov ds, ax
	mov es, ax
	mov esi, esp
	mov edi, exit_frame
	mov ecx, 9
	cld
	rep movsd
	jmp v86_done

global v86_blob_start, v86_blob_end, v86_results
v86_blob_start:
bits 16
	mov ax, cs
	mov [V86(v86_results) + 0], ax          ; CS as loaded by IRETD
	mov [V86(v86_results) + 2], sp
	cli
	sti
	pushf
	pop ax                                  ; (IOPL 0: PUSHF was skipped)
	cli                                     ; no timer tick in v86 mode
	mov [V86(v86_results) + 4], ax
	mov sp, V86_STACK
	push word 0x0002
	popf
	mov sp, V86_STACK
	int 0x63
	in al, 0x80                             ; allowed by the bitmap
	mov al, 0                               ; (what port 0x80 reads differs)
	out 0x80, al
	in al, 0x71                             ; denied: #GP at any IOPL
	mov ax, 0x1234                          ; real-mode style segment load
	mov es, ax
	mov byte [es:0x0000], 0x5a              ; physical 0x12340
	mov ax, es
	mov [V86(v86_results) + 6], ax
	mov ebx, 0x00010002                     ; 32-bit register in v86 mode
	add bx, 0xfffe                          ; 16-bit wrap: BX = 0, CF
	setc cl
	mov [V86(v86_results) + 8], ebx
	mov [V86(v86_results) + 12], cl
	int 0x62                                ; back to the monitor
	hlt                                     ; not reached
align 4
v86_results:
	times 16 db 0xff
v86_blob_end:

; Far control transfers and the stack forms that inline asm cannot express
; without fighting the compiler over ESP and EBP. All functions are cdecl.
bits 32

SEL_CODE32 equ 0x08

section .data
far_ptr:  dd 0
          dw 0
pusha_out: dd 0
esp_before: dd 0

section .text

; Callee for far calls: returns the CS it ran with in EAX.
far_callee:
	xor eax, eax
	mov ax, cs
	retf

; Callee that also drops its two dword arguments (retf imm16).
far_callee_pop8:
	mov eax, [esp + 8]      ; first argument, above the far return address
	add eax, [esp + 12]
	retf 8

; uint32_t far_call_direct(void): CS seen by a direct far call.
global far_call_direct
far_call_direct:
	call SEL_CODE32:far_callee
	ret

; uint32_t far_call_indirect(uint16_t sel): through a memory far pointer.
global far_call_indirect
far_call_indirect:
	mov eax, [esp + 4]
	mov dword [far_ptr], far_callee
	mov [far_ptr + 4], ax
	call far [far_ptr]
	ret

; uint32_t far_call_pop_args(uint32_t a, uint32_t b, uint32_t *esp_delta)
; Returns a+b computed by a callee that pops both with retf 8; stores how
; much ESP moved across the whole sequence (want 0).
global far_call_pop_args
far_call_pop_args:
	push ebx
	mov ebx, esp
	push dword [esp + 12]   ; b
	push dword [esp + 12]   ; a (the push moved esp by 4)
	call SEL_CODE32:far_callee_pop8
	sub ebx, esp
	mov ecx, [esp + 16]
	mov [ecx], ebx
	pop ebx
	ret

; uint32_t far_jump_via(uint16_t sel): far jmp to a code selector (direct
; to sel via memory, then straight back to SEL_CODE32 with a direct far
; jmp); returns the CS seen in between.
global far_jump_via
far_jump_via:
	mov eax, [esp + 4]
	mov dword [far_ptr], .there
	mov [far_ptr + 4], ax
	jmp far [far_ptr]
.there:
	xor eax, eax
	mov ax, cs
	jmp SEL_CODE32:.back
.back:
	ret

; void pusha_probe(uint32_t out[17]): out[0..7] = the block pusha stored
; (lowest address first), out[8] = ESP before pusha. Then popa loads a
; doctored block (slot i = 0x101 + i) and out[9..15] = EDI, ESI, EBP, EBX,
; EDX, ECX, EAX as popa left them, out[16] = ESP after popa.
global pusha_probe
pusha_probe:
	push ebp
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]
	mov [pusha_out], eax
	mov [esp_before], esp
	mov eax, 0xa0a0a0a0
	mov ecx, 0xc1c1c1c1
	mov edx, 0xd2d2d2d2
	mov ebx, 0xb3b3b3b3
	mov ebp, 0xb5b5b5b5
	mov esi, 0x56565656
	mov edi, 0xd7d7d7d7
	pusha
	mov ebp, [pusha_out]
	mov ecx, 8
.copy:	mov eax, [esp + ecx * 4 - 4]
	mov [ebp + ecx * 4 - 4], eax
	loop .copy
	mov eax, [esp_before]
	mov [ebp + 32], eax
	; popa must skip the ESP slot: doctor every slot, ESP's included.
	mov ecx, 8
.doctor: lea eax, [ecx + 0x100]
	mov [esp + ecx * 4 - 4], eax
	loop .doctor
	popa
	push ebp                ; as popa loaded it
	mov ebp, [pusha_out]
	mov [ebp + 36], edi
	mov [ebp + 40], esi
	pop dword [ebp + 44]
	mov [ebp + 48], ebx
	mov [ebp + 52], edx
	mov [ebp + 56], ecx
	mov [ebp + 60], eax
	mov [ebp + 64], esp
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; uint32_t enter_leave_probe(uint32_t out[3]): out[0] = ESP drop across
; enter 16,0 (want 4 + 16), out[1] = EBP - ESP inside (want 16), out[2] =
; 1 if leave restored both ESP and EBP.
global enter_leave_probe
enter_leave_probe:
	push ebx
	push esi
	mov ecx, [esp + 12]
	mov ebx, esp
	mov esi, ebp
	enter 16, 0
	mov eax, ebx
	sub eax, esp
	mov [ecx], eax
	mov eax, ebp
	sub eax, esp
	mov [ecx + 4], eax
	leave
	xor eax, eax
	cmp esp, ebx
	jne .bad
	cmp ebp, esi
	jne .bad
	inc eax
.bad:	mov [ecx + 8], eax
	pop esi
	pop ebx
	ret

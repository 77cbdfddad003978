/* Hostile: a triple fault in real mode (triple_fault.h). In real mode the
 * IDTR limit still bounds the interrupt table (SDM Vol. 3A 20.1.4: a
 * vector beyond it raises #GP), so with limit 0 the chain is the same.
 * 16-bit protected mode first (SEL_CODE16), CR0.PE cleared there, a far
 * jump to 0000:TRIPLE_LOW+0x10 to load a real-mode CS, then UD2. */
#include "triple_fault.h"

GUEST("triple_real", "real-mode");

void guest_main(const struct mb_info *mbi)
{
	uint8_t code[0x12] = {
		0x0f, 0x20, 0xc0,		/* mov eax, cr0 */
		0x24, 0xfe,			/* and al, 0xfe: PE off */
		0x0f, 0x22, 0xc0,		/* mov cr0, eax */
		0xea, 0x10, 0x00, 0x00, 0x00,	/* jmp 0000:TRIPLE_LOW+0x10 (patched) */
	};
	code[9] = (TRIPLE_LOW + 0x10) & 0xff;
	code[10] = (TRIPLE_LOW + 0x10) >> 8;
	code[0x10] = 0x0f;			/* ud2 */
	code[0x11] = 0x0b;

	triple_prepare("real mode", code, sizeof(code));
	triple_null_idt();
	asm volatile("ljmp %0, %1" : : "i"(SEL_CODE16), "i"(TRIPLE_LOW));
}

/* Hostile: a triple fault in 16-bit protected mode (triple_fault.h): a far
 * jump into the 16-bit code segment SEL_CODE16 (base 0, limit 64 KiB),
 * where the code at TRIPLE_LOW is UD2. */
#include "triple_fault.h"

GUEST("triple_pm16", "");

void guest_main(const struct mb_info *mbi)
{
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */

	triple_prepare("16-bit protected mode", code, sizeof(code));
	triple_null_idt();
	asm volatile("ljmp %0, %1" : : "i"(SEL_CODE16), "i"(TRIPLE_LOW));
}

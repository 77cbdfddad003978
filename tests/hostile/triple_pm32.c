/* Hostile: a triple fault in 32-bit protected mode (triple_fault.h). */
#include "triple_fault.h"

GUEST("triple_pm32", "");

void guest_main(const struct mb_info *mbi)
{
	printf_serial("triple_fault: 32-bit protected mode: #UD with IDTR.limit = 0\n");
	triple_null_idt();
	asm volatile("ud2");
}

/* Hostile: a triple fault in virtual-8086 mode (triple_fault.h): IRETD
 * with EFLAGS.VM into CS = TRIPLE_LOW >> 4, IP 0, where the code is UD2.
 * A v86 exception goes through the (now empty) IDT like any other. */
#include "triple_fault.h"

GUEST("triple_v86", "vm86");

void guest_main(const struct mb_info *mbi)
{
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */

	triple_prepare("virtual-8086 mode", code, sizeof(code));
	tss_load(0x9000);
	triple_null_idt();
	asm volatile("push $0\n\tpush $0\n\tpush $0\n\tpush $0\n\t"	/* GS FS DS ES */
		     "push $0\n\tpush $0x6ff0\n\t"			/* SS:SP */
		     "push $0x20002\n\t"				/* EFLAGS: VM, IF off */
		     "push %0\n\tpush $0\n\t"				/* CS:IP */
		     "iret" : : "i"(TRIPLE_LOW >> 4));
}

/* Real mode's 16-bit corners: offsets, SP and CX that wrap or count at
 * 16 bits, XLAT, PUSHA/POPA, PUSHF/POPF, 0x66 pushes, near transfers
 * through memory, INT n and the timer's IRQ 0 through the IVT.
 * realmode_wrap.asm has the code and says what each result is. */
#include "rm_blob.h"

GUEST("realmode_wrap", "real-mode");

#define RM_STACK 0x6ff0

void run_real_mode_wrap(void);

void guest_main(const struct mb_info *mbi)
{
	const volatile uint8_t *r = rm_blob_run(run_real_mode_wrap);
#define R16(off) RM_R16(r, off)
#define R32(off) RM_R32(r, off)

	check_begin("strings");
	check_eq("rep movsb across SI = 0xffff", R16(0), 0x2211);
	check_eq("SI after", R16(2), 1);
	check_eq("DI after", R16(4), 2);
	check_eq("ECX after (CX counted)", R32(6), 0x00010000);
	check_eq("rep stosw across DI = 0xfffe", R16(10), 0xbeef);
	check_eq("physical 0x3fffe", *(volatile uint16_t *)0x3fffe, 0xbeef);
	check_eq("DI after stosw", R16(12), 2);
	check_end();

	check_begin("loop_xlat");
	check_eq("loop sum", R16(14), 15);
	check_eq("ECX after loop", R32(16), 0x00030000);
	check_eq("jcxz taken on CX = 0", R16(20), 0);
	check_eq("xlat", r[22], 0x44);
	check_end();

	check_begin("stack");
	check_eq("pusha: AX slot", R16(24), 0x1001);
	check_eq("pusha: SP slot", R16(26), RM_STACK);
	check_eq("popa: registers back", R16(28), 0xc01c);
	check_eq("SP after popa", R16(30), RM_STACK);
	check_eq("pushf/popf flags", R16(32), 0x08d5 & ~0x0400);
	check_eq("push at SP 0", R16(34), 0xfffe);
	check_eq("physical 0x5fffe", *(volatile uint16_t *)0x5fffe, 0x1234);
	check_eq("pop back to SP 0", R16(36), 0);
	check_eq("popped word", R16(38), 0x1234);
	check_eq("push/pop dword", R32(40), 0x12345678);
	check_eq("SP after push dword", R16(44), RM_STACK - 4);
	check_end();

	check_begin("near_transfers");
	check_eq("call word [mem]", R16(46), 0x4646);
	check_eq("SP after ret 2", R16(48), RM_STACK);
	check_eq("jmp word [bx]", R16(50), 0x5050);
	check_end();

	check_begin("ivt");
	check_eq("int 0x60 handler ran", R16(52), 0x0102);
	check_eq("IF back after iret", R16(54), 0x0200);
	check_eq("IF clear in the handler", R16(56), 0);
	check_eq("IRQ 0 pushed CS", R16(58), RM_BASE >> 4);
	check_eq("IRQ 0 pushed FLAGS with IF", R16(60), 0x0200);
	check_end();
}

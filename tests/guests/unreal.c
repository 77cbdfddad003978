/* Unreal mode: 4 GiB limits kept in the descriptor caches across the
 * drop to real mode, 32-bit offsets above 1 MiB, a real-mode segment load
 * keeping the limit, 32-bit REP MOVSD there, A20 on, 32-bit operands in
 * 16-bit code. unreal.asm has the code. */
#include "rm_blob.h"

GUEST("unreal", "real-mode");

#define HIGH 0x00200000

void run_unreal(void);

void guest_main(const struct mb_info *mbi)
{
	const volatile uint8_t *r = rm_blob_run(run_unreal);
#define R16(off) RM_R16(r, off)
#define R32(off) RM_R32(r, off)

	check_begin("big_offsets");
	check_eq("fs:[esi] above 1 MiB", R32(0), 0xcafef00d);
	check_eq("physical 0x200000", *(volatile uint32_t *)HIGH, 0xcafef00d);
	check_eq("fs reloaded in real mode keeps its limit", R32(4), 0xcafef00d);
	check_eq("[esi + ecx*4]", R32(8), 0x11223344);
	check_end();

	check_begin("rep_movsd_a32");
	check_eq("ECX after", R32(12), 0);
	check_eq("EDI after", R32(16), HIGH + 0x114);
	check_eq("last dword copied", R32(20), 0x11223344);
	check_eq("physical 0x200110", *(volatile uint32_t *)(HIGH + 0x110), 0x11223344);
	check_end();

	check_begin("a20_on");
	check_eq("ffff:0010 is physical 0x100000", R32(24), *(volatile uint32_t *)0x100000);
	check_end();

	check_begin("operands32");
	check_eq("add eax, eax: CF and ZF", R16(28), 0x0101);
	check_eq("movsx edx, ax", R32(30), 0xffffff80);
	check_eq("movzx edx, ax", R32(34), 0x0000ff80);
	check_eq("shl eax, 16; mov ax, bx", R32(38), 0x12345678);
	check_end();
}

/* A drop from 32-bit protected mode to 16-bit real mode and back, with
 * checks made in real mode: CS, segment:offset arithmetic, 16-bit wrap of
 * effective addresses, operand-size prefixes, 16-bit stack calls, an
 * exception through the IVT, and port I/O. realmode.asm has the code. */
#include "rm_blob.h"

GUEST("realmode", "real-mode");

void run_real_mode(void);

void guest_main(const struct mb_info *mbi)
{
	const volatile uint8_t *r = rm_blob_run(run_real_mode);
#define R16(off) RM_R16(r, off)
#define R32(off) RM_R32(r, off)

	check_begin("round_trip");
	check_eq("CR0.PE after the return", read_cr0() & CR0_PE, CR0_PE);
	check_eq("CS after the return", read_cs(), SEL_CODE32);
	check_eq("CS in real mode", R16(0), RM_BASE >> 4);
	check_end();

	check_begin("addressing");
	check_eq("byte at 1001:0000 after a write to 1000:0010", r[2], 0xa5);
	check_eq("physical 0x10010", *(volatile uint8_t *)0x10010, 0xa5);
	check_eq("[bx+si] wraps to offset 1", r[12], 0xc3);
	check_eq("physical 0x20001", *(volatile uint8_t *)0x20001, 0xc3);
	check_end();

	check_begin("arithmetic");
	check_eq("32-bit add under 0x66", R32(4), 0x23456789);
	check_eq("16-bit ffff+1", R16(8), 0);
	check_eq("its CF and ZF", R16(10) & (EFLAGS_CF | EFLAGS_ZF), EFLAGS_CF | EFLAGS_ZF);
	check_end();

	check_begin("calls_and_ivt");
	check_eq("near call then far call result", R16(14), 0x3333);
	check_eq("SP after the calls", R16(16), 0x6ff0);
	check_eq("#DE handler ran through the IVT", R16(18), 0xde);
	check_end();
}

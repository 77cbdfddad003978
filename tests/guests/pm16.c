/* 16-bit protected mode: a D=0 code segment on a B=0 stack, INT n and
 * exceptions through 16-bit interrupt and trap gates, a 16-bit error code,
 * 16-bit IRET, far CALL/RETF with 16-bit operands. pm16.asm has the code. */
#include "guest.h"

GUEST("pm16", "soft-int-cpl0");	/* INT n through a 16-bit gate at CPL0 */

#define BASE 0x7000

extern const char blob_start[], blob_end[], pm16_results[];
void run_pm16(void);

void guest_main(const struct mb_info *mbi)
{
	memcpy((void *)BASE, blob_start, blob_end - blob_start);
	/* The INT 0x61 test runs with IF=1 under an IDT of three gates: an
	 * IRQ there (QEMU's firmware leaves the PIT's IRQ 0 unmasked) would
	 * meet an empty gate. QEMU under load took one: a FAIL in the oracle. */
	pic_init(0);
	run_pm16();
	const volatile uint8_t *r = (const volatile uint8_t *)BASE + (pm16_results - blob_start);
#define R16(off) (r[off] | r[(off) + 1] << 8)
#define R32(off) (R16(off) | (uint32_t)R16((off) + 2) << 16)

	check_begin("int_gate16");
	check_eq("handler result", R16(2), 0x6101);
	check_eq("6-byte frame", (uint16_t)(R16(0) - R16(4)), 6);
	check_eq("IF clear in an interrupt gate", R16(6), 0);
	check_eq("IF back after IRET", R16(8), 0x0200);
	check_end();

	check_begin("exceptions16");
	check_eq("#DE through a 16-bit trap gate", R16(10), 0xde);
	check_eq("#GP error code", R16(12), 0x1238);
	check_eq("ES unchanged", R16(14), SEL_DATA16);
	check_end();

	check_begin("far16");
	check_eq("pushed CS", R16(18), SEL_CODE16);
	check_eq("pushed IP is the return address", R16(20), 0);
	check_eq("SP back after RETF", R16(22), R16(16));
	check_end();

	check_begin("operands32");
	check_eq("inc eax", R32(24), 0x80000000);
	check_eq("OF", r[28], 1);
	check_end();
}

/* The A20 gate in real mode: the 1 MiB wrap with A20 off through port
 * 0x92 and through the i8042's output port, for data and code fetch, and
 * two distinct megabytes with it on. a20_wrap.asm has the code and says
 * what each result is. */
#include "rm_blob.h"

GUEST("a20_wrap", "real-mode a20");

void run_a20_wrap(void);

void guest_main(const struct mb_info *mbi)
{
	const volatile uint8_t *r = rm_blob_run(run_a20_wrap);
#define R16(off) RM_R16(r, off)

	check_begin("a20_on");
	check_eq("0x500 with A20 on", R16(0), 0x1111);
	check_eq("0x100500 with A20 on", R16(2), 0x2222);
	check_end();

	check_begin("a20_off_port92");
	check_eq("port 0x92 bit 1 reads back 0", R16(4), 0);
	check_eq("write 0x100500, read 0x500", R16(6), 0x3333);
	check_eq("write 0x500, read 0x100500", R16(8), 0x4444);
	check_eq("code fetched at FFFF:x + 0x10 ran from x", R16(10), 0x5555);
	check_end();

	check_begin("a20_i8042");
	check_eq("on (0xdf): 0x500 kept", R16(12), 0x4444);
	check_eq("on (0xdf): 0x100500 its own", R16(14), 0x6666);
	check_eq("off (0xdd): wraps", R16(16), 0x7777);
	check_eq("on (port 0x92 after): 0x500 kept", R16(18), 0x7777);
	check_eq("on (port 0x92 after): 0x100500 its own", R16(20), 0x8888);
	check_end();
}

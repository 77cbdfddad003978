/*
 * bt started in real mode through the engine interface, as a VMM booting
 * firmware or a boot sector does (set_state with CR0.PE = 0): a segment
 * load as selector << 4, INT n through the IVT and IRET, an external
 * interrupt injected with inject_irq (FLAGS, CS, IP pushed 16-bit, IF
 * cleared), HLT; get_state gives the real-mode state back. And the jump
 * cache, which must not serve a 32-bit block to 16-bit code at one offset.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

TG_SUITE_FIXTURE(g)

static void real_seg(struct hyvm_segment *s, uint16_t sel, bool code)
{
	s->selector = sel;
	s->base = (uint32_t)sel << 4;
	s->limit = 0xffff;
	s->attrib = (code ? 0xb : 0x3) | HYVM_SEG_S | HYVM_SEG_P;
}

/* The state a boot sector starts with: 0000:7c00, flat 64 KiB segments. */
static void real_state(uint16_t ip)
{
	struct hyvm_cpu_state *st = &g.st;

	memset(st, 0, sizeof(*st));
	real_seg(&st->seg[HYVM_CS], 0, true);
	for (int s = HYVM_ES; s <= HYVM_GS; s++)
		if (s != HYVM_CS)
			real_seg(&st->seg[s], 0, false);
	st->seg[HYVM_LDTR].attrib = HYVM_SEG_UNUSABLE;
	st->seg[HYVM_TR].limit = 0xffff;
	st->seg[HYVM_TR].attrib = 0xb | HYVM_SEG_P;
	st->idtr.limit = 0x3ff;
	st->gdtr.limit = 0xffff;
	st->cr0 = 0x10;
	st->rflags = 0x2;
	st->rip = ip;
	st->gpr[HYVM_RSP] = 0x7000;
}

static void put(uint32_t at, const uint8_t *code, size_t len)
{
	memcpy(g.ram + at, code, len);
}

static void test_boot_sector_int_and_hlt(void)
{
	static const uint8_t main_code[] = {
		0xb8, 0x00, 0x10,			/* mov ax, 0x1000 */
		0x8e, 0xd8,				/* mov ds, ax */
		0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab,	/* mov word [0x1234], 0xabcd */
		0xcd, 0x21,				/* int 0x21 */
		0xf4,					/* hlt */
	};
	static const uint8_t handler[] = {
		0xbb, 0x55, 0xaa,			/* mov bx, 0xaa55 */
		0xcf,					/* iret */
	};
	static const uint8_t ivt21[] = { 0x00, 0x7d, 0x00, 0x00 };	/* 0000:7d00 */

	put(0x7c00, main_code, sizeof(main_code));
	put(0x7d00, handler, sizeof(handler));
	put(0x21 * 4, ivt21, sizeof(ivt21));
	real_state(0x7c00);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	CU_ASSERT_EQUAL(g.st.rip, 0x7c0e);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX] & 0xffff, 0xaa55);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x7000);
	CU_ASSERT_EQUAL(g.st.seg[HYVM_DS].selector, 0x1000);
	CU_ASSERT_EQUAL(g.st.seg[HYVM_DS].base, 0x10000);
	CU_ASSERT_EQUAL(g.st.seg[HYVM_DS].limit, 0xffff);
	CU_ASSERT_EQUAL(g.st.cr0 & 1, 0);
	CU_ASSERT_EQUAL(g.ram[0x11234] | g.ram[0x11235] << 8, 0xabcd);
}

/* sti; hlt in a loop; the injected vector 8's handler counts in SI and
 * stores the FLAGS it finds pushed, then the main loop leaves by HLT with
 * IF clear. */
static void test_injected_irq_through_ivt(void)
{
	static const uint8_t main_code[] = {
		0xfb,					/* sti */
		0xf4,					/* hlt: wait for the IRQ */
		0xfa,					/* cli */
		0xf4,					/* hlt: done */
	};
	static const uint8_t handler[] = {
		0x46,					/* inc si */
		0x89, 0xe5,				/* mov bp, sp */
		0x8b, 0x7e, 0x04,			/* mov di, [bp+4]: FLAGS */
		0x9c,					/* pushf */
		0x58,					/* pop ax: FLAGS inside */
		0xcf,					/* iret */
	};
	static const uint8_t ivt8[] = { 0x00, 0x7e, 0x00, 0x00 };	/* 0000:7e00 */

	put(0x7c00, main_code, sizeof(main_code));
	put(0x7e00, handler, sizeof(handler));
	put(8 * 4, ivt8, sizeof(ivt8));
	real_state(0x7c00);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_HLT);
	CU_ASSERT_EQUAL(g.st.rip, 0x7c02);
	CU_ASSERT(g.exit.irq_window_open);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.inject_irq(g.vcpu, 8), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	CU_ASSERT_EQUAL(g.st.rip, 0x7c04);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSI] & 0xffff, 1);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDI] & 0x0200, 0x0200);	/* IF in the pushed FLAGS */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX] & 0x0200, 0);	/* IF clear inside */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x7000);
}

/* The same bytes at 0x4000 are "mov eax, 0x80e60001; out 0x80, al" to
 * 32-bit code and "mov ax, 1; out 0x80, al" to 16-bit code. 32-bit code
 * reaches them by JMP EAX (the jump cache learns the 32-bit block), then a
 * far jump to a 16-bit segment with the same base does JMP EAX to them
 * again: the cache must not hand the 32-bit block to 16-bit code. */
static void test_jump_cache_keyed_by_code_size(void)
{
	static const uint8_t both[] = { 0xb8, 0x01, 0x00, 0xe6, 0x80, 0xe6, 0x80,
					0xea, 0x00, 0x50, 0x00, 0x00, 0x30, 0x00 };
	static const uint8_t start32[] = { 0xb8, 0x00, 0x40, 0x00, 0x00,	/* mov eax, 0x4000 */
					   0xff, 0xe0 };			/* jmp eax */
	static const uint8_t code16[] = { 0x66, 0xb8, 0x00, 0x40, 0x00, 0x00,	/* mov eax, 0x4000 */
					  0x66, 0xff, 0xe0 };			/* jmp eax */
	static const uint32_t no_handlers[1];
	/* 0x30: 16-bit code (D = 0), base 0 and a 4 GiB limit like 0x08's,
	 * so only the code size tells the two apart */
	static const uint8_t desc16[] = { 0xff, 0xff, 0, 0, 0, 0x9b, 0x8f, 0 };

	tg_tables(&g, no_handlers, 0);
	memcpy(g.ram + 0x500 + 0x30, desc16, sizeof(desc16));
	put(0x4000, both, sizeof(both));
	put(0x3000, start32, sizeof(start32));
	put(0x5000, code16, sizeof(code16));
	tg_flat_state(&g, 0x3000);
	g.st.gdtr.limit = 0x37;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.rip, 0x4007);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x80e60001);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.seg[HYVM_CS].selector, 0x30);
	CU_ASSERT_EQUAL(g.st.rip, 0x4005);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x00000001);
}

UNIT_SUITE(bt_realmode, setup, teardown,
	   UNIT_TEST(test_boot_sector_int_and_hlt),
	   UNIT_TEST(test_injected_irq_through_ivt),
	   UNIT_TEST(test_jump_cache_keyed_by_code_size));

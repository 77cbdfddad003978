/*
 * PUSHFD at CPL0 translated inline on the virtual EFLAGS
 * (bt/translate/flags_inline.c): its image carries the arithmetic flags
 * from the host's RFLAGS and IF/IOPL from the virtual EFLAGS, VM and RF
 * clear. CLI (a callout: it closes an interrupt window) clears the
 * virtual IF and no arithmetic flag. At CPL3 PUSHFD is a callout again.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include <hyvm/x86.h>
#include "test_bt_harness.h"

TG_SUITE_FIXTURE(g)

/* mov eax,0x7fffffff; add eax,1 (OF SF AF PF set, ZF CF clear); std;
 * pushfd; cli; pushfd; pop ebx; pop ecx; cld; hlt */
static uint32_t guest(uint32_t at)
{
	static const uint8_t code[] = {
		0xb8, 0xff, 0xff, 0xff, 0x7f,	/* mov eax, 0x7fffffff */
		0x83, 0xc0, 0x01,		/* add eax, 1 */
		0xfd,				/* std */
		0x9c,				/* pushfd */
		0xfa,				/* cli */
		0x9c,				/* pushfd */
		0x5b,				/* pop ebx */
		0x59,				/* pop ecx */
		0xfc,				/* cld */
		0xf4,				/* hlt */
	};
	memcpy(g.ram + at, code, sizeof(code));
	g.pc = at + sizeof(code);
	return at;
}

static void test_cli_pushfd_inline(void)
{
	uint32_t start = guest(0x3c000);
	tg_flat_state(&g, start);
	g.st.rflags = 0x2 | EFLAGS_IF | (3u << 12);	/* IF, IOPL 3 */
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	uint64_t callouts = tg_counter(&g, "bt.callouts");
	uint64_t inl = tg_counter(&g, "bt.pushfd_inline_translated");
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	uint32_t arith = 0x800 | 0x80 | 0x10 | 0x4;	/* OF SF AF PF after 0x7fffffff + 1 */
	uint32_t before_cli = g.st.gpr[HYVM_RCX], after_cli = g.st.gpr[HYVM_RBX];
	CU_ASSERT_EQUAL(before_cli, 0x2 | EFLAGS_IF | (3u << 12) | EFLAGS_DF | arith);
	CU_ASSERT_EQUAL(after_cli, 0x2 | (3u << 12) | EFLAGS_DF | arith);
	CU_ASSERT_EQUAL(g.st.rflags & (EFLAGS_IF | 0x8d5 | EFLAGS_DF), arith);	/* CLD after */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x80000);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.pushfd_inline_translated") - inl, 2);
	/* CLI and HLT are the callouts (STD and CLD run natively: DF lives
	 * in RFLAGS); the PUSHFDs are not */
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.callouts") - callouts, 2);
}

/* At CPL3 with IOPL 3 the same code (minus HLT) runs through callouts. */
static void test_cpl3_is_callout(void)
{
	static const uint8_t code[] = { 0x9c, 0xfa, 0x9c, 0x5b, 0x59, 0xcd, 0x80 };	/* ... int 0x80 */
	uint32_t at = 0x3d000;
	g.pc = 0x3e000;
	uint32_t handler = A0(&g, HLT);
	memcpy(g.ram + at, code, sizeof(code));
	uint32_t handlers[0x81] = { 0 };
	handlers[0x80] = handler;
	tg_tables(&g, handlers, 0x81);
	tg_flat_state(&g, at);
	g.st.seg[HYVM_CS].selector = 0x1b;
	g.st.seg[HYVM_CS].attrib |= 3u << HYVM_SEG_DPL_SHIFT;
	for (int s = HYVM_ES; s <= HYVM_GS; s++)
		if (s != HYVM_CS) {
			g.st.seg[s].selector = 0x23;
			g.st.seg[s].attrib |= 3u << HYVM_SEG_DPL_SHIFT;
		}
	g.st.rflags = 0x2 | EFLAGS_IF | (3u << 12);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	uint64_t inl = tg_counter(&g, "bt.pushfd_inline_translated");
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.pushfd_inline_translated") - inl, 0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX] & EFLAGS_IF, EFLAGS_IF);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX] & EFLAGS_IF, 0);
}

UNIT_SUITE(bt_flags_inline, setup, teardown,
	   UNIT_TEST(test_cli_pushfd_inline),
	   UNIT_TEST(test_cpl3_is_callout));

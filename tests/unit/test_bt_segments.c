/*
 * Segments on bt: what a segment register load writes back to the GDT
 * (the Accessed bit), string instructions through segments with a base,
 * and limit checks on ordinary memory accesses.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

static struct tg g;

static int setup(void)
{
	return tg_init(&g);
}

static int teardown(void)
{
	tg_fini(&g);
	return 0;
}

#define GDT 0x500u
#define ACCESS(sel) (g.ram[GDT + (sel) + 5])

/* Loading DS from a data descriptor with A=0, and CS by a far jump from a
 * code descriptor with A=0, sets A in the GDT (SDM Vol. 3A 3.4.5.1); the
 * already-accessed descriptors stay as they were. */
static void test_load_sets_accessed(void)
{
	tg_tables(&g, NULL, 0);
	ACCESS(0x08) = 0x9a;
	ACCESS(0x10) = 0x92;
	g.pc = 0x10000;
	uint32_t start = A2(&g, MOV, REG(EAX), I_(0x10));
	A2(&g, MOV, REG(DS), REG(AX));
	g.ram[g.pc++] = 0xea;	/* jmp 0x08:target (ptr16:32) */
	uint32_t target = g.pc + 6;
	memcpy(g.ram + g.pc, &target, 4);
	g.ram[g.pc + 4] = 0x08;
	g.ram[g.pc + 5] = 0;
	g.pc += 6;
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.rip, g.pc);
	CU_ASSERT_EQUAL(ACCESS(0x10), 0x93);
	CU_ASSERT_EQUAL(ACCESS(0x08), 0x9b);
	CU_ASSERT_EQUAL(ACCESS(0x18), 0xfb);
	CU_ASSERT_EQUAL(ACCESS(0x20), 0xf3);
	CU_ASSERT_EQUAL(ACCESS(0x28), 0x89);	/* TSS: not a code/data descriptor */
}

UNIT_SUITE(bt_segments, setup, teardown,
	   UNIT_TEST(test_load_sets_accessed));

/*
 * bt's port-I/O fast path (engine.h, engine_io_fast): IN and OUT at CPL0
 * from translated code (translate/io_call.c), REP INSB and REP OUTSB from
 * the callout, all served by the VMM's function without an EXIT_IO. Checked: every access reaches the function once, in program
 * order, with its port, size, direction and data; INs complete into the
 * registers and memory as on the exit path; a false answer stops the run
 * with EXIT_KICKED after the instruction, which the next run continues.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

static struct tg g;

struct access { uint16_t port; uint8_t size; bool write; uint32_t value; uint64_t off; };

static uint32_t code_at;	/* where guest() put the code: rip - code_at is off */

static struct {
	struct access log[32];
	unsigned n;
	int stop_at;		/* the access after which io() says stop; -1: never */
} rec;

static bool record_io(void *ctx, uint64_t rip, uint16_t port, uint8_t size, bool write,
		      uint8_t *data)
{
	struct access a = { port, size, write, 0, rip - code_at };

	(void)ctx;
	if (write)
		memcpy(&a.value, data, size);
	else
		for (unsigned i = 0; i < size; i++)
			data[i] = (uint8_t)(0xa0 + rec.n);	/* the IN's answer: its index */
	if (rec.n < 32)
		rec.log[rec.n] = a;
	return (int)rec.n++ != rec.stop_at;
}

static const struct engine_io_fast fast = { .io = record_io, .ctx = NULL };

TG_SUITE_SETUP(g)

/* Raw bytes: the encoder has no forms for the string and DX variants. */
static uint32_t guest(void)
{
	static const uint8_t code[] = {
		0xb0, 0x11,			/* mov al, 0x11 */
		0xe6, 0x70,			/* out 0x70, al */
		0xe4, 0x71,			/* in al, 0x71 */
		0x89, 0xc3,			/* mov ebx, eax */
		0x66, 0xba, 0xf8, 0x03,		/* mov dx, 0x3f8 */
		0xb8, 0x78, 0x56, 0x34, 0x12,	/* mov eax, 0x12345678 */
		0xef,				/* out dx, eax */
		0x66, 0xed,			/* in ax, dx */
		0xbe, 0x00, 0x00, 0x04, 0x00,	/* mov esi, 0x40000 */
		0xb9, 0x03, 0x00, 0x00, 0x00,	/* mov ecx, 3 */
		0xf3, 0x6e,			/* rep outsb */
		0xbf, 0x00, 0x10, 0x04, 0x00,	/* mov edi, 0x41000 */
		0xb9, 0x02, 0x00, 0x00, 0x00,	/* mov ecx, 2 */
		0xf3, 0x6c,			/* rep insb */
		0xf4,				/* hlt */
	};
	uint32_t at = 0x30000;

	code_at = at;
	memcpy(g.ram + at, code, sizeof(code));
	memcpy(g.ram + 0x40000, "abc", 3);
	memset(g.ram + 0x41000, 0, 4);
	g.pc = at + sizeof(code);
	rec.n = 0;
	tg_flat_state(&g, at);
	g.st.gpr[HYVM_RBX] = 0;
	return at;
}

static void check_log(void)
{
	static const struct access want[] = {
		/* off: the instruction's offset in code[] (its site for hyvm top) */
		{ 0x70, 1, true, 0x11, 2 }, { 0x71, 1, false, 0, 4 },
		{ 0x3f8, 4, true, 0x12345678, 17 }, { 0x3f8, 2, false, 0, 18 },
		{ 0x3f8, 1, true, 'a', 30 }, { 0x3f8, 1, true, 'b', 30 }, { 0x3f8, 1, true, 'c', 30 },
		{ 0x3f8, 1, false, 0, 42 }, { 0x3f8, 1, false, 0, 42 },
	};

	CU_ASSERT_EQUAL_FATAL(rec.n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < rec.n; i++) {
		CU_ASSERT_EQUAL(rec.log[i].port, want[i].port);
		CU_ASSERT_EQUAL(rec.log[i].size, want[i].size);
		CU_ASSERT_EQUAL(rec.log[i].write, want[i].write);
		CU_ASSERT_EQUAL(rec.log[i].value, want[i].value);
		CU_ASSERT_EQUAL(rec.log[i].off, want[i].off);
	}
	/* the INs completed as on the exit path */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX] & 0xff, 0xa1);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x1234a3a3);
	CU_ASSERT_EQUAL(g.ram[0x41000], 0xa7);
	CU_ASSERT_EQUAL(g.ram[0x41001], 0xa8);
	CU_ASSERT_EQUAL(g.ram[0x41002], 0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSI], 0x40003);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDI], 0x41002);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 0);
	CU_ASSERT_EQUAL(g.st.rip, g.pc);
}

/* Every access through the function, none as an exit. */
static void test_io_fast_in_order(void)
{
	guest();
	rec.stop_at = -1;
	bt_engine_ops.set_io_fast(g.vcpu, &fast);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	uint64_t before = tg_counter(&g, "bt.callout.io_without_exit");
	uint64_t inline_before = tg_counter(&g, "bt.io_inline_cpl0");
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	check_log();
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.callout.io_without_exit") - before, 9);
	/* IN and OUT at CPL0 from translated code (translate/io_call.c), the
	 * five string elements from the callout */
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.io_inline_cpl0") - inline_before, 4);
	bt_engine_ops.set_io_fast(g.vcpu, NULL);
}

/* The VMM wants an exit after the IN: EXIT_KICKED with the IN complete
 * (AL = its answer, eip past it); the next run goes on from there. */
static void test_io_fast_stop(void)
{
	uint32_t at = guest();
	struct vcpu_exit *e = &g.exit;

	rec.stop_at = 1;
	bt_engine_ops.set_io_fast(g.vcpu, &fast);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.vcpu_run(g.vcpu, e), 0);
	CU_ASSERT_EQUAL(e->kind, EXIT_KICKED);
	CU_ASSERT_EQUAL(rec.n, 2);
	struct hyvm_cpu_state st;
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.get_state(g.vcpu, &st), 0);
	CU_ASSERT_EQUAL(st.rip, at + 6);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RAX] & 0xff, 0xa1);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_HLT);
	check_log();
	bt_engine_ops.set_io_fast(g.vcpu, NULL);
}

/* Without the function every access is an EXIT_IO again, also from the
 * blocks translated with the inline call (it falls back to the callout). */
static void test_io_fast_withdrawn(void)
{
	guest();
	bt_engine_ops.set_io_fast(g.vcpu, NULL);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0x70);
	CU_ASSERT_EQUAL(rec.n, 0);
}

UNIT_SUITE(bt_io_fast, setup, teardown,
	   UNIT_TEST(test_io_fast_in_order),
	   UNIT_TEST(test_io_fast_stop),
	   UNIT_TEST(test_io_fast_withdrawn));

/*
 * The bt engine end to end on small guests assembled in place: block
 * building, chaining, the jump cache, callouts, precise exceptions and
 * self-modifying code, each checked on the guest's final state.
 */
#include <signal.h>
#include <sys/time.h>
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

#define EAX ZYDIS_REGISTER_EAX
#define ESP ZYDIS_REGISTER_ESP

TG_SUITE_FIXTURE(g)

/* mov eax,5; add eax,7; out 0xf4,al: the first exit is the OUT. */
static void test_alu_then_out(void)
{
	g.pc = 0x10000;
	uint32_t start = A2(&g, MOV, REG(EAX), I_(5));
	A2(&g, ADD, REG(EAX), I_(7));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	CU_ASSERT_TRUE(g.exit.io.write);
	CU_ASSERT_EQUAL(g.exit.io.data[0], 12);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 12);
	CU_ASSERT_EQUAL(g.st.rip, g.pc);
}

/* A counted loop that calls a function through the stack: chains the
 * back edge, returns through the jump cache, and sums 1..1000. */
static void test_loop_call_ret(void)
{
	g.pc = 0x20000;
	uint32_t func = A2(&g, ADD, REG(EAX), REG(ECX));
	A2(&g, MOV, M_(ZYDIS_REGISTER_ESP, -8, 4), REG(EAX));	/* below ESP: scratch */
	A0(&g, RET);
	uint32_t start = A2(&g, XOR, REG(EAX), REG(EAX));
	A2(&g, MOV, REG(ECX), I_(1000));
	uint32_t loop = A1(&g, PUSH, REG(ECX));
	A1(&g, POP, REG(EDX));
	tg_branch(&g, ZYDIS_MNEMONIC_CALL, func);
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 500500);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x80000);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDX], 1);
	uint32_t stored;
	memcpy(&stored, g.ram + 0x80000 - 12, 4);	/* [esp-8] inside func, esp = 0x80000-4 */
	CU_ASSERT_EQUAL(stored, 500500);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.branches_chained") > 0);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.blocks_translated") >= 3);
	/* 1000 returns, only the first few miss the jump cache */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.indirect_lookup_misses") < 10);
}

/* div by zero: #DE through the IDT with EIP of the div and state intact. */
static void test_divide_error_precise(void)
{
	g.pc = 0x30000;
	uint32_t handler = A2(&g, OUT, I_(0x80), REG(AL));
	A0(&g, HLT);
	uint32_t start = A2(&g, MOV, REG(EAX), I_(77));
	A2(&g, XOR, REG(ECX), REG(ECX));
	A2(&g, MOV, REG(EBX), I_(0x1234));
	uint32_t div = A1(&g, DIV, REG(ECX));
	A2(&g, MOV, REG(EBX), I_(0));
	uint32_t handlers[1] = { handler };
	tg_tables(&g, handlers, 1);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0x80);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 77);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 0x1234);
	uint32_t frame[3];
	memcpy(frame, g.ram + g.st.gpr[HYVM_RSP], 12);
	CU_ASSERT_EQUAL(frame[0], div);
	CU_ASSERT_EQUAL(frame[1], 0x08);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x80000 - 12);
	CU_ASSERT_FALSE(g.st.rflags & 0x200);
}

/* ud2 and an undefined opcode give #UD, never a host crash. */
static void test_undefined_opcode(void)
{
	g.pc = 0x38000;
	uint32_t handler = A2(&g, OUT, I_(0x81), REG(AL));
	uint32_t start = g.pc;
	g.ram[g.pc++] = 0x0f;	/* 0f 0b: ud2 */
	g.ram[g.pc++] = 0x0b;
	uint32_t handlers[7] = { 0, 0, 0, 0, 0, 0, handler };
	tg_tables(&g, handlers, 7);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0x81);
	uint32_t eip;
	memcpy(&eip, g.ram + g.st.gpr[HYVM_RSP], 4);
	CU_ASSERT_EQUAL(eip, start);
	/* counted by opcode in read_stats */
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.ud.0f0b"), 1);
}

/* PREFETCHW and PREFETCHT0 run as the hints they are, even on an address
 * with nothing behind it: no #UD (Linux on an AMD model uses PREFETCHW),
 * no fault, no exit. */
static void test_prefetch_is_a_hint(void)
{
	g.pc = 0x38000;
	uint32_t handler = A2(&g, OUT, I_(0x81), REG(AL));
	uint32_t start = g.pc;
	static const uint8_t code[] = {
		0xb8, 0x00, 0x00, 0x00, 0xf0,	/* mov eax, 0xf0000000 (unbacked) */
		0x0f, 0x0d, 0x08,		/* prefetchw [eax] */
		0x0f, 0x18, 0x08,		/* prefetcht0 [eax] */
		0xb0, 0x42,			/* mov al, 0x42 */
		0xe6, 0x80,			/* out 0x80, al */
	};
	memcpy(g.ram + g.pc, code, sizeof(code));
	g.pc += sizeof(code);
	uint32_t handlers[7] = { 0, 0, 0, 0, 0, 0, handler };
	tg_tables(&g, handlers, 7);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0x80);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.ud.0f0d"), ~0ull);	/* never counted: no #UD */
}

/* The guest patches the immediate of an instruction it already ran. */
static void test_self_modifying_code(void)
{
	g.pc = 0x40000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	uint32_t again = A2(&g, MOV, REG(EAX), I_(0x11111111));
	A2(&g, ADD, REG(EBX), REG(EAX));
	A2(&g, CMP, REG(EBX), I_(0x11111111));
	uint32_t jne = g.pc;
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, 0);
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, again + 1, 4), I_(0x22222222));
	tg_branch(&g, ZYDIS_MNEMONIC_JMP, again);
	uint32_t done = A2(&g, OUT, I_(0xf4), REG(AL));
	int32_t rel = (int32_t)(done - (jne + 6));
	memcpy(g.ram + jne + 2, &rel, 4);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 0x33333333);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.smc_invalidations") >= 1);
}

/* rep movsd / rep stosb go through the rebased string path. */
static void test_string_ops(void)
{
	g.pc = 0x50000;
	uint32_t start = A2(&g, MOV, REG(ESI), I_(0x60000));
	A2(&g, MOV, REG(EDI), I_(0x61000));
	A2(&g, MOV, REG(ECX), I_(16));
	g.ram[g.pc++] = 0xf3;	/* rep movsd: no operands to give the encoder */
	g.ram[g.pc++] = 0xa5;
	A2(&g, MOV, REG(AL), I_(0x5a));
	A2(&g, MOV, REG(ECX), I_(7));
	g.ram[g.pc++] = 0xf3;	/* rep stosb */
	g.ram[g.pc++] = 0xaa;
	A2(&g, OUT, I_(0xf4), REG(AL));
	for (int i = 0; i < 64; i++)
		g.ram[0x60000 + i] = (uint8_t)(i * 3 + 1);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(memcmp(g.ram + 0x60000, g.ram + 0x61000, 64), 0);
	CU_ASSERT_EQUAL(g.ram[0x61000 + 64], 0x5a);
	CU_ASSERT_EQUAL(g.ram[0x61000 + 70], 0x5a);
	CU_ASSERT_EQUAL(g.ram[0x61000 + 71], 0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDI], 0x61000 + 71);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSI], 0x60000 + 64);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 0);
}

/* An endless loop stops on kick() from a timer signal: chained back
 * edges check exit_request. */
static void on_alarm(int sig)
{
	(void)sig;
	bt_engine_ops.kick(g.vcpu);
}

static void test_kick_stops_loop(void)
{
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	struct vcpu_exit e;

	g.pc = 0x58000;
	uint32_t start = A1(&g, INC, REG(EAX));
	tg_branch(&g, ZYDIS_MNEMONIC_JMP, start);
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	bt_engine_ops.vcpu_run(g.vcpu, &e);
	signal(SIGALRM, SIG_DFL);
	CU_ASSERT_EQUAL(e.kind, EXIT_KICKED);
	bt_engine_ops.get_state(g.vcpu, &g.st);
	CU_ASSERT_TRUE(g.st.gpr[HYVM_RAX] > 1000);
}

/* x87 and SSE run natively on guest FPU state that bt swaps with the
 * host's around translated code; the host's own doubles stay right. */
static void test_fpu_sse_state(void)
{
	float a[4] = { 1.5f, 2.0f, -3.0f, 4.25f }, b[4] = { 0.5f, 0.25f, 3.0f, -0.25f }, out[4];
	float x = 2.5f, y = 4.0f, z;

	memcpy(g.ram + 0x70000, a, 16);
	memcpy(g.ram + 0x70010, b, 16);
	memcpy(g.ram + 0x70030, &x, 4);
	memcpy(g.ram + 0x70034, &y, 4);
	g.pc = 0x5c000;
	uint32_t start = A2(&g, MOVUPS, REG(XMM1), M_(ZYDIS_REGISTER_NONE, 0x70000, 16));
	A2(&g, ADDPS, REG(XMM1), M_(ZYDIS_REGISTER_NONE, 0x70010, 16));
	A2(&g, OUT, I_(0x80), REG(AL));		/* an exit with guest SSE state live */
	A2(&g, MOVUPS, M_(ZYDIS_REGISTER_NONE, 0x70020, 16), REG(XMM1));
	A1(&g, FLD, M_(ZYDIS_REGISTER_NONE, 0x70030, 4));
	A1(&g, FMUL, M_(ZYDIS_REGISTER_NONE, 0x70034, 4));
	A1(&g, FSTP, M_(ZYDIS_REGISTER_NONE, 0x70038, 4));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0x80);
	volatile double host = 1.0;
	for (int i = 0; i < 10; i++)
		host = host * 3.0 + 0.5;	/* host SSE use between runs */
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	memcpy(out, g.ram + 0x70020, 16);
	memcpy(&z, g.ram + 0x70038, 4);
	CU_ASSERT_TRUE(out[0] == 2.0f && out[1] == 2.25f && out[2] == 0.0f && out[3] == 4.0f);
	CU_ASSERT_TRUE(z == 10.0f);
	CU_ASSERT_TRUE(host == 73811.0);
}

/* MMIO beyond RAM (displacements are signed to the encoder): a store is one EXIT_MMIO whose data the engine owns;
 * a load completes from the data the VMM writes back (movzx zero-extends). */
static void test_mmio_exits(void)
{
	g.pc = 0x5e000;
	uint32_t start = A2(&g, MOV, REG(EBX), I_(0x5a));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, (int32_t)0xfec00010, 4), REG(EBX));
	A2(&g, MOVZX, REG(ECX), M_(ZYDIS_REGISTER_NONE, (int32_t)0xfec00020, 2));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.gpr[HYVM_RCX] = 0xffffffff;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_MMIO);
	CU_ASSERT_EQUAL(g.exit.mmio.gpa, 0xfec00010);
	CU_ASSERT_TRUE(g.exit.mmio.write);
	CU_ASSERT_EQUAL(g.exit.mmio.size, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g.exit.mmio.data);
	CU_ASSERT_EQUAL(g.exit.mmio.data[0], 0x5a);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_MMIO);
	CU_ASSERT_EQUAL(g.exit.mmio.gpa, 0xfec00020);
	CU_ASSERT_FALSE(g.exit.mmio.write);
	CU_ASSERT_EQUAL(g.exit.mmio.size, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g.exit.mmio.data);
	g.exit.mmio.data[0] = 0x34;
	g.exit.mmio.data[1] = 0x92;
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 0x9234);
}

UNIT_SUITE(bt_engine, setup, teardown,
	   UNIT_TEST(test_alu_then_out),
	   UNIT_TEST(test_loop_call_ret),
	   UNIT_TEST(test_divide_error_precise),
	   UNIT_TEST(test_undefined_opcode),
	   UNIT_TEST(test_prefetch_is_a_hint),
	   UNIT_TEST(test_self_modifying_code),
	   UNIT_TEST(test_string_ops),
	   UNIT_TEST(test_kick_stops_loop),
	   UNIT_TEST(test_fpu_sse_state),
	   UNIT_TEST(test_mmio_exits));

/*
 * What keeps bt's translation cache bounded (bt/translate/translator.h):
 * the byte bound and its full flush, with guests that go on correctly
 * across flushes (chained jumps, the jump cache, callouts), the bound's
 * setting (HYVM_BT_TC_KIB), and GS-relative code shared by every GS base
 * instead of one copy per base (gs_base.c).
 */
#include <stdlib.h>
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"
#include "bt/bt.h"
#include "bt/translate/translator.h"

struct engine_vcpu { struct bt_cpu *cpu; };	/* engine_bt.c's first field */

static struct bt_cpu *cpu_of(struct tg *t)
{
	return ((struct engine_vcpu *)t->vcpu)->cpu;
}

/* A VM whose cache holds limit_kib KiB (0: the default). */
static int tg_init_limit(struct tg *g, unsigned limit_kib)
{
	char v[16];
	int r;

	if (limit_kib) {
		snprintf(v, sizeof(v), "%u", limit_kib);
		setenv("HYVM_BT_TC_KIB", v, 1);
	}
	r = tg_init(g);
	unsetenv("HYVM_BT_TC_KIB");
	return r;
}

static void test_limit_setting(void)
{
	char err[160] = "";

	unsetenv("HYVM_BT_TC_KIB");
	CU_ASSERT_EQUAL(tc_limit_from_env(err, sizeof(err)), TC_LIMIT_DEFAULT);
	setenv("HYVM_BT_TC_KIB", "256", 1);
	CU_ASSERT_EQUAL(tc_limit_from_env(err, sizeof(err)), 256u << 10);
	setenv("HYVM_BT_TC_KIB", "1048576", 1);
	CU_ASSERT_EQUAL(tc_limit_from_env(err, sizeof(err)), 1024u << 20);
	const char *bad[] = { "", "abc", "12x", "-5", "255", "1048577", "99999999999999999999" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		setenv("HYVM_BT_TC_KIB", bad[i], 1);
		CU_ASSERT_EQUAL(tc_limit_from_env(err, sizeof(err)), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "HYVM_BT_TC_KIB"));
		CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	}
	unsetenv("HYVM_BT_TC_KIB");
	/* a VM is refused with that line, not made with another size */
	struct tg g;
	setenv("HYVM_BT_TC_KIB", "7", 1);
	CU_ASSERT_NOT_EQUAL(tg_init(&g), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.err, "HYVM_BT_TC_KIB"));
	unsetenv("HYVM_BT_TC_KIB");
	tg_fini(&g);
}

/*
 * 3000 distinct blocks, each adding its own constant to EAX and going on
 * to the next by a direct jump (chained), every third by an indirect one
 * (the jump cache), every eighth through a CLI callout (a decoded
 * instruction kept with its block); the chain runs three times, with an
 * OUT every 250 blocks where the test looks at the cache. A 256 KiB cache
 * holds a few hundred such blocks: it must flush many times, never pass
 * its bound, and the sum must come out right.
 */
#define NBLOCKS 3000
static void test_flush_at_bound(void)
{
	struct tg g;
	const unsigned limit_kib = 256;

	CU_ASSERT_EQUAL_FATAL(tg_init_limit(&g, limit_kib), 0);
	struct bt_tc *tc = cpu_of(&g)->vm->tc;
	CU_ASSERT_EQUAL(tc->limit, limit_kib << 10);

	uint32_t sum = 0;
	g.pc = 0x20000;
	uint32_t start = A2(&g, XOR, REG(EAX), REG(EAX));
	A2(&g, MOV, REG(EDI), I_(3));
	uint32_t first = g.pc;
	for (uint32_t i = 0; i < NBLOCKS; i++) {
		uint32_t k = i * 7 + 1;
		A2(&g, ADD, REG(EAX), I_(k));
		sum += k;
		if (i % 8 == 0)
			A0(&g, CLI);
		if (i % 250 == 249)
			A2(&g, OUT, I_(0x80), REG(AL));
		if (i % 3 == 0) {
			/* mov ebx, next; jmp ebx: the next block's address is
			 * this instruction pair's end (5 + 2 bytes) */
			A2(&g, MOV, REG(EBX), I_(g.pc + 7));
			A1(&g, JMP, REG(EBX));
		} else {
			tg_branch(&g, ZYDIS_MNEMONIC_JMP, g.pc + 5);
		}
	}
	A1(&g, DEC, REG(EDI));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, first);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);

	unsigned outs = 0;
	size_t most = 0;
	while (tg_run(&g) == EXIT_IO && g.exit.io.port == 0x80) {
		outs++;
		if (tc_bytes_used(tc) > most)
			most = tc_bytes_used(tc);
	}
	CU_ASSERT_EQUAL(g.exit.kind, EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	CU_ASSERT_EQUAL(outs, 3 * (NBLOCKS / 250));
	CU_ASSERT_EQUAL((uint32_t)g.st.gpr[HYVM_RAX], 3 * sum);
	CU_ASSERT_TRUE(most <= tc->limit);
	CU_ASSERT_TRUE(most > tc->limit / 4);	/* it was used, not flushed early */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.tc_flushes_full") >= 3);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.tc_flushes") >= tg_counter(&g, "bt.tc_flushes_full"));
	CU_ASSERT_TRUE(tg_counter(&g, "bt.blocks_translated") >= 3 * NBLOCKS);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.tc_bytes") <= tc->limit);
	tg_fini(&g);
}

/* The same guest with the default bound: no flush for want of room. */
static void test_default_bound_no_flush(void)
{
	struct tg g;

	CU_ASSERT_EQUAL_FATAL(tg_init_limit(&g, 0), 0);
	g.pc = 0x20000;
	uint32_t start = A2(&g, XOR, REG(EAX), REG(EAX));
	for (uint32_t i = 0; i < NBLOCKS; i++) {
		A2(&g, ADD, REG(EAX), I_(1));
		tg_branch(&g, ZYDIS_MNEMONIC_JMP, g.pc + 5);
	}
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL((uint32_t)g.st.gpr[HYVM_RAX], NBLOCKS);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.tc_flushes_full"), 0);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.tc_flushes_dead"), 0);
	tg_fini(&g);
}

/* One instruction with a GS segment override. */
static uint32_t asm_gs(struct tg *g, ZydisMnemonic m, ZydisEncoderOperand a, ZydisEncoderOperand b)
{
	return tg_asm_prefixed(g, ZYDIS_ATTRIB_HAS_SEGMENT_GS, m, 2, a, b);
}

static ZydisEncoderOperand mem_bis(ZydisRegister base, ZydisRegister index, uint8_t scale,
				   int64_t disp)
{
	ZydisEncoderOperand o = M_(base, disp, 4);
	o.mem.index = index;
	o.mem.scale = scale;
	return o;
}

/*
 * i386 Linux's TLS: each process has its own GS base, and its code reads
 * gs:0x14 (the stack protector's canary) everywhere. The guest loads GS
 * with 64 different bases in turn (rewriting the descriptor's base) and
 * calls one function that reads through GS in each addressing form,
 * pushes from it, calls through it and writes through it: every read must
 * see its base's bytes, the writes land at base + 0x18, and the function
 * must not be translated again for each base.
 */
#define NBASES 64
static void test_gs_code_shared_by_bases(void)
{
	struct tg g;
	uint32_t want = 0;

	CU_ASSERT_EQUAL_FATAL(tg_init_limit(&g, 0), 0);
	tg_tables(&g, NULL, 0);
	/* GDT entry 6 (0x30): flat data at 0x200000, base bits 15..0 set by the guest */
	uint32_t desc[2] = { 0x0000ffffu, 0x00cf9320u };
	memcpy(g.ram + 0x530, desc, 8);
	for (uint32_t i = 0; i < NBASES; i++) {
		uint32_t v = i * 3 + 1;
		uint32_t helper = 0x31000;
		memcpy(g.ram + 0x200000 + i * 32 + 0x14, &v, 4);
		memcpy(g.ram + 0x200000 + i * 32 + 0x1c, &helper, 4);
		want += 4 * v + 1;
	}
	g.pc = 0x30000;
	/* the function: EDI += gs:[0x14] four ways, + 1 by a call through
	 * gs:[0x1c]; gs:[0x18] = EDI */
	/* mov eax, gs:[0x14] as gcc writes it, 65 a1 14 00 00 00 (Zydis's
	 * encoder would take the shorter 16-bit address form) */
	uint32_t fn = g.pc;
	static const uint8_t canary[] = { 0x65, 0xa1, 0x14, 0x00, 0x00, 0x00 };
	memcpy(g.ram + g.pc, canary, sizeof(canary));
	g.pc += sizeof(canary);
	A2(&g, ADD, REG(EDI), REG(EAX));
	asm_gs(&g, ZYDIS_MNEMONIC_MOV, REG(EAX), mem_bis(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_ESI, 4, 0x10));
	A2(&g, ADD, REG(EDI), REG(EAX));
	asm_gs(&g, ZYDIS_MNEMONIC_ADD, REG(EDI), mem_bis(ZYDIS_REGISTER_EBX, ZYDIS_REGISTER_EBP, 2, 0x10));
	/* push dword gs:[0x14]; pop eax; add edi, eax; call gs:[0x1c] (glibc's
	 * syscall: call *%gs:0x10), which adds 1 */
	static const uint8_t push_call[] = { 0x65, 0xff, 0x35, 0x14, 0x00, 0x00, 0x00, 0x58, 0x01, 0xc7,
					     0x65, 0xff, 0x15, 0x1c, 0x00, 0x00, 0x00 };
	memcpy(g.ram + g.pc, push_call, sizeof(push_call));
	g.pc += sizeof(push_call);
	asm_gs(&g, ZYDIS_MNEMONIC_MOV, mem_bis(ZYDIS_REGISTER_ESP, ZYDIS_REGISTER_NONE, 0, (int32_t)(0x18 - 0x7fffc)),
	       REG(EDI));
	A0(&g, RET);
	g.pc = 0x31000;
	A1(&g, INC, REG(EDI));
	A0(&g, RET);

	g.pc = 0x20000;
	uint32_t start = A2(&g, XOR, REG(EDI), REG(EDI));
	A2(&g, MOV, REG(ESI), I_(1));	/* [esi*4 + 0x10] = 0x14 */
	A2(&g, MOV, REG(EBX), I_(2));	/* [ebx + ebp*2 + 0x10] = 0x14 */
	A2(&g, MOV, REG(EBP), I_(1));
	A2(&g, XOR, REG(ECX), REG(ECX));
	uint32_t loop = A2(&g, MOV, REG(EAX), REG(ECX));
	A2(&g, SHL, REG(EAX), I_(5));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, 0x532, 2), REG(AX));	/* base bits 15..0 */
	A2(&g, MOV, REG(EDX), I_(0x30));
	A2(&g, MOV, REG(GS), REG(DX));
	tg_branch(&g, ZYDIS_MNEMONIC_CALL, fn);
	A1(&g, INC, REG(ECX));
	A2(&g, CMP, REG(ECX), I_(NBASES));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.gdtr.limit = 0x37;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	uint64_t before = tg_counter(&g, "bt.blocks_translated");
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	CU_ASSERT_EQUAL((uint32_t)g.st.gpr[HYVM_RDI], want);
	/* each base's write: the running sum after its call */
	uint32_t run = 0, got;
	for (uint32_t i = 0; i < NBASES; i++) {
		run += 4 * (i * 3 + 1) + 1;
		memcpy(&got, g.ram + 0x200000 + i * 32 + 0x18, 4);
		if (got != run) {
			CU_FAIL("a write through GS missed its base");
			break;
		}
	}
	/* a handful of blocks, not one function copy per base */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.blocks_translated") - before < 16);
	tg_fini(&g);
}

UNIT_SUITE(bt_tc_bound, NULL, NULL,
	   UNIT_TEST(test_limit_setting),
	   UNIT_TEST(test_flush_at_bound),
	   UNIT_TEST(test_default_bound_no_flush),
	   UNIT_TEST(test_gs_code_shared_by_bases))

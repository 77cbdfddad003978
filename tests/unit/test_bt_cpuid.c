/*
 * bt's translated CPUID against hyvm_cpuid_lookup, the one definition of
 * the answer: basic, hypervisor and extended leaves, indexed leaves under
 * several ECX values, leaves above the range under Intel's rule (the
 * highest basic leaf) and AMD's (zeros), absent leaves, leaves that share
 * a slot of bt's fast table (bt.h, struct bt_cpuid_fast), and the CPU
 * models hyvm builds. Every run checks all four outputs, that ESI, EDI,
 * EBP and ESP survive, and that RFLAGS (arithmetic flags, DF) is what it
 * was: CPUID changes no flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"
#include "bt/bt.h"
#include "cpu/cpu_model.h"

struct engine_vcpu { struct bt_cpu *cpu; };	/* engine_bt.c's first field */

TG_SUITE_FIXTURE(g)

static struct bt_cpu *cpu_of(struct tg *t)
{
	return ((struct engine_vcpu *)t->vcpu)->cpu;
}

/* bt: one vCPU, initial APIC ID 0 in CPUID.1:EBX[31:24] */
static void expect(const struct hyvm_cpuid_table *t, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	hyvm_cpuid_lookup(t, leaf, sub, r);
	if (leaf == 1)
		r[1] &= 0x00ffffffu;
}

static const uint32_t leaves[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x14, 0x1f, 0x20,
	0x7f, 0x80, 0x81, 0xff, 0x100, 0x101, 0x17f, 0x180, 0x1ff, 0x200, 0xffff, 0x10000,
	0x40000000, 0x40000001, 0x40000002, 0x40000080,
	0x80000000, 0x80000001, 0x80000002, 0x80000003, 0x80000004, 0x80000005,
	0x80000006, 0x80000007, 0x80000008, 0x80000009, 0x8000000a, 0x8000001d,
	0x8000001e, 0x80000021, 0x8000007f, 0x800000ff, 0x80000100, 0x80000180,
	0x800001ff, 0x80000200,
	0x7f000001, 0x7f000081, 0x7f000082,	/* slots of 0x80000000.., 0, 1 */
	0x00010080, 0x01000000, 0x12345678, 0xc0000000, 0xfffffffe, 0xffffffff,
};
static const uint32_t subs[] = { 0, 1, 2, 3, 5, 0x80000000u, 0xffffffffu };
#define NL (sizeof(leaves) / sizeof(leaves[0]))
#define NS (sizeof(subs) / sizeof(subs[0]))

#define FL_ARITH 0x8d5u	/* CF PF AF ZF SF OF */
#define FL_DF 0x400u

static void add(struct hyvm_cpuid_table *t, uint32_t fn, uint32_t idx, uint32_t flags,
		uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	t->entries[t->nent++] = (struct hyvm_cpuid_entry){ .function = fn, .index = idx,
		.flags = flags, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

/* Leaves of every kind; the highest basic leaf (0xd) is indexed, so
 * Intel's out-of-range answer is its subleaf 0. */
static void kinds_table(struct hyvm_cpuid_table *t, uint32_t rule, bool hv)
{
	memset(t, 0, sizeof(*t));
	t->out_of_range = rule;
	add(t, 0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	add(t, 1, 0, 0, 0x000806f8, 0xff010800, 0x80202201, 0x178bfbff);
	add(t, 2, 0, 0, 0x00feff01, 0x000000f0, 0, 0);
	for (uint32_t i = 0; i < 3; i++)
		add(t, 4, i, HYVM_CPUID_INDEXED, 0x100 + i, 0x200 + i, 0x300 + i, 0x400 + i);
	add(t, 7, 0, HYVM_CPUID_INDEXED, 1, 0x029c6fbf, 0x40000000, 0xbc000400);
	add(t, 7, 1, HYVM_CPUID_INDEXED, 0x1000, 0, 0, 0);
	add(t, 0xb, 0, HYVM_CPUID_INDEXED, 1, 1, 0x100, 0);
	add(t, 0xb, 1, HYVM_CPUID_INDEXED, 4, 2, 0x201, 0);
	add(t, 0xd, 0, HYVM_CPUID_INDEXED, 7, 0x340, 0x340, 0);
	add(t, 0xd, 1, HYVM_CPUID_INDEXED, 0xf, 0x3c0, 0, 0);
	if (hv) {
		add(t, 0x40000000, 0, 0, 0x40000001, 0x6d767968, 0x6d767968, 0x6d767968);
		add(t, 0x40000001, 0, 0, 0xabcd, 0, 0, 0);
	}
	add(t, 0x80000000, 0, 0, 0x80000008, 0x68747541, 0x444d4163, 0x69746e65);
	add(t, 0x80000001, 0, 0, 0x00a00f11, 0x20000000, 0x75c237ff, 0x2fd3fbff);
	add(t, 0x80000002, 0, 0, 0x20444d41, 0x657a7952, 0x2037206e, 0x30303835);
	add(t, 0x80000003, 0, 0, 0x2d382058, 0x65726f43, 0x6f725020, 0x73736563);
	add(t, 0x80000004, 0, 0, 0x2020726f, 0x20202020, 0x20202020, 0x00202020);
	add(t, 0x80000008, 0, 0, 0x00003030, 0x111ef657, 0x0000500f, 0);
}

/* Ranges wider than bt's fast table: basic 0..0x1ff, extended to
 * 0x800001ff, a leaf present beyond the first 256 of each. */
static void wide_table(struct hyvm_cpuid_table *t, uint32_t rule)
{
	memset(t, 0, sizeof(*t));
	t->out_of_range = rule;
	add(t, 0, 0, 0, 0x1ff, 1, 2, 3);
	add(t, 1, 0, 0, 0x11, 0x12345678, 0x13, 0x14);
	add(t, 0x180, 0, 0, 0x180, 0x181, 0x182, 0x183);
	add(t, 0x80000000, 0, 0, 0x800001ff, 4, 5, 6);
	add(t, 0x80000180, 0, 0, 0x80000180, 7, 8, 9);
	add(t, 0x80000001, 0, HYVM_CPUID_INDEXED, 0xa, 0xb, 0xc, 0xd);
}

/* The fast table holds only ECX-independent answers, each bt_cpuid's. */
static int check_fast_table(const struct hyvm_cpuid_table *t)
{
	const struct bt_cpuid_fast *f = &cpu_of(&g)->cpuid_fast;
	int bad = 0;

	for (unsigned s = 0; s < BT_CPUID_SLOTS; s++) {
		uint32_t leaf = -f->neg_leaf[s], r[4];
		if (bt_cpuid_slot(leaf) != s)
			continue;	/* unused */
		for (unsigned j = 0; j < NS; j++) {
			expect(t, leaf, subs[j], r);
			if (r[0] != f->eax[s] || r[1] != f->ebx[s] || r[2] != f->ecx[s] ||
			    r[3] != f->edx[s]) {
				if (bad++ < 5)
					fprintf(stderr, "fast slot %#x leaf %#x sub %#x wrong\n", s,
						leaf, subs[j]);
			}
		}
	}
	return bad;
}

static bool fast_has(uint32_t leaf)
{
	return cpu_of(&g)->cpuid_fast.neg_leaf[bt_cpuid_slot(leaf)] == -leaf;
}

/* cpuid; out 0xf4, al at 0x40000, assembled once */
static uint32_t one_cpuid_code(void)
{
	static uint32_t start;

	if (!start) {
		g.pc = 0x40000;
		start = A0(&g, CPUID);
		A2(&g, OUT, I_(0xf4), REG(AL));
	}
	return start;
}

/* Every (leaf, ECX) pair as its own run: fresh translation, RFLAGS and
 * the other registers seeded, all checked after. */
static int run_each(const struct hyvm_cpuid_table *t, const char *what)
{
	uint32_t start = one_cpuid_code();
	int bad = 0;

	if (bt_engine_ops.set_cpuid(g.vcpu, t, g.err, sizeof(g.err))) {
		fprintf(stderr, "%s: set_cpuid: %s\n", what, g.err);
		return 1;
	}
	bad += check_fast_table(t);
	for (unsigned i = 0; i < NL; i++)
		for (unsigned j = 0; j < NS; j++) {
			static const uint32_t flpat[4] = { 0, FL_ARITH | FL_DF, 0x844 /* OF ZF PF */,
							   0x491 /* DF SF AF CF */ };
			uint32_t fl = 0x2 | flpat[(i + j) & 3], r[4];
			tg_flat_state(&g, start);
			g.st.gpr[HYVM_RAX] = leaves[i];
			g.st.gpr[HYVM_RCX] = subs[j];
			g.st.gpr[HYVM_RBX] = 0x11111111;
			g.st.gpr[HYVM_RDX] = 0x22222222;
			g.st.gpr[HYVM_RSI] = 0x33333333;
			g.st.gpr[HYVM_RDI] = 0x44444444;
			g.st.gpr[HYVM_RBP] = 0x55555555;
			g.st.rflags = fl;
			if (tg_start(&g) || tg_run(&g) != EXIT_IO) {
				fprintf(stderr, "%s: leaf %#x: no exit (%s)\n", what, leaves[i], g.err);
				return bad + 1;
			}
			expect(t, leaves[i], subs[j], r);
			if (g.st.gpr[HYVM_RAX] != r[0] || g.st.gpr[HYVM_RBX] != r[1] ||
			    g.st.gpr[HYVM_RCX] != r[2] || g.st.gpr[HYVM_RDX] != r[3] ||
			    g.st.gpr[HYVM_RSI] != 0x33333333 || g.st.gpr[HYVM_RDI] != 0x44444444 ||
			    g.st.gpr[HYVM_RBP] != 0x55555555 || g.st.gpr[HYVM_RSP] != 0x80000 ||
			    (g.st.rflags & (FL_ARITH | FL_DF | 0x2)) != fl) {
				if (bad++ < 5)
					fprintf(stderr, "%s: cpuid(%#x, %#x) = %08x %08x %08x %08x "
						"flags %#llx, want %08x %08x %08x %08x flags %#x\n",
						what, leaves[i], subs[j],
						(unsigned)g.st.gpr[HYVM_RAX],
						(unsigned)g.st.gpr[HYVM_RBX],
						(unsigned)g.st.gpr[HYVM_RCX],
						(unsigned)g.st.gpr[HYVM_RDX],
						(unsigned long long)g.st.rflags, r[0], r[1], r[2], r[3],
						fl);
			}
		}
	return bad;
}

static void test_cpuid_kinds_intel(void)
{
	static struct hyvm_cpuid_table t;

	kinds_table(&t, HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC, true);
	CU_ASSERT_EQUAL(run_each(&t, "intel"), 0);
	/* both paths were taken: plain leaves from the table, indexed ones not */
	CU_ASSERT_TRUE(fast_has(0) && fast_has(1) && fast_has(3) && fast_has(0x80000000) &&
		       fast_has(0x40000001) && fast_has(0x80000005));
	CU_ASSERT_FALSE(fast_has(4) || fast_has(7) || fast_has(0xb) || fast_has(0xd) ||
			fast_has(0xe) || fast_has(0x80000009));
	CU_ASSERT_EQUAL(cpu_of(&g)->cpuid_fast.ebx[1], 0x00010800);	/* APIC ID 0 */
}

static void test_cpuid_kinds_amd(void)
{
	static struct hyvm_cpuid_table t;

	kinds_table(&t, HYVM_CPUID_OUT_OF_RANGE_ZERO, false);
	CU_ASSERT_EQUAL(run_each(&t, "amd"), 0);
	CU_ASSERT_FALSE(fast_has(0x40000000));
}

static void test_cpuid_wide_ranges(void)
{
	static struct hyvm_cpuid_table t;

	wide_table(&t, HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC);
	CU_ASSERT_EQUAL(run_each(&t, "wide intel"), 0);
	wide_table(&t, HYVM_CPUID_OUT_OF_RANGE_ZERO);
	CU_ASSERT_EQUAL(run_each(&t, "wide amd"), 0);
}

/* The models hyvm builds (hyvm run --cpu), with and without long mode. */
static void test_cpuid_models(void)
{
	for (const char *const *n = cpu_model_names(); *n; n++)
		for (int lm = 0; lm < 2; lm++) {
			struct cpu_model m;
			char what[64];
			if (cpu_model_build(*n, &(struct cpu_model_limits){ .long_mode = lm }, &m,
					    g.err, sizeof(g.err)) < 0) {
				CU_FAIL("cpu_model_build");
				continue;
			}
			snprintf(what, sizeof(what), "%s%s", *n, lm ? " +lm" : "");
			CU_ASSERT_EQUAL(run_each(&m.cpuid, what), 0);
			CU_ASSERT_TRUE(fast_has(0));
		}
}

/* One translated block runs CPUID on a list of (leaf, ECX) pairs, so the
 * same host code answers hits and misses in turn; the flags a SUB left
 * before it are the flags after it. */
static void test_cpuid_loop_one_block(void)
{
	static struct hyvm_cpuid_table t;
	const uint32_t in = 0x100000, out = 0x200000, n = NL * NS;
	int bad = 0;

	kinds_table(&t, HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC, true);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.set_cpuid(g.vcpu, &t, g.err, sizeof(g.err)), 0);
	for (unsigned i = 0; i < NL; i++)
		for (unsigned j = 0; j < NS; j++) {
			memcpy(g.ram + in + 8 * (i * NS + j), &leaves[i], 4);
			memcpy(g.ram + in + 8 * (i * NS + j) + 4, &subs[j], 4);
		}
	g.pc = 0x48000;
	uint32_t start = A2(&g, MOV, REG(ESI), I_(in));
	A2(&g, MOV, REG(EDI), I_(out));
	A2(&g, MOV, REG(EBP), I_(n));
	uint32_t loop = A2(&g, MOV, REG(EAX), M_(ZYDIS_REGISTER_ESI, 0, 4));
	A2(&g, MOV, REG(ECX), M_(ZYDIS_REGISTER_ESI, 4, 4));
	A2(&g, MOV, REG(EBX), REG(EAX));
	A2(&g, SUB, REG(EBX), REG(ECX));
	A0(&g, PUSHFD);
	A1(&g, POP, M_(ZYDIS_REGISTER_EDI, 16, 4));
	A0(&g, CPUID);
	A0(&g, PUSHFD);
	A1(&g, POP, M_(ZYDIS_REGISTER_EDI, 20, 4));
	A2(&g, MOV, M_(ZYDIS_REGISTER_EDI, 0, 4), REG(EAX));
	A2(&g, MOV, M_(ZYDIS_REGISTER_EDI, 4, 4), REG(EBX));
	A2(&g, MOV, M_(ZYDIS_REGISTER_EDI, 8, 4), REG(ECX));
	A2(&g, MOV, M_(ZYDIS_REGISTER_EDI, 12, 4), REG(EDX));
	A2(&g, LEA, REG(ESI), M_(ZYDIS_REGISTER_ESI, 8, 4));
	A2(&g, LEA, REG(EDI), M_(ZYDIS_REGISTER_EDI, 24, 4));
	A1(&g, DEC, REG(EBP));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBP], 0);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t got[6], r[4], leaf, sub;
		memcpy(&leaf, g.ram + in + 8 * k, 4);
		memcpy(&sub, g.ram + in + 8 * k + 4, 4);
		memcpy(got, g.ram + out + 24 * k, sizeof(got));
		expect(&t, leaf, sub, r);
		if (memcmp(got, r, sizeof(r)) || got[4] != got[5]) {
			if (bad++ < 5)
				fprintf(stderr, "loop: cpuid(%#x, %#x) = %08x %08x %08x %08x "
					"flags %#x -> %#x\n", leaf, sub, got[0], got[1], got[2],
					got[3], got[4], got[5]);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* the SUBs left varied flags: not every pair saw the same */
	uint32_t f0, fk;
	bool varied = false;
	memcpy(&f0, g.ram + out + 16, 4);
	for (uint32_t k = 1; k < n && !varied; k++) {
		memcpy(&fk, g.ram + out + 24 * k + 16, 4);
		varied = fk != f0;
	}
	CU_ASSERT_TRUE(varied);
}

UNIT_SUITE(bt_cpuid, setup, teardown,
	   UNIT_TEST(test_cpuid_kinds_intel),
	   UNIT_TEST(test_cpuid_kinds_amd),
	   UNIT_TEST(test_cpuid_wide_ranges),
	   UNIT_TEST(test_cpuid_models),
	   UNIT_TEST(test_cpuid_loop_one_block));

/*
 * bt's shadow MMU through the engine: the per-CR3 address-space cache
 * (a switch back is a hit; more directories than BT_NR_SPACES in turn
 * miss every time, least recently used first, and stay correct), the
 * non-modifying walk that decides whether a mapping may be made ahead of
 * an access, a PTE rewritten with A and D set followed by INVLPG (mapped
 * again at the write, no host fault at the touch), a fresh entry next to
 * a mapped one mapped at its write, and a fault inside a
 * 4M page mapping its aligned 64 KiB at once.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"
#include "bt/bt.h"
#include "bt/memory/mmu.h"

struct engine_vcpu { struct bt_cpu *cpu; };	/* engine_bt.c's first field */

TG_SUITE_FIXTURE(g)

static void put32(uint32_t at, uint32_t v) { memcpy(g.ram + at, &v, 4); }
static uint32_t get32(uint32_t at) { uint32_t v; memcpy(&v, g.ram + at, 4); return v; }

#define DIRS	0x100000u	/* page directories, one page each */
#define TABLES	0x180000u	/* their tables for 4M..8M */
#define DATA	0x200000u	/* one data page per directory */
#define LIN	0x400000u

/* n directories: 0..4M identity (a 4M page), 4M..8M through a table of
 * their own mapping LIN to data page k, which holds k + 1. */
static void make_dirs(unsigned n)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t pd = DIRS + k * 4096, pt = TABLES + k * 4096;
		memset(g.ram + pd, 0, 4096);
		memset(g.ram + pt, 0, 4096);
		put32(pd, 0x00000083);
		put32(pd + 4, pt | 0x3);
		put32(pt, (DATA + k * 4096) | 0x3);
		put32(DATA + k * 4096, k + 1);
	}
}

/* Loads CR3 = each of n directories in turn, rounds times, adding [LIN]
 * to EBX after each load; returns the exit kind. */
static int run_cr3_rounds(unsigned n, unsigned rounds)
{
	make_dirs(n);
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	A2(&g, MOV, REG(ESI), I_(rounds));
	uint32_t outer = A2(&g, MOV, REG(ECX), I_(n));
	A2(&g, MOV, REG(EAX), I_(DIRS));
	uint32_t inner = A2(&g, MOV, REG(CR3), REG(EAX));
	A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_NONE, LIN, 4));
	A2(&g, ADD, REG(EAX), I_(4096));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, inner);
	A1(&g, DEC, REG(ESI));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, outer);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.cr3 = DIRS;
	g.st.cr4 = CR4_PSE;
	g.st.cr0 = 0x80010011;
	if (tg_start(&g))
		return -1;
	return tg_run(&g);
}

static void test_cr3_switch_back_hits(void)
{
	uint64_t hits = tg_counter(&g, "bt.cr3_cache_hits");
	uint64_t misses = tg_counter(&g, "bt.cr3_cache_misses");

	CU_ASSERT_EQUAL_FATAL(run_cr3_rounds(2, 100), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 100 * (1 + 2));
	/* the second directory misses once; every other load is a hit */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.cr3_cache_misses") - misses <= 2);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.cr3_cache_hits") - hits >= 198);
}

static void test_cr3_cache_bound(void)
{
	const unsigned n = BT_NR_SPACES + 1, rounds = 10;
	uint64_t hits = tg_counter(&g, "bt.cr3_cache_hits");
	uint64_t misses = tg_counter(&g, "bt.cr3_cache_misses");

	CU_ASSERT_EQUAL_FATAL(run_cr3_rounds(n, rounds), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], rounds * n * (n + 1) / 2);
	/* one more address space than kept, loaded in turn: the least
	 * recently used is always the next one wanted, so (but for the
	 * first load, the space the run started in) every load misses */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.cr3_cache_misses") - misses >= rounds * n - 1);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.cr3_cache_hits") - hits <= 1);
}

static void test_walk_accessed_sets_nothing(void)
{
	struct bt_cpu *cpu = g.vcpu->cpu;
	struct mmu_walk w;

	make_dirs(1);
	cpu->arch.cr3 = DIRS;
	cpu->arch.cr0 = 0x80010011;
	cpu->arch.cr4 = CR4_PSE;
	put32(DIRS + 4, TABLES | 0x3);			/* A clear in the PDE */
	put32(TABLES, DATA | 0x23);			/* A set in the PTE */
	CU_ASSERT_EQUAL(mmu_walk_accessed(cpu, LIN, false, &w), -1);
	CU_ASSERT_EQUAL(get32(DIRS + 4), TABLES | 0x3);	/* nothing set */
	put32(DIRS + 4, TABLES | 0x23);
	CU_ASSERT_EQUAL(mmu_walk_accessed(cpu, LIN + 0x123, false, &w), 0);
	CU_ASSERT_EQUAL(w.phys, DATA + 0x123);
	CU_ASSERT_FALSE(w.dirty);
	CU_ASSERT_EQUAL(get32(TABLES), DATA | 0x23);	/* still no D */
	put32(TABLES, DATA | 0x3);			/* A clear in the PTE */
	CU_ASSERT_EQUAL(mmu_walk_accessed(cpu, LIN, false, &w), -1);
	CU_ASSERT_EQUAL(get32(TABLES), DATA | 0x3);
	put32(TABLES, DATA | 0x2);			/* not present */
	CU_ASSERT_EQUAL(mmu_walk_accessed(cpu, LIN, false, &w), -1);
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x123456, 0, false, &w), 0);	/* 4M page */
	CU_ASSERT_TRUE(w.large);
	cpu->arch.cr0 = 0x11;
}

/* The PTE of LIN re-pointed among four pages with A and D set, INVLPG,
 * then a read and a write through LIN, 100 times: each write updates the
 * mapping in place, so the touches take no host fault. */
static void test_pte_update_in_place(void)
{
	const uint32_t pt = TABLES;

	make_dirs(1);
	for (uint32_t k = 0; k < 4; k++) {
		memset(g.ram + DATA + k * 4096, 0, 4096);
		put32(DATA + k * 4096, k + 1);
	}
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	A2(&g, MOV, REG(ECX), I_(100));
	uint32_t loop = A2(&g, MOV, REG(EAX), REG(ECX));
	A2(&g, AND, REG(EAX), I_(3));
	A2(&g, SHL, REG(EAX), I_(12));
	A2(&g, ADD, REG(EAX), I_(DATA | 0x63));	/* P, W, A, D */
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, pt, 4), REG(EAX));
	A1(&g, INVLPG, M_(ZYDIS_REGISTER_NONE, LIN, 1));
	A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_NONE, LIN, 4));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, LIN + 4, 4), REG(ECX));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.cr3 = DIRS;
	g.st.cr4 = CR4_PSE;
	g.st.cr0 = 0x80010011;
	uint64_t updates = tg_counter(&g, "bt.shadow_mappings_updated");
	uint64_t faults = tg_counter(&g, "bt.shadow_faults_hidden");
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 250);
	for (uint32_t k = 0; k < 4; k++)
		CU_ASSERT_EQUAL(get32(DATA + k * 4096 + 4), k == 0 ? 4 : k);
	/* the first rewrites trap and are traced; once the store is a
	 * callout (8 traps) every write updates the mapping */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_mappings_updated") - updates >= 80);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_faults_hidden") - faults <= 30);
}

/* The PTE of LIN + 4K cleared, INVLPG, then made present with A and D
 * set and read at once, 100 times, next to LIN's mapped entry: each
 * fresh entry is mapped at its write (the neighbour gives its linear
 * page), so the reads take no host fault. */
static void test_fresh_entry_mapped_at_write(void)
{
	const uint32_t pt = TABLES;

	make_dirs(1);
	for (uint32_t k = 0; k < 4; k++)
		put32(DATA + k * 4096, k + 1);
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_NONE, LIN, 4));	/* the neighbour: 1 */
	A2(&g, MOV, REG(ECX), I_(100));
	uint32_t loop = A2(&g, MOV, REG(EAX), REG(ECX));
	A2(&g, AND, REG(EAX), I_(3));
	A2(&g, SHL, REG(EAX), I_(12));
	A2(&g, ADD, REG(EAX), I_(DATA | 0x63));	/* P, W, A, D */
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, pt + 4, 4), I_(0));
	A1(&g, INVLPG, M_(ZYDIS_REGISTER_NONE, LIN + 4096, 1));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, pt + 4, 4), REG(EAX));
	A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_NONE, LIN + 4096, 4));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.cr3 = DIRS;
	g.st.cr4 = CR4_PSE;
	g.st.cr0 = 0x80010011;
	uint64_t ahead = tg_counter(&g, "bt.shadow_mapped_at_pte_write");
	uint64_t faults = tg_counter(&g, "bt.shadow_faults_hidden");
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 1 + 250);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_mapped_at_pte_write") - ahead >= 80);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_faults_hidden") - faults <= 30);
}

/* Reads one word from each of the 16 pages of the 64 KiB at 0x250000 (in
 * the identity 4M page): one fill maps them all. */
static void test_large_page_run(void)
{
	make_dirs(1);
	for (uint32_t k = 0; k < 16; k++)
		put32(0x250000 + k * 4096, k);
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	A2(&g, MOV, REG(ESI), I_(0x250000));
	A2(&g, MOV, REG(ECX), I_(16));
	uint32_t loop = A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_ESI, 0, 4));
	A2(&g, ADD, REG(ESI), I_(4096));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.cr3 = DIRS;
	g.st.cr4 = CR4_PSE;
	g.st.cr0 = 0x80010011;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	uint64_t faults = tg_counter(&g, "bt.shadow_faults_hidden");
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 15 * 16 / 2);
	/* code page, stack, and one for the whole 64 KiB of data */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_faults_hidden") - faults <= 4);
}

UNIT_SUITE(bt_shadow, setup, teardown,
	   UNIT_TEST(test_cr3_switch_back_hits),
	   UNIT_TEST(test_cr3_cache_bound),
	   UNIT_TEST(test_walk_accessed_sets_nothing),
	   UNIT_TEST(test_pte_update_in_place),
	   UNIT_TEST(test_fresh_entry_mapped_at_write),
	   UNIT_TEST(test_large_page_run));

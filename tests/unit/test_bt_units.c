/*
 * bt internals one at a time: the decoder glue's classification, the
 * shadow MMU's page walks (2-level 4K/4M, PAE, A/D bits, error codes),
 * and chaining (the patched jump lands on the target block).
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"
#include "bt/bt.h"
#include "bt/translate/decode.h"
#include "bt/memory/mmu.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/translator.h"

struct engine_vcpu { struct bt_cpu *cpu; };	/* engine_bt.c's first field */

TG_SUITE_FIXTURE(g)

static struct bt_cpu *cpu_of(struct tg *t)
{
	return ((struct engine_vcpu *)t->vcpu)->cpu;
}

static enum insn_class classify(const uint8_t *bytes, unsigned len)
{
	ZydisDecoder dec;
	struct bt_insn d;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_COMPAT_32, ZYDIS_STACK_WIDTH_32);
	if (decode_insn(&dec, bytes, len, &d))
		return (enum insn_class)-1;
	return insn_classify(&d);
}

#define CLASS(...) ({ static const uint8_t b_[] = { __VA_ARGS__ }; classify(b_, sizeof(b_)); })

static void test_decoder_classes(void)
{
	CU_ASSERT_EQUAL(CLASS(0xfa), IC_CALLOUT);			/* cli */
	CU_ASSERT_EQUAL(CLASS(0x9c), IC_CALLOUT);			/* pushfd */
	CU_ASSERT_EQUAL(CLASS(0x0f, 0x20, 0xc0), IC_CALLOUT);		/* mov eax, cr0 */
	CU_ASSERT_EQUAL(CLASS(0x8e, 0xd8), IC_CALLOUT);			/* mov ds, ax */
	CU_ASSERT_EQUAL(CLASS(0x8c, 0xc8), IC_CALLOUT);			/* mov eax, cs */
	CU_ASSERT_EQUAL(CLASS(0xe6, 0x80), IC_CALLOUT);			/* out 0x80, al */
	CU_ASSERT_EQUAL(CLASS(0xcd, 0x80), IC_CALLOUT);			/* int 0x80 */
	CU_ASSERT_EQUAL(CLASS(0xea, 0, 0, 0, 0, 8, 0), IC_CALLOUT);	/* jmp far 8:0 */
	CU_ASSERT_EQUAL(CLASS(0x0f, 0x0b), IC_CALLOUT);			/* ud2: the callout raises #UD */
	CU_ASSERT_EQUAL(CLASS(0x0f, 0x01, 0xc1), IC_UNSUPPORTED);	/* vmcall: #UD, counted */
	CU_ASSERT_EQUAL(CLASS(0x8b, 0x43, 0x04), IC_NATIVE);		/* mov eax, [ebx+4] */
	CU_ASSERT_EQUAL(CLASS(0x01, 0xd8), IC_NATIVE);			/* add eax, ebx */
	CU_ASSERT_EQUAL(CLASS(0x0f, 0x31), IC_CALLOUT);			/* rdtsc: virtual TSC */
	CU_ASSERT_EQUAL(CLASS(0x50), IC_PUSH);
	CU_ASSERT_EQUAL(CLASS(0x8f, 0x00), IC_POP);			/* pop [eax] */
	CU_ASSERT_EQUAL(CLASS(0x66, 0x50), IC_CALLOUT);			/* push ax: 16-bit, in C */
	CU_ASSERT_EQUAL(CLASS(0xe8, 0, 0, 0, 0), IC_CALL_REL);
	CU_ASSERT_EQUAL(CLASS(0xff, 0xd0), IC_CALL_IND);		/* call eax */
	CU_ASSERT_EQUAL(CLASS(0xff, 0x20), IC_JMP_IND);			/* jmp [eax] */
	CU_ASSERT_EQUAL(CLASS(0xc3), IC_RET);
	CU_ASSERT_EQUAL(CLASS(0x74, 0x00), IC_JCC);
	CU_ASSERT_EQUAL(CLASS(0xe2, 0xfe), IC_LOOP);
	CU_ASSERT_EQUAL(CLASS(0xf3, 0xa5), IC_STRING);			/* rep movsd */
	CU_ASSERT_EQUAL(CLASS(0xc9), IC_LEAVE);
	CU_ASSERT_EQUAL(CLASS(0xf3, 0x0f, 0x1e, 0xfb), IC_NOP);		/* endbr32 */
	CU_ASSERT_EQUAL(CLASS(0xf2, 0x0f, 0x10, 0x00), IC_NATIVE);	/* movsd xmm0, [eax]: SSE, not a string op */
}

/* Page tables in test RAM: PD at 0x100000, PT at 0x101000. */
#define PD 0x100000u
#define PT 0x101000u

static void put32(uint32_t pa, uint32_t v) { memcpy(g.ram + pa, &v, 4); }
static uint32_t get32(uint32_t pa) { uint32_t v; memcpy(&v, g.ram + pa, 4); return v; }

static void test_walk_2level(void)
{
	struct bt_cpu *cpu = cpu_of(&g);
	struct mmu_walk w;

	memset(g.ram + PD, 0, 8192);
	put32(PD + 1 * 4, PT | 0x7);			/* 4M..8M: page table, user, writable */
	put32(PT + 5 * 4, 0x345000 | 0x5);		/* 0x405000 -> 0x345000, user, read-only */
	put32(PD + 2 * 4, 0x00c00000 | 0x83);		/* 8M..12M: 4M page, supervisor */
	cpu->arch.cr3 = PD;
	cpu->arch.cr0 = 0x80010011;
	cpu->arch.cr4 = CR4_PSE;

	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x405123, 0, true, &w), 0);
	CU_ASSERT_EQUAL(w.phys, 0x345123);
	CU_ASSERT_FALSE(w.writable);
	CU_ASSERT_EQUAL(get32(PD + 4) & 0x20, 0x20);	/* A on the PDE */
	CU_ASSERT_EQUAL(get32(PT + 20) & 0x60, 0x20);	/* A, not D, on the PTE */
	/* a user write to a read-only page: #PF P|W|U */
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x405000, MMU_WRITE, true, &w), -1);
	CU_ASSERT_EQUAL(w.error, PFERR_P | PFERR_W | PFERR_U);
	/* supervisor write with CR0.WP: also a fault; without WP: allowed, and D */
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x405000, MMU_WRITE, false, &w), -1);
	cpu->arch.cr0 &= ~CR0_WP;
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x405000, MMU_WRITE, false, &w), 0);
	CU_ASSERT_EQUAL(get32(PT + 20) & 0x40, 0x40);
	cpu->arch.cr0 |= CR0_WP;
	/* not present: error code without P */
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x406000, 0, false, &w), -1);
	CU_ASSERT_EQUAL(w.error, 0);
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x1000, MMU_WRITE, true, &w), -1);
	CU_ASSERT_EQUAL(w.error, PFERR_W | PFERR_U);
	/* 4M page: phys offset within it, user access refused */
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x00923456, MMU_WRITE, false, &w), 0);
	CU_ASSERT_EQUAL(w.phys, 0x00d23456);
	CU_ASSERT_EQUAL(w.nentries, 1);			/* the PDE alone maps a 4M page */
	CU_ASSERT_EQUAL(get32(PD + 8) & 0x60, 0x60);
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x00923456, 0, true, &w), -1);
	CU_ASSERT_EQUAL(w.error, PFERR_P | PFERR_U);
	/* PS without CR4.PSE is a page-table pointer (to 0xc00000, all zero) */
	cpu->arch.cr4 = 0;
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x00923456, 0, false, &w), -1);
	CU_ASSERT_EQUAL(w.error, 0);
	cpu->arch.cr0 = 0x11;
}

static void test_walk_pae(void)
{
	struct bt_cpu *cpu = cpu_of(&g);
	struct mmu_walk w;
	uint64_t e;
	const uint32_t pdpt = 0x102000, pd = 0x103000, pt = 0x104000;

	memset(g.ram + pdpt, 0, 0x3000);
	e = pd | 1;
	memcpy(g.ram + pdpt + 8 * 1, &e, 8);		/* 1G..2G */
	e = pt | 7;
	memcpy(g.ram + pd + 8 * 3, &e, 8);		/* 1G + 6M */
	e = 0x7000 | 7 | (1ull << 63);			/* NX page */
	memcpy(g.ram + pt + 8 * 2, &e, 8);
	e = 0x00400000 | 0x83;				/* 2M page at 1G + 8M */
	memcpy(g.ram + pd + 8 * 4, &e, 8);
	cpu->arch.cr3 = pdpt;
	cpu->arch.cr0 = 0x80010011;
	cpu->arch.cr4 = CR4_PAE;
	cpu->arch.efer = 1u << 11;

	uint32_t lin = 0x40000000u + (3u << 21) + (2u << 12) + 0x10;
	CU_ASSERT_EQUAL(mmu_walk(cpu, lin, MMU_WRITE, true, &w), 0);
	CU_ASSERT_EQUAL(w.phys, 0x7010);
	CU_ASSERT_EQUAL(mmu_walk(cpu, lin, MMU_FETCH, false, &w), -1);
	CU_ASSERT_EQUAL(w.error, PFERR_P | 0x10);
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x40000000u + (4u << 21) + 0x1234, 0, false, &w), 0);
	CU_ASSERT_EQUAL(w.phys, 0x00401234);
	CU_ASSERT_EQUAL(mmu_walk(cpu, 0x80000000u, 0, false, &w), -1);	/* PDPTE 2 absent */
	cpu->arch.cr0 = 0x11;
	cpu->arch.cr4 = 0;
	cpu->arch.efer = 0;
}

/* Two blocks, the first ending in a jmp to the second: after a run the
 * first block's jump points straight at the second block's code. */
static void test_chaining_patches_jump(void)
{
	g.pc = 0x20000;
	uint32_t second = 0x20100;
	uint32_t first = A2(&g, MOV, REG(EAX), I_(1));
	tg_branch(&g, ZYDIS_MNEMONIC_JMP, second);
	g.pc = second;
	A2(&g, ADD, REG(EAX), I_(2));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, first);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 3);

	struct bt_cpu *cpu = cpu_of(&g);
	struct bt_tc *tc = cpu->vm->tc;
	struct bt_block *a = tc_lookup(tc, cpu, first, first, cpu_mode_key(cpu));
	struct bt_block *b = tc_lookup(tc, cpu, second, second, cpu_mode_key(cpu));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* a's last instruction's rel32 */
	bool found = false;
	for (uint8_t *p = a->body; p + 4 <= a->check_entry + a->host_len; p++) {
		int32_t rel;
		memcpy(&rel, p, 4);
		if (p + 4 + rel == b->body)
			found = true;
	}
	CU_ASSERT_TRUE(found);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.branches_chained") >= 1);
}

/* A flush empties the cache mid-guest; the guest goes on correctly. */
static void test_flush_and_continue(void)
{
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EAX), REG(EAX));
	A2(&g, MOV, REG(ECX), I_(50));
	uint32_t loop = A2(&g, ADD, REG(EAX), REG(ECX));
	A2(&g, OUT, I_(0x80), REG(AL));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	struct bt_cpu *cpu = cpu_of(&g);
	uint64_t flushes = tg_counter(&g, "bt.tc_flushes");
	int outs = 0;
	while (tg_run(&g) == EXIT_IO && g.exit.io.port == 0x80) {
		outs++;
		if (outs % 7 == 0)
			tc_flush(cpu->vm, "test");
	}
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	CU_ASSERT_EQUAL(outs, 50);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 50 * 51 / 2);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.tc_flushes"), flushes + 7);
}

/* With paging on, the guest re-points one PTE every iteration (INVLPG
 * after each write) and reads and writes through it: the shadow mapping
 * must follow every change. */
static void test_pte_rewrite_loop(void)
{
	const uint32_t pd = 0x100000, pt = 0x101000, lin = 0x400000;

	memset(g.ram + pd, 0, 8192);
	put32(pd, 0x00000083);			/* 0..4M identity, 4M page */
	put32(pd + 4, pt | 0x3);		/* 4M..8M through pt */
	for (uint32_t k = 0; k < 4; k++) {
		memset(g.ram + 0x200000 + k * 4096, 0, 4096);
		put32(0x200000 + k * 4096, k + 1);
	}
	g.pc = 0x30000;
	uint32_t start = A2(&g, XOR, REG(EBX), REG(EBX));
	A2(&g, MOV, REG(ECX), I_(100));
	uint32_t loop = A2(&g, MOV, REG(EAX), REG(ECX));
	A2(&g, AND, REG(EAX), I_(3));
	A2(&g, SHL, REG(EAX), I_(12));
	A2(&g, ADD, REG(EAX), I_(0x200003));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, pt, 4), REG(EAX));
	A1(&g, INVLPG, M_(ZYDIS_REGISTER_NONE, lin, 1));
	A2(&g, ADD, REG(EBX), M_(ZYDIS_REGISTER_NONE, lin, 4));
	A2(&g, MOV, M_(ZYDIS_REGISTER_NONE, lin + 4, 4), REG(ECX));
	A1(&g, DEC, REG(ECX));
	tg_branch(&g, ZYDIS_MNEMONIC_JNZ, loop);
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.cr3 = pd;
	g.st.cr4 = CR4_PSE;
	g.st.cr0 = 0x80010011;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf4);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBX], 250);
	/* the last write through each mapping: ecx = 4, 3, 2, 1 for pages 0..3 */
	for (uint32_t k = 0; k < 4; k++)
		CU_ASSERT_EQUAL(get32(0x200000 + k * 4096 + 4), k == 0 ? 4 : k);
	CU_ASSERT_TRUE((get32(pt) & 0x60) == 0x60);	/* A and D on the live PTE */
	/* every rewrite is looked up again: a host fault and a fill, until
	 * the reads and writes through lin kept faulting long enough to go
	 * through the soft TLB (bt/memory/soft_tlb.c): a miss and a fill */
	CU_ASSERT_TRUE(tg_counter(&g, "bt.shadow_faults_hidden") +
		       tg_counter(&g, "bt.soft_tlb_fills") >= 100);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.soft_tlb_fills") > 0);
}

UNIT_SUITE(bt_units, setup, teardown,
	   UNIT_TEST(test_decoder_classes),
	   UNIT_TEST(test_walk_2level),
	   UNIT_TEST(test_walk_pae),
	   UNIT_TEST(test_chaining_patches_jump),
	   UNIT_TEST(test_flush_and_continue),
	   UNIT_TEST(test_pte_rewrite_loop));

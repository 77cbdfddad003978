/*
 * Segments on bt: what a segment register load writes back to the GDT
 * (the Accessed bit), string instructions through segments with a base,
 * and limit checks on ordinary memory accesses.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

TG_SUITE_FIXTURE(g)

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

static void emit_bytes(const uint8_t *b, unsigned n)
{
	memcpy(g.ram + g.pc, b, n);
	g.pc += n;
}
#define BYTES(...) emit_bytes((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

/*
 * Every string instruction through segments with a base: DS 1 MiB, ES 2
 * MiB, FS 3 MiB. The source follows DS or its override, the destination
 * is ES whatever the prefix; ESI/EDI stay offsets.
 */
static void test_strings_with_segment_bases(void)
{
	g.pc = 0x50000;
	uint32_t start = A2(&g, MOV, REG(ESI), I_(0x1000));
	A2(&g, MOV, REG(EDI), I_(0x2000));
	A2(&g, MOV, REG(ECX), I_(16));
	BYTES(0xf3, 0xa5);		/* rep movsd */
	A2(&g, MOV, REG(AL), I_(0x5a));
	A2(&g, MOV, REG(ECX), I_(7));
	BYTES(0xf3, 0xaa);		/* rep stosb */
	A2(&g, MOV, REG(ESI), I_(0x10));
	BYTES(0x64, 0xad);		/* fs lodsd */
	A2(&g, MOV, REG(AL), I_(0x5a));
	A2(&g, MOV, REG(ESI), I_(0x1000));
	A2(&g, MOV, REG(EDI), I_(0x2000));
	A2(&g, MOV, REG(ECX), I_(64));
	BYTES(0xf3, 0xa6);		/* repe cmpsb: all 64 equal */
	A2(&g, MOV, REG(EDX), REG(ECX));
	A2(&g, MOV, REG(EDI), I_(0x2000));
	A2(&g, MOV, REG(ECX), I_(100));
	BYTES(0xf2, 0xae);		/* repne scasb: finds 0x5a at es:0x2040 */
	A2(&g, MOV, REG(ESI), I_(0x20));
	A2(&g, MOV, REG(EBP), REG(EDI));
	A2(&g, MOV, REG(EDI), I_(0x3000));
	BYTES(0x26, 0xa4);		/* es movsb: es:0x20 -> es:0x3000 */
	A2(&g, OUT, I_(0xf4), REG(AL));
	for (int i = 0; i < 64; i++)
		g.ram[0x101000 + i] = (uint8_t)(i * 3 + 1);
	uint32_t fsval = 0x11223344;
	memcpy(g.ram + 0x300010, &fsval, 4);
	g.ram[0x200020] = 0xc3;
	tg_flat_state(&g, start);
	g.st.seg[HYVM_DS].base = 0x100000;
	g.st.seg[HYVM_ES].base = 0x200000;
	g.st.seg[HYVM_FS].base = 0x300000;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.st.rip, g.pc);
	CU_ASSERT_EQUAL(memcmp(g.ram + 0x101000, g.ram + 0x202000, 64), 0);
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(g.ram[0x202040 + i], 0x5a);
	CU_ASSERT_EQUAL(g.ram[0x202047], 0);
	CU_ASSERT_EQUAL(g.ram[0x2000], 0);	/* nothing went to flat addresses */
	CU_ASSERT_EQUAL(g.ram[0x102000], 0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x1122335a);	/* lodsd via FS, then al */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDX], 0);		/* cmpsb ran all 64 */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RBP], 0x2041);	/* scasb stopped after 0x2040 */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 100 - 65);
	CU_ASSERT_EQUAL(g.ram[0x203000], 0xc3);	/* es: override on the source */
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSI], 0x21);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDI], 0x3001);
}

/*
 * rep stosb through ES (base 0x40000) onto the page of its own code: the
 * write faults in the view (translated page), the fault handler must take
 * the segment base off EDI again, and the instruction reruns alone.
 */
static void test_string_fault_restores_offsets(void)
{
	g.pc = 0x50000;
	uint32_t start = A2(&g, MOV, REG(EDI), I_(0x10800));
	A2(&g, MOV, REG(AL), I_(0x77));
	A2(&g, MOV, REG(ECX), I_(16));
	BYTES(0xf3, 0xaa);		/* rep stosb: es:0x10800 = 0x50800 */
	A2(&g, OUT, I_(0xf4), REG(AL));
	memset(g.ram + 0x50800, 0, 32);
	memset(g.ram + 0x90800, 0, 32);
	tg_flat_state(&g, start);
	g.st.seg[HYVM_ES].base = 0x40000;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.ram[0x50800], 0x77);
	CU_ASSERT_EQUAL(g.ram[0x5080f], 0x77);
	CU_ASSERT_EQUAL(g.ram[0x50810], 0);
	CU_ASSERT_EQUAL(g.ram[0x90800], 0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDI], 0x10810);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 0);
	CU_ASSERT_TRUE(tg_counter(&g, "bt.smc_invalidations") >= 1);
}

/*
 * Limit checks. Handlers: #SS reports on port 0xf6, #GP on 0xf5; both
 * leave the exception frame on the stack for the test to read.
 */
#define H_SS 0x40000u
#define H_GP 0x40010u

static void fault_tables(void)
{
	uint32_t handlers[14] = { 0 };

	handlers[12] = H_SS;
	handlers[13] = H_GP;
	tg_tables(&g, handlers, 14);
	g.pc = H_SS;
	A2(&g, OUT, I_(0xf6), REG(AL));
	g.pc = H_GP;
	A2(&g, OUT, I_(0xf5), REG(AL));
}

static uint32_t frame_word(uint32_t ss_base, int i)
{
	uint32_t v;
	memcpy(&v, g.ram + ss_base + (uint32_t)g.st.gpr[HYVM_RSP] + 4 * i, 4);
	return v;
}

static void data_seg(int s, uint32_t base, uint32_t limit, unsigned type, bool big)
{
	g.st.seg[s].base = base;
	g.st.seg[s].limit = limit;
	g.st.seg[s].attrib = type | HYVM_SEG_S | HYVM_SEG_P | (big ? HYVM_SEG_DB : 0);
}

/* DS limit 0xfff: the last whole dword reads; a dword at 0xffd faults
 * #GP(0) before it writes, with EIP at the store. */
static void test_ds_limit(void)
{
	fault_tables();
	g.pc = 0x50000;
	/* bytes, so the assembler cannot pick 16-bit addressing for them */
	uint32_t start = g.pc;
	BYTES(0xf9);					/* stc: the check keeps RFLAGS */
	BYTES(0x8b, 0x05, 0xfc, 0x0f, 0x00, 0x00);	/* mov eax, [0xffc] */
	BYTES(0x0f, 0x92, 0xc2);			/* setc dl */
	uint32_t bad = g.pc;
	BYTES(0x89, 0x05, 0xfd, 0x0f, 0x00, 0x00);	/* mov [0xffd], eax */
	A2(&g, OUT, I_(0xf4), REG(AL));
	memset(g.ram + 0x100ff0, 0, 0x20);
	uint32_t v = 0x12345678;
	memcpy(g.ram + 0x100ffc, &v, 4);
	tg_flat_state(&g, start);
	data_seg(HYVM_DS, 0x100000, 0xfff, 0x3, true);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf5);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x12345678);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RDX] & 0xff, 1);
	CU_ASSERT_EQUAL(g.ram[0x100ffd], 0x56);	/* the store did not happen */
	CU_ASSERT_EQUAL(frame_word(0, 0), 0);	/* error code */
	CU_ASSERT_EQUAL(frame_word(0, 1), bad);
	CU_ASSERT_EQUAL(tg_counter(&g, "bt.segment_limit_faults"), 1);
}

/* SS limit 0xfff: push at ESP 0x1000 and the pop back are inside, the
 * next pop reads 0x1000..0x1003: #SS(0), ESP and EAX as before it. */
static void test_ss_limit(void)
{
	fault_tables();
	g.pc = 0x50000;
	uint32_t start = A2(&g, MOV, REG(EBX), I_(0x5eed));
	A1(&g, PUSH, REG(EBX));
	A1(&g, POP, REG(EAX));
	uint32_t bad = A1(&g, POP, REG(EAX));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	data_seg(HYVM_SS, 0x200000, 0xfff, 0x3, true);
	g.st.gpr[HYVM_RSP] = 0x1000;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf6);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0x5eed);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RSP], 0x1000 - 16);	/* err, eip, cs, eflags */
	CU_ASSERT_EQUAL(frame_word(0x200000, 0), 0);
	CU_ASSERT_EQUAL(frame_word(0x200000, 1), bad);
	CU_ASSERT_EQUAL(frame_word(0x200000, 3) & 0x2, 0x2);	/* EFLAGS bit 1 */
}

/* Expand-down FS, limit 0xfff: offsets 0x1000 and up are valid (B=1: up
 * to 4 GiB), 0xffe is below the bottom: #GP(0). */
static void test_expand_down_limit(void)
{
	fault_tables();
	g.pc = 0x50000;
	uint32_t start = g.pc;
	BYTES(0x64, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00);	/* mov eax, fs:[0x1000] */
	BYTES(0x64, 0x8b, 0x1d, 0xfc, 0xff, 0xff, 0xff);	/* mov ebx, fs:[0xfffffffc] */
	uint32_t bad = g.pc;
	BYTES(0x64, 0x8b, 0x0d, 0xfe, 0x0f, 0x00, 0x00);	/* mov ecx, fs:[0xffe] */
	A2(&g, OUT, I_(0xf4), REG(AL));
	uint32_t v = 0xd0d0d0d0;
	memcpy(g.ram + 0x301000, &v, 4);
	tg_flat_state(&g, start);
	data_seg(HYVM_FS, 0x300000, 0xfff, 0x7, true);
	g.st.gpr[HYVM_RCX] = 0x77;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf5);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0xd0d0d0d0);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RCX], 0x77);
	CU_ASSERT_EQUAL(frame_word(0, 1), bad);
}

/* Expand-down with B=0: the top is 0xffff, so a dword at 0xfffe faults
 * and one at 0xfffc does not. */
static void test_expand_down_16bit_top(void)
{
	fault_tables();
	g.pc = 0x50000;
	uint32_t start = g.pc;
	BYTES(0x64, 0x8b, 0x05, 0xfc, 0xff, 0x00, 0x00);	/* mov eax, fs:[0xfffc] */
	uint32_t bad = g.pc;
	BYTES(0x64, 0x8b, 0x1d, 0xfe, 0xff, 0x00, 0x00);	/* mov ebx, fs:[0xfffe] */
	A2(&g, OUT, I_(0xf4), REG(AL));
	uint32_t v = 0xabcdef01;
	memcpy(g.ram + 0x30fffc, &v, 4);
	tg_flat_state(&g, start);
	data_seg(HYVM_FS, 0x300000, 0xfff, 0x7, false);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, 0xf5);
	CU_ASSERT_EQUAL(g.st.gpr[HYVM_RAX], 0xabcdef01);
	CU_ASSERT_EQUAL(frame_word(0, 1), bad);
}

UNIT_SUITE(bt_segments, setup, teardown,
	   UNIT_TEST(test_load_sets_accessed),
	   UNIT_TEST(test_strings_with_segment_bases),
	   UNIT_TEST(test_string_fault_restores_offsets),
	   UNIT_TEST(test_ds_limit),
	   UNIT_TEST(test_ss_limit),
	   UNIT_TEST(test_expand_down_limit),
	   UNIT_TEST(test_expand_down_16bit_top));

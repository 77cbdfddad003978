/*
 * CMPXCHG8B on an FS operand, as i386 Linux's SLUB fast path does it
 * (this_cpu_cmpxchg_double: cmpxchg8b %fs:(%esi)) with FS holding the
 * per-CPU base: it changes ZF only (SDM Vol. 2A, CMPXCHG8B), so DF and
 * OF stay as they were. Issue 14: Debian's i386 kernel restored on bt from
 * a checkpoint taken on kvm ran its kernel with DF=1 from the block that
 * ends in this instruction on (seen in the emulated AMD host with a trace
 * of the blocks after which DF went from 0 to 1 at CPL 0), and a memset
 * in blake2s_final then went downwards over its own return address (the
 * oops "EIP: 0x0", EFLAGS 0x446). These run the instruction with FS as
 * kvm's KVM_GET_SREGS gives it (attributes 0x893) and as bt's own load of
 * the descriptor leaves it, on a page of its own and on the page of the
 * code (bt's self-modifying-code path), and the kernel's own bytes of that
 * block: DF and OF must stay clear and ZF and the store be right.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include <hyvm/x86.h>
#include "test_bt_harness.h"

TG_SUITE_FIXTURE(g)

#define PORT_FLAGS	0xe4
#define PORT_LO		0xe5
#define FS_BASE		0x70000u
#define CELL		0x40u	/* the operand: FS_BASE + CELL */

/* EDX:EAX compared with fs:[esi]; ECX:EBX stored when equal; then the
 * flags and the cell's low half out. */
static void run_cmpxchg8b_at(uint32_t fs_attrib, bool equal, uint32_t pc, uint32_t fs_base)
{
	uint32_t v = 0;

	g.pc = pc;
	uint32_t start = A2(&g, MOV, REG(ESI), I_(CELL));
	A2(&g, MOV, REG(EAX), I_(equal ? 0x11111111 : 0x22222222));
	A2(&g, MOV, REG(EDX), I_(0x33333333));
	A2(&g, MOV, REG(EBX), I_(0x55555555));
	A2(&g, MOV, REG(ECX), I_(0x66666666));
	tg_asm_prefixed(&g, ZYDIS_ATTRIB_HAS_SEGMENT_FS, ZYDIS_MNEMONIC_CMPXCHG8B, 1,
			M_(ZYDIS_REGISTER_ESI, 0, 8), I_(0));
	A0(&g, PUSHFD);
	A1(&g, POP, REG(EAX));
	A2(&g, OUT, I_(PORT_FLAGS), REG(EAX));
	A2(&g, MOV, REG(EAX), M_(ZYDIS_REGISTER_NONE, fs_base + CELL, 4));
	A2(&g, OUT, I_(PORT_LO), REG(EAX));
	uint32_t cell[2] = { 0x11111111, 0x33333333 };
	memcpy(g.ram + fs_base + CELL, cell, sizeof(cell));
	tg_flat_state(&g, start);
	g.st.seg[HYVM_FS] = (struct hyvm_segment){ .selector = 0xd8, .base = fs_base,
		.limit = 0xffffffff, .attrib = fs_attrib };
	g.st.rflags = EFLAGS_FIXED1;	/* DF=0, OF=0 */
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, PORT_FLAGS);
	memcpy(&v, g.exit.io.data, 4);
	CU_ASSERT_EQUAL(v & (EFLAGS_DF | EFLAGS_OF), 0);
	CU_ASSERT_EQUAL(!!(v & EFLAGS_ZF), equal);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, PORT_LO);
	memcpy(&v, g.exit.io.data, 4);
	CU_ASSERT_EQUAL(v, equal ? 0x55555555u : 0x11111111u);
}

static void run_cmpxchg8b(uint32_t fs_attrib, bool equal, uint32_t pc)
{
	run_cmpxchg8b_at(fs_attrib, equal, pc, FS_BASE);
}

/* the operand in the page of the code itself: a write bt must take
 * through its self-modifying-code path */
static void test_fs_cmpxchg8b_on_code_page(void)
{
	run_cmpxchg8b_at(0x893, true, 0x5f000, 0x5f000 + 0x800 - CELL);
	run_cmpxchg8b_at(0x893, true, 0x5f400, 0x5f000 + 0x900 - CELL);
	run_cmpxchg8b_at(0x893, false, 0x5f100, 0x5f000 + 0xa00 - CELL);
}

/* The block of i386 Linux 6.1's slab_alloc_node fast path (SLUB with
 * CONFIG_SLAB_FREELIST_HARDENED), bytes as Debian's 686 kernel has them:
 * the free pointer decoded (xor with s->random and the bswapped address),
 * then this_cpu_cmpxchg_double on the per-CPU kmem_cache_cpu. */
static const uint8_t slab_fast_path[] = {
	0x8b, 0x75, 0xf0, 0x8b, 0x47, 0x1c, 0x01, 0xf0, 0x89, 0xc1, 0x8b, 0x00, 0x33, 0x47,
	0x78, 0x0f, 0xc9, 0x31, 0xc8, 0x8d, 0x4a, 0x20, 0x89, 0xc3, 0x89, 0xf0, 0x8b, 0x37,
	0x64, 0x0f, 0xc7, 0x0e, 0x75, 0xba,
};

static void test_linux_slab_fast_path(void)
{
	const uint32_t frame = 0x78000, cache = 0x79000, obj = 0x7a000, pcpu = 0x100;
	const uint32_t fs_base = 0x7b000, tid = 0x1234;
	uint32_t v = 0, w;

	g.pc = 0x5e400;
	uint32_t start = A2(&g, MOV, REG(EBP), I_(frame));
	A2(&g, MOV, REG(EDI), I_(cache));
	A2(&g, MOV, REG(EDX), I_(tid));
	memcpy(g.ram + g.pc, slab_fast_path, sizeof(slab_fast_path));
	g.pc += sizeof(slab_fast_path);
	A0(&g, PUSHFD);
	A1(&g, POP, REG(EAX));
	A2(&g, OUT, I_(PORT_FLAGS), REG(EAX));
	memcpy(g.ram + frame - 0x10, &obj, 4);	/* the free object */
	w = 0;
	memcpy(g.ram + cache + 0x1c, &w, 4);	/* s->offset */
	w = 0x5a5a5a5a;
	memcpy(g.ram + cache + 0x78, &w, 4);	/* s->random */
	memcpy(g.ram + cache, &pcpu, 4);	/* s->cpu_slab */
	uint32_t cell[2] = { obj, tid };	/* freelist, tid */
	memcpy(g.ram + fs_base + pcpu, cell, sizeof(cell));
	tg_flat_state(&g, start);
	g.st.seg[HYVM_FS] = (struct hyvm_segment){ .selector = 0xd8, .base = fs_base,
		.limit = 0xffffffff, .attrib = 0x893 };
	g.st.rflags = EFLAGS_FIXED1 | EFLAGS_SF | EFLAGS_PF | EFLAGS_IF;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL_FATAL(tg_run(&g), EXIT_IO);
	memcpy(&v, g.exit.io.data, 4);
	CU_ASSERT_EQUAL(v & EFLAGS_DF, 0);
	CU_ASSERT(v & EFLAGS_ZF);
	memcpy(cell, g.ram + fs_base + pcpu, sizeof(cell));
	CU_ASSERT_EQUAL(cell[1], tid + 0x20);
}

/* FS as kvm's KVM_GET_SREGS gave it on an AMD host: G, P, S, type 3 */
static void test_fs_cmpxchg8b_kvm_attributes(void)
{
	run_cmpxchg8b(0x893, true, 0x5e000);
	run_cmpxchg8b(0x893, false, 0x5e100);
}

/* FS as bt's own load of Linux's per-CPU descriptor (0xc093) leaves it */
static void test_fs_cmpxchg8b_descriptor_attributes(void)
{
	run_cmpxchg8b(0xc93, true, 0x5e200);
	run_cmpxchg8b(0xc93, false, 0x5e300);
}

UNIT_SUITE(bt_fs_cmpxchg8b, setup, teardown,
	UNIT_TEST(test_fs_cmpxchg8b_kvm_attributes),
	UNIT_TEST(test_fs_cmpxchg8b_descriptor_attributes),
	UNIT_TEST(test_fs_cmpxchg8b_on_code_page),
	UNIT_TEST(test_linux_slab_fast_path))

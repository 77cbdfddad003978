/*
 * A vCPU state that another engine took (hyvm.ko's svm, kvm) given to bt
 * by set_state, as a checkpoint restored on bt or a hybrid move does it
 * (issue 14): every RFLAGS bit the guest can see survives into the
 * guest's own PUSHFD and into get_state, DF steers string instructions
 * from the first one on, and the SYSENTER MSRs, EFER, PAT and the TSC
 * read back through RDMSR as they came.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include <hyvm/x86.h>
#include "test_bt_harness.h"

TG_SUITE_FIXTURE(g)

#define PORT_FLAGS	0xe0
#define PORT_MSR_LO	0xe1
#define PORT_MSR_HI	0xe2
#define PORT_DI		0xe3
#define SRC		0x71000u
#define DST		0x72000u

/* every bit set that a 32-bit guest at CPL 0 may hold (SDM Vol. 1, 3.4.3) */
#define FOREIGN_FLAGS (EFLAGS_FIXED1 | EFLAGS_CF | EFLAGS_ZF | EFLAGS_DF | EFLAGS_NT | \
		       EFLAGS_AC | EFLAGS_ID | (3u << EFLAGS_IOPL_SHIFT))

static unsigned next_out(uint32_t *val)
{
	if (tg_run(&g) != EXIT_IO || !g.exit.io.write)
		return 0;
	*val = 0;
	memcpy(val, g.exit.io.data, g.exit.io.size);
	return g.exit.io.port;
}

/* PUSHFD; POP EAX; OUT: then MOVSB with DF=1 from SRC to DST, EDI out. */
static void test_rflags_cross_into_bt(void)
{
	uint32_t v = 0;

	g.pc = 0x5a000;
	uint32_t start = A0(&g, PUSHFD);
	A1(&g, POP, REG(EAX));
	A2(&g, OUT, I_(PORT_FLAGS), REG(EAX));
	A2(&g, MOV, REG(ESI), I_(SRC));
	A2(&g, MOV, REG(EDI), I_(DST));
	A0(&g, MOVSB);
	A2(&g, MOV, REG(EAX), REG(EDI));
	A2(&g, OUT, I_(PORT_DI), REG(EAX));
	A2(&g, OUT, I_(0xf4), REG(AL));
	tg_flat_state(&g, start);
	g.st.rflags = FOREIGN_FLAGS | EFLAGS_RF;	/* RF: gone after one instruction */
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);

	struct hyvm_cpu_state st;
	bt_engine_ops.get_state(g.vcpu, &st);
	CU_ASSERT_EQUAL(st.rflags & ~(uint64_t)EFLAGS_RF, FOREIGN_FLAGS);
	CU_ASSERT_EQUAL(next_out(&v), PORT_FLAGS);
	CU_ASSERT_EQUAL(v, FOREIGN_FLAGS);	/* PUSHFD clears RF and VM in its image */
	CU_ASSERT_EQUAL(next_out(&v), PORT_DI);
	CU_ASSERT_EQUAL(v, DST - 1);		/* DF=1: EDI went down */
	bt_engine_ops.get_state(g.vcpu, &st);
	CU_ASSERT_EQUAL(st.rflags & (EFLAGS_DF | EFLAGS_NT | EFLAGS_AC | EFLAGS_IOPL | EFLAGS_ID),
			FOREIGN_FLAGS & (EFLAGS_DF | EFLAGS_NT | EFLAGS_AC | EFLAGS_IOPL | EFLAGS_ID));
}

/* DF=0 from the other engine: MOVSB goes up (a stale DF would not). */
static void test_df_clear_crosses_too(void)
{
	uint32_t v = 0;

	g.pc = 0x5b000;
	uint32_t start = A2(&g, MOV, REG(ESI), I_(SRC));
	A2(&g, MOV, REG(EDI), I_(DST));
	A0(&g, MOVSB);
	A2(&g, MOV, REG(EAX), REG(EDI));
	A2(&g, OUT, I_(PORT_DI), REG(EAX));
	tg_flat_state(&g, start);
	g.st.rflags = EFLAGS_FIXED1 | EFLAGS_DF;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	tg_flat_state(&g, start);		/* a second set_state, as a restore after a move */
	g.st.rflags = EFLAGS_FIXED1;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(next_out(&v), PORT_DI);
	CU_ASSERT_EQUAL(v, DST + 1);
}

/* RDMSR of what the state brought: ECX = index, EDX:EAX out. */
static uint64_t read_msr_in_guest(uint32_t index)
{
	uint32_t lo = 0, hi = 0;

	g.pc = 0x5c000 + (index & 0xff) * 0x40;
	uint32_t start = A2(&g, MOV, REG(ECX), I_(index));
	A0(&g, RDMSR);
	A2(&g, OUT, I_(PORT_MSR_LO), REG(EAX));
	A2(&g, MOV, REG(EAX), REG(EDX));
	A2(&g, OUT, I_(PORT_MSR_HI), REG(EAX));
	struct hyvm_cpu_state keep = g.st;
	bt_engine_ops.get_state(g.vcpu, &g.st);
	g.st.rip = start;
	g.st.sysenter_cs = keep.sysenter_cs;
	if (bt_engine_ops.set_state(g.vcpu, &g.st, g.err, sizeof(g.err)) < 0)
		return ~0ull;
	CU_ASSERT_EQUAL(next_out(&lo), PORT_MSR_LO);
	CU_ASSERT_EQUAL(next_out(&hi), PORT_MSR_HI);
	return (uint64_t)hi << 32 | lo;
}

static void test_msrs_cross_into_bt(void)
{
	tg_flat_state(&g, 0);
	g.st.sysenter_cs = 0x60;
	g.st.sysenter_esp = 0xc1234000;
	g.st.sysenter_eip = 0xc1000800;
	g.st.pat = 0x0007040600070406ull;
	g.st.efer = 0x800;			/* NXE */
	g.st.tsc = 1ull << 40;
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	struct hyvm_cpu_state st;
	bt_engine_ops.get_state(g.vcpu, &st);
	CU_ASSERT_EQUAL(st.sysenter_cs, 0x60);
	CU_ASSERT_EQUAL(st.sysenter_esp, 0xc1234000);
	CU_ASSERT_EQUAL(st.sysenter_eip, 0xc1000800);
	CU_ASSERT_EQUAL(st.pat, 0x0007040600070406ull);
	CU_ASSERT_EQUAL(st.efer, 0x800);
	CU_ASSERT_TRUE(st.tsc >= 1ull << 40);
	CU_ASSERT_EQUAL(read_msr_in_guest(0x174), 0x60);		/* IA32_SYSENTER_CS */
	CU_ASSERT_EQUAL(read_msr_in_guest(0x175), 0xc1234000);	/* _ESP */
	CU_ASSERT_EQUAL(read_msr_in_guest(0x176), 0xc1000800);	/* _EIP */
	CU_ASSERT_EQUAL(read_msr_in_guest(0x277), 0x0007040600070406ull);	/* IA32_PAT */
	uint64_t tsc = read_msr_in_guest(0x10);			/* IA32_TIME_STAMP_COUNTER */
	CU_ASSERT_TRUE(tsc >= 1ull << 40 && tsc < (1ull << 40) + (1ull << 38));
}

UNIT_SUITE(bt_state_in, setup, teardown,
	   UNIT_TEST(test_rflags_cross_into_bt),
	   UNIT_TEST(test_df_clear_crosses_too),
	   UNIT_TEST(test_msrs_cross_into_bt))

/*
 * bt and the event in flight of hyvm_cpu_state (bt/cpu/events.c): a
 * checkpoint or a hybrid switch taken while another engine was
 * delivering an event hands it to bt's set_state, which must deliver it
 * before the next instruction (a #PF cut short by an exit, an external
 * interrupt already acknowledged, an NMI), let a software interrupt run
 * again from RIP, and never hand a delivered event back in get_state.
 * Before the fix bt dropped exceptions and NMIs, and get_state returned
 * the last set_state's event long after it was delivered, so the next
 * engine of a chain of restores (or the next hybrid switch) injected it
 * a second time.
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include <hyvm/x86.h>
#include "test_bt_harness.h"

#define VEC_DEV		0x34	/* an external interrupt's vector */
#define VEC_SOFT	0x40	/* INT 0x40 */
#define PORT_ERR	0xe0	/* the #PF handler reports its error code, */
#define PORT_CR2	0xe1	/* CR2 */
#define PORT_FRAME	0xe3	/* and the frame's EIP */
#define PORT_LOOP	0xe2	/* the main loop leaves every round */
#define PORT_DEV	0xe4	/* the external interrupt's handler ran */
#define PORT_SOFT	0xe5	/* INT 0x40's handler ran */
#define PORT_AFTER	0xe6	/* the instruction after INT 0x40 ran */
#define PORT_NMI	0xe7	/* the NMI handler ran */

TG_SUITE_FIXTURE(g)
static uint32_t loop_start, int_at;

/* handler: out PORT, al; iret */
static uint32_t say_and_return(uint8_t port)
{
	uint32_t at = A2(&g, OUT, I_(port), REG(AL));
	A0(&g, IRETD);
	return at;
}

/* #PF handler: reports error code, frame EIP and CR2, then halts. */
static uint32_t pf_handler(void)
{
	uint32_t at = A1(&g, POP, REG(EAX));
	A2(&g, OUT, I_(PORT_ERR), REG(EAX));
	A2(&g, MOV, REG(EAX), M_(ZYDIS_REGISTER_ESP, 0, 4));
	A2(&g, OUT, I_(PORT_FRAME), REG(EAX));
	A2(&g, MOV, REG(EAX), REG(CR2));
	A2(&g, OUT, I_(PORT_CR2), REG(EAX));
	A0(&g, HLT);
	return at;
}

static uint32_t nmi_handler(void)
{
	uint32_t at = A2(&g, OUT, I_(PORT_NMI), REG(AL));
	A0(&g, HLT);
	return at;
}

/* The handlers, then: INT 0x40; OUT PORT_AFTER; loop: INC EAX;
 * OUT PORT_LOOP; JMP loop. The state starts at the loop, IF as given. */
static void build_guest(bool irq_on)
{
	static uint32_t handlers[256];

	memset(handlers, 0, sizeof(handlers));
	g.pc = 0x30000;
	handlers[VEC_PF] = pf_handler();
	handlers[VEC_NMI] = nmi_handler();
	handlers[VEC_DEV] = say_and_return(PORT_DEV);
	handlers[VEC_SOFT] = say_and_return(PORT_SOFT);
	tg_tables(&g, handlers, 256);
	int_at = A1(&g, INT, I_(VEC_SOFT));
	A2(&g, OUT, I_(PORT_AFTER), REG(AL));
	loop_start = A1(&g, INC, REG(EAX));
	A2(&g, OUT, I_(PORT_LOOP), REG(AL));
	tg_branch(&g, ZYDIS_MNEMONIC_JMP, loop_start);
	tg_flat_state(&g, loop_start);
	g.st.rflags = irq_on ? 0x202 : 0x2;
}

/* Runs to the next port write (or another exit that is not a kick);
 * returns the port, 0 for another exit, the written value in *val. */
static unsigned next_out(uint32_t *val)
{
	for (int i = 0; i < 100; i++) {
		if (bt_engine_ops.vcpu_run(g.vcpu, &g.exit) < 0)
			return 0;
		if (g.exit.kind == EXIT_KICKED || g.exit.kind == EXIT_IRQ_WINDOW)
			continue;
		if (g.exit.kind != EXIT_IO || !g.exit.io.write)
			return 0;
		*val = 0;
		memcpy(val, g.exit.io.data, g.exit.io.size);
		return g.exit.io.port;
	}
	return 0;
}

static void set_event(uint8_t type, uint8_t vector, bool has_err, uint32_t err)
{
	g.st.event.type = type;
	g.st.event.vector = vector;
	g.st.event.has_error_code = has_err;
	g.st.event.error_code = err;
}

/* A #PF cut short by an exit on another engine (its IDT or stack not yet
 * mapped there): delivered first, with IF clear, its error code, the
 * faulting EIP in the frame and CR2 as they came. */
static void test_exception_in_delivery(void)
{
	uint32_t v;

	build_guest(false);
	g.st.cr2 = 0x00abc123;
	set_event(HYVM_EVENT_EXCEPTION, VEC_PF, true, 0x6);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	/* a checkpoint taken before bt ran keeps it */
	struct hyvm_cpu_state st;
	bt_engine_ops.get_state(g.vcpu, &st);
	CU_ASSERT_EQUAL(st.event.type, HYVM_EVENT_EXCEPTION);
	CU_ASSERT_EQUAL(st.event.vector, VEC_PF);
	CU_ASSERT_EQUAL(st.event.error_code, 0x6);
	CU_ASSERT_EQUAL(next_out(&v), PORT_ERR);
	CU_ASSERT_EQUAL(v, 0x6);
	CU_ASSERT_EQUAL(next_out(&v), PORT_FRAME);
	CU_ASSERT_EQUAL(v, loop_start);
	CU_ASSERT_EQUAL(next_out(&v), PORT_CR2);
	CU_ASSERT_EQUAL(v, 0x00abc123);
	bt_engine_ops.get_state(g.vcpu, &st);
	CU_ASSERT_EQUAL(st.event.type, HYVM_EVENT_NONE);
}

/* An external interrupt in flight is delivered once: after its handler,
 * get_state says NONE, and a save/restore through set_state (the next
 * hop of a chain of checkpoints) does not deliver it again. */
static void test_extint_delivered_once(void)
{
	uint32_t v;
	unsigned dev = 0;

	build_guest(true);
	set_event(HYVM_EVENT_EXTINT, VEC_DEV, false, 0);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(next_out(&v), PORT_DEV);
	CU_ASSERT_EQUAL(next_out(&v), PORT_LOOP);
	bt_engine_ops.get_state(g.vcpu, &g.st);
	CU_ASSERT_EQUAL(g.st.event.type, HYVM_EVENT_NONE);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	for (int i = 0; i < 20; i++)
		dev += next_out(&v) == PORT_DEV;
	CU_ASSERT_EQUAL(dev, 0);
}

/* INT n whose delivery another engine cut short: RIP is still at the
 * instruction, which runs again; its handler runs once and returns
 * after it. */
static void test_softint_runs_again(void)
{
	uint32_t v;

	build_guest(false);
	g.st.rip = int_at;
	set_event(HYVM_EVENT_SOFTINT, VEC_SOFT, false, 0);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(next_out(&v), PORT_SOFT);
	CU_ASSERT_EQUAL(next_out(&v), PORT_AFTER);
	CU_ASSERT_EQUAL(next_out(&v), PORT_LOOP);
}

/* An NMI in flight reaches gate 2 with IF clear. */
static void test_nmi_in_delivery(void)
{
	uint32_t v;

	build_guest(false);
	set_event(HYVM_EVENT_NMI, VEC_NMI, false, 0);
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	CU_ASSERT_EQUAL(next_out(&v), PORT_NMI);
	bt_engine_ops.get_state(g.vcpu, &g.st);
	CU_ASSERT_EQUAL(g.st.event.type, HYVM_EVENT_NONE);
}

UNIT_SUITE(bt_events, setup, teardown,
	   UNIT_TEST(test_exception_in_delivery),
	   UNIT_TEST(test_extint_delivered_once),
	   UNIT_TEST(test_softint_runs_again),
	   UNIT_TEST(test_nmi_in_delivery));

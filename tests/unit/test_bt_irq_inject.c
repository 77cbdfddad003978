/*
 * bt's side of interrupt injection as vm_run drives it: inject_irq only
 * right after an exit with irq_window_open, and every injected vector
 * reaches the guest, even when a kick (the VMM's 1 ms SIGALRM, which a
 * loaded host delivers while the VMM is between runs) lands between the
 * injection and the next run. Before the fix such a run ended at once
 * with EXIT_KICKED and the window still open, the VMM injected the next
 * vector over the first, and the first, already moved to the local
 * APIC's ISR, was never handled: Linux on bt stalled in HLT (its serial
 * console's THRE vector stuck in service, PPR blocking it forever).
 */
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

#define VEC_LOW		0x34	/* a device's vector, as the UART's under Linux */
#define VEC_HIGH	0xec	/* Linux's LOCAL_TIMER_VECTOR: a higher class */
#define PORT_LOW	0xe0	/* each handler says it ran with an OUT */
#define PORT_HIGH	0xe1
#define PORT_LOOP	0xe2	/* the main loop exits every round: runs stay bounded */

TG_SUITE_FIXTURE(g)

/* handler: out PORT, al; iret (an interrupt gate: IF is clear inside) */
static uint32_t handler(uint8_t port)
{
	uint32_t at = A2(&g, OUT, I_(port), REG(AL));
	A0(&g, IRETD);
	return at;
}

/* Two handlers, then a guest that counts in EAX with IF set and leaves
 * through an OUT every round. */
static uint32_t build_guest(void)
{
	static uint32_t handlers[256];

	g.pc = 0x30000;
	handlers[VEC_LOW] = handler(PORT_LOW);
	handlers[VEC_HIGH] = handler(PORT_HIGH);
	tg_tables(&g, handlers, 256);
	uint32_t start = A1(&g, INC, REG(EAX));
	A2(&g, OUT, I_(PORT_LOOP), REG(AL));
	tg_branch(&g, ZYDIS_MNEMONIC_JMP, start);
	tg_flat_state(&g, start);
	g.st.rflags = 0x202;	/* IF */
	return start;
}

/* vm_run's interrupt step in miniature (userspace/vmm/vm.c): inject the
 * next vector when the last exit says the window is open, else ask for
 * the window; with kick_after_inject, a kick between an injection and
 * the run after it, as the 1 ms SIGALRM leaves one when it arrives while
 * the VMM is between runs. Returns the mask of handlers seen. */
static unsigned vmm_loop(const uint8_t *vectors, unsigned n, bool kick_after_inject)
{
	unsigned next = 0, seen = 0;
	bool window_requested = false;

	for (int runs = 0; runs < 200 && seen != 3; runs++) {
		bool injected = false;
		if (next < n) {
			if (g.exit.irq_window_open) {
				bt_engine_ops.inject_irq(g.vcpu, vectors[next++]);
				g.exit.irq_window_open = false;
				injected = true;
			} else if (!window_requested) {
				bt_engine_ops.request_irq_window(g.vcpu, true);
				window_requested = true;
			}
		} else if (window_requested) {
			bt_engine_ops.request_irq_window(g.vcpu, false);
			window_requested = false;
		}
		if (kick_after_inject && injected)
			bt_engine_ops.kick(g.vcpu);
		if (bt_engine_ops.vcpu_run(g.vcpu, &g.exit) < 0)
			break;
		if (g.exit.kind == EXIT_IRQ_WINDOW) {
			window_requested = false;
			bt_engine_ops.request_irq_window(g.vcpu, false);
		}
		if (g.exit.kind == EXIT_IO && g.exit.io.port == PORT_LOW)
			seen |= 1;
		if (g.exit.kind == EXIT_IO && g.exit.io.port == PORT_HIGH)
			seen |= 2;
	}
	return seen;
}

/* The stall's interleaving: an exit with the window open, VEC_LOW
 * injected, a kick before the next run, then VEC_HIGH wanting in. Both
 * handlers must run. */
static void test_kick_after_inject_keeps_vector(void)
{
	static const uint8_t vectors[] = { VEC_LOW, VEC_HIGH };

	build_guest();
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	bt_engine_ops.kick(g.vcpu);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.vcpu_run(g.vcpu, &g.exit), 0);
	CU_ASSERT_EQUAL(g.exit.kind, EXIT_KICKED);
	CU_ASSERT_TRUE_FATAL(g.exit.irq_window_open);
	CU_ASSERT_EQUAL(vmm_loop(vectors, 2, true), 3);
}

/* The contract itself (engine.h: inject_irq only after an exit with
 * irq_window_open): while an injected vector has not reached the guest,
 * no exit reports the window open. The guest here cannot take it (the
 * injection is followed by a kick at once and the vector delivered
 * first; IF is clear in the handler), so the exit says closed. */
static void test_window_closed_while_vector_pending(void)
{
	build_guest();
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	bt_engine_ops.kick(g.vcpu);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.vcpu_run(g.vcpu, &g.exit), 0);
	CU_ASSERT_TRUE_FATAL(g.exit.irq_window_open);
	bt_engine_ops.inject_irq(g.vcpu, VEC_LOW);
	bt_engine_ops.kick(g.vcpu);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.vcpu_run(g.vcpu, &g.exit), 0);
	CU_ASSERT_EQUAL(g.exit.kind, EXIT_KICKED);
	CU_ASSERT_FALSE(g.exit.irq_window_open);
	/* the vector was taken: the state carries no pending event, and the
	 * handler is where the guest goes on */
	bt_engine_ops.get_state(g.vcpu, &g.st);
	CU_ASSERT_EQUAL(g.st.event.type, 0);
	CU_ASSERT_EQUAL(bt_engine_ops.vcpu_run(g.vcpu, &g.exit), 0);
	CU_ASSERT_EQUAL(g.exit.kind, EXIT_IO);
	CU_ASSERT_EQUAL(g.exit.io.port, PORT_LOW);
}

/* Without kicks the usual path still delivers both, in order of the
 * windows the guest opens. */
static void test_inject_without_kicks(void)
{
	static const uint8_t vectors[] = { VEC_LOW, VEC_HIGH };

	build_guest();
	CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
	bt_engine_ops.kick(g.vcpu);
	CU_ASSERT_EQUAL_FATAL(bt_engine_ops.vcpu_run(g.vcpu, &g.exit), 0);
	CU_ASSERT_EQUAL(vmm_loop(vectors, 2, false), 3);
}

UNIT_SUITE(bt_irq_inject, setup, teardown,
	   UNIT_TEST(test_kick_after_inject_keeps_vector),
	   UNIT_TEST(test_window_closed_while_vector_pending),
	   UNIT_TEST(test_inject_without_kicks));

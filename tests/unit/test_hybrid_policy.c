/*
 * The hybrid policy on synthetic traces and on one transcribed from a run:
 * single decisions for each rule, then sequences of inputs replayed through
 * a small simulator that applies each decision the way engine_hybrid.c
 * does (a move resets the time since the last switch), to show that the
 * hysteresis keeps rates that hover around a threshold from flapping.
 */
#include <string.h>
#include "hybrid/guest_mode.h"
#include "hybrid/policy.h"
#include "unit.h"

#define MS 1000000ull

/* kvm_pvm as its probe reports it: software, no 32-bit paging, no ring 3. */
static struct hy_side_caps kvm_pvm(void)
{
	struct hy_side_caps c = { .present = true };

	c.cannot[NEED_PAGING32] = c.cannot[NEED_PAE] = c.cannot[NEED_SOFT_INT_CPL0] = true;
	c.cannot[NEED_USER_MODE] = c.cannot[NEED_SSE] = true;
	return c;
}

/* bt as its probe reports it: everything but long mode (real, 16-bit and
 * virtual-8086 mode included). */
static struct hy_side_caps bt_caps(void)
{
	struct hy_side_caps c = { .present = true };

	c.cannot[NEED_LONG_MODE] = true;
	return c;
}

/* True VT-x without EPT and without unrestricted guest (an old CPU). */
static struct hy_side_caps old_vtx(void)
{
	struct hy_side_caps c = { .present = true, .hardware_assist = true };

	c.cannot[NEED_REAL_MODE] = true;
	return c;
}

static struct hy_input input(enum hy_side cur, enum hy_mode mode, struct hy_side_caps hw)
{
	struct hy_input in = { .current = cur, .guest = { .mode = mode } };

	in.side[HY_BT] = bt_caps();
	in.side[HY_HW] = hw;
	in.since_switch_ns = 1000 * MS;
	return in;
}

static struct hy_tuning tuning(void)
{
	struct hy_tuning t;

	hy_policy_defaults(&t);
	return t;
}

static void test_forced_ignores_residency(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_BT, HY_MODE_LONG, kvm_pvm());

	in.since_switch_ns = 0;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_HW);
	CU_ASSERT_EQUAL(d.reason, HY_R_FORCED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "long mode"));

	/* VT-x without unrestricted guest cannot run real mode or 16-bit
	 * code; bt can, so such phases move to bt at once */
	in = input(HY_HW, HY_MODE_REAL, old_vtx());
	in.since_switch_ns = 0;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_FORCED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "real mode"));
	in.guest.mode = HY_MODE_PROT;
	in.guest.code16 = true;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_FORCED);
	/* on bt, real mode stays there: kvm_pvm is software */
	in = input(HY_BT, HY_MODE_REAL, kvm_pvm());
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);

	/* kvm_pvm refuses 32-bit paging and ring 3 outside long mode */
	in = input(HY_HW, HY_MODE_PAGED32, kvm_pvm());
	in.since_switch_ns = 0;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_GO_BT);
	in = input(HY_HW, HY_MODE_PROT, kvm_pvm());
	in.guest.cpl = 3;
	in.since_switch_ns = 0;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_FORCED);
	/* ring 3 in long mode runs natively on kvm_pvm: stay */
	in.guest.mode = HY_MODE_LONG;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
}

static void test_nobody_or_only_one(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_LONG, old_vtx());

	/* neither bt nor a hardware side without long mode runs long mode */
	in.side[HY_HW].cannot[NEED_LONG_MODE] = true;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_STAY);
	CU_ASSERT_EQUAL(d.reason, HY_R_NOBODY);
	in = input(HY_BT, HY_MODE_PROT, kvm_pvm());
	in.side[HY_HW].present = false;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_STAY);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "only bt"));
}

static void test_software_hw_prefers_bt(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_PROT, kvm_pvm());

	in.since_switch_ns = t.mode_residency_ns - 1;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_STAY);
	CU_ASSERT_EQUAL(d.reason, HY_R_RESIDENCY);
	in.since_switch_ns = t.mode_residency_ns;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_SOFTWARE_HW);
	/* and bt stays on bt, whatever the statistics */
	in = input(HY_BT, HY_MODE_PROT, kvm_pvm());
	in.last.ns = 10 * MS;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
}

static void test_pt_heavy_band(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_PAGED32, old_vtx());

	in.last.ns = 10 * MS;
	in.last.shadow_faults_per_s = t.pt_high + 1;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_PT_HEAVY);
	/* the same with nested paging: shadow faults do not happen there */
	in.side[HY_HW].nested_paging = true;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	in.side[HY_HW].nested_paging = false;
	/* no statistics yet: no statistics-driven move */
	in.last.ns = 0;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);

	/* on bt: inside the band nobody moves, below it back to hardware */
	in = input(HY_BT, HY_MODE_PAGED32, old_vtx());
	in.last.ns = 10 * MS;
	in.last.pt_writes_per_s = (t.pt_low + t.pt_high) / 2;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	in.last.pt_writes_per_s = t.pt_low - 1;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_HW);
	CU_ASSERT_EQUAL(d.reason, HY_R_PT_CALM);
	in.since_switch_ns = t.min_residency_ns - 1;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_RESIDENCY);
}

static void test_io_heavy(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_PROT, old_vtx());

	in.side[HY_HW].nested_paging = true;
	in.last.ns = 10 * MS;
	in.last.exits_per_s[EXIT_IO] = t.io_high + 1;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_IO_HEAVY);
	in.current = HY_BT;
	in.last.exits_per_s[EXIT_IO] = t.io_low + 1;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	in.last.exits_per_s[EXIT_IO] = t.io_low - 1;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_HW);
	CU_ASSERT_EQUAL(d.reason, HY_R_NESTED);
}

/* --- traces ------------------------------------------------------------ */

struct step {
	uint64_t dt_ns;		/* time since the previous step */
	enum hy_mode mode;
	bool code16;
	double pt_per_s, io_per_s;
};
#define STEP(dt, m, ...) { .dt_ns = (dt), .mode = (m), __VA_ARGS__ }

/* Replays steps from `start`; returns the number of switches and the side
 * the vCPU ends on. */
static int replay(const struct step *s, int n, enum hy_side start, struct hy_side_caps hw,
		  enum hy_side *end)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(start, HY_MODE_PROT, hw);
	int switches = 0;

	in.since_switch_ns = 0;
	for (int i = 0; i < n; i++) {
		in.since_switch_ns += s[i].dt_ns;
		in.guest.mode = s[i].mode;
		in.guest.code16 = s[i].code16;
		memset(&in.last, 0, sizeof(in.last));
		in.last.ns = 10 * MS;
		in.last.pt_writes_per_s = s[i].pt_per_s;
		in.last.shadow_faults_per_s = 0;
		in.last.exits_per_s[EXIT_IO] = s[i].io_per_s;
		struct hy_decision d = hy_decide(&in, &t);
		CU_ASSERT(d.why[0] != 0);
		if (d.action != HY_STAY) {
			in.current = d.action == HY_GO_BT ? HY_BT : HY_HW;
			in.came_forced = d.reason == HY_R_FORCED;	/* as move_to */
			in.since_switch_ns = 0;
			switches++;
		}
	}
	*end = in.current;
	return switches;
}

/* The modes of tests/guests/realmode.elf on hybrid with kvm_pvm: bt runs
 * the 32-bit start, the 16-bit code, real mode and the return to 32-bit
 * code; before bt ran 16-bit code this trace made two switches. Steps are
 * the 1 ms kicks. */
static void test_trace_realmode(void)
{
	struct step s[] = {
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
		STEP(0, HY_MODE_PROT, .code16 = true),	/* jmp SEL_CODE16: forced */
		STEP(1 * MS, HY_MODE_REAL), STEP(1 * MS, HY_MODE_REAL), STEP(1 * MS, HY_MODE_REAL),
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
	};
	enum hy_side end;
	int n = replay(s, sizeof(s) / sizeof(s[0]), HY_BT, kvm_pvm(), &end);

	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(end, HY_BT);
}

/* A page-table rate that hovers around the high mark for 2 s, never
 * falling below the low one: one move to bt, none back. Without the band
 * (leave above high, return below low) it would move every other step. */
static void test_trace_no_flap_in_band(void)
{
	struct step s[200];
	enum hy_side end;

	for (int i = 0; i < 200; i++)
		s[i] = (struct step)STEP(10 * MS, HY_MODE_PAGED32, .pt_per_s = i % 2 ? 25000 : 15000);
	CU_ASSERT_EQUAL(replay(s, 200, HY_HW, old_vtx(), &end), 1);
	CU_ASSERT_EQUAL(end, HY_BT);
}

/* A rate that swings across the whole band every 10 ms for 2 s: the
 * minimum residency (50 ms) caps the moves at one per 50 ms, where a
 * policy without it would move 200 times. */
static void test_trace_residency_caps(void)
{
	struct hy_tuning t = tuning();
	struct step s[200];
	enum hy_side end;

	for (int i = 0; i < 200; i++)
		s[i] = (struct step)STEP(10 * MS, HY_MODE_PAGED32, .pt_per_s = i % 2 ? 30000 : 0);
	int n = replay(s, 200, HY_HW, old_vtx(), &end);
	CU_ASSERT(n >= 1);
	CU_ASSERT(n <= (int)(2000 * MS / t.min_residency_ns) + 1);
}

/* A guest that drops to real mode every 2 ms (BIOS calls from a 32-bit
 * kernel) on VT-x without unrestricted guest: the moves to bt for real
 * mode are forced, the moves back to hardware (rule 3b) are mode-driven
 * and wait for the mode residency, so at most one round trip per 5 ms. */
static void test_trace_mode_thrash(void)
{
	struct hy_tuning t = tuning();
	struct step s[1000];
	enum hy_side end;

	for (int i = 0; i < 1000; i++)
		s[i] = (struct step)STEP(1 * MS, (i / 2) % 2 ? HY_MODE_REAL : HY_MODE_PROT);
	int n = replay(s, 1000, HY_HW, old_vtx(), &end);
	CU_ASSERT(n >= 2);
	CU_ASSERT(n <= 2 * (int)(1000 * MS / t.mode_residency_ns) + 2);
}

/* tests/guests/realmode.elf on hybrid with VT-x without unrestricted guest
 * (Bochs lynnfield): 32-bit code on hardware; the CR0.PE clear comes back
 * as EXIT_MODE_UNSUPPORTED (current_refused) and moves to bt at once; bt
 * runs real mode, the return to 16-bit protected mode, the far jump back
 * to 32-bit code; once that has lasted the mode residency, back to
 * hardware (rule 3b). Two switches, ending on hardware. */
static void test_trace_realmode_old_vtx(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_REAL, old_vtx());

	in.current_refused = true;
	in.since_switch_ns = 0;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_FORCED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "hw cannot run real mode"));
	/* a state the caps allow but VM entry refused: forced all the same */
	in.guest.mode = HY_MODE_PROT;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "hw refused protected mode"));
	in.guest.mode = HY_MODE_REAL;

	struct step s[] = {
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
		STEP(0, HY_MODE_REAL),				/* CR0.PE cleared: forced */
		STEP(1 * MS, HY_MODE_REAL), STEP(1 * MS, HY_MODE_REAL),
		STEP(1 * MS, HY_MODE_PROT, .code16 = true),	/* PE set, 16-bit CS */
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
		STEP(1 * MS, HY_MODE_PROT), STEP(1 * MS, HY_MODE_PROT),
	};
	enum hy_side end;
	int n = replay(s, sizeof(s) / sizeof(s[0]), HY_HW, old_vtx(), &end);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(end, HY_HW);

	/* on bt after the forced move: 16-bit code and real-mode segments
	 * keep it there; 32-bit code goes back only after the residency */
	in = input(HY_BT, HY_MODE_PROT, old_vtx());
	in.came_forced = true;
	in.guest.code16 = true;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	in.guest.code16 = false;
	in.guest.real_segments = true;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	CU_ASSERT_PTR_NOT_NULL(strstr(hy_decide(&in, &t).why, "real-mode segments"));
	in.guest.real_segments = false;
	in.since_switch_ns = t.mode_residency_ns - 1;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_RESIDENCY);
	in.since_switch_ns = t.mode_residency_ns;
	d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_HW);
	CU_ASSERT_EQUAL(d.reason, HY_R_MODE_BACK);
	/* not forced there (bt chosen for exits): rule 4's band, not 3b */
	in.came_forced = false;
	CU_ASSERT_NOT_EQUAL(hy_decide(&in, &t).reason, HY_R_MODE_BACK);
	/* hardware that runs real mode (unrestricted guest) never refuses */
	in = input(HY_HW, HY_MODE_REAL, bt_caps());
	in.side[HY_HW].hardware_assist = true;
	in.side[HY_HW].cannot[NEED_LONG_MODE] = false;
	CU_ASSERT_NOT_EQUAL(hy_decide(&in, &t).action, HY_GO_BT);
}

/* GRUB loading a kernel on VT-x without unrestricted guest: 32-bit code
 * for 2 ms, then real mode for 3 ms (an INT 13h read through SeaBIOS),
 * 300 times, then the kernel's protected mode for good. The simulator
 * counts bounces as engine_hybrid.c's move_to does. Without the backoff
 * each read costs two moves; with it the short protected-mode phases
 * stay on bt after a few reads, and the kernel still goes back to
 * hardware within the longest residency. */
static void test_trace_grub_bounces(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_PROT, old_vtx());
	uint64_t now = 0, last_switch = 0;
	bool came_back = false;
	int switches = 0;

	for (int step = 0; step < 300 * 5 + 1000; step++, now += MS) {
		bool real = step < 300 * 5 && step % 5 >= 2;
		in.guest.mode = real ? HY_MODE_REAL : HY_MODE_PROT;
		in.since_switch_ns = now - last_switch;
		struct hy_decision d = hy_decide(&in, &t);
		if (d.action == HY_STAY)
			continue;
		if (d.action == HY_GO_BT && d.reason == HY_R_FORCED) {
			bool bounce = came_back && now - last_switch < t.bounce_ns;
			in.bounces = bounce ? in.bounces + 1 : 0;
		}
		in.current = d.action == HY_GO_BT ? HY_BT : HY_HW;
		in.came_forced = d.reason == HY_R_FORCED;
		came_back = d.reason == HY_R_MODE_BACK;
		last_switch = now;
		switches++;
		if (step >= 300 * 5)
			break;	/* the kernel's move back */
	}
	CU_ASSERT_EQUAL(in.current, HY_HW);
	CU_ASSERT(now - 300 * 5 * MS <= hy_mode_back_residency(&t, 99));
	/* 1.5 s at most 320 ms apart: a handful of round trips, not 600 moves */
	CU_ASSERT(switches >= 4);
	CU_ASSERT(switches <= 40);
	/* the residency doubles per bounce, capped */
	CU_ASSERT_EQUAL(hy_mode_back_residency(&t, 0), t.mode_residency_ns);
	CU_ASSERT_EQUAL(hy_mode_back_residency(&t, 2), 4 * t.mode_residency_ns);
	CU_ASSERT_EQUAL(hy_mode_back_residency(&t, 99), t.mode_residency_ns << t.bounce_shift_max);
	/* the first mode-back (no bounce yet) keeps the 5 ms of before */
	in = input(HY_BT, HY_MODE_PROT, old_vtx());
	in.came_forced = true;
	in.since_switch_ns = t.mode_residency_ns;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_MODE_BACK);
	in.bounces = 1;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_RESIDENCY);
}

/* A20 off (engine.h set_a20): a side without the gate (every hardware
 * engine) cannot run the guest then; bt can, so the vCPU moves there at
 * once and comes back (rule 3b) when A20 is on again. */
static void test_a20_off_forces_bt(void)
{
	struct hy_tuning t = tuning();
	struct hy_input in = input(HY_HW, HY_MODE_PROT, old_vtx());

	in.side[HY_HW].no_a20_gate = true;
	in.guest.a20_off = true;
	in.since_switch_ns = 0;
	struct hy_decision d = hy_decide(&in, &t);
	CU_ASSERT_EQUAL(d.action, HY_GO_BT);
	CU_ASSERT_EQUAL(d.reason, HY_R_FORCED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.why, "A20 off"));
	/* on bt: stays while A20 is off, back once it is on */
	in.current = HY_BT;
	in.came_forced = true;
	in.since_switch_ns = 1000 * MS;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).action, HY_STAY);
	in.guest.a20_off = false;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_MODE_BACK);
	/* neither side has a gate: nobody, the VMM says so */
	in.current = HY_HW;
	in.guest.a20_off = true;
	in.side[HY_BT].no_a20_gate = true;
	CU_ASSERT_EQUAL(hy_decide(&in, &t).reason, HY_R_NOBODY);
}

/* The guest's mode from CPU states: right after CR0.PE is set from real
 * mode (CS still a real-mode cache), and after the far jump to a flat
 * 32-bit descriptor. SDM Vol. 3C 26.3.1.2. */
static void test_guest_mode_segments(void)
{
	struct hyvm_cpu_state st;

	memset(&st, 0, sizeof(st));
	st.cr0 = 0x11;	/* PE, ET */
	for (int i = HYVM_ES; i <= HYVM_GS; i++) {
		st.seg[i].selector = 0x1234;	/* RPL 0, a paragraph number */
		st.seg[i].limit = 0xffff;
		st.seg[i].attrib = 0x3 | HYVM_SEG_S | HYVM_SEG_P;
	}
	struct hy_guest g = hy_guest_of(&st);
	CU_ASSERT_EQUAL(g.mode, HY_MODE_PROT);
	CU_ASSERT(g.real_segments);		/* CS is a data segment */
	CU_ASSERT(g.code16);
	st.seg[HYVM_CS].attrib = 0xb | HYVM_SEG_S | HYVM_SEG_P | HYVM_SEG_DB;
	st.seg[HYVM_CS].selector = 0x08;
	CU_ASSERT_FALSE(hy_guest_of(&st).real_segments);
	st.seg[HYVM_SS].selector = 0x9003;	/* RPL 3 != CS.RPL */
	CU_ASSERT(hy_guest_of(&st).real_segments);
	st.seg[HYVM_SS].attrib |= HYVM_SEG_UNUSABLE;
	st.seg[HYVM_DS].attrib = 0x2 | HYVM_SEG_S | HYVM_SEG_P;	/* not accessed */
	CU_ASSERT(hy_guest_of(&st).real_segments);
	st.seg[HYVM_DS].attrib |= 1;
	CU_ASSERT_FALSE(hy_guest_of(&st).real_segments);
	st.rflags = 1u << 17;			/* virtual-8086: other rules */
	st.seg[HYVM_CS].attrib = 0x3 | HYVM_SEG_S | HYVM_SEG_P;
	CU_ASSERT_FALSE(hy_guest_of(&st).real_segments);
	st.cr0 = 0x10;
	CU_ASSERT_EQUAL(hy_guest_of(&st).mode, HY_MODE_REAL);
}

UNIT_SUITE(hybrid_policy, NULL, NULL,
	   UNIT_TEST(test_forced_ignores_residency),
	   UNIT_TEST(test_nobody_or_only_one),
	   UNIT_TEST(test_software_hw_prefers_bt),
	   UNIT_TEST(test_pt_heavy_band),
	   UNIT_TEST(test_io_heavy),
	   UNIT_TEST(test_trace_realmode),
	   UNIT_TEST(test_trace_no_flap_in_band),
	   UNIT_TEST(test_trace_residency_caps),
	   UNIT_TEST(test_trace_mode_thrash),
	   UNIT_TEST(test_trace_realmode_old_vtx),
	   UNIT_TEST(test_trace_grub_bounces),
	   UNIT_TEST(test_guest_mode_segments),
	   UNIT_TEST(test_a20_off_forces_bt));

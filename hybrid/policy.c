/*
 * The hybrid switch policy (see policy.h). Rules, first match wins:
 *
 * 1. The current engine cannot run the guest's mode: go to the other one
 *    at once (no residency: staying is impossible).
 * 2. Only one engine can run it: stay.
 * 3. A "hardware" engine that is software (kvm_pvm: everything but ring-3
 *    long mode emulated, ~6000x slower than native) loses to bt for every
 *    mode bt runs. kvm_pvm also turns a guest's CR0.PG in 32-bit mode into
 *    #GP instead of an exit, so staying there in a 32-bit mode is a risk.
 * 3b. True hardware assist, and bt is current only because the guest was
 *    in a mode the hardware cannot run (real mode on VT-x without
 *    unrestricted guest): back to hardware once it runs the mode again,
 *    as a mode-driven move (Adams & Agesen's hybrid: BT for what VT-x
 *    cannot enter, hardware for the rest). A guest that bounces, back in
 *    real mode soon after each such move (GRUB: protected mode, then real
 *    mode for every INT 13h disk read; SeaBIOS: 32-bit code for each
 *    virtio request), would pay two moves per BIOS call, and a move to bt
 *    flushes its translations; so the residency doubles with each bounce
 *    in a row (up to mode_residency_ns << bounce_shift_max) and the
 *    short protected-mode phases stay on bt, which runs them too.
 * 4. True hardware assist: bt wins page-table-heavy phases when the
 *    hardware engine has no nested paging (each PTE write is a shadow
 *    fault, ~12.7k cycles on hardware vs ~0.4k under BT: Adams & Agesen
 *    2006), and exit-heavy phases (an IN/OUT exit ~15.8k cycles vs ~0.2k).
 *    Back to hardware when both are calm again.
 *
 * Hysteresis: statistics-driven moves (4) need min_residency_ns on the
 * current engine and a rate beyond a band (high to leave, low to return),
 * so a rate hovering around one threshold cannot flap. Mode-driven moves
 * (3) need only mode_residency_ns: they follow the guest's own mode
 * changes, so they cannot flap faster than the guest changes modes, and
 * the residency still caps them.
 */
#include <stdio.h>
#include "hybrid/policy.h"

void hy_policy_defaults(struct hy_tuning *t)
{
	t->min_residency_ns = 50000000ull;
	t->mode_residency_ns = 5000000ull;
	t->bounce_ns = 50000000ull;
	t->bounce_shift_max = 6;	/* 5 ms .. 320 ms */
	/* ~4-5 us per shadow fault or exit on hardware: 20k/s is ~10% of a
	 * CPU; 5k/s (~2%) is calm. */
	t->pt_high = 20000;
	t->pt_low = 5000;
	t->io_high = 50000;
	t->io_low = 10000;
}

const char *hy_side_name(enum hy_side s)
{
	return s == HY_BT ? "bt" : s == HY_HW ? "hw" : "?";
}

const char *hy_mode_name(const struct hy_guest *g)
{
	if (g->a20_off)
		return "memory with A20 off";
	switch (g->mode) {
	case HY_MODE_REAL: return "real mode";
	case HY_MODE_PROT: return g->real_segments ? "real-mode segments" :
				  g->code16 ? "16-bit protected mode" :
				  g->cpl == 3 ? "ring-3 protected mode" : "protected mode";
	case HY_MODE_PAGED32: return g->cpl == 3 ? "ring-3 paged mode" : "32-bit paging";
	case HY_MODE_PAE: return g->cpl == 3 ? "ring-3 PAE paging" : "PAE paging";
	case HY_MODE_LONG: return "long mode";
	}
	return "?";
}

const char *hy_reason_name(enum hy_reason r)
{
	static const char *const names[HY_R_COUNT] = {
		[HY_R_FITS] = "fits", [HY_R_FORCED] = "forced", [HY_R_NOBODY] = "nobody",
		[HY_R_SOFTWARE_HW] = "software-hw", [HY_R_PT_HEAVY] = "pt-heavy",
		[HY_R_PT_CALM] = "pt-calm", [HY_R_NESTED] = "nested-paging",
		[HY_R_IO_HEAVY] = "io-heavy", [HY_R_IO_CALM] = "io-calm",
		[HY_R_RESIDENCY] = "residency", [HY_R_MODE_BACK] = "mode-back",
	};
	return r < HY_R_COUNT ? names[r] : "?";
}

/* 16-bit protected-mode code needs what real mode needs of an engine
 * that cannot run real mode (a translator without 16-bit decoding; VT-x
 * without unrestricted guest runs it, but hyvm's backends lump them), so
 * it counts as NEED_REAL_MODE. */
bool hy_side_can_run(const struct hy_side_caps *c, const struct hy_guest *g)
{
	static const enum guest_need mode_need[] = {
		[HY_MODE_REAL] = NEED_REAL_MODE, [HY_MODE_PROT] = NEED_COUNT,
		[HY_MODE_PAGED32] = NEED_PAGING32, [HY_MODE_PAE] = NEED_PAE,
		[HY_MODE_LONG] = NEED_LONG_MODE,
	};
	enum guest_need n = mode_need[g->mode];

	if (!c->present || (g->a20_off && c->no_a20_gate))
		return false;
	if (n != NEED_COUNT && c->cannot[n])
		return false;
	if ((g->code16 || g->real_segments) && c->cannot[NEED_REAL_MODE])
		return false;
	/* ring 3 outside long mode: kvm_pvm cannot IRET there or gate back */
	if (g->cpl == 3 && g->mode != HY_MODE_LONG && c->cannot[NEED_USER_MODE])
		return false;
	return true;
}

static struct hy_decision decision(enum hy_action a, enum hy_reason r, const char *fmt,
				   const char *s1, const char *s2)
{
	struct hy_decision d = { .action = a, .reason = r };

	snprintf(d.why, sizeof(d.why), fmt, s1, s2);
	return d;
}

static enum hy_action go_to(enum hy_side s)
{
	return s == HY_BT ? HY_GO_BT : HY_GO_HW;
}

uint64_t hy_mode_back_residency(const struct hy_tuning *t, unsigned bounces)
{
	return t->mode_residency_ns << (bounces < t->bounce_shift_max ? bounces : t->bounce_shift_max);
}

struct hy_decision hy_decide(const struct hy_input *in, const struct hy_tuning *t)
{
	enum hy_side cur = in->current, other = cur == HY_BT ? HY_HW : HY_BT;
	const struct hy_side_caps *hw = &in->side[HY_HW];
	const char *mode = hy_mode_name(&in->guest);
	bool cur_caps_ok = hy_side_can_run(&in->side[cur], &in->guest);
	bool cur_ok = cur_caps_ok && !in->current_refused;
	bool other_ok = hy_side_can_run(&in->side[other], &in->guest);

	if (!cur_ok && other_ok)
		return decision(go_to(other), HY_R_FORCED, cur_caps_ok ?
				"%s refused %s" : "%s cannot run %s", hy_side_name(cur), mode);
	if (!cur_ok)
		return decision(HY_STAY, HY_R_NOBODY, "no engine runs %s%s", mode, "");
	if (!other_ok)
		return decision(HY_STAY, HY_R_FITS, "only %s runs %s", hy_side_name(cur), mode);

	/* Both can run it: which is better? */
	enum hy_side want = cur;
	enum hy_reason why = HY_R_FITS;
	bool by_mode = false;
	const struct hy_interval *l = &in->last;
	double pt = l->pt_writes_per_s + l->shadow_faults_per_s;
	double io = l->exits_per_s[EXIT_IO] + l->exits_per_s[EXIT_MMIO];

	if (!hw->hardware_assist) {
		want = HY_BT;
		why = HY_R_SOFTWARE_HW;
		by_mode = true;
	} else if (cur == HY_BT && in->came_forced) {
		want = HY_HW;
		why = HY_R_MODE_BACK;
		by_mode = true;
	} else if (cur == HY_HW && l->ns) {
		if (!hw->nested_paging && pt > t->pt_high) {
			want = HY_BT;
			why = HY_R_PT_HEAVY;
		} else if (io > t->io_high) {
			want = HY_BT;
			why = HY_R_IO_HEAVY;
		}
	} else if (cur == HY_BT) {
		/* Leave bt only when both rates are below the low marks: the
		 * band between low and high is where nobody moves. */
		bool pt_calm = hw->nested_paging || (l->ns && pt < t->pt_low);
		bool io_calm = l->ns && io < t->io_low;
		if (pt_calm && io_calm) {
			want = HY_HW;
			why = hw->nested_paging ? HY_R_NESTED : HY_R_PT_CALM;
		}
	}
	if (want == cur)
		return decision(HY_STAY, HY_R_FITS, "%s fits %s", hy_side_name(cur), mode);

	uint64_t need = why == HY_R_MODE_BACK ? hy_mode_back_residency(t, in->bounces) :
			by_mode ? t->mode_residency_ns : t->min_residency_ns;
	if (in->since_switch_ns < need)
		return decision(HY_STAY, HY_R_RESIDENCY, "%s wants %s, residency not met",
				mode, hy_side_name(want));
	switch (why) {
	case HY_R_SOFTWARE_HW:
		return decision(go_to(want), why, "%s: hw engine is software%s", mode, "");
	case HY_R_PT_HEAVY:
		return decision(go_to(want), why, "%s: page tables busy, no nested paging%s",
				mode, "");
	case HY_R_IO_HEAVY:
		return decision(go_to(want), why, "%s: exit-heavy%s", mode, "");
	case HY_R_MODE_BACK:
		return decision(go_to(want), why, "%s: hw runs it again%s", mode, "");
	case HY_R_NESTED:
		return decision(go_to(want), why, "%s: hw has nested paging%s", mode, "");
	default:
		return decision(go_to(want), why, "%s: page tables and exits calm%s", mode, "");
	}
}

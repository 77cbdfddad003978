/*
 * The hybrid switch policy: a pure function from (guest mode, what each
 * engine can run, the last interval's statistics, time since the last
 * switch) to stay / go to bt / go to hardware, with a reason. No I/O, no
 * clock, no globals: the engine (engine_hybrid.c) gathers the inputs, and
 * the unit tests replay recorded or synthetic sequences of them.
 */
#ifndef HYVM_HYBRID_POLICY_H
#define HYVM_HYBRID_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "engines/engine.h"

enum hy_side { HY_BT, HY_HW, HY_SIDES };

enum hy_mode { HY_MODE_REAL, HY_MODE_PROT, HY_MODE_PAGED32, HY_MODE_PAE, HY_MODE_LONG };

/* The guest's execution mode as the policy needs it. */
struct hy_guest {
	enum hy_mode mode;
	unsigned cpl;
	bool code16;	/* protected mode with a 16-bit code segment */
	/* protected mode whose segment registers still hold what real mode
	 * left, which VM entry without unrestricted guest refuses (SDM Vol.
	 * 3C, 26.3.1.2; guest_mode.c) */
	bool real_segments;
	bool a20_off;	/* the A20 gate masks address bit 20 (engine.h set_a20) */
};

/* What one side can do (from engine_caps). */
struct hy_side_caps {
	bool present;
	bool hardware_assist;	/* true VT-x/AMD-V underneath */
	bool nested_paging;	/* EPT/NPT: guest page-table writes cost no exits */
	bool cannot[NEED_COUNT];
	bool no_a20_gate;	/* keeps A20 on whatever the guest asks (set_a20 NULL) */
};

/* The last interval, as rates, for the engine that was current. */
struct hy_interval {
	uint64_t ns;			/* its length; 0: no statistics yet */
	double exits_per_s[EXIT_KIND_COUNT];
	double pt_writes_per_s;		/* bt: guest page-table write traps */
	double shadow_faults_per_s;	/* bt, or a hardware engine without nested paging */
	double vmm_share;		/* time answering exits / interval, 0..1 */
};

struct hy_input {
	enum hy_side current;
	struct hy_guest guest;
	struct hy_side_caps side[HY_SIDES];
	struct hy_interval last;
	uint64_t since_switch_ns;
	/* The current engine stopped with EXIT_MODE_UNSUPPORTED: whatever the
	 * caps say, it cannot run this state (VT-x refusing a state at entry). */
	bool current_refused;
	/* The vCPU is on the current engine because the other could not run
	 * the guest's mode then (the last move was forced). */
	bool came_forced;
	/* How many forced moves to bt in a row came within bounce_ns of the
	 * mode-back before them: a guest that returns to real mode for each
	 * BIOS call (GRUB's disk reads through INT 13h) bounces. */
	unsigned bounces;
};

enum hy_action { HY_STAY, HY_GO_BT, HY_GO_HW };

enum hy_reason {
	HY_R_FITS,		/* stay: nothing better */
	HY_R_FORCED,		/* the current engine cannot run the mode */
	HY_R_NOBODY,		/* neither can: stay, the engine will report it */
	HY_R_SOFTWARE_HW,	/* the "hardware" engine is software: bt is native speed */
	HY_R_PT_HEAVY,		/* page-table-heavy on hardware without nested paging */
	HY_R_PT_CALM,		/* page tables calm again: back to hardware */
	HY_R_NESTED,		/* hardware with nested paging runs this mode best */
	HY_R_IO_HEAVY,		/* exit-heavy on hardware: bt's callouts are cheaper */
	HY_R_IO_CALM,
	HY_R_RESIDENCY,		/* would move, but the minimum residency has not passed */
	HY_R_MODE_BACK,		/* forced to bt by a mode, which hardware runs again */
	HY_R_COUNT
};

struct hy_decision {
	enum hy_action action;
	enum hy_reason reason;
	char why[64];		/* one line for hyvm top's switch ring */
};

/* Thresholds; hy_policy_defaults fills the ones the engine uses. */
struct hy_tuning {
	uint64_t min_residency_ns;	/* statistics-driven moves */
	uint64_t mode_residency_ns;	/* moves because of the guest's mode */
	uint64_t bounce_ns;		/* a stay on hardware shorter than this was a bounce */
	unsigned bounce_shift_max;	/* mode-back waits mode_residency_ns << min(bounces, this) */
	double pt_high, pt_low;		/* (PT writes + shadow faults)/s band */
	double io_high, io_low;		/* (IO + MMIO exits)/s band */
};

void hy_policy_defaults(struct hy_tuning *t);
const char *hy_side_name(enum hy_side s);
const char *hy_mode_name(const struct hy_guest *g);
const char *hy_reason_name(enum hy_reason r);
/* The need a guest in this mode has of its engine (NEED_COUNT: none). */
bool hy_side_can_run(const struct hy_side_caps *c, const struct hy_guest *g);
struct hy_decision hy_decide(const struct hy_input *in, const struct hy_tuning *t);
/* The residency a mode-back needs after `bounces` bounces. */
uint64_t hy_mode_back_residency(const struct hy_tuning *t, unsigned bounces);

#endif

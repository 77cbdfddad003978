/*
 * The hybrid engine's VM and vCPU, shared by the engine's operations
 * (engine_hybrid.c) and the machinery that moves a vCPU between its two
 * sides (hybrid_move.c). Private to hybrid/: the rest of hyvm sees the
 * engine interface only.
 */
#ifndef HYVM_HYBRID_VCPU_H
#define HYVM_HYBRID_VCPU_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "engines/engine.h"
#include "hybrid/guest_mode.h"
#include "hybrid/policy.h"

#define CONSULT_NS	1000000ull	/* at most one policy call a millisecond */
#define INTERVAL_NS	10000000ull	/* statistics intervals the policy sees */
#define RAW_BT_BASE	0x10000u	/* raw reasons of bt's exits: base + kind */

struct side {
	const struct engine_ops *ops;
	struct engine_vm *vm;
	struct hy_side_caps caps;
};

struct engine_vm {
	struct side side[HY_SIDES];
};

enum hy_counter {
	HC_SWITCHES, HC_FORCED, HC_SOFTWARE_HW, HC_PT, HC_IO, HC_CALM, HC_MODE_BACK,
	HC_SETTLE_DEFERRED, HC_BOUNCES,
	HC_SWITCH_NS_TOTAL, HC_SWITCH_NS_MAX, HC_NS_BT, HC_NS_HW, HC_COUNT
};

struct engine_vcpu {
	struct engine_vm *vm;
	struct engine_vcpu *v[HY_SIDES];
	volatile sig_atomic_t current;	/* enum hy_side; read by kick() */
	bool window;			/* the VMM wants an interrupt window */
	bool came_forced;		/* the last move was forced (policy rule 3b) */
	bool came_back;			/* the last move was a mode-back */
	unsigned bounces;		/* forced moves to bt in a row soon after a mode-back */
	bool a20_off;			/* the guest's A20 gate (set_a20) */
	bool refused;			/* the current engine just stopped with
					 * EXIT_MODE_UNSUPPORTED */
	bool pending;			/* a move is decided, made on the next run */
	enum hy_side pending_to;
	struct hy_decision pending_d;
	struct hy_tuning tune;

	uint64_t last_switch_ns, last_consult_ns, run_end_ns;
	uint64_t consult_cr0, consult_efer;	/* as of the last consult */
	/* the current interval */
	uint64_t iv_start_ns, iv_guest_ns, iv_vmm_ns, iv_exits[EXIT_KIND_COUNT];
	uint64_t iv_pt0, iv_shadow0;	/* bt's counters at the interval's start */
	struct hy_interval last;

	uint64_t counters[HC_COUNT];
	uint64_t runs, exits[EXIT_KIND_COUNT];
	bool trace;
	struct stats_writer *stats;
	int index;
};

uint64_t hy_now_ns(void);
/* The engine the vCPU is on now. */
const struct engine_ops *hy_cur_ops(const struct engine_vcpu *v);
/* Statistics intervals the policy sees: a new one at a move. */
void hy_interval_start(struct engine_vcpu *v, uint64_t now);
void hy_interval_tick(struct engine_vcpu *v, uint64_t now);
/* The policy's decision (policy.c) on the guest and the last interval. */
struct hy_decision hy_consult(struct engine_vcpu *v, const struct hy_guest *g, uint64_t now);
/* Moves the vCPU to side `to`: state, the interrupt-window request, and a
 * note in the live statistics. -1 + exit->error on failure. */
int hy_move_to(struct engine_vcpu *v, enum hy_side to, const struct hy_decision *d,
	       struct vcpu_exit *exit);
/* Completes what the last exit left for the next entry on the current
 * engine, without running guest code: 1 when settled; 0 when the engine
 * stopped for something else first (exit is then the VMM's). */
int hy_settle(struct engine_vcpu *v, struct vcpu_exit *exit, int *r);
/* An exit after which the vCPU may move (nothing half-done). */
bool hy_safe_point(const struct vcpu_exit *e);

#endif

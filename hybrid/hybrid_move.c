/*
 * Moving a hybrid vCPU between its sides (engine_hybrid.c decides when):
 * the statistics intervals the policy reads, the policy's call, the move
 * itself (get_state on one engine, set_state on the other, with its cost
 * and the bounce count of policy rule 3b), and settling an engine before
 * it gives the vCPU up.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "hybrid/hybrid_vcpu.h"
#include "stats/stats.h"

uint64_t hy_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const struct engine_ops *hy_cur_ops(const struct engine_vcpu *v)
{
	return v->vm->side[v->current].ops;
}

static enum guest_mode hy_stats_mode(const struct hy_guest *g)
{
	static const enum guest_mode m[] = {
		[HY_MODE_REAL] = MODE_REAL, [HY_MODE_PROT] = MODE_PROTECTED,
		[HY_MODE_PAGED32] = MODE_PAGED, [HY_MODE_PAE] = MODE_PAE, [HY_MODE_LONG] = MODE_LONG,
	};
	return m[g->mode];
}

static uint64_t hy_bt_counter(struct engine_vcpu *v, const char *name)
{
	struct engine_stats st;

	v->vm->side[HY_BT].ops->read_stats(v->v[HY_BT], &st);
	for (unsigned i = 0; i < st.nr_counters; i++)
		if (!strcmp(st.counter[i].name, name))
			return st.counter[i].value;
	return 0;
}

void hy_interval_start(struct engine_vcpu *v, uint64_t now)
{
	v->iv_start_ns = now;
	v->iv_guest_ns = v->iv_vmm_ns = 0;
	memset(v->iv_exits, 0, sizeof(v->iv_exits));
	v->iv_pt0 = hy_bt_counter(v, "bt.pt_write_traps");
	v->iv_shadow0 = hy_bt_counter(v, "bt.shadow_faults_hidden");
}

/* Closes the interval into v->last when it is long enough. A switch starts
 * a new one: rates of one engine say nothing about the other. */
void hy_interval_tick(struct engine_vcpu *v, uint64_t now)
{
	uint64_t ns = now - v->iv_start_ns;

	if (ns < INTERVAL_NS)
		return;
	double s = ns / 1e9;
	memset(&v->last, 0, sizeof(v->last));
	v->last.ns = ns;
	for (int k = 0; k < EXIT_KIND_COUNT; k++)
		v->last.exits_per_s[k] = v->iv_exits[k] / s;
	if (v->current == HY_BT) {
		v->last.pt_writes_per_s = (hy_bt_counter(v, "bt.pt_write_traps") - v->iv_pt0) / s;
		v->last.shadow_faults_per_s =
			(hy_bt_counter(v, "bt.shadow_faults_hidden") - v->iv_shadow0) / s;
	}
	v->last.vmm_share = (double)v->iv_vmm_ns / ns;
	hy_interval_start(v, now);
}

struct hy_decision hy_consult(struct engine_vcpu *v, const struct hy_guest *g, uint64_t now)
{
	struct hy_input in = {
		.current = v->current,
		.guest = *g,
		.last = v->last,
		.since_switch_ns = now - v->last_switch_ns,
		.current_refused = v->refused,
		.came_forced = v->came_forced,
		.bounces = v->bounces,
	};

	in.guest.a20_off = v->a20_off;	/* not in the CPU state: the VMM's line */
	for (int s = 0; s < HY_SIDES; s++)
		in.side[s] = v->vm->side[s].caps;
	v->last_consult_ns = now;
	v->consult_cr0 = g->mode == HY_MODE_REAL ? 0 : 1;
	v->consult_efer = g->mode == HY_MODE_LONG;
	return hy_decide(&in, &v->tune);
}

static void hy_count_switch(struct engine_vcpu *v, enum hy_reason r, uint64_t ns)
{
	v->counters[HC_SWITCHES]++;
	v->counters[r == HY_R_FORCED ? HC_FORCED : r == HY_R_SOFTWARE_HW ? HC_SOFTWARE_HW :
		    r == HY_R_PT_HEAVY ? HC_PT : r == HY_R_IO_HEAVY ? HC_IO :
		    r == HY_R_MODE_BACK ? HC_MODE_BACK : HC_CALM]++;
	v->counters[HC_SWITCH_NS_TOTAL] += ns;
	if (ns > v->counters[HC_SWITCH_NS_MAX])
		v->counters[HC_SWITCH_NS_MAX] = ns;
}

int hy_move_to(struct engine_vcpu *v, enum hy_side to, const struct hy_decision *d,
		   struct vcpu_exit *exit)
{
	enum hy_side from = v->current;
	const struct engine_ops *fo = v->vm->side[from].ops, *to_ops = v->vm->side[to].ops;
	struct hyvm_cpu_state st;
	char err[160] = "";
	uint64_t t0 = hy_now_ns();

	int got = fo->get_state(v->v[from], &st);
	uint64_t tg = hy_now_ns();
	if (got < 0)
		snprintf(err, sizeof(err), "get_state on %s failed", fo->name);
	else if (to_ops->set_state(v->v[to], &st, err, sizeof(err)) < 0 && !err[0])
		snprintf(err, sizeof(err), "set_state on %s failed", to_ops->name);
	uint64_t t1 = hy_now_ns();
	if (err[0]) {
		memset(exit, 0, sizeof(*exit));
		exit->kind = EXIT_ERROR;
		exit->error.last_vector = 0xff;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "hybrid: moving %s -> %s (%.40s): %.100s",
			 fo->name, to_ops->name, d->why, err);
		return -1;
	}
	fo->request_irq_window(v->v[from], false);
	to_ops->request_irq_window(v->v[to], v->window);
	v->counters[from == HY_BT ? HC_NS_BT : HC_NS_HW] += t1 - v->last_switch_ns;
	/* A forced move to bt soon after a mode-back is a bounce: the next
	 * mode-back waits longer (policy.c, rule 3b). */
	if (to == HY_BT && d->reason == HY_R_FORCED) {
		bool bounce = v->came_back && t0 - v->last_switch_ns < v->tune.bounce_ns;
		v->bounces = bounce ? v->bounces + 1 : 0;
		v->counters[HC_BOUNCES] += bounce;
	}
	v->current = to;
	v->came_forced = d->reason == HY_R_FORCED;
	v->came_back = d->reason == HY_R_MODE_BACK;
	v->last_switch_ns = t1;
	hy_count_switch(v, d->reason, t1 - t0);

	struct hy_guest g = hy_guest_of(&st);
	char why[96];
	snprintf(why, sizeof(why), "%s->%s: %s", fo->name, to_ops->name, d->why);
	stats_note_switch(v->stats, v->index, hy_stats_mode(&g), hy_stats_mode(&g), why);
	if (v->trace)
		fprintf(stderr, "hybrid: %s at rip=%#llx (%s; %.1f us: get_state %.1f, set_state %.1f; bounces %u)\n",
			why, (unsigned long long)st.rip, hy_reason_name(d->reason), (t1 - t0) / 1e3,
			(tg - t0) / 1e3, (t1 - tg) / 1e3, v->bounces);
	hy_interval_start(v, t1);
	return 0;
}

int hy_settle(struct engine_vcpu *v, struct vcpu_exit *exit, int *r)
{
	const struct engine_ops *o = hy_cur_ops(v);

	o->kick(v->v[v->current]);
	*r = o->vcpu_run(v->v[v->current], exit);
	return *r == 0 && exit->kind == EXIT_KICKED;
}

bool hy_safe_point(const struct vcpu_exit *e)
{
	switch (e->kind) {
	case EXIT_IO:
		return e->io.write;
	case EXIT_MMIO:
		return e->mmio.write;
	case EXIT_HLT: case EXIT_KICKED: case EXIT_IRQ_WINDOW:
		return true;
	default:
		return false;
	}
}

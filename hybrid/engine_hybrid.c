/*
 * The hybrid engine: bt plus the best present hardware engine, both with a
 * VM and a vCPU on the same guest RAM (one memfd). One of them is current
 * and runs; at safe points the policy (policy.c) may move the vCPU, which
 * is get_state on one engine and set_state on the other. A guest that
 * enters a mode bt cannot run makes bt stop with EXIT_MODE_UNSUPPORTED,
 * and the move then happens inside this run, unseen by the VMM.
 *
 * Moves the policy asks for are made at the start of the next vcpu_run,
 * after the VMM has answered the exit: the old engine is first "settled"
 * (kick + run), which completes what an exit leaves for the next entry
 * (KVM advances RIP past an OUT, and stores IN data, only on the next
 * KVM_RUN; immediate_exit makes that run return at once).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engines/engine.h"
#include "hybrid/guest_mode.h"
#include "hybrid/policy.h"
#include "stats/stats.h"
#include "hybrid/hybrid_vcpu.h"

static const char *const hc_names[HC_COUNT] = {
	"hybrid.switches", "hybrid.switch.forced", "hybrid.switch.software_hw",
	"hybrid.switch.pt_heavy", "hybrid.switch.io_heavy", "hybrid.switch.calm",
	"hybrid.switch.mode_back",
	"hybrid.switch.settle_deferred", "hybrid.bounces", "hybrid.switch_ns_total", "hybrid.switch_ns_max",
	"hybrid.ns_on_bt", "hybrid.ns_on_hw",
};

/* For raw_reason_name, which gets no vCPU: one hardware engine a process. */
static const struct engine_ops *hw_ops_for_names;

static void caps_to_side(const struct engine_caps *c, struct hy_side_caps *s)
{
	memset(s, 0, sizeof(*s));
	s->present = c->present;
	s->hardware_assist = c->hardware_assist;
	/* Every hardware engine hyvm has uses EPT/NPT when it is hardware
	 * assist (kvm on VT/AMD-V, hyvm.ko's svm and vmx); a software one
	 * (kvm_pvm) shadows, but rule 3 moves off it first anyway. */
	s->nested_paging = c->hardware_assist;
	for (int n = 0; n < NEED_COUNT; n++)
		s->cannot[n] = c->cannot[n] != NULL;
}

/* bt, and the most preferred present engine that is neither bt nor us. */
static void find_sides(const struct engine_ops *ops[HY_SIDES], struct engine_caps caps[HY_SIDES])
{
	ops[HY_BT] = engine_find("bt");
	ops[HY_HW] = NULL;
	memset(caps, 0, sizeof(caps[0]) * HY_SIDES);
	if (ops[HY_BT])
		ops[HY_BT]->probe(&caps[HY_BT]);
	for (const struct engine_ops *const *e = engine_list(); *e; e++) {
		if (!strcmp((*e)->name, "bt") || !strcmp((*e)->name, "hybrid"))
			continue;
		(*e)->probe(&caps[HY_HW]);
		if (caps[HY_HW].present) {
			ops[HY_HW] = *e;
			return;
		}
	}
	memset(&caps[HY_HW], 0, sizeof(caps[HY_HW]));
}

static void hybrid_probe(struct engine_caps *caps)
{
	const struct engine_ops *ops[HY_SIDES];
	struct engine_caps c[HY_SIDES];

	memset(caps, 0, sizeof(*caps));
	find_sides(ops, c);
	if (!ops[HY_BT] || !c[HY_BT].present) {
		snprintf(caps->absent_why, sizeof(caps->absent_why), "needs bt: %.140s",
			 ops[HY_BT] ? c[HY_BT].absent_why : "not built in");
		return;
	}
	if (!ops[HY_HW]) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "needs a hardware engine (kvm, svm or vmx) besides bt; none is present");
		return;
	}
	caps->present = true;
	caps->hardware_assist = c[HY_HW].hardware_assist;
	/* the vCPU runs on either side: the device MSRs must reach the VMM
	 * from both */
	caps->msr_exits = c[HY_BT].msr_exits && c[HY_HW].msr_exits;
	snprintf(caps->description, sizeof(caps->description), "bt + %s, switched per guest mode",
		 ops[HY_HW]->name);
	/* A need is unmet only if neither engine meets it; the reason is bt's
	 * (static strings, so the pointer outlives c). */
	for (int n = 0; n < NEED_COUNT; n++)
		if (c[HY_BT].cannot[n] && c[HY_HW].cannot[n])
			caps->cannot[n] = c[HY_BT].cannot[n];
	/* Real mode is bt's even where the hardware side cannot run it:
	 * hyvm.ko's vmx without unrestricted guest stops a guest that clears
	 * CR0.PE (or a state its VM entry refuses) with EXIT_MODE_UNSUPPORTED
	 * and the full state, and the run continues on bt (rule 1). */
	/* Memory is mapped on both sides at once: each must reach it. */
	if (!caps->cannot[NEED_HIGH_RAM])
		caps->cannot[NEED_HIGH_RAM] = c[HY_BT].cannot[NEED_HIGH_RAM]
					      ? c[HY_BT].cannot[NEED_HIGH_RAM]
					      : c[HY_HW].cannot[NEED_HIGH_RAM];
	/* So is IA32_TSC_DEADLINE: the vCPU may be on either side */
	if (!caps->cannot[NEED_TSC_DEADLINE])
		caps->cannot[NEED_TSC_DEADLINE] = c[HY_BT].cannot[NEED_TSC_DEADLINE]
						  ? c[HY_BT].cannot[NEED_TSC_DEADLINE]
						  : c[HY_HW].cannot[NEED_TSC_DEADLINE];
	/* and IA32_TSC_ADJUST, which a switch must carry across */
	if (!caps->cannot[NEED_TSC_ADJUST])
		caps->cannot[NEED_TSC_ADJUST] = c[HY_BT].cannot[NEED_TSC_ADJUST]
						? c[HY_BT].cannot[NEED_TSC_ADJUST]
						: c[HY_HW].cannot[NEED_TSC_ADJUST];
}

static int hybrid_vm_create(struct engine_vm **out, char *err, size_t errlen)
{
	const struct engine_ops *ops[HY_SIDES];
	struct engine_caps c[HY_SIDES];
	struct engine_vm *vm;

	find_sides(ops, c);
	if (!ops[HY_BT] || !ops[HY_HW]) {
		snprintf(err, errlen, "hybrid needs bt and a hardware engine");
		return -1;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "hybrid: out of memory");
		return -1;
	}
	/* For tests on a host whose hardware engine is true hardware: the
	 * policy then treats it as software (rule 3), so the moves between bt
	 * and it that kvm_pvm hosts see happen here too. */
	const char *as_sw = getenv("HYVM_HYBRID_HW_AS_SOFTWARE");
	if (as_sw && *as_sw && strcmp(as_sw, "0"))
		c[HY_HW].hardware_assist = false;
	for (int s = 0; s < HY_SIDES; s++) {
		vm->side[s].ops = ops[s];
		caps_to_side(&c[s], &vm->side[s].caps);
		vm->side[s].caps.no_a20_gate = !ops[s]->set_a20;
		if (ops[s]->vm_create(&vm->side[s].vm, err, errlen) < 0) {
			for (int t = 0; t < s; t++)
				ops[t]->vm_destroy(vm->side[t].vm);
			free(vm);
			return -1;
		}
	}
	hw_ops_for_names = ops[HY_HW];
	*out = vm;
	return 0;
}

static int hybrid_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
			  int memfd, off_t offset, unsigned flags, char *err, size_t errlen)
{
	for (int s = 0; s < HY_SIDES; s++)
		if (vm->side[s].ops->map_ram(vm->side[s].vm, gpa, host, size, memfd, offset,
					     flags, err, errlen) < 0)
			return -1;
	return 0;
}

static int hybrid_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **out,
			      char *err, size_t errlen)
{
	struct engine_vcpu *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, errlen, "hybrid: out of memory");
		return -1;
	}
	v->vm = vm;
	v->index = index;
	hy_policy_defaults(&v->tune);
	/* For tests that must see a mode-driven move at a known point. */
	const char *mr = getenv("HYVM_HYBRID_MODE_RESIDENCY_MS");
	if (mr && *mr)
		v->tune.mode_residency_ns = strtoull(mr, NULL, 10) * 1000000ull;
	v->trace = getenv("HYVM_HYBRID_TRACE") != NULL;
	/* For tests that must see statistics-driven moves in a real OS on true
	 * hardware: "HIGH,LOW" (IO + MMIO exits/s) narrows the exit-heavy band
	 * so the boot's console output sends the vCPU to bt and calm phases
	 * bring it back (tests/kmod/linux-boot32.sh). */
	const char *band = getenv("HYVM_HYBRID_IO_BAND");
	double hi, lo;
	if (band && sscanf(band, "%lf,%lf", &hi, &lo) == 2 && lo <= hi) {
		v->tune.io_high = hi;
		v->tune.io_low = lo;
	}
	for (int s = 0; s < HY_SIDES; s++)
		if (vm->side[s].ops->vcpu_create(vm->side[s].vm, index, &v->v[s], err, errlen) < 0) {
			if (s)
				vm->side[0].ops->vcpu_destroy(v->v[0]);
			free(v);
			return -1;
		}
	*out = v;
	return 0;
}

static int hybrid_set_state(struct engine_vcpu *v, const struct hyvm_cpu_state *st,
			    char *err, size_t errlen);

static int hybrid_vcpu_run(struct engine_vcpu *v, struct vcpu_exit *exit)
{
	uint64_t now = hy_now_ns();
	int r;

	v->runs++;
	if (v->run_end_ns)
		v->iv_vmm_ns += now - v->run_end_ns;
	if (v->pending) {
		v->pending = false;
		if (!hy_settle(v, exit, &r)) {
			/* the old engine had more to say: let the VMM answer it
			 * and decide again later */
			v->counters[HC_SETTLE_DEFERRED]++;
			goto out;
		}
		if (hy_move_to(v, v->pending_to, &v->pending_d, exit) < 0)
			return -1;
	}
	for (;;) {
		uint64_t t0 = hy_now_ns();
		r = hy_cur_ops(v)->vcpu_run(v->v[v->current], exit);
		now = hy_now_ns();
		v->iv_guest_ns += now - t0;
		if (r < 0 || exit->kind != EXIT_MODE_UNSUPPORTED)
			break;
		/* The engine stopped after the guest entered a mode it cannot
		 * run (bt: long mode; vmx without unrestricted guest: real
		 * mode); its state is complete, so the other engine continues
		 * from it at once. */
		struct hyvm_cpu_state st;
		if (hy_cur_ops(v)->get_state(v->v[v->current], &st) < 0)
			break;
		struct hy_guest g = hy_guest_of(&st);
		v->refused = true;
		struct hy_decision d = hy_consult(v, &g, now);
		v->refused = false;
		if (d.action == HY_STAY)
			break;	/* nobody can: the VMM reports it */
		v->run_end_ns = now;
		if (hy_move_to(v, d.action == HY_GO_BT ? HY_BT : HY_HW, &d, exit) < 0)
			return -1;
	}
	/* A change of CR0.PE or long mode the exit shows is worth a consult
	 * before the throttle allows one: that is when the best engine changes. */
	bool mode_changed = exit->ctl_valid &&
		((exit->cr0 & 1) != v->consult_cr0 || !!(exit->efer & (1u << 10)) != v->consult_efer);
	if (r == 0 && hy_safe_point(exit) && (mode_changed || now - v->last_consult_ns >= CONSULT_NS)) {
		struct hyvm_cpu_state st;
		hy_interval_tick(v, now);
		if (hy_cur_ops(v)->get_state(v->v[v->current], &st) == 0) {
			struct hy_guest g = hy_guest_of(&st);
			struct hy_decision d = hy_consult(v, &g, now);
			if (d.action != HY_STAY) {
				v->pending = true;
				v->pending_to = d.action == HY_GO_BT ? HY_BT : HY_HW;
				v->pending_d = d;
			}
		}
	}
out:
	if (exit->kind < EXIT_KIND_COUNT) {
		v->exits[exit->kind]++;
		v->iv_exits[exit->kind]++;
	}
	if (v->current == HY_BT)
		exit->raw_reason = RAW_BT_BASE + exit->kind;
	v->run_end_ns = hy_now_ns();
	return r;
}

static int hybrid_get_state(struct engine_vcpu *v, struct hyvm_cpu_state *st)
{
	return hy_cur_ops(v)->get_state(v->v[v->current], st);
}

/* The first state picks the engine: hardware if the policy would keep the
 * vCPU there, else bt; the other one if the pick refuses the state. */
static int hybrid_set_state(struct engine_vcpu *v, const struct hyvm_cpu_state *st,
			    char *err, size_t errlen)
{
	struct hy_guest g = hy_guest_of(st);
	uint64_t now = hy_now_ns();
	enum hy_side first;

	v->current = HY_HW;
	v->last_switch_ns = 0;	/* no residency to respect */
	struct hy_decision d = hy_consult(v, &g, now);
	first = d.action == HY_GO_BT ? HY_BT : HY_HW;
	v->pending = false;
	for (int i = 0; i < HY_SIDES; i++) {
		enum hy_side s = i ? !first : first;
		if (v->vm->side[s].ops->set_state(v->v[s], st, err, errlen) == 0) {
			v->current = s;
			/* starting on bt because hardware cannot run the mode
			 * (real mode at the reset vector) counts as forced */
			v->came_forced = s == HY_BT && d.reason == HY_R_FORCED;
			v->last_switch_ns = now;
			hy_interval_start(v, now);
			return 0;
		}
	}
	return -1;
}

/* One CPU model on both sides, so CPUID and the MSRs the model promises
 * answer the same before and after a switch. */
static int hybrid_set_cpuid(struct engine_vcpu *v, const struct hyvm_cpuid_table *t,
			    char *err, size_t errlen)
{
	for (int s = 0; s < HY_SIDES; s++) {
		const struct engine_ops *ops = v->vm->side[s].ops;
		if (!ops->set_cpuid) {
			snprintf(err, errlen, "hybrid: engine %s cannot take a CPU model", ops->name);
			return -1;
		}
		if (ops->set_cpuid(v->v[s], t, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int hybrid_inject_irq(struct engine_vcpu *v, uint8_t vector)
{
	return hy_cur_ops(v)->inject_irq(v->v[v->current], vector);
}

static void hybrid_request_irq_window(struct engine_vcpu *v, bool on)
{
	v->window = on;
	hy_cur_ops(v)->request_irq_window(v->v[v->current], on);
}

/* Async-signal-safe: current is a sig_atomic_t, and a kick that lands on
 * the engine being left costs at most one tick (the next one comes). */
static void hybrid_kick(struct engine_vcpu *v)
{
	int s = v->current;

	v->vm->side[s].ops->kick(v->v[s]);
}

static void hybrid_read_stats(struct engine_vcpu *v, struct engine_stats *st)
{
	struct engine_stats b;
	uint64_t now = hy_now_ns();

	memset(st, 0, sizeof(*st));
	st->runs = v->runs;
	memcpy(st->exits, v->exits, sizeof(st->exits));
	for (int c = 0; c < HC_COUNT; c++) {
		uint64_t val = v->counters[c];
		if ((c == HC_NS_BT && v->current == HY_BT) || (c == HC_NS_HW && v->current == HY_HW))
			val += now - v->last_switch_ns;
		st->counter[st->nr_counters].name = hc_names[c];
		st->counter[st->nr_counters++].value = val;
	}
	/* then bt's own counters, as many as fit */
	v->vm->side[HY_BT].ops->read_stats(v->v[HY_BT], &b);
	for (unsigned i = 0; i < b.nr_counters && st->nr_counters < sizeof(st->counter) / sizeof(st->counter[0]); i++)
		st->counter[st->nr_counters++] = b.counter[i];
}

static const char *hybrid_raw_reason_name(uint32_t raw)
{
	static const char *const bt_names[EXIT_KIND_COUNT] = {
		"bt:none", "bt:io", "bt:mmio", "bt:hlt", "bt:irq-window", "bt:kicked",
		"bt:shutdown", "bt:error", "bt:mode-unsupported", "bt:debug", "bt:msr",
	};

	if (raw >= RAW_BT_BASE && raw < RAW_BT_BASE + EXIT_KIND_COUNT)
		return bt_names[raw - RAW_BT_BASE];
	if (hw_ops_for_names && hw_ops_for_names->raw_reason_name)
		return hw_ops_for_names->raw_reason_name(raw);
	return NULL;
}

static void hybrid_attach_stats(struct engine_vcpu *v, struct stats_writer *w, int index)
{
	v->stats = w;
	v->index = index;
}

/* Both sides get the gate that have one. A side without one cannot run
 * the guest while A20 is off: if it is current, the move to bt is made
 * before the next instruction (the write to port 0x92 or the i8042 was
 * this exit; hy_settle() runs no guest code). */
static void hybrid_set_a20(struct engine_vcpu *v, bool enabled)
{
	v->a20_off = !enabled;
	for (int s = 0; s < HY_SIDES; s++)
		if (v->vm->side[s].ops->set_a20)
			v->vm->side[s].ops->set_a20(v->v[s], enabled);
	struct hyvm_cpu_state st;
	if (!enabled && v->vm->side[v->current].caps.no_a20_gate &&
	    hy_cur_ops(v)->get_state(v->v[v->current], &st) == 0) {
		struct hy_guest g = hy_guest_of(&st);
		struct hy_decision d = hy_consult(v, &g, hy_now_ns());
		if (d.action != HY_STAY) {
			v->pending = true;
			v->pending_to = d.action == HY_GO_BT ? HY_BT : HY_HW;
			v->pending_d = d;
		}
	}
}

static void hybrid_vcpu_destroy(struct engine_vcpu *v)
{
	if (!v)
		return;
	/* HYVM_HYBRID_STATS=1: switches and their cost on stderr at the end */
	if (getenv("HYVM_HYBRID_STATS")) {
		struct engine_stats st;
		hybrid_read_stats(v, &st);
		for (unsigned i = 0; i < HC_COUNT; i++)
			fprintf(stderr, "hybrid: %-32s %llu\n", st.counter[i].name,
				(unsigned long long)st.counter[i].value);
	}
	for (int s = 0; s < HY_SIDES; s++)
		v->vm->side[s].ops->vcpu_destroy(v->v[s]);
	free(v);
}

static void hybrid_vm_destroy(struct engine_vm *vm)
{
	if (!vm)
		return;
	for (int s = 0; s < HY_SIDES; s++)
		vm->side[s].ops->vm_destroy(vm->side[s].vm);
	free(vm);
}

/* Both sides share the RAM; each drops what it derived from it. */
static void hybrid_ram_written(struct engine_vm *vm, uint64_t gpa, uint64_t len)
{
	for (int s = 0; s < HY_SIDES; s++)
		if (vm->side[s].ops->ram_written)
			vm->side[s].ops->ram_written(vm->side[s].vm, gpa, len);
}

/* Each side that can serve port I/O without an exit does (engine.h). */
static void hybrid_set_io_fast(struct engine_vcpu *v, const struct engine_io_fast *f)
{
	for (int s = 0; s < HY_SIDES; s++)
		if (v->vm->side[s].ops->set_io_fast)
			v->vm->side[s].ops->set_io_fast(v->v[s], f);
}

/* Both sides get the debugger's settings, so they hold whichever runs;
 * refused if either side cannot (svm and vmx have no debug op yet). */
static int hybrid_set_guest_debug(struct engine_vcpu *v, const struct engine_debug *d,
				  char *err, size_t errlen)
{
	for (int s = 0; s < HY_SIDES; s++) {
		const struct engine_ops *ops = v->vm->side[s].ops;
		if (!ops->set_guest_debug) {
			snprintf(err, errlen, "hybrid: engine %s cannot debug", ops->name);
			return -1;
		}
		if (ops->set_guest_debug(v->v[s], d, err, errlen) < 0)
			return -1;
	}
	return 0;
}

const struct engine_ops hybrid_engine_ops = {
	.name = "hybrid",
	.probe = hybrid_probe,
	.vm_create = hybrid_vm_create,
	.map_ram = hybrid_map_ram,
	.vcpu_create = hybrid_vcpu_create,
	.vcpu_run = hybrid_vcpu_run,
	.get_state = hybrid_get_state,
	.set_state = hybrid_set_state,
	.set_cpuid = hybrid_set_cpuid,
	.inject_irq = hybrid_inject_irq,
	.request_irq_window = hybrid_request_irq_window,
	.kick = hybrid_kick,
	.read_stats = hybrid_read_stats,
	.raw_reason_name = hybrid_raw_reason_name,
	.attach_stats = hybrid_attach_stats,
	.ram_written = hybrid_ram_written,
	.set_io_fast = hybrid_set_io_fast,
	.set_guest_debug = hybrid_set_guest_debug,
	.set_a20 = hybrid_set_a20,
	.vcpu_destroy = hybrid_vcpu_destroy,
	.vm_destroy = hybrid_vm_destroy,
};
/* Below every hardware engine (kvm 30, vmx 21, svm 20) and above bt (10):
 * auto keeps choosing a single hardware engine for what it can run alone,
 * and takes hybrid over bt alone, for a guest bt alone could not finish
 * (one that also drops to real mode or enters long mode). */
ENGINE_REGISTER(hybrid_engine_ops, 15)

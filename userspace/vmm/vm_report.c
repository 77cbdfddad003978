/*
 * The stop report and the history it is made of (vm_report.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stats/stats.h"
#include "vmm/vm.h"
#include "vmm/vm_report.h"

#define PREFIX	"hyvm: stop report: "

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The newer mark becomes the older one every VM_WATCH_MARK_NS. */
static void roll_marks(struct vm *vm, uint64_t now)
{
	struct vm_watch *w = &vm->watch;

	if (now - w->mark_ns[1] < VM_WATCH_MARK_NS)
		return;
	w->mark_ns[0] = w->mark_ns[1];
	memcpy(w->mark[0], w->mark[1], sizeof(w->mark[0]));
	w->mark_ns[1] = now;
	memcpy(w->mark[1], vm->exits, sizeof(w->mark[1]));
}

void vm_watch_start(struct vm *vm)
{
	struct vm_watch *w = &vm->watch;
	const char *e = getenv("HYVM_STOP_REPORT");
	uint64_t now = now_ns();

	w->enabled = e && strcmp(e, "0") != 0;
	w->last_exit_ns = 0;
	w->halted_since_ns = 0;
	for (int i = 0; i < 2; i++) {
		w->mark_ns[i] = now;
		memcpy(w->mark[i], vm->exits, sizeof(w->mark[i]));
	}
}

void vm_watch_exit(struct vm *vm, const struct vcpu_exit *exit)
{
	struct vm_watch *w = &vm->watch;

	if (!w->enabled)
		return;
	w->last_exit_ns = now_ns();
	w->last_exit_rip = exit->rip;
	w->last_exit_kind = exit->kind;
	roll_marks(vm, w->last_exit_ns);
}

void vm_watch_halted(struct vm *vm, bool halted)
{
	struct vm_watch *w = &vm->watch;

	if (!w->enabled)
		return;
	uint64_t now = now_ns();
	if (halted && !w->halted_since_ns)
		w->halted_since_ns = now;
	else if (!halted)
		w->halted_since_ns = 0;
	roll_marks(vm, now);
}

void vm_watch_irq_refused(struct vm *vm, uint8_t vector)
{
	struct vm_watch *w = &vm->watch;

	if (!w->irqs_refused++) {
		w->first_refused_vector = vector;
		fprintf(stderr, "hyvm: engine %s refused interrupt vector 0x%02x after an exit "
			"that said it could take one: the vector is lost (in service in its "
			"controller, never ended by the guest)\n", vm->engine->name, vector);
	}
}

static void report_cpu(struct vm *vm, FILE *f)
{
	struct hyvm_cpu_state st;

	if (vm->engine->get_state(vm->vcpu, &st) < 0) {
		fprintf(f, PREFIX "vCPU state: the engine could not read it\n");
		return;
	}
	fprintf(f, PREFIX "vCPU rip 0x%llx cs 0x%x rsp 0x%llx rflags 0x%llx (IF %d) cr0 0x%llx "
		"cr3 0x%llx cr4 0x%llx efer 0x%llx interruptibility 0x%x event %u/0x%02x\n",
		(unsigned long long)st.rip, st.seg[HYVM_CS].selector,
		(unsigned long long)st.gpr[HYVM_RSP], (unsigned long long)st.rflags,
		(int)((st.rflags >> 9) & 1), (unsigned long long)st.cr0,
		(unsigned long long)st.cr3, (unsigned long long)st.cr4,
		(unsigned long long)st.efer, st.interruptibility, st.event.type, st.event.vector);
}

static void report_exits(struct vm *vm, FILE *f, uint64_t now)
{
	const struct vm_watch *w = &vm->watch;
	char recent[512] = "", all[512] = "";
	int r = 0, a = 0;

	for (unsigned k = 1; k < EXIT_KIND_COUNT; k++) {
		uint64_t d = vm->exits[k] - w->mark[0][k];
		if (d && r >= 0 && (size_t)r < sizeof(recent))
			r += snprintf(recent + r, sizeof(recent) - r, " %s %llu", exit_kind_name(k),
				      (unsigned long long)d);
		if (vm->exits[k] && a >= 0 && (size_t)a < sizeof(all))
			a += snprintf(all + a, sizeof(all) - a, " %s %llu", exit_kind_name(k),
				      (unsigned long long)vm->exits[k]);
	}
	fprintf(f, PREFIX "exits in the last %.1f s:%s; in all:%s; interrupts injected %llu, "
		"refused by the engine %llu", (now - w->mark_ns[0]) / 1e9,
		r ? recent : " none", a ? all : " none", (unsigned long long)vm->irqs_injected,
		(unsigned long long)w->irqs_refused);
	if (w->irqs_refused)
		fprintf(f, " (the first: vector 0x%02x)", w->first_refused_vector);
	fputc('\n', f);
	if (w->halted_since_ns)
		fprintf(f, PREFIX "the vCPU waits in HLT for an interrupt, for %.3f s\n",
			(now - w->halted_since_ns) / 1e9);
	else if (w->last_exit_ns)
		fprintf(f, PREFIX "the vCPU runs; its last exit %.3f s before the stop: %s at "
			"rip 0x%llx\n", (now - w->last_exit_ns) / 1e9,
			exit_kind_name(w->last_exit_kind), (unsigned long long)w->last_exit_rip);
}

void vm_report_stop(struct vm *vm, FILE *f)
{
	uint64_t now = now_ns();
	char line[1024];

	if (!vm->watch.enabled || !vm->vcpu)
		return;
	report_cpu(vm, f);
	report_exits(vm, f, now);
	fprintf(f, PREFIX "an interrupt for vCPU 0 is %s\n",
		irq_router_has_interrupt(&vm->irq, 0) ? "pending" : "not pending");
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct device_model *m = vm->devices[i].model;
		if (!m->describe)
			continue;
		/* the devices' clock is the VMM's (vm.c monotonic_ns) */
		m->describe(vm->devices[i].state, vm->env.now_ns(vm->env.clock_ctx), line,
			    sizeof(line));
		fprintf(f, PREFIX "%s\n", line);
	}
}

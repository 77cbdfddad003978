/* hyvm run --incoming; see run_incoming.h. */
#include <stdio.h>
#include <string.h>
#include <hyvm/x86.h>
#include "checkpoint/checkpoint.h"
#include "cli/commands.h"
#include "cli/run_incoming.h"
#include "vmm/vm.h"

int run_incoming_prepare(struct run_args *a)
{
	static char engine[32];
	struct ckpt_meta m;
	char err[512];

	if (checkpoint_read_meta(a->incoming, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: --incoming %s\n", err);
		return EXIT_USAGE;
	}
	if (!strcmp(a->engine, "auto")) {	/* the engine it ran on */
		snprintf(engine, sizeof(engine), "%s", m.engine);
		a->engine = engine;
	}
	checkpoint_meta_free(&m);
	return 0;
}

/* The modes the saved vCPU is in, as guest needs (engine.h): what the
 * engine must run from its first instruction on. */
static void state_needs(const struct hyvm_cpu_state *st, bool needs[NEED_COUNT])
{
	memset(needs, 0, NEED_COUNT * sizeof(needs[0]));
	if (st->efer & EFER_LMA)
		needs[NEED_LONG_MODE] = true;
	else if ((st->cr0 & CR0_PG) && (st->cr4 & CR4_PAE))
		needs[NEED_PAE] = true;
	else if (st->cr0 & CR0_PG)
		needs[NEED_PAGING32] = true;
	if (!(st->cr0 & CR0_PE))
		needs[NEED_REAL_MODE] = true;
	else if (st->rflags & EFLAGS_VM)
		needs[NEED_VM86] = true;
}

int run_incoming_load(struct vm *vm, struct run_args *a, const struct engine_ops *engine,
		      struct hyvm_cpu_state *st)
{
	char err[600];
	struct engine_caps caps;
	bool needs[NEED_COUNT];

	vm->cpu_model = a->cpu;
	if (checkpoint_load(vm, a->incoming, engine, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: --incoming %s\n", err);
		return EXIT_USAGE;
	}
	/* an engine that cannot run the saved mode says so now, as hyvm run
	 * does for a guest's needs, instead of failing its first entry
	 * (kvm_pvm: KVM_EXIT_SHUTDOWN on a 32-bit paged state) */
	engine->probe(&caps);
	state_needs(st, needs);
	for (int n = 0; n < NEED_COUNT; n++)
		if (needs[n] && caps.cannot[n]) {
			fprintf(stderr, "SKIP: engine %s cannot continue this checkpoint "
				"(its vCPU is in %s): %s\n", engine->name, guest_need_name(n),
				caps.cannot[n]);
			return EXIT_SKIP;
		}
	return 0;
}

/* hyvm run --incoming; see run_incoming.h. */
#include <stdio.h>
#include <string.h>
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

int run_incoming_load(struct vm *vm, struct run_args *a, const struct engine_ops *engine,
		      struct hyvm_cpu_state *st)
{
	char err[600];

	vm->cpu_model = a->cpu;
	if (checkpoint_load(vm, a->incoming, engine, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: --incoming %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

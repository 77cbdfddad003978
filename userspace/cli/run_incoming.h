/* hyvm run --incoming file:FILE: a checkpoint instead of a boot. */
#ifndef HYVM_RUN_INCOMING_H
#define HYVM_RUN_INCOMING_H

#include "cli/run_args.h"
#include "engines/engine.h"

struct vm;
struct hyvm_cpu_state;

/* Before anything is made: every checksum of the file; with --engine
 * auto, the checkpoint's engine. 0, or EXIT_USAGE after one line. */
int run_incoming_prepare(struct run_args *a);
/* After vm_init, instead of the loader: the checkpoint into the VM and
 * st. 0, EXIT_USAGE after one line, or EXIT_SKIP after a SKIP: line
 * when the engine cannot run the mode the saved vCPU is in. */
int run_incoming_load(struct vm *vm, struct run_args *a, const struct engine_ops *engine,
		      struct hyvm_cpu_state *st);

#endif

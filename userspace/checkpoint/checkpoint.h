/*
 * A VM's checkpoint: everything needed to continue it in another process,
 * on any engine that honours its CPU model (docs/checkpoint-format.md).
 * Saved on the vCPU thread with the vCPU held at a clean point
 * (vmm/vm_pause.h); restored into a VM made from the same command line
 * before an engine is attached.
 */
#ifndef HYVM_CHECKPOINT_H
#define HYVM_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <hyvm/cpu_state.h>
#include "engines/engine.h"

struct vm;

/* What a restore needs to make the same VM: hyvm run's arguments (the
 * engine, --control and --incoming are left out) and the engine's name. */
struct ckpt_meta {
	int argc;
	char **argv;		/* argv[0] is "run" */
	char engine[32];
	char cpu[32];		/* "" for the default model */
	bool in_hlt;		/* saved while the guest waited in HLT */
};

/* Writes the checkpoint; the VM must be held (vm_pause.h). Disks are
 * flushed first. Refuses (one line) a device that cannot save its state. */
int checkpoint_save(struct vm *vm, int argc, char **argv, const char *path, bool compress,
		    char *err, size_t errlen);
/* Checks every checksum, then reads the run's description. */
int checkpoint_read_meta(const char *path, struct ckpt_meta *m, char *err, size_t errlen);
void checkpoint_meta_free(struct ckpt_meta *m);
/* Into a VM made from meta's arguments (vm_init done, no engine yet):
 * RAM, every device's state, the disks checked against their identity,
 * the CPU model compared with what engine gives; fills st for
 * vm_attach_engine. 0, or -1 with one line. */
int checkpoint_load(struct vm *vm, const char *path, const struct engine_ops *engine,
		    struct hyvm_cpu_state *st, char *err, size_t errlen);

#endif

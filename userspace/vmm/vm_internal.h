/*
 * What the run loop (vm.c) and the VM's life around it (vm_lifecycle.c)
 * share; not for the rest of hyvm, which uses vm.h.
 */
#ifndef HYVM_VM_INTERNAL_H
#define HYVM_VM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/vm.h"

#define BOOT_VCPU	0	/* the one vCPU, index 0 for its interrupt controller */

/* The devices' clock (device_env.now_ns): CLOCK_MONOTONIC. */
uint64_t vm_monotonic_ns(void *ctx);
/* A device or the console asks the run to stop (device_env.request_stop);
 * the first request wins. */
void vm_request_stop(void *ctx, int reason, int status);
/* The devices' own counters into the statistics file, at most every
 * STATS_PUBLISH_NS unless now (vm_device_stats.c). */
void vm_publish_device_counters(struct vm *vm, bool now);

#endif

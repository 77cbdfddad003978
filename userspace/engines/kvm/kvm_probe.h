/*
 * The kvm engine's probe (kvm_probe.c): whether /dev/kvm (or
 * HYVM_KVM_DEVICE) is usable, and what it cannot run.
 */
#ifndef HYVM_KVM_PROBE_H
#define HYVM_KVM_PROBE_H

#include <stdbool.h>
#include "engines/engine.h"

/* The KVM device node: HYVM_KVM_DEVICE if set, else /dev/kvm. */
const char *kvm_device(void);
void kvm_probe(struct engine_caps *caps);
/* kvm_pvm, the software KVM of the development machines, is loaded. */
bool kvm_is_pvm(void);
/* /proc/cpuinfo's flags line lists FLAG (a whole word). */
bool kvm_host_has_cpu_flag(const char *flag);

#endif

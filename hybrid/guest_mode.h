/*
 * The guest's execution mode as the hybrid policy sees it, from the shared
 * CPU state (struct hyvm_cpu_state): pure functions, unit-tested in
 * tests/unit/test_hybrid_policy.c.
 */
#ifndef HYVM_HYBRID_GUEST_MODE_H
#define HYVM_HYBRID_GUEST_MODE_H

#include <stdbool.h>
#include <hyvm/cpu_state.h>
#include "hybrid/policy.h"

/* Mode, CPL, 16-bit code, and whether the segment registers still hold
 * values only real mode (or VT-x's unrestricted guest) accepts. */
struct hy_guest hy_guest_of(const struct hyvm_cpu_state *st);

/* Protected mode (not virtual-8086) whose segment registers pass the
 * checks VM entry makes without unrestricted guest (Intel SDM Vol. 3C,
 * 26.3.1.2); false right after CR0.PE is set from real mode, before the
 * guest has loaded CS and SS from descriptors. */
bool hy_segments_protected(const struct hyvm_cpu_state *st);

#endif

/* Guest accesses beyond RAM: decoded and handed to the VMM as EXIT_MMIO. */
#ifndef HYVM_BT_MMIO_H
#define HYVM_BT_MMIO_H

#include "bt/bt.h"
#include "engines/engine.h"

/* True if exit was filled (an MMIO exit or an error). */
bool mmio_emulate(struct bt_cpu *cpu, uint32_t phys, struct vcpu_exit *exit);
/* Completes an MMIO read from the data the VMM put in exit. */
void mmio_complete(struct bt_cpu *cpu, const struct vcpu_exit *exit);

#endif

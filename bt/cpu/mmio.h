/* Guest accesses beyond RAM: finished by the instruction emulator
 * (emul/mmio_emulate.h), each bus access handed to the VMM as EXIT_MMIO. */
#ifndef HYVM_BT_MMIO_H
#define HYVM_BT_MMIO_H

#include <stdbool.h>
#include "bt/bt.h"
#include "engines/engine.h"

/* Finishes the instruction at cpu->eip with the emulator: one that
 * faulted on an address outside RAM, or one the translator cannot
 * encode (its accesses may be RAM too). True if
 * exit was filled (an access for the VMM, or an error); false if the
 * instruction finished (or raised a guest exception) without the VMM. */
bool bt_emulate_insn(struct bt_cpu *cpu, struct vcpu_exit *exit);
/* At the next run: the VMM answered the access; true as above. False
 * also when no emulation was in progress. */
bool bt_emulate_resume(struct bt_cpu *cpu, struct vcpu_exit *exit);
void bt_emulate_free(struct bt_cpu *cpu);

#endif

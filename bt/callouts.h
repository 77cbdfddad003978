/* Callouts split by theme; each returns true if it took the instruction. */
#ifndef HYVM_BT_CALLOUTS_H
#define HYVM_BT_CALLOUTS_H

#include "bt/bt.h"
#include "bt/decode.h"

uint32_t flags_merge(const struct bt_cpu *cpu, uint32_t old, uint32_t v, unsigned opsize);
/* Tables, task register, sysenter/sysexit, iret, BCD and other rare ones. */
bool callout_system(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next,
		    enum callout_result *r);
/* Segment loads and stores, far transfers, pusha/popa, enter. */
bool callout_segments(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next);
/* The address space changed (CR0.PG/WP, CR3, CR4, EFER): views, caches. */
void cpu_paging_changed(struct bt_cpu *cpu);
/* CPUID on the guest EAX/ECX in cpu->gpr: results in gpr EAX..EDX.
 * Called from translated code (translate_insn.c, tx_cpuid). */
void bt_cpuid(struct bt_cpu *cpu);
/* Rebuilds cpu->cpuid_fast from cpu->cpuid; after every change to it. */
void bt_cpuid_prepare(struct bt_cpu *cpu);
void cpu_cr3_loaded(struct bt_cpu *cpu);
void cpu_invlpg(struct bt_cpu *cpu, uint32_t lin);
void cpu_set_cpl_segments(struct bt_cpu *cpu);

#endif

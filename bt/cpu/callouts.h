/* Callouts split by theme; each returns true if it took the instruction. */
#ifndef HYVM_BT_CALLOUTS_H
#define HYVM_BT_CALLOUTS_H

#include "bt/cpu/cpu.h"
#include "bt/translate/decode.h"

uint32_t flags_merge(const struct bt_cpu *cpu, uint32_t old, uint32_t v, unsigned opsize);
/* Tables, task register, sysenter/sysexit, iret, BCD and other rare ones. */
bool callout_system(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next,
		    enum callout_result *r);
/* Segment loads and stores, far transfers, pusha/popa, enter. */
bool callout_segments(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next);
/* 16-bit near transfers, a 16-bit stack's CALL/RET/LEAVE, LOOP/JCXZ,
 * string instructions under 16-bit addressing (callouts_near.c). */
bool callout_near(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next);
/* AAA, AAS, DAA, DAS, AAM, AAD, SALC, ARPL, BOUND (callouts_legacy.c). */
bool callout_legacy(struct bt_cpu *cpu, const struct bt_insn *d, uint32_t next);
/* The address space changed (CR0.PG/WP, CR3, CR4, EFER): views, caches. */
void cpu_paging_changed(struct bt_cpu *cpu);
void cpu_cr3_loaded(struct bt_cpu *cpu);
void cpu_invlpg(struct bt_cpu *cpu, uint32_t lin);
void cpu_set_cpl_segments(struct bt_cpu *cpu);
/* callouts_pt_write.c: the adaptive callout for an instruction that kept
 * trapping on page-table writes. */
enum ptw_result {
	PTW_RUN_SINGLE,	/* run it alone next (traced if it writes a page table) */
	PTW_DONE,	/* emulated, or a #PF delivered: go on at cpu->eip */
	PTW_EXIT,	/* the emulator filled exit (an MMIO access, an error) */
};
struct vcpu_exit;
enum ptw_result callout_pt_write(struct bt_cpu *cpu, const struct bt_insn *d,
				 struct vcpu_exit *exit);
/* The emulated case of callout_pt_write from the callout's block: false,
 * nothing done, when it is not that case. */
bool callout_pt_write_in_block(struct bt_cpu *cpu, const struct bt_insn *d);

#endif

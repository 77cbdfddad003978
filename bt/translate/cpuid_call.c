/*
 * CPUID as translated code executes it: a call from the block (see
 * translate_insn.c) into this lookup, so a guest CPUID costs a table
 * search, not a block exit and not the host's CPUID. Part of translation
 * so translated code calls nothing in bt/cpu/; the CPUID callout there
 * (callouts.c, for CPUID reached another way) calls it too.
 */
#include <hyvm/cpuid_table.h>
#include "bt/translate/translator.h"

/* CPUID: the model's table (set_cpuid), plus what a CPU fills in per
 * logical processor: the initial APIC ID in CPUID.1:EBX[31:24] (SDM Vol.
 * 2A, CPUID, Table 3-8). bt has one vCPU, APIC ID 0; the model lists no
 * XSAVE, so there is no OSXSAVE to mirror from CR4. */
void bt_cpuid(struct bt_cpu *cpu)
{
	uint32_t leaf = cpu->gpr[HYVM_RAX], sub = cpu->gpr[HYVM_RCX];
	uint32_t r[4];

	hyvm_cpuid_lookup(&cpu->cpuid, leaf, sub, r);
	if (leaf == 1)
		r[1] &= 0x00ffffffu;
	cpu->gpr[HYVM_RAX] = r[0];
	cpu->gpr[HYVM_RBX] = r[1];
	cpu->gpr[HYVM_RCX] = r[2];
	cpu->gpr[HYVM_RDX] = r[3];
}

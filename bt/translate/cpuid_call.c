/*
 * CPUID as translated code executes it, without a block exit and without
 * the host's CPUID: a flag-free lookup in cpu->cpuid_fast inline in the
 * block (translate_insn.c, tx_cpuid) and, on a miss, a call to bt_cpuid.
 * Part of translation so translated code calls nothing in bt/cpu/; the
 * CPUID callout there calls bt_cpuid too.
 */
#include <hyvm/cpuid_table.h>
#include "bt/translate/translator.h"

/* CPUID: the model's table (set_cpuid), plus what a CPU fills in per
 * logical processor: the initial APIC ID in CPUID.1:EBX[31:24] (SDM Vol.
 * 2A, CPUID, Table 3-8). bt has one vCPU, APIC ID 0; the model lists no
 * XSAVE, so there is no OSXSAVE to mirror from CR4. */
static void cpuid_answer(const struct bt_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	hyvm_cpuid_lookup(&cpu->cpuid, leaf, sub, r);
	if (leaf == 1)
		r[1] &= 0x00ffffffu;
}

void bt_cpuid(struct bt_cpu *cpu)
{
	uint32_t leaf = cpu->gpr[HYVM_RAX], sub = cpu->gpr[HYVM_RCX];
	uint32_t r[4];

	cpuid_answer(cpu, leaf, sub, r);
	cpu->gpr[HYVM_RAX] = r[0];
	cpu->gpr[HYVM_RBX] = r[1];
	cpu->gpr[HYVM_RCX] = r[2];
	cpu->gpr[HYVM_RDX] = r[3];
}

/* A leaf's answer ignores ECX unless an entry of its function is indexed
 * (hyvm_cpuid_find matches such an entry only on its index). */
static bool cpuid_leaf_indexed(const struct hyvm_cpuid_table *t, uint32_t leaf)
{
	for (uint32_t i = 0; i < t->nent && i < HYVM_CPUID_MAX_ENTRIES; i++)
		if (t->entries[i].function == leaf && (t->entries[i].flags & HYVM_CPUID_INDEXED))
			return true;
	return false;
}

/* The fast table: every leaf within the basic, hypervisor and extended
 * ranges the model lists (at most a slot's worth of each) that ignores
 * ECX, the first of colliding leaves winning; the answers are bt_cpuid's.
 * Everything else (indexed leaves, leaves out of range) misses. */
void bt_cpuid_prepare(struct bt_cpu *cpu)
{
	static const uint32_t bases[] = { 0, 0x80000000u, 0x40000000u };
	struct bt_cpuid_fast *f = &cpu->cpuid_fast;
	bool used[BT_CPUID_SLOTS] = { false };

	for (unsigned s = 0; s < BT_CPUID_SLOTS; s++) {
		f->neg_leaf[s] = -(s ^ 1u);
		f->eax[s] = f->ebx[s] = f->ecx[s] = f->edx[s] = 0;
	}
	for (unsigned b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		const struct hyvm_cpuid_entry *max = hyvm_cpuid_find(&cpu->cpuid, bases[b], 0);
		if (!max || max->eax < bases[b])
			continue;
		uint32_t n = max->eax - bases[b];
		if (n >= BT_CPUID_SLOTS)
			n = BT_CPUID_SLOTS - 1;
		for (uint32_t leaf = bases[b]; leaf <= bases[b] + n; leaf++) {
			unsigned s = bt_cpuid_slot(leaf);
			uint32_t r[4];
			if (used[s] || cpuid_leaf_indexed(&cpu->cpuid, leaf))
				continue;
			cpuid_answer(cpu, leaf, 0, r);
			used[s] = true;
			f->neg_leaf[s] = -leaf;
			f->eax[s] = r[0];
			f->ebx[s] = r[1];
			f->ecx[s] = r[2];
			f->edx[s] = r[3];
		}
	}
}


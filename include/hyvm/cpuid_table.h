/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A CPU model's CPUID answers as one table, shared by user space (the CPU
 * model that builds it, bt that looks it up, the kvm engine that hands it
 * to KVM_SET_CPUID2) and hyvm.ko (HYVM_SET_CPUID). The lookup below is the
 * only copy of "what does CPUID return for (EAX, ECX)", so every engine
 * answers a guest the same way, and across hybrid switches.
 */
#ifndef HYVM_CPUID_TABLE_H
#define HYVM_CPUID_TABLE_H

#include <linux/types.h>

#define HYVM_CPUID_MAX_ENTRIES	96

/* Entry flag: ECX (index) selects among entries of one function (leaves
 * 4, 7, 0xb, 0xd, 0x8000001d, ...). Without it the index is ignored. */
#define HYVM_CPUID_INDEXED	0x1

struct hyvm_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;		/* HYVM_CPUID_INDEXED */
	__u32 eax, ebx, ecx, edx;
	__u32 reserved;		/* 0 */
};

/* What CPUID returns for a function above the maximum basic or extended
 * leaf: Intel returns the highest basic leaf's data (SDM Vol. 2A, CPUID,
 * "If a value entered for CPUID.EAX is higher than the maximum input
 * value ..."); AMD returns zeros (APM Vol. 3, CPUID). */
#define HYVM_CPUID_OUT_OF_RANGE_ZERO		0
#define HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC	1

struct hyvm_cpuid_table {
	__u32 nent;
	__u32 out_of_range;	/* HYVM_CPUID_OUT_OF_RANGE_* */
	struct hyvm_cpuid_entry entries[HYVM_CPUID_MAX_ENTRIES];
};

static inline const struct hyvm_cpuid_entry *
hyvm_cpuid_find(const struct hyvm_cpuid_table *t, __u32 function, __u32 index)
{
	__u32 i;

	for (i = 0; i < t->nent && i < HYVM_CPUID_MAX_ENTRIES; i++) {
		const struct hyvm_cpuid_entry *e = &t->entries[i];
		if (e->function == function &&
		    (!(e->flags & HYVM_CPUID_INDEXED) || e->index == index))
			return e;
	}
	return 0;
}

/* The answer to CPUID with EAX=function, ECX=index: out[0..3] = EAX, EBX,
 * ECX, EDX. A function within range but absent from the table (or an index
 * past the last subleaf) reads zeros, as reserved leaves do. */
static inline void hyvm_cpuid_lookup(const struct hyvm_cpuid_table *t,
				     __u32 function, __u32 index, __u32 out[4])
{
	const struct hyvm_cpuid_entry *e, *max;
	__u32 base = function & 0xffff0000u;

	out[0] = out[1] = out[2] = out[3] = 0;
	max = hyvm_cpuid_find(t, base, 0);
	if (!max || function > max->eax) {
		if (t->out_of_range != HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC)
			return;
		max = hyvm_cpuid_find(t, 0, 0);
		if (!max)
			return;
		function = max->eax;
		index = 0;
	}
	e = hyvm_cpuid_find(t, function, index);
	if (e) {
		out[0] = e->eax; out[1] = e->ebx; out[2] = e->ecx; out[3] = e->edx;
	}
}

/* IA32_APIC_BASE at reset for a model (SDM Vol. 3A, 11.4.4): the APIC at
 * 0xfee00000, BSP (bit 8) on the bootstrap processor, the global enable
 * (bit 11) exactly when the model lists a local APIC (CPUID.1:EDX[9]; a
 * CPU whose APIC is disabled through this MSR reads CPUID.1:EDX.APIC as 0,
 * 11.4.3). Every engine starts a vCPU with this value. */
static inline __u64 hyvm_cpuid_apic_base(const struct hyvm_cpuid_table *t, int bsp)
{
	const struct hyvm_cpuid_entry *e = hyvm_cpuid_find(t, 1, 0);
	__u64 v = 0xfee00000ull;

	if (bsp)
		v |= 1ull << 8;
	if (e && (e->edx & (1u << 9)))
		v |= 1ull << 11;
	return v;
}

/* Checks a table from an untrusted source (an ioctl argument): a sane
 * count, no reserved bits, a basic leaf 0. 0 if valid, else -1. */
static inline int hyvm_cpuid_table_check(const struct hyvm_cpuid_table *t)
{
	__u32 i;

	if (t->nent == 0 || t->nent > HYVM_CPUID_MAX_ENTRIES)
		return -1;
	if (t->out_of_range > HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC)
		return -1;
	for (i = 0; i < t->nent; i++)
		if (t->entries[i].reserved || (t->entries[i].flags & ~HYVM_CPUID_INDEXED))
			return -1;
	return hyvm_cpuid_find(t, 0, 0) ? 0 : -1;
}

#endif

/*
 * The model-specific registers a CPU model promises, for an engine that
 * implements RDMSR/WRMSR in user space (bt). Which MSRs exist follows from
 * the model's CPUID (vendor, family, features); any other index raises
 * #GP(0), as on hardware (SDM Vol. 2B, RDMSR: "If the value in ECX
 * specifies a reserved or unimplemented MSR address, a #GP(0)").
 */
#ifndef HYVM_CPU_MSR_H
#define HYVM_CPU_MSR_H

#include <stdbool.h>
#include <stdint.h>
#include <hyvm/cpu_state.h>
#include <hyvm/cpuid_table.h>
#include <hyvm/x86.h>


/* IA32_MISC_ENABLE: fast strings, BTS and PEBS unavailable (SDM Vol. 4,
 * Table 2-2) */
#define CPU_MISC_ENABLE_RESET	0x1801ull
#define CPU_PAT_RESET		0x0007040600070406ull

struct cpu_msrs {
	bool intel_p6, amd_k7;	/* family 6 Intel, AMD family 6 and later */
	bool apic_base_present;	/* Intel and AMD, family 6 onwards */
	bool tsc, sep, pat, efer;
	uint64_t efer_writable;	/* SCE, LME, NXE as CPUID lists them */
	uint64_t apic_base, misc_enable;
	uint64_t p6_perf[4];	/* PerfCtr0/1, PerfEvtSel0/1 */
	uint64_t k7_perf[8];	/* PerfEvtSel0-3, PerfCtr0-3 */
	uint64_t k7_hwcr;	/* HWCR: the bits a guest may keep (cpu_msr.c) */
	bool amd_nb;		/* AMD family 10h onwards: NB_CFG exists */
	uint64_t nb_cfg;	/* NB_CFG as the guest wrote it; no effect */
	bool tsc_adjust_present;	/* CPUID.(7,0):EBX.TSC_ADJUST[1] */
	uint64_t tsc_adjust;	/* IA32_TSC_ADJUST: 0 at reset (SDM Vol. 3B, 17.17.3) */
};

/* What the model has, from its CPUID table; bsp: the bootstrap vCPU. */
void cpu_msrs_init(struct cpu_msrs *m, const struct hyvm_cpuid_table *t, bool bsp);

/* Outcome of an access. */
enum cpu_msr_result {
	CPU_MSR_GP = -1,	/* raise #GP(0); nothing changed */
	CPU_MSR_OK = 0,
	CPU_MSR_TSC_WRITTEN,	/* *tsc is the new guest TSC: re-base the offset */
	CPU_MSR_EFER_CHANGED,	/* arch->efer changed: paging may have */
};

/* tsc: the guest's TSC now (read). The MSRs that are architectural state
 * (SYSENTER, PAT, EFER) live in arch, so they travel with the CPU state. */
/* RDPMC: the counter ECX selects (AMD: PerfCtr0-3, Intel P6: PerfCtr0-1),
 * as its MSR reads, to the counter's width (AMD 48 bits, APM Vol. 2,
 * 13.2.1; P6 40 bits, SDM Vol. 3B, 20.6.5). CPU_MSR_GP for a counter the
 * model has not; CR4.PCE is the caller's. */
enum cpu_msr_result cpu_pmc_read(const struct cpu_msrs *m, uint32_t ecx, uint64_t *val);
enum cpu_msr_result cpu_msr_read(const struct cpu_msrs *m, const struct hyvm_cpu_state *arch,
				 uint64_t tsc, uint32_t index, uint64_t *val);
/* tsc: the guest's TSC now; a WRMSR of IA32_TSC or IA32_TSC_ADJUST
 * returns CPU_MSR_TSC_WRITTEN with the TSC the guest has from now there
 * (each moves the other by the same amount, SDM Vol. 3B, 17.17.3). */
enum cpu_msr_result cpu_msr_write(struct cpu_msrs *m, struct hyvm_cpu_state *arch,
				  uint64_t *tsc, uint32_t index, uint64_t val);

#endif

/*
 * The MSR file of a CPU model (cpu_msr.h). Only what the model's vendor and
 * family always have, or what an advertised feature implies, exists:
 *   IA32_TSC (CPUID.1:EDX.TSC), IA32_TSC_ADJUST (CPUID.(7,0):EBX[1]),
 *   IA32_APIC_BASE (P6 and K7 onwards),
 *   SYSENTER_CS/ESP/EIP (SEP), IA32_PAT (PAT), EFER (SYSCALL, NX or LM:
 *   SDM Vol. 4, Table 2-2, "IA32_EFER ... If CPUID.80000001H:EDX.[20] ||
 *   CPUID.80000001H:EDX.[29]"), Intel family 6: PLATFORM_ID, BIOS_SIGN_ID,
 *   MISC_ENABLE, PerfCtr0/1 and PerfEvtSel0/1 (SDM Vol. 4, Table 2-2 and
 *   the P6 table), AMD family 6 and later: PerfEvtSel0-3 and PerfCtr0-3 at
 *   0xc0010000 (APM Vol. 2, 13.2.1 "legacy performance counters").
 * The counters keep what was written and do not count: the model lists no
 * architectural performance monitoring (leaf 0xa is zero).
 */
#include <string.h>
#include "cpu/cpu_model.h"
#include "cpu/cpu_msr.h"

/* HWCR (APM Vol. 2, A.2), as hyvm.ko and KVM keep it: McStatusWrEn (18)
 * and TscFreqSel (24) are kept, SmmLock/TlbCacheDis/... (3, 6, 8) accepted
 * and ignored, anything else #GP. Linux reads it at start-up on AMD. */
#define HWCR_KEPT ((1ull << 18) | (1ull << 24))
#define HWCR_IGNORED ((1ull << 3) | (1ull << 6) | (1ull << 8))
/* TscFreqSel reads 1 from family 10h on (the TSC counts at P0): Linux
 * warns "[Firmware Bug]: TSC doesn't count with P0 frequency!" if not. */
#define HWCR_TSC_FREQ_SEL (1ull << 24)
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EN (1ull << 11)

void cpu_msrs_init(struct cpu_msrs *m, const struct hyvm_cpuid_table *t, bool bsp)
{
	enum cpu_vendor v = cpu_model_vendor(t);
	unsigned family = cpu_model_family(t);

	memset(m, 0, sizeof(*m));
	m->intel_p6 = v == CPU_VENDOR_INTEL && family == 6;
	m->amd_k7 = v == CPU_VENDOR_AMD && family >= 6;
	m->apic_base_present = (v == CPU_VENDOR_INTEL || v == CPU_VENDOR_AMD) && family >= 6;
	m->tsc = cpu_model_has(t, 1, CPUID_REG_EDX, CPUID_1_EDX_TSC);
	m->sep = cpu_model_has(t, 1, CPUID_REG_EDX, CPUID_1_EDX_SEP);
	m->pat = cpu_model_has(t, 1, CPUID_REG_EDX, CPUID_1_EDX_PAT);
	m->tsc_adjust_present = cpu_model_has(t, 7, CPUID_REG_EBX, CPUID_7_EBX_TSC_ADJUST);
	if (cpu_model_has(t, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_SYSCALL))
		m->efer_writable |= EFER_SCE;
	if (cpu_model_has(t, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM))
		m->efer_writable |= EFER_LME;
	if (cpu_model_has(t, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_NX))
		m->efer_writable |= EFER_NXE;
	m->efer = m->efer_writable != 0;
	m->apic_base = hyvm_cpuid_apic_base(t, bsp);
	m->misc_enable = CPU_MISC_ENABLE_RESET;
	m->amd_nb = v == CPU_VENDOR_AMD && family >= 0x10;
	if (m->amd_nb)
		m->k7_hwcr = HWCR_TSC_FREQ_SEL;
}

static bool apic_base_exists(const struct cpu_msrs *m)
{
	return m->apic_base_present;
}

/* Bits 63:48 a sign extension of bit 47, where the CPU has long mode
 * (SDM Vol. 4, IA32_SYSENTER_ESP/EIP: #GP if not canonical). */
static bool canonical_ok(const struct cpu_msrs *m, uint64_t v)
{
	return !(m->efer_writable & EFER_LME) || (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* Each byte one of UC, WC, WT, WP, WB, UC- (SDM Vol. 3A, 13.12.2). */
static bool pat_ok(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		uint8_t type = (uint8_t)(v >> (8 * i));
		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

static uint64_t *perf_slot(struct cpu_msrs *m, uint32_t index)
{
	if (m->intel_p6 && (index == MSR_P6_PERFCTR0 || index == MSR_P6_PERFCTR0 + 1))
		return &m->p6_perf[index - MSR_P6_PERFCTR0];
	if (m->intel_p6 && (index == MSR_P6_EVNTSEL0 || index == MSR_P6_EVNTSEL0 + 1))
		return &m->p6_perf[2 + index - MSR_P6_EVNTSEL0];
	if (m->amd_k7 && index >= MSR_K7_EVNTSEL0 && index < MSR_K7_EVNTSEL0 + 8)
		return &m->k7_perf[index - MSR_K7_EVNTSEL0];
	return NULL;
}

enum cpu_msr_result cpu_pmc_read(const struct cpu_msrs *m, uint32_t ecx, uint64_t *val)
{
	if (m->amd_k7 && ecx < 4) {
		*val = m->k7_perf[4 + ecx] & ((1ull << 48) - 1);
		return CPU_MSR_OK;
	}
	if (m->intel_p6 && ecx < 2) {
		*val = m->p6_perf[ecx] & ((1ull << 40) - 1);
		return CPU_MSR_OK;
	}
	return CPU_MSR_GP;
}

enum cpu_msr_result cpu_msr_read(const struct cpu_msrs *m, const struct hyvm_cpu_state *arch,
				 uint64_t tsc, uint32_t index, uint64_t *val)
{
	uint64_t *perf = perf_slot((struct cpu_msrs *)m, index);

	if (perf) {
		*val = *perf;
		return CPU_MSR_OK;
	}
	switch (index) {
	case MSR_IA32_TSC:
		if (!m->tsc)
			return CPU_MSR_GP;
		*val = tsc;
		return CPU_MSR_OK;
	case MSR_IA32_TSC_ADJUST:
		if (!m->tsc_adjust_present)
			return CPU_MSR_GP;
		*val = m->tsc_adjust;
		return CPU_MSR_OK;
	case MSR_IA32_APIC_BASE:
		if (!apic_base_exists(m))
			return CPU_MSR_GP;
		*val = m->apic_base;
		return CPU_MSR_OK;
	case MSR_IA32_SYSENTER_CS: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		if (!m->sep)
			return CPU_MSR_GP;
		*val = index == MSR_IA32_SYSENTER_CS ? arch->sysenter_cs :
		       index == MSR_IA32_SYSENTER_ESP ? arch->sysenter_esp : arch->sysenter_eip;
		return CPU_MSR_OK;
	case MSR_IA32_PAT:
		if (!m->pat)
			return CPU_MSR_GP;
		*val = arch->pat;
		return CPU_MSR_OK;
	case MSR_EFER:
		if (!m->efer)
			return CPU_MSR_GP;
		*val = arch->efer;
		return CPU_MSR_OK;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_BIOS_SIGN_ID:	/* platform 0; microcode revision 0 */
		if (!m->intel_p6)
			return CPU_MSR_GP;
		*val = 0;
		return CPU_MSR_OK;
	case MSR_IA32_MISC_ENABLE:
		if (!m->intel_p6)
			return CPU_MSR_GP;
		*val = m->misc_enable;
		return CPU_MSR_OK;
	case MSR_K7_HWCR:
		if (!m->amd_k7)
			return CPU_MSR_GP;
		*val = m->k7_hwcr;
		return CPU_MSR_OK;
	case MSR_AMD64_NB_CFG:
		if (!m->amd_nb)
			return CPU_MSR_GP;
		*val = m->nb_cfg;
		return CPU_MSR_OK;
	default:
		return CPU_MSR_GP;
	}
}

enum cpu_msr_result cpu_msr_write(struct cpu_msrs *m, struct hyvm_cpu_state *arch,
				  uint64_t *tsc, uint32_t index, uint64_t val)
{
	uint64_t *perf = perf_slot(m, index);

	if (perf) {
		*perf = val;
		return CPU_MSR_OK;
	}
	switch (index) {
	case MSR_IA32_TSC:
		if (!m->tsc)
			return CPU_MSR_GP;
		/* "If an execution of WRMSR to the IA32_TIME_STAMP_COUNTER MSR
		 * adds (or subtracts) value X from the TSC, the logical
		 * processor also adds (or subtracts) value X from the
		 * IA32_TSC_ADJUST MSR" (SDM Vol. 3B, 17.17.3) */
		if (m->tsc_adjust_present)
			m->tsc_adjust += val - *tsc;
		*tsc = val;
		return CPU_MSR_TSC_WRITTEN;
	case MSR_IA32_TSC_ADJUST:
		/* and a WRMSR of IA32_TSC_ADJUST that adds X to it adds X to
		 * the TSC (ibid.) */
		if (!m->tsc_adjust_present)
			return CPU_MSR_GP;
		*tsc += val - m->tsc_adjust;
		m->tsc_adjust = val;
		return CPU_MSR_TSC_WRITTEN;
	case MSR_IA32_APIC_BASE:
		/* base (below 4 GiB here: no MAXPHYADDR above 36 is promised for
		 * it) and the global enable; BSP is the hardware's; x2APIC mode
		 * and the rest reserved */
		if (!apic_base_exists(m) || (val & ~(0xffffff000ull | APIC_BASE_EN | APIC_BASE_BSP)))
			return CPU_MSR_GP;
		/* Recorded only: the local APIC device (devices/apic/lapic.c)
		 * stays at 0xfee00000 and enabled. Relocation (11.4.5) and the
		 * global disable (11.4.3) would be passed to it from here. */
		m->apic_base = (val & ~APIC_BASE_BSP) | (m->apic_base & APIC_BASE_BSP);
		return CPU_MSR_OK;
	case MSR_IA32_SYSENTER_CS:
		if (!m->sep)
			return CPU_MSR_GP;
		arch->sysenter_cs = val & 0xffff;	/* bits 15:0 hold the selector */
		return CPU_MSR_OK;
	case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		if (!m->sep || !canonical_ok(m, val))
			return CPU_MSR_GP;
		*(index == MSR_IA32_SYSENTER_ESP ? &arch->sysenter_esp : &arch->sysenter_eip) = val;
		return CPU_MSR_OK;
	case MSR_IA32_PAT:
		if (!m->pat || !pat_ok(val))
			return CPU_MSR_GP;
		arch->pat = val;
		return CPU_MSR_OK;
	case MSR_EFER: {
		/* LMA is the CPU's: a written LMA is ignored. LME cannot change
		 * while paging is on (SDM Vol. 3A, 10.8.5; APM Vol. 2, 14.6.1). */
		uint64_t old = arch->efer, want = (val & ~EFER_LMA) | (old & EFER_LMA);
		if (!m->efer || (val & ~(m->efer_writable | EFER_LMA)))
			return CPU_MSR_GP;
		if (((want ^ old) & EFER_LME) && (arch->cr0 & 0x80000000u))
			return CPU_MSR_GP;
		arch->efer = want;
		return want != old ? CPU_MSR_EFER_CHANGED : CPU_MSR_OK;
	}
	case MSR_IA32_BIOS_SIGN_ID:
		/* writing 0 before CPUID is how software asks for the
		 * revision (SDM Vol. 3A, 10.11.7.1); there is none to load */
		return m->intel_p6 ? CPU_MSR_OK : CPU_MSR_GP;
	case MSR_IA32_MISC_ENABLE:
		/* only fast strings is a guest's to change here; the other bits
		 * describe the CPU and stay as they are */
		if (!m->intel_p6 || ((val ^ m->misc_enable) & ~1ull))
			return CPU_MSR_GP;
		m->misc_enable = val;
		return CPU_MSR_OK;
	case MSR_K7_HWCR:
		val &= ~HWCR_IGNORED;
		if (!m->amd_k7 || (val & ~HWCR_KEPT))
			return CPU_MSR_GP;
		m->k7_hwcr = val;
		return CPU_MSR_OK;
	case MSR_AMD64_NB_CFG:
		/* Linux sets EnableCf8ExtCfg (bit 46) for extended PCI
		 * configuration through 0xcf8; kept, as KVM keeps it, and
		 * without effect: hyvm's 0xcf8 has no extended registers */
		if (!m->amd_nb)
			return CPU_MSR_GP;
		m->nb_cfg = val;
		return CPU_MSR_OK;
	default:
		return CPU_MSR_GP;
	}
}

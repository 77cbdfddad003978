/* The CPU model (userspace/cpu/): named models' identity, the table's
 * lookup semantics, and the MSR file's. Built against a fake host whose
 * CPUID is fixed here, so the results do not depend on this machine. */
#include <string.h>
#include "unit.h"
#include "cpu/cpu_model.h"
#include "cpu/cpu_model_build.h"
#include "cpu/cpu_msr.h"

/* A fake AMD host, family 0x19: every feature bit set, so the filter
 * alone decides what a model lists. */
static void fake_amd_host(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char v[12] = "AuthenticAMD";
	r[0] = r[1] = r[2] = r[3] = 0xffffffffu;
	if (leaf == 0 || leaf == 0x80000000) {
		r[0] = leaf ? 0x80000021 : 0x10;
		memcpy(&r[1], v, 4); memcpy(&r[3], v + 4, 4); memcpy(&r[2], v + 8, 4);
	} else if (leaf == 1) {
		r[0] = 0x00a00f11;
	}
	(void)sub;
}

static void build(const char *name, bool long_mode, struct cpu_model *m)
{
	char err[128];
	struct cpu_model_limits lim = { .long_mode = long_mode };
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with(name, &lim, fake_amd_host, m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hyvm_cpuid_table_check(&m->cpuid), 0);
}

static void vendor_of(const struct cpu_model *m, char out[13])
{
	uint32_t r[4];
	hyvm_cpuid_lookup(&m->cpuid, 0, 0, r);
	memcpy(out, &r[1], 4); memcpy(out + 4, &r[3], 4); memcpy(out + 8, &r[2], 4);
	out[12] = 0;
}

static void test_named_identity(void)
{
	struct cpu_model m;
	char v[13];
	uint32_t r[4];

	build("pentium3", true, &m);
	vendor_of(&m, v);
	CU_ASSERT_STRING_EQUAL(v, "GenuineIntel");
	hyvm_cpuid_lookup(&m.cpuid, 1, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x673);		/* family 6 model 7 stepping 3 */
	CU_ASSERT_EQUAL(cpu_model_family(&m.cpuid), 6);
	CU_ASSERT_EQUAL(cpu_model_vendor(&m.cpuid), CPU_VENDOR_INTEL);
	CU_ASSERT_TRUE(r[3] & (1u << CPUID_1_EDX_SSE));
	CU_ASSERT_FALSE(r[3] & (1u << CPUID_1_EDX_SSE2));	/* a Pentium III has none */
	CU_ASSERT_FALSE(r[3] & (1u << CPUID_1_EDX_APIC));	/* no engine models one */
	CU_ASSERT_TRUE(r[2] & (1u << CPUID_1_ECX_HYPERVISOR));
	/* no extended leaves: long mode is not the model's even if the VM could */
	CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM));

	build("core2duo", true, &m);
	hyvm_cpuid_lookup(&m.cpuid, 1, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x6fb);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM));
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_NX));
	hyvm_cpuid_lookup(&m.cpuid, 0x80000002, 0, r);
	CU_ASSERT_EQUAL(memcmp(r, "Intel(R) Core(T", 15), 0);
	build("core2duo", false, &m);	/* bt alone: no long mode, no SYSCALL */
	CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM));
	CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_SYSCALL));
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_NX));
}

static void test_host_filtered(void)
{
	struct cpu_model m;
	uint32_t r[4];
	char v[13];

	build("host", false, &m);
	vendor_of(&m, v);
	CU_ASSERT_STRING_EQUAL(v, "AuthenticAMD");
	CU_ASSERT_EQUAL(cpu_model_family(&m.cpuid), 0x19);	/* 0xf + 0x0a */
	hyvm_cpuid_lookup(&m.cpuid, 0, 0, r);
	CU_ASSERT_EQUAL(r[0], 7);		/* basic leaves up to 7 */
	hyvm_cpuid_lookup(&m.cpuid, 1, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 5));	/* VMX */
	CU_ASSERT_FALSE(r[2] & (1u << 21));	/* x2APIC */
	CU_ASSERT_FALSE(r[2] & (1u << 17));	/* PCID */
	CU_ASSERT_FALSE(r[2] & (1u << 26));	/* XSAVE */
	CU_ASSERT_FALSE(r[2] & (1u << 28));	/* AVX */
	CU_ASSERT_TRUE(r[2] & (1u << 31));	/* hypervisor */
	CU_ASSERT_EQUAL(r[1] >> 16, 0);		/* one logical CPU, APIC ID 0 */
	hyvm_cpuid_lookup(&m.cpuid, 7, 0, r);
	CU_ASSERT_EQUAL(r[1], (1u << 3) | (1u << 8));	/* BMI1, BMI2; no AVX2 */
	hyvm_cpuid_lookup(&m.cpuid, 0x80000001, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 2));	/* SVM */
	CU_ASSERT_FALSE(r[3] & (1u << 27));	/* RDTSCP */
	CU_ASSERT_FALSE(r[3] & (1u << 29));	/* LM: not for bt alone */
	hyvm_cpuid_lookup(&m.cpuid, 0x40000000, 0, r);
	CU_ASSERT_EQUAL(r[1], CPU_MODEL_HV_SIGNATURE);
	build("host", true, &m);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM));
}

static void test_unknown_model(void)
{
	struct cpu_model m;
	char err[128] = "";
	struct cpu_model_limits lim = { 0 };
	CU_ASSERT_EQUAL(cpu_model_build("k6", &lim, &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown CPU model 'k6'"));
	CU_ASSERT_FALSE(cpu_model_exists("k6"));
	CU_ASSERT_TRUE(cpu_model_exists("host"));
}

/* Out of range: Intel repeats the highest basic leaf, AMD gives zeros;
 * indexed leaves select by ECX, others ignore it; a missing subleaf or a
 * leaf in range but absent reads zeros. */
static void test_lookup_semantics(void)
{
	struct hyvm_cpuid_table t = { 0 };
	uint32_t r[4];

	t.entries[t.nent++] = (struct hyvm_cpuid_entry){ .function = 0, .eax = 4, .ebx = 1 };
	t.entries[t.nent++] = (struct hyvm_cpuid_entry){ .function = 1, .eax = 0x11 };
	t.entries[t.nent++] = (struct hyvm_cpuid_entry){ .function = 4, .index = 0,
		.flags = HYVM_CPUID_INDEXED, .eax = 0x40 };
	t.entries[t.nent++] = (struct hyvm_cpuid_entry){ .function = 4, .index = 1,
		.flags = HYVM_CPUID_INDEXED, .eax = 0x41, .edx = 9 };
	t.entries[t.nent++] = (struct hyvm_cpuid_entry){ .function = 0x80000000, .eax = 0x80000001 };
	CU_ASSERT_EQUAL(hyvm_cpuid_table_check(&t), 0);

	hyvm_cpuid_lookup(&t, 1, 77, r);		/* not indexed: ECX ignored */
	CU_ASSERT_EQUAL(r[0], 0x11);
	hyvm_cpuid_lookup(&t, 4, 1, r);
	CU_ASSERT_EQUAL(r[0], 0x41);
	CU_ASSERT_EQUAL(r[3], 9);
	hyvm_cpuid_lookup(&t, 4, 2, r);			/* past the last subleaf */
	CU_ASSERT_EQUAL(r[0] | r[1] | r[2] | r[3], 0);
	hyvm_cpuid_lookup(&t, 3, 0, r);			/* in range, absent */
	CU_ASSERT_EQUAL(r[0] | r[1] | r[2] | r[3], 0);

	t.out_of_range = HYVM_CPUID_OUT_OF_RANGE_ZERO;
	hyvm_cpuid_lookup(&t, 5, 0, r);
	CU_ASSERT_EQUAL(r[0] | r[1] | r[2] | r[3], 0);
	hyvm_cpuid_lookup(&t, 0x80000002, 0, r);
	CU_ASSERT_EQUAL(r[0] | r[1] | r[2] | r[3], 0);
	t.out_of_range = HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC;
	hyvm_cpuid_lookup(&t, 5, 0, r);			/* leaf 4, subleaf 0 */
	CU_ASSERT_EQUAL(r[0], 0x40);
	hyvm_cpuid_lookup(&t, 0x80000002, 3, r);
	CU_ASSERT_EQUAL(r[0], 0x40);
	hyvm_cpuid_lookup(&t, 0x40000000, 0, r);	/* no hypervisor range */
	CU_ASSERT_EQUAL(r[0], 0x40);

	t.entries[0].reserved = 1;
	CU_ASSERT_EQUAL(hyvm_cpuid_table_check(&t), -1);
}

static struct hyvm_cpu_state arch;
static uint64_t tsc;	/* the guest TSC cpu_msr_write is given and moves */

static struct hyvm_cpuid_table m_model_cpuid;	/* msrs_of's model */

static void msrs_of(const char *name, bool long_mode, struct cpu_msrs *m)
{
	struct cpu_model model;
	build(name, long_mode, &model);
	m_model_cpuid = model.cpuid;
	cpu_msrs_init(m, &model.cpuid, true);
	memset(&arch, 0, sizeof(arch));
	arch.pat = CPU_PAT_RESET;
}

static void test_msr_amd(void)
{
	struct cpu_msrs m;
	uint64_t v = 1;

	msrs_of("host", false, &m);
	/* the K7 counters every AMD CPU since family 6 has: read back */
	for (uint32_t i = MSR_K7_EVNTSEL0; i < MSR_K7_EVNTSEL0 + 8; i++) {
		CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, i, &v), CPU_MSR_OK);
		CU_ASSERT_EQUAL(v, 0);
		CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, i, 0x430000 + i), CPU_MSR_OK);
	}
	for (uint32_t i = MSR_K7_EVNTSEL0; i < MSR_K7_EVNTSEL0 + 8; i++) {
		cpu_msr_read(&m, &arch, 0, i, &v);
		CU_ASSERT_EQUAL(v, 0x430000 + i);
	}
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_K7_EVNTSEL0 + 8, &v), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_IA32_MISC_ENABLE, &v), CPU_MSR_GP);
	/* HWCR: TscFreqSel set from family 10h (this host's model is a
	 * later family), McStatusWrEn kept, TlbCacheDis (8) ignored, SmmLock
	 * (0) and other bits #GP, as hyvm.ko */
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_K7_HWCR, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, cpu_model_family(&m_model_cpuid) >= 0x10 ? 1u << 24 : 0);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_K7_HWCR, (1u << 18) | (1u << 8)), CPU_MSR_OK);
	cpu_msr_read(&m, &arch, 0, MSR_K7_HWCR, &v);
	CU_ASSERT_EQUAL(v, 1u << 18);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_K7_HWCR, 1u), CPU_MSR_GP);
	/* NB_CFG from family 10h: what Linux writes reads back */
	if (m.amd_nb) {
		CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_AMD64_NB_CFG, 1ull << 46), CPU_MSR_OK);
		CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_AMD64_NB_CFG, &v), CPU_MSR_OK);
		CU_ASSERT_EQUAL(v, 1ull << 46);
	} else {
		CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_AMD64_NB_CFG, &v), CPU_MSR_GP);
	}
	/* RDPMC reads PerfCtr0-3 to 48 bits; no counter 4 */
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_K7_PERFCTR0 + 1, 0xffff123456789abcull), CPU_MSR_OK);
	CU_ASSERT_EQUAL(cpu_pmc_read(&m, 1, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, 0x123456789abcull);
	CU_ASSERT_EQUAL(cpu_pmc_read(&m, 4, &v), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_IA32_APIC_BASE, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, 0xfee00100u);	/* BSP, disabled: the model lists no APIC */
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 1234, MSR_IA32_TSC, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, 1234);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_TSC, 99), CPU_MSR_TSC_WRITTEN);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, 0x1badd00d, &v), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, 0x1badd00d, 0), CPU_MSR_GP);
	/* EFER: NXE yes; LME not without long mode; LMA ignored */
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, 1u << 11), CPU_MSR_EFER_CHANGED);
	CU_ASSERT_EQUAL(arch.efer, 1u << 11);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, 1u << 8), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, 1u << 0), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, (1u << 11) | (1u << 10)), CPU_MSR_OK);
	CU_ASSERT_EQUAL(arch.efer, 1u << 11);
	msrs_of("host", true, &m);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, (1u << 8) | 1u), CPU_MSR_EFER_CHANGED);
	arch.cr0 = 0x80000001u;		/* LME frozen while paging is on */
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_EFER, 1u), CPU_MSR_GP);
}

static void test_msr_intel_p3(void)
{
	struct cpu_msrs m;
	uint64_t v;

	msrs_of("pentium3", false, &m);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_EFER, &v), CPU_MSR_GP);	/* no NX/LM/SYSCALL */
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_K7_EVNTSEL0, &v), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_IA32_MISC_ENABLE, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, CPU_MISC_ENABLE_RESET);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_MISC_ENABLE, v & ~1ull), CPU_MSR_OK);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_MISC_ENABLE, v | (1ull << 22)), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_IA32_PLATFORM_ID, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_BIOS_SIGN_ID, 0), CPU_MSR_OK);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_P6_EVNTSEL0 + 1, 0x4300c0), CPU_MSR_OK);
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_P6_EVNTSEL0 + 1, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, 0x4300c0);
	/* PAT: a reserved memory type (2) raises #GP */
	CU_ASSERT_EQUAL(cpu_msr_read(&m, &arch, 0, MSR_IA32_PAT, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, CPU_PAT_RESET);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_PAT, 0x0007040600070402ull), CPU_MSR_GP);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_PAT, 0x0007040600070401ull), CPU_MSR_OK);
	CU_ASSERT_EQUAL(arch.pat, 0x0007040600070401ull);
	/* APIC base: relocatable and disabled, BSP kept, reserved bits #GP */
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_APIC_BASE, 0xfed00000ull), CPU_MSR_OK);
	cpu_msr_read(&m, &arch, 0, MSR_IA32_APIC_BASE, &v);
	CU_ASSERT_EQUAL(v, 0xfed00100ull);
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_APIC_BASE, 0xfee00c00ull), CPU_MSR_GP);
	/* SYSENTER: the CPU has SEP */
	CU_ASSERT_EQUAL(cpu_msr_write(&m, &arch, &tsc, MSR_IA32_SYSENTER_EIP, 0x1234), CPU_MSR_OK);
	CU_ASSERT_EQUAL(arch.sysenter_eip, 0x1234);
}

/* A fake Intel host, family 6 model 0x97 (Alder Lake): max basic leaf
 * 0x20, TSC/crystal 2:188 on a 38.4 MHz crystal (SDM Vol. 2A, CPUID 15H),
 * base 3600 MHz, max 5000, bus 100 (16H); tsc_enumerated=false: EBX 0,
 * as CPUs that do not enumerate the ratio report. */
static bool tsc_enumerated = true;
static void fake_intel_host(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char v[12] = "GenuineIntel";
	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf == 0 || leaf == 0x80000000) {
		r[0] = leaf ? 0x80000008 : 0x20;
		memcpy(&r[1], v, 4); memcpy(&r[3], v + 4, 4); memcpy(&r[2], v + 8, 4);
	} else if (leaf == 1) {
		r[0] = 0x00090672;
	} else if (leaf == 0x15) {
		r[0] = 2; r[1] = tsc_enumerated ? 188 : 0; r[2] = 38400000;
	} else if (leaf == 0x16) {
		r[0] = 3600; r[1] = 5000; r[2] = 100;
	}
	(void)sub;
}

static void test_tsc_leaves(void)
{
	struct cpu_model m;
	struct cpu_model_limits lim = { .long_mode = true, .local_apic = true };
	char err[128];
	uint32_t r[4];

	tsc_enumerated = true;
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_intel_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_EQUAL(hyvm_cpuid_table_check(&m.cpuid), 0);
	hyvm_cpuid_lookup(&m.cpuid, 0, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x16);
	hyvm_cpuid_lookup(&m.cpuid, 0x15, 0, r);
	CU_ASSERT(r[0] == 2 && r[1] == 188 && r[2] == 38400000 && r[3] == 0);
	hyvm_cpuid_lookup(&m.cpuid, 0x16, 0, r);
	CU_ASSERT(r[0] == 3600 && r[1] == 5000 && r[2] == 100 && r[3] == 0);
	hyvm_cpuid_lookup(&m.cpuid, 0xb, 0, r);	/* in between: nothing listed */
	CU_ASSERT(!r[0] && !r[1] && !r[2] && !r[3]);
	/* not enumerated: the leaves stay out, as before */
	tsc_enumerated = false;
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_intel_host, &m, err,
						   sizeof(err)), 0);
	hyvm_cpuid_lookup(&m.cpuid, 0, 0, r);
	CU_ASSERT_EQUAL(r[0], 7);
	tsc_enumerated = true;
	/* AMD has neither leaf; the named models (a Pentium III, max leaf 3;
	 * a Core 2, max leaf 0xa) predate them */
	build("host", true, &m);
	CU_ASSERT_FALSE(hyvm_cpuid_find(&m.cpuid, 0x15, 0));
	CU_ASSERT_EQUAL(cpu_model_build_with("core2duo", &lim, fake_intel_host, &m, err,
					     sizeof(err)), 0);
	CU_ASSERT_FALSE(hyvm_cpuid_find(&m.cpuid, 0x15, 0));
	CU_ASSERT_FALSE(hyvm_cpuid_find(&m.cpuid, 0x16, 0));
}

/* CPUID.1:ECX.TSC_Deadline[24]: the host model lists it exactly when the
 * limits say the VM's local APIC gets IA32_TSC_DEADLINE (on an AMD host
 * too: the APIC is hyvm's); the named models never (both predate it). */
static void test_tsc_deadline_bit(void)
{
	struct cpu_model m;
	struct cpu_model_limits lim = { .long_mode = true, .local_apic = true };
	char err[128];
	const char *named[] = { "pentium3", "core2duo" };

	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_intel_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 1, CPUID_REG_ECX, CPUID_1_ECX_TSC_DEADLINE));
	lim.tsc_deadline = true;
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_intel_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 1, CPUID_REG_ECX, CPUID_1_ECX_TSC_DEADLINE));
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 1, CPUID_REG_ECX, CPUID_1_ECX_HYPERVISOR));
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_amd_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 1, CPUID_REG_ECX, CPUID_1_ECX_TSC_DEADLINE));
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(cpu_model_build_with(named[i], &lim, fake_intel_host, &m,
							   err, sizeof(err)), 0);
		CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 1, CPUID_REG_ECX,
					      CPUID_1_ECX_TSC_DEADLINE));
	}
}

/* CPUID.(7,0):EBX.TSC_ADJUST[1] exactly when the limits say every engine
 * keeps IA32_TSC_ADJUST, never in the named models (no leaf 7); and the
 * MSR as SDM Vol. 3B, 17.17.3 has it: 0 at reset, a write of it moves
 * the TSC by the change, a write of IA32_TSC moves it by the TSC's
 * change, #GP(0) where the model does not list it. */
static void test_tsc_adjust(void)
{
	struct cpu_model m;
	struct cpu_model_limits lim = { .long_mode = false, .local_apic = true };
	struct cpu_msrs f;
	char err[128];
	uint64_t v = 1;

	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_amd_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 7, CPUID_REG_EBX, CPUID_7_EBX_TSC_ADJUST));
	cpu_msrs_init(&f, &m.cpuid, true);
	CU_ASSERT_EQUAL(cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v), CPU_MSR_GP);
	tsc = 1000;
	CU_ASSERT_EQUAL(cpu_msr_write(&f, &arch, &tsc, MSR_IA32_TSC_ADJUST, 5), CPU_MSR_GP);
	CU_ASSERT_EQUAL(tsc, 1000);
	CU_ASSERT_EQUAL(cpu_msr_write(&f, &arch, &tsc, MSR_IA32_TSC, 300), CPU_MSR_TSC_WRITTEN);
	CU_ASSERT_EQUAL(tsc, 300);

	lim.tsc_adjust = true;
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_amd_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 7, CPUID_REG_EBX, CPUID_7_EBX_TSC_ADJUST));
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 7, CPUID_REG_EBX, 3));	/* BMI1 kept */
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_intel_host, &m, err,
						   sizeof(err)), 0);
	CU_ASSERT_TRUE(cpu_model_has(&m.cpuid, 7, CPUID_REG_EBX, CPUID_7_EBX_TSC_ADJUST));
	/* the MSR file of the AMD one (the fake Intel host lists no TSC) */
	CU_ASSERT_EQUAL_FATAL(cpu_model_build_with("host", &lim, fake_amd_host, &m, err,
						   sizeof(err)), 0);
	cpu_msrs_init(&f, &m.cpuid, true);
	CU_ASSERT_EQUAL(cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v), CPU_MSR_OK);
	CU_ASSERT_EQUAL(v, 0);
	tsc = 1000;		/* +500: the TSC 500 ahead */
	CU_ASSERT_EQUAL(cpu_msr_write(&f, &arch, &tsc, MSR_IA32_TSC_ADJUST, 500),
			CPU_MSR_TSC_WRITTEN);
	CU_ASSERT_EQUAL(tsc, 1500);
	cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v);
	CU_ASSERT_EQUAL(v, 500);
	tsc = 2000;		/* the TSC set 1800 back: so is the adjustment */
	CU_ASSERT_EQUAL(cpu_msr_write(&f, &arch, &tsc, MSR_IA32_TSC, 200), CPU_MSR_TSC_WRITTEN);
	CU_ASSERT_EQUAL(tsc, 200);
	cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v);
	CU_ASSERT_EQUAL(v, (uint64_t)-1300);
	tsc = 10000;		/* back to 0: the TSC 1300 ahead, wrapping as 64 bits */
	CU_ASSERT_EQUAL(cpu_msr_write(&f, &arch, &tsc, MSR_IA32_TSC_ADJUST, 0), CPU_MSR_TSC_WRITTEN);
	CU_ASSERT_EQUAL(tsc, 11300);
	cpu_msrs_init(&f, &m.cpuid, true);	/* RESET: 0 again */
	cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v);
	CU_ASSERT_EQUAL(v, 0);

	for (unsigned i = 0; i < 2; i++) {
		const char *named[] = { "pentium3", "core2duo" };
		CU_ASSERT_EQUAL_FATAL(cpu_model_build_with(named[i], &lim, fake_intel_host, &m,
							   err, sizeof(err)), 0);
		CU_ASSERT_FALSE(cpu_model_has(&m.cpuid, 7, CPUID_REG_EBX, CPUID_7_EBX_TSC_ADJUST));
		cpu_msrs_init(&f, &m.cpuid, true);
		CU_ASSERT_EQUAL(cpu_msr_read(&f, &arch, 0, MSR_IA32_TSC_ADJUST, &v), CPU_MSR_GP);
	}
}

UNIT_SUITE(cpu_model, NULL, NULL,
	   UNIT_TEST(test_tsc_leaves),
	   UNIT_TEST(test_tsc_adjust),
	   UNIT_TEST(test_tsc_deadline_bit),
	   UNIT_TEST(test_named_identity),
	   UNIT_TEST(test_host_filtered),
	   UNIT_TEST(test_unknown_model),
	   UNIT_TEST(test_lookup_semantics),
	   UNIT_TEST(test_msr_amd),
	   UNIT_TEST(test_msr_intel_p3))

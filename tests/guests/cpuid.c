/* The CPU model as a guest sees it: a fixed list of CPUID leaves printed in
 * hex ("cpuid: LEAF.SUB EAX EBX ECX EDX", compared across engines by
 * tests/cpu/same-cpuid.sh), then the MSRs the model promises, each gated
 * on what CPUID says (Intel SDM Vol. 4, Table 2-2 and the family tables;
 * AMD APM Vol. 2, Appendix A). Checks that go beyond what every CPU must
 * do (unknown MSRs raise #GP, the AMD counters keep what was written) are
 * made only when leaf 0x40000000 says hyvm: QEMU TCG, the oracle of the
 * differential test, reads unknown MSRs as 0 and has EFER on every model. */
#include "guest.h"

GUEST("cpuid", "");

#define LEAF1_EDX_MSR (1u << 5)
#define LEAF1_EDX_SEP (1u << 11)
#define LEAF1_EDX_PAT (1u << 16)
#define EXT1_EDX_SYSCALL (1u << 11)
#define EXT1_EDX_NX (1u << 20)
#define EXT1_EDX_LM (1u << 29)
#define MSR_UNKNOWN 0x1badd00du		/* no CPU defines it */
#define PAT_RESET 0x0007040600070406ull	/* SDM Vol. 3A, 13.12.4 */
#define MSR_TSC_ADJUST 0x3bu
#define LEAF7_EBX_TSC_ADJUST (1u << 1)

/* The model's answers: not part of the exit checksum (QEMU's differ). */
static VOLATILE_STATE uint32_t leaf[4];
static VOLATILE_STATE char vendor[13];
static VOLATILE_STATE uint32_t family, max_basic, max_ext, ext1_edx, leaf1_edx, leaf1_ecx, leaf7_ebx;
static VOLATILE_STATE bool on_hyvm;

static const struct { uint32_t leaf, sub; } dump_list[] = {
	{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 }, { 4, 1 }, { 5, 0 }, { 6, 0 },
	{ 7, 0 }, { 7, 1 }, { 0xa, 0 }, { 0xb, 0 }, { 0xd, 0 }, { 0xd, 1 },
	{ 0x40000000, 0 }, { 0x40000001, 0 },
	{ 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000002, 0 }, { 0x80000003, 0 },
	{ 0x80000004, 0 }, { 0x80000005, 0 }, { 0x80000006, 0 }, { 0x80000007, 0 },
	{ 0x80000008, 0 }, { 0x8000000a, 0 }, { 0x8000001d, 0 },
	/* past every maximum: Intel repeats the highest basic leaf, AMD zeros */
	{ 0x3fffffff, 0 }, { 0x8000ffff, 0 },
};

static void dump(void)
{
	for (unsigned i = 0; i < sizeof(dump_list) / sizeof(dump_list[0]); i++) {
		cpuid(dump_list[i].leaf, dump_list[i].sub, leaf);
		printf_serial("cpuid: %08x.%u %08x %08x %08x %08x\n", dump_list[i].leaf,
			      dump_list[i].sub, leaf[0], leaf[1], leaf[2], leaf[3]);
	}
}

static void identification(void)
{
	check_begin("identity");
	cpuid(0, 0, leaf);
	max_basic = leaf[0];
	memcpy(vendor, &leaf[1], 4);
	memcpy(vendor + 4, &leaf[3], 4);
	memcpy(vendor + 8, &leaf[2], 4);
	vendor[12] = 0;
	cpuid(1, 0, leaf);
	leaf1_edx = leaf[3];
	leaf1_ecx = leaf[2];
	family = (leaf[0] >> 8) & 0xf;
	if (family == 0xf)
		family += (leaf[0] >> 20) & 0xff;
	check(max_basic >= 1, "max basic leaf %u", max_basic);
	check(family >= 5, "family %u", family);
	check(leaf1_edx & LEAF1_EDX_MSR, "leaf 1 EDX lacks MSR");
	check((leaf[1] >> 24) == 0, "CPUID.1:EBX APIC ID %u on the only CPU", leaf[1] >> 24);
	check(leaf[2] & (1u << 31), "leaf 1 ECX lacks the hypervisor bit");
	if (max_basic >= 7) {
		cpuid(7, 0, leaf);
		leaf7_ebx = leaf[1];
	}
	cpuid(0x40000000, 0, leaf);
	on_hyvm = leaf[1] == 0x6d767968 && leaf[2] == 0x6d767968 && leaf[3] == 0x6d767968;
	cpuid(0x80000000, 0, leaf);
	max_ext = leaf[0] >= 0x80000000 && leaf[0] <= 0x8000ffff ? leaf[0] : 0;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, leaf);
		ext1_edx = leaf[3];
	}
	printf_serial("cpuid: vendor %s family %u%s\n", vendor, family,
		      on_hyvm ? " (hyvm)" : "");
	check_end();
}

static VOLATILE_STATE volatile uint32_t probe_index;
static void rdmsr_probe(void *arg)
{
	(void)rdmsr(probe_index);
}

static bool msr_faults(uint32_t index)
{
	struct fault f;
	probe_index = index;
	if (!catch_fault(rdmsr_probe, NULL, &f))
		return false;
	check(f.vector == 13 && f.error == 0, "RDMSR 0x%x: vector %u error %u, want #GP(0)",
	      index, f.vector, f.error);
	return true;
}

static void msrs(void)
{
	bool intel = !memcmp(vendor, "GenuineIntel", 12), amd = !memcmp(vendor, "AuthenticAMD", 12);
	uint64_t v;

	check_begin("msr");
	/* BSP at the default base; globally enabled exactly when the model
	 * lists a local APIC (SDM Vol. 3A, 11.4.3-11.4.4) */
	uint64_t want = 0xfee00100u | ((leaf1_edx & (1u << 9)) ? 0x800u : 0);
	v = rdmsr(MSR_IA32_APIC_BASE);
	check(v == want, "IA32_APIC_BASE 0x%llx, want 0x%llx", v, want);
	uint64_t t1 = rdmsr(MSR_IA32_TSC), t2 = rdtsc();
	check(t2 >= t1, "IA32_TSC ahead of a later RDTSC");
	if (leaf1_edx & LEAF1_EDX_PAT) {
		check(rdmsr(MSR_IA32_PAT) == PAT_RESET, "IA32_PAT 0x%llx at reset", rdmsr(MSR_IA32_PAT));
		wrmsr(MSR_IA32_PAT, 0x0007040600010406ull);
		check(rdmsr(MSR_IA32_PAT) == 0x0007040600010406ull, "IA32_PAT round trip");
		wrmsr(MSR_IA32_PAT, PAT_RESET);
	}
	if (leaf1_edx & LEAF1_EDX_SEP) {
		wrmsr(0x176, 0xc0ffee);
		check(rdmsr(0x176) == 0xc0ffee, "IA32_SYSENTER_EIP round trip");
		wrmsr(0x176, 0);
	}
	/* EFER exists where SYSCALL, NX or LM is listed (SDM Vol. 4, 2.1) */
	if (ext1_edx & (EXT1_EDX_SYSCALL | EXT1_EDX_NX | EXT1_EDX_LM)) {
		if (!msr_faults(MSR_EFER) && (ext1_edx & EXT1_EDX_NX)) {
			uint64_t efer = rdmsr(MSR_EFER);
			wrmsr(MSR_EFER, efer | (1u << 11));
			check(rdmsr(MSR_EFER) & (1u << 11), "EFER.NXE did not stick");
			wrmsr(MSR_EFER, efer);
		}
	} else if (on_hyvm) {
		check(msr_faults(MSR_EFER), "EFER without SYSCALL/NX/LM did not raise #GP");
	}
	if (intel && family == 6) {
		check(!msr_faults(MSR_IA32_MISC_ENABLE), "IA32_MISC_ENABLE raised #GP");
		check(!msr_faults(MSR_IA32_PLATFORM_ID), "IA32_PLATFORM_ID raised #GP");
		check(!msr_faults(MSR_IA32_BIOS_SIGN_ID), "IA32_BIOS_SIGN_ID raised #GP");
	}
	/* K7 and later: four PerfEvtSel and four PerfCtr (APM Vol. 2, 13.2) */
	if (amd && family >= 6) {
		for (uint32_t i = 0; i < 4; i++) {
			check(!msr_faults(MSR_K7_EVNTSEL0 + i), "PerfEvtSel%u raised #GP", i);
			check(!msr_faults(MSR_K7_PERFCTR0 + i), "PerfCtr%u raised #GP", i);
		}
		if (on_hyvm) {
			wrmsr(MSR_K7_EVNTSEL0 + 1, 0x430076);	/* event 0x76, OS+USR, disabled */
			check(rdmsr(MSR_K7_EVNTSEL0 + 1) == 0x430076, "PerfEvtSel1 round trip");
			wrmsr(MSR_K7_EVNTSEL0 + 1, 0);
		}
	}
	/* IA32_TSC_DEADLINE exists iff CPUID.1:ECX.TSC_Deadline[24] (SDM
	 * Vol. 4, Table 2-2); outside TSC-deadline mode it reads 0 (SDM Vol.
	 * 3A, 11.5.4.1), and the timer LVT is masked one-shot here */
	if (leaf1_ecx & (1u << 24)) {
		if (msr_faults(MSR_IA32_TSC_DEADLINE))
			check(false, "IA32_TSC_DEADLINE raised #GP, though CPUID.1:ECX[24] lists it");
		else
			check(rdmsr(MSR_IA32_TSC_DEADLINE) == 0, "IA32_TSC_DEADLINE not 0 at reset");
	} else if (on_hyvm) {
		check(msr_faults(MSR_IA32_TSC_DEADLINE),
		      "IA32_TSC_DEADLINE without CPUID.1:ECX[24] did not raise #GP");
	}
	/* IA32_TSC_ADJUST exists iff CPUID.(7,0):EBX.TSC_ADJUST[1] (SDM
	 * Vol. 4, Table 2-2) and is 0 after reset (SDM Vol. 3B, 17.17.3);
	 * tests/guests/tsc_adjust checks what its writes do */
	if (leaf7_ebx & LEAF7_EBX_TSC_ADJUST) {
		if (msr_faults(MSR_TSC_ADJUST))
			check(false, "IA32_TSC_ADJUST raised #GP, though CPUID.(7,0):EBX[1] lists it");
		else
			check(rdmsr(MSR_TSC_ADJUST) == 0, "IA32_TSC_ADJUST not 0 at reset");
	} else if (on_hyvm) {
		check(msr_faults(MSR_TSC_ADJUST),
		      "IA32_TSC_ADJUST without CPUID.(7,0):EBX[1] did not raise #GP");
	}
	if (on_hyvm)
		check(msr_faults(MSR_UNKNOWN), "RDMSR of an unknown MSR did not raise #GP");
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	identification();
	dump();
	msrs();
}

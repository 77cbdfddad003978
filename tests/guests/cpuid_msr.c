/* CPUID, RDTSC and RDMSR/WRMSR basics. Values the VMM may legitimately
 * choose (vendor, family) are checked for form, not content. */
#include "guest.h"

GUEST("cpuid_msr", "");

#define CPUID1_EDX_TSC (1u << 4)
#define CPUID1_EDX_MSR (1u << 5)
#define CPUID1_EDX_SEP (1u << 11)

/* CPUID is the engine's or emulator's own: not part of the exit checksum. */
static VOLATILE_STATE uint32_t leaf1_edx;

static void identification(void)
{
	uint32_t r[4];
	char vendor[13];
	check_begin("cpuid");
	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	bool printable = true;
	for (int i = 0; i < 12; i++)
		printable &= vendor[i] >= 0x20 && vendor[i] < 0x7f;
	check(printable, "vendor string is not 12 printable characters");
	check(r[0] >= 1, "max basic leaf %u < 1", r[0]);

	cpuid(1, 0, r);
	leaf1_edx = r[3];
	uint32_t stepping = r[0] & 0xf, model = (r[0] >> 4) & 0xf, family = (r[0] >> 8) & 0xf;
	check(family != 0, "leaf 1 family is 0 (eax 0x%x)", r[0]);
	check(leaf1_edx & CPUID1_EDX_TSC, "leaf 1 EDX lacks TSC");
	check(leaf1_edx & CPUID1_EDX_MSR, "leaf 1 EDX lacks MSR");
	printf_serial("cpuid: vendor %s, family %u model %u stepping %u\n", vendor, family, model, stepping);
	check_end();
}

static void time_stamp_counter(void)
{
	check_begin("rdtsc");
	uint64_t prev = rdtsc();
	int backwards = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t now = rdtsc();
		if (now < prev)
			backwards++;
		prev = now;
	}
	check(backwards == 0, "rdtsc went backwards %d times in 20 reads", backwards);
	uint64_t a = rdtsc();
	for (volatile int i = 0; i < 1000; i++)
		;
	uint64_t b = rdtsc();
	check(b > a, "rdtsc did not advance across a 1000-iteration loop");
	check_end();
}

static void model_specific_registers(void)
{
	check_begin("rdmsr_wrmsr");
	uint64_t old_cs = rdmsr(MSR_IA32_SYSENTER_CS), old_esp = rdmsr(MSR_IA32_SYSENTER_ESP);
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_CODE32);
	wrmsr(MSR_IA32_SYSENTER_ESP, 0x12345678);
	check_eq("IA32_SYSENTER_CS round trip", (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS), SEL_CODE32);
	check_eq("IA32_SYSENTER_ESP round trip", (uint32_t)rdmsr(MSR_IA32_SYSENTER_ESP), 0x12345678);
	wrmsr(MSR_IA32_SYSENTER_CS, old_cs);
	wrmsr(MSR_IA32_SYSENTER_ESP, old_esp);
	check_eq("IA32_SYSENTER_CS restored", (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS), (uint32_t)old_cs);

	uint64_t t1 = rdmsr(MSR_IA32_TSC), t2 = rdtsc();
	check(t2 >= t1, "IA32_TSC %llx is ahead of a later rdtsc %llx", t1, t2);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	identification();
	time_stamp_counter();
	model_specific_registers();
}

/*
 * The VM's CPU model: the CPUID answers and the MSR file's identity, built
 * once when the VM is created and applied to every engine (engine_ops.
 * set_cpuid), so a guest sees the same CPU on bt, kvm, svm, vmx and hybrid,
 * and across hybrid switches. A model promises only what every engine
 * honours: bt is the least capable engine a VM can run on (hybrid moves a
 * vCPU onto it), so the features are filtered to what bt implements, with
 * one exception: long mode, which only the VM's engine set decides.
 */
#ifndef HYVM_CPU_MODEL_H
#define HYVM_CPU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hyvm/cpuid_table.h>

#define CPU_MODEL_DEFAULT "host"

/* What the VM's engines can do that changes the model. */
struct cpu_model_limits {
	bool long_mode;		/* some engine of the VM runs long mode */
	/* The machine gives the vCPU a local APIC (devices/apic/lapic.c): the
	 * model lists CPUID.1:EDX.APIC, and IA32_APIC_BASE reads enabled
	 * (hyvm_cpuid_apic_base). */
	bool local_apic;
	/* The local APIC has TSC-deadline mode and every engine of the VM
	 * brings IA32_TSC_DEADLINE to it (engine_caps.msr_exits): the
	 * "host" model lists CPUID.1:ECX.TSC_Deadline[24] (SDM Vol. 3A,
	 * 11.5.4.1), whatever the host's own APIC has (the device is
	 * hyvm's, as KVM lists it on AMD hosts); the named models, older
	 * than the feature (Intel: Westmere-EP/Sandy Bridge on), never. */
	bool tsc_deadline;
	/* Every engine of the VM keeps IA32_TSC_ADJUST (SDM Vol. 3B,
	 * 17.17.3) as the guest's TSC offset moves (!engine_caps.
	 * cannot[NEED_TSC_ADJUST]): the "host" model lists CPUID.(7,0):
	 * EBX.TSC_ADJUST[1] where it has leaf 7. With the invariant TSC
	 * (0x80000007 EDX[8], the host's) Linux (since 5.17, tsc.c
	 * check_system_tsc_reliable) then trusts the TSC without the
	 * clocksource watchdog, which on a loaded host compares it with
	 * jiffies or a PM timer that lose time while the vCPU thread waits. */
	bool tsc_adjust;
};

struct cpu_model {
	char name[32];
	struct hyvm_cpuid_table cpuid;
};

/* NULL-terminated list of model names, and a one-line description. */
const char *const *cpu_model_names(void);
const char *cpu_model_describe(const char *name);
bool cpu_model_exists(const char *name);

/* Builds the named model for a VM with these limits. -1 and one line in
 * err for an unknown name. */
int cpu_model_build(const char *name, const struct cpu_model_limits *lim,
		    struct cpu_model *out, char *err, size_t errlen);

/* What a boot loader must know of the model a VM with these limits gets
 * (the Linux 64-bit entry): whether it lists long mode (CPUID
 * Fn8000_0001_EDX[29] LM) and 1 GiB pages (Fn8000_0001_EDX[26] Page1GB).
 * False for an unknown name. */
bool cpu_model_long_mode(const char *name, const struct cpu_model_limits *lim, bool *gbpages);

/* Reads back from a table (the MSR file and the tests use these). */
enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };
enum cpu_vendor cpu_model_vendor(const struct hyvm_cpuid_table *t);
/* Family as the SDM/APM compute it: base, plus extended when base is 0xf. */
unsigned cpu_model_family(const struct hyvm_cpuid_table *t);
/* CPUID.(leaf, 0).reg[bit]: reg 0..3 = EAX, EBX, ECX, EDX. */
bool cpu_model_has(const struct hyvm_cpuid_table *t, uint32_t leaf, int reg, int bit);

/* The bits a model's CPUID may carry, by leaf. */
#define CPUID_1_EDX_FPU		0
#define CPUID_1_EDX_PSE		3
#define CPUID_1_EDX_TSC		4
#define CPUID_1_EDX_MSR		5
#define CPUID_1_EDX_PAE		6
#define CPUID_1_EDX_CX8		8
#define CPUID_1_EDX_APIC	9
#define CPUID_1_EDX_SEP		11
#define CPUID_1_EDX_PGE		13
#define CPUID_1_EDX_CMOV	15
#define CPUID_1_EDX_PAT		16
#define CPUID_1_EDX_CLFSH	19
#define CPUID_1_EDX_MMX		23
#define CPUID_1_EDX_FXSR	24
#define CPUID_1_EDX_SSE		25
#define CPUID_1_EDX_SSE2	26
#define CPUID_1_ECX_TSC_DEADLINE	24
#define CPUID_1_ECX_HYPERVISOR	31
#define CPUID_7_EBX_TSC_ADJUST	1
#define CPUID_X1_EDX_SYSCALL	11
#define CPUID_X1_EDX_NX		20
#define CPUID_X1_EDX_PAGE1GB	26
#define CPUID_X1_EDX_LM		29
#define CPUID_REG_EAX 0
#define CPUID_REG_EBX 1
#define CPUID_REG_ECX 2
#define CPUID_REG_EDX 3

/* "hyvmhyvmhyvm" in EBX, ECX, EDX of leaf 0x40000000 */
#define CPU_MODEL_HV_SIGNATURE 0x6d767968u

#endif

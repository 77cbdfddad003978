// SPDX-License-Identifier: GPL-2.0
/*
 * What this CPU offers a hypervisor, from CPUID and the VMX capability
 * MSRs. Read-only: nothing here changes CPU state.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/msr.h>
#include "hyvm.h"

#define MSR_IA32_FEAT_CTL_	0x3a
#define MSR_VMX_PROCBASED	0x482
#define MSR_VMX_PROCBASED2	0x48b
#define MSR_VMX_TRUE_PROCBASED	0x48e
#define MSR_SVM_VM_CR		0xc0010114

static void add_missing(struct hyvm_capabilities *caps, const char *what)
{
	size_t len = strlen(caps->missing);

	if (len)
		strlcat(caps->missing, "; ", sizeof(caps->missing));
	strlcat(caps->missing, what, sizeof(caps->missing));
}

/* AMD APM Vol. 2, 15.4 (enabling SVM) and CPUID Fn8000_000A. */
static void detect_svm(struct hyvm_capabilities *caps)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr = 0;

	if (cpuid_eax(0x80000000) < 0x80000001 ||
	    !(cpuid_ecx(0x80000001) & (1u << 2))) {
		add_missing(caps, "CPU has no AMD-V (SVM)");
		return;
	}
	caps->flags |= HYVM_CAP_SVM;
	if (!rdmsrl_safe(MSR_SVM_VM_CR, &vm_cr) && (vm_cr & (1u << 4))) {
		add_missing(caps, "SVM disabled by firmware (VM_CR.SVMDIS)");
		return;
	}
	if (cpuid_eax(0x80000000) < 0x8000000a) {
		add_missing(caps, "CPUID leaf 8000000Ah absent");
		return;
	}
	cpuid(0x8000000a, &eax, &ebx, &ecx, &edx);
	caps->nr_asids = ebx;
	if (ebx > 1)
		caps->flags |= HYVM_CAP_TAGGED_TLB;
	if (edx & (1u << 0))
		caps->flags |= HYVM_CAP_NESTED_PAGING | HYVM_CAP_UNRESTRICTED;
	else
		add_missing(caps, "no nested paging (NPT)");
	if (edx & (1u << 3))
		caps->flags |= HYVM_CAP_NRIPS;
}

/* Intel SDM Vol. 3C, 23.6-23.7 (enabling VMX) and Appendix A.3 (controls). */
static void detect_vmx(struct hyvm_capabilities *caps)
{
	u64 feat = 0, proc = 0, proc2 = 0;

	if (!(cpuid_ecx(1) & (1u << 5))) {
		add_missing(caps, "CPU has no VT-x (VMX)");
		return;
	}
	caps->flags |= HYVM_CAP_VMX;
	if (!rdmsrl_safe(MSR_IA32_FEAT_CTL_, &feat) && (feat & 1) &&
	    !(feat & (1u << 2)))
		add_missing(caps, "VMX disabled by firmware (IA32_FEATURE_CONTROL)");
	if (rdmsrl_safe(MSR_VMX_PROCBASED, &proc) ||
	    !(proc >> 32 & (1u << 31)) ||
	    rdmsrl_safe(MSR_VMX_PROCBASED2, &proc2)) {
		add_missing(caps, "no VMX secondary controls (no EPT, no unrestricted guest)");
		return;
	}
	proc2 >>= 32;	/* allowed-1 settings */
	if (proc2 & (1u << 1))
		caps->flags |= HYVM_CAP_NESTED_PAGING;
	else
		add_missing(caps, "no EPT");
	if (proc2 & (1u << 5)) {
		caps->flags |= HYVM_CAP_TAGGED_TLB;
		caps->nr_asids = 0xffff;
	}
	if (proc2 & (1u << 7))
		caps->flags |= HYVM_CAP_UNRESTRICTED;
	else
		add_missing(caps, "no unrestricted guest (real mode needs emulation)");
}

void hyvm_detect_caps(struct hyvm_capabilities *caps)
{
	u32 max, vendor[3];

	memset(caps, 0, sizeof(*caps));
	caps->api_version = HYVM_API_VERSION;
	cpuid(0, &max, &vendor[0], &vendor[2], &vendor[1]);
	if (!memcmp(vendor, "AuthenticAMD", 12) ||
	    !memcmp(vendor, "HygonGenuine", 12)) {
		caps->flags |= HYVM_CAP_VENDOR_AMD;
		detect_svm(caps);
	} else if (!memcmp(vendor, "GenuineIntel", 12)) {
		caps->flags |= HYVM_CAP_VENDOR_INTEL;
		detect_vmx(caps);
	} else {
		add_missing(caps, "unknown CPU vendor");
	}
}

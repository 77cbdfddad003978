/*
 * The vmx engine: Intel VT-x through hyvm.ko (/dev/hyvm). Everything the
 * module's two backends share is in engine_hyvm.c; here is what is
 * Intel's: the capability checks, how the CPU is described, what a failed
 * VM exit or entry means, and the exit reasons by name.
 *
 * What the CPU lacks is said, never worked around: without EPT the engine
 * is absent, without unrestricted guest it cannot run real mode (the
 * hybrid layer or bt can).
 */
#include <stdio.h>
#include <string.h>
#include <hyvm/exit_category.h>
#include "engines/hyvm/engine_hyvm.h"

static bool vmx_usable(const struct hyvm_capabilities *hc, struct engine_caps *caps)
{
	if (hc->flags & HYVM_CAP_NESTED_PAGING)
		return true;
	snprintf(caps->absent_why, sizeof(caps->absent_why),
		 "VT-x without EPT: the vmx engine needs EPT (no shadow paging); "
		 "use the bt engine (%.75s)", hc->missing);
	return false;
}

static void vmx_describe(const struct hyvm_capabilities *hc, struct engine_caps *caps)
{
	snprintf(caps->description, sizeof(caps->description),
		 "hyvm.ko Intel VT-x (EPT%s%s)",
		 hc->flags & HYVM_CAP_TAGGED_TLB ? ", VPID" : "",
		 hc->flags & HYVM_CAP_UNRESTRICTED ? ", unrestricted guest" : "");
	/* Seen in Bochs (haswell): in the v86 guest, IN from a port the TSS
	 * bitmap denies reached the VMM instead of raising #GP, although the
	 * bitmap check has priority over the I/O exit (SDM Vol. 3C, 26.1.1);
	 * not yet understood (hyvm.ko or Bochs), so refused, not run wrong. */
	caps->cannot[NEED_VM86] = "virtual-8086 I/O permission checks not verified on hyvm.ko vmx";
}

/* SDM Vol. 3C, 30.4: VM-instruction error numbers worth a word. */
static const char *insn_error(unsigned e)
{
	switch (e) {
	case 7:  return "invalid control fields";
	case 8:  return "invalid host-state fields";
	case 26: return "events blocked by MOV SS";
	default: return "see Intel SDM 30.4";
	}
}

static void vmx_fail_message(struct vcpu_exit *exit, const struct hyvm_run *run)
{
	unsigned long long code = run->fail.hw_reason;
	unsigned reason = code & 0xffff;
	char *m = exit->error.msg;
	size_t n = sizeof(exit->error.msg);

	if (code >> 32)
		snprintf(m, n, "vmx: VMLAUNCH/VMRESUME failed: VM-instruction error %llu (%s)",
			 code & 0xffffffffULL, insn_error(code & 0xffffffffULL));
	else if (code & 0x80000000ULL)
		snprintf(m, n, "vmx: VM entry refused the guest state (exit reason %u%s, "
			 "qualification %#llx)", reason,
			 reason == 33 ? ": invalid guest state" : reason == 34 ? ": MSR loading" : "",
			 (unsigned long long)run->fail.info1);
	else if (reason == 28)
		snprintf(m, n, "vmx: the guest left protected mode at rip %#llx: real mode needs "
			 "VT-x unrestricted guest, which hyvm.ko does not have here",
			 (unsigned long long)run->rip);
	else
		snprintf(m, n, "vmx: unhandled exit reason %u (qualification %#llx, gpa %#llx)",
			 reason, (unsigned long long)run->fail.info1,
			 (unsigned long long)run->fail.info2);
	/* SDM 24.9.3: IDT-vectoring information, valid bit 31, type 3 */
	if ((run->fail.exit_int_info & 0x80000000u) &&
	    ((run->fail.exit_int_info >> 8) & 7) == 3)
		exit->error.last_vector = run->fail.exit_int_info & 0xff;
}

/* Counters by the shared exit categories (include/hyvm/exit_category.h). */
static void vmx_add_counters(const struct hyvm_run *run, struct engine_stats *st)
{
	static const char *const names[HYVM_CAT_COUNT] = {
		"vmx io", "vmx cpuid", "vmx msr", "vmx cr access", "vmx hlt",
		"vmx exception", "vmx external interrupt", "vmx interrupt window",
		"vmx nested page fault", "vmx shutdown", "vmx other",
	};
	uint64_t cat[HYVM_CAT_COUNT] = { 0 };

	for (unsigned i = 0; i < HYVM_NR_COUNTERS; i++)
		cat[hyvm_vmx_exit_class(i).cat] += run->exit_count[i];
	for (unsigned c = 0; c < HYVM_CAT_COUNT; c++) {
		st->counter[st->nr_counters].name = names[c];
		st->counter[st->nr_counters++].value = cat[c];
	}
}

/* Intel SDM Vol. 3D, Appendix C: basic exit reasons. */
static const char *vmx_raw_reason_name(uint32_t raw)
{
	static const char *const names[] = {
		[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
		[7] = "INTERRUPT_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID",
		[12] = "HLT", [13] = "INVD", [15] = "RDPMC", [18] = "VMCALL",
		[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION",
		[31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_GUEST_STATE",
		[36] = "MWAIT", [39] = "MONITOR", [40] = "PAUSE", [48] = "EPT_VIOLATION",
		[49] = "EPT_MISCONFIG", [52] = "PREEMPTION_TIMER", [54] = "WBINVD",
		[55] = "XSETBV",
	};
	raw &= 0xffff;
	return raw < sizeof(names) / sizeof(names[0]) ? names[raw] : NULL;
}

static const struct hyvm_vendor vmx_vendor = {
	.name = "vmx",
	.cap_flag = HYVM_CAP_VMX,
	.no_cpu = "this CPU has no Intel VT-x (VMX)",
	.usable = vmx_usable,
	.describe = vmx_describe,
	.real_mode_why = "real mode needs VT-x unrestricted guest",
	.busy_why = "VT-x is in use by another hypervisor (kvm_intel with a VM running?)",
	.shutdown_msg = "triple fault (VMX exit reason 2)",
	.fail_message = vmx_fail_message,
	.counters = vmx_add_counters,
};

static void vmx_probe(struct engine_caps *caps)
{
	hyvm_engine_probe(&vmx_vendor, caps);
}

static int vmx_vm_create(struct engine_vm **vm, char *err, size_t errlen)
{
	return hyvm_engine_vm_create(&vmx_vendor, vm, err, errlen);
}

const struct engine_ops vmx_engine_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.vm_create = vmx_vm_create,
	.raw_reason_name = vmx_raw_reason_name,
	HYVM_ENGINE_COMMON_OPS,
};
ENGINE_REGISTER(vmx_engine_ops, 21)

/*
 * The svm engine: AMD-V through hyvm.ko (/dev/hyvm). Everything the
 * module's two backends share is in engine_hyvm.c; here is what is AMD's:
 * how the CPU is described, what a failed #VMEXIT means, and the SVM exit
 * codes worth naming in statistics.
 */
#include <stdio.h>
#include <string.h>
#include "engines/hyvm/engine_hyvm.h"

/* SVM exit codes worth naming in statistics (AMD APM Vol. 2, App. C). */
static const struct { unsigned index; const char *name; } svm_counters[] = {
	{ 0x60, "svm intr" }, { 0x61, "svm nmi" }, { 0x64, "svm vintr" },
	{ 0x72, "svm cpuid" }, { 0x78, "svm hlt" }, { 0x7b, "svm ioio" },
	{ 0x7c, "svm msr" }, { 0x7f, "svm shutdown" },
	{ HYVM_COUNTER_NPF, "svm npf" }, { HYVM_COUNTER_OTHER, "svm other" },
};

static void svm_describe(const struct hyvm_capabilities *hc, struct engine_caps *caps)
{
	snprintf(caps->description, sizeof(caps->description),
		 "hyvm.ko AMD-V (NPT, %u ASIDs%s)", hc->nr_asids,
		 hc->flags & HYVM_CAP_NRIPS ? ", next-RIP save" : "");
}

static void svm_fail_message(struct vcpu_exit *exit, const struct hyvm_run *run)
{
	unsigned long long code = run->fail.hw_reason;

	if ((uint32_t)code == 0xffffffffu)
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: VMRUN refused the guest state (VMEXIT_INVALID)");
	else
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: unhandled exit %#llx (info1 %#llx, info2 %#llx)", code,
			 (unsigned long long)run->fail.info1, (unsigned long long)run->fail.info2);
	/* APM 15.7.2: EXITINTINFO, valid bit 31, exception type 3 */
	if ((run->fail.exit_int_info & 0x80000000u) &&
	    ((run->fail.exit_int_info >> 8) & 7) == 3)
		exit->error.last_vector = run->fail.exit_int_info & 0xff;
}

static void svm_add_counters(const struct hyvm_run *run, struct engine_stats *st)
{
	for (unsigned i = 0; i < sizeof(svm_counters) / sizeof(svm_counters[0]); i++) {
		st->counter[st->nr_counters].name = svm_counters[i].name;
		st->counter[st->nr_counters++].value = run->exit_count[svm_counters[i].index];
	}
}

static const struct hyvm_vendor svm_vendor = {
	.name = "svm",
	.cap_flag = HYVM_CAP_SVM,
	.no_cpu = "this CPU has no AMD-V (SVM)",
	.describe = svm_describe,
	.real_mode_why = "hyvm.ko cannot run real mode on this CPU",
	.shutdown_msg = "triple fault (SVM shutdown intercept)",
	.fail_message = svm_fail_message,
	.counters = svm_add_counters,
};

static void svm_probe(struct engine_caps *caps)
{
	hyvm_engine_probe(&svm_vendor, caps);
}

static int svm_vm_create(struct engine_vm **vm, char *err, size_t errlen)
{
	return hyvm_engine_vm_create(&svm_vendor, vm, err, errlen);
}

const struct engine_ops svm_engine_ops = {
	.name = "svm",
	.probe = svm_probe,
	.vm_create = svm_vm_create,
	HYVM_ENGINE_COMMON_OPS,
};
ENGINE_REGISTER(svm_engine_ops, 20)

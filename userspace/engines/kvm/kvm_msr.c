/*
 * The kvm engine's MSRs in user space (kvm_msr.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "engines/kvm/kvm_msr.h"

static int kvm_err(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "kvm: %s: %s", what, strerror(errno));
	return -1;
}

/*
 * The MSRs KVM does not answer as the model says, handed to user space
 * (KVM_X86_SET_MSR_FILTER denies them, KVM_CAP_X86_USER_SPACE_MSR with
 * KVM_MSR_EXIT_REASON_FILTER makes a denied guest RDMSR/WRMSR an exit) and
 * answered from cpu_msr.c, the MSR file bt uses:
 *  - the performance counters (P6 PerfCtr0/1, PerfEvtSel0/1; K7
 *    PerfEvtSel0-3, PerfCtr0-3): the model stores them and they do not
 *    count (hyvm.ko does the same); KVM without a vPMU (nested, or
 *    enable_pmu=0) reads 0 and refuses writes, with one a PMU they count;
 *  - Intel's identity MSRs (PLATFORM_ID, BIOS_SIGN_ID, MISC_ENABLE), which
 *    an Intel model has on an AMD host too;
 *  - MSRs of features the model lacks, which KVM implements regardless of
 *    CPUID (EFER, SYSENTER, PAT, TSC, APIC base, the SYSCALL and long-mode
 *    MSRs): #GP(0), as the model's CPU would;
 *  - and, not answered here but by the VMM's devices (EXIT_MSR), the
 *    local APIC's IA32_TSC_DEADLINE, which KVM keeps for an in-kernel
 *    APIC this VM has not (writes dropped, reads 0).
 * Host-initiated KVM_GET/SET_MSRS are not filtered, so set_state and
 * get_state are unchanged.
 */
/* The filter's three ranges (a set bit allows, a clear one denies) */
#define MSR_RANGE_LOW	0x00000000u	/* 0x000-0x1ff */
#define MSR_RANGE_EXT	0xc0000080u	/* EFER .. KERNEL_GS_BASE */
#define MSR_RANGE_K7	0xc0010000u	/* PerfEvtSel0-3, PerfCtr0-3 */

struct msr_bitmaps {
	uint8_t low[0x200 / 8], ext[0x90 / 8], k7[1];
};

static void msr_deny(struct msr_bitmaps *b, uint32_t msr)
{
	if (msr < 0x200)
		b->low[msr / 8] &= ~(1u << (msr % 8));
	else if (msr - MSR_RANGE_EXT < 0x90)
		b->ext[(msr - MSR_RANGE_EXT) / 8] &= ~(1u << ((msr - MSR_RANGE_EXT) % 8));
	else if (msr - MSR_RANGE_K7 < 8)
		b->k7[0] &= ~(1u << (msr - MSR_RANGE_K7));
}

int kvm_msr_filter(int vm_fd, const struct cpu_msrs *m, bool leaf7_is_hosts,
		   char *err, size_t errlen)
{
	static const uint32_t always[] = {
		MSR_IA32_PLATFORM_ID, MSR_IA32_BIOS_SIGN_ID, MSR_IA32_MISC_ENABLE,
		MSR_P6_PERFCTR0, MSR_P6_PERFCTR0 + 1, MSR_P6_EVNTSEL0, MSR_P6_EVNTSEL0 + 1,
	};
	struct msr_bitmaps b;
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };

	memset(&b, 0xff, sizeof(b));
	for (unsigned i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		msr_deny(&b, always[i]);
	for (uint32_t i = 0; i < 8; i++)
		msr_deny(&b, MSR_RANGE_K7 + i);
	if (!m->tsc)
		msr_deny(&b, MSR_IA32_TSC);
	if (!m->apic_base_present)
		msr_deny(&b, MSR_IA32_APIC_BASE);
	if (!m->sep)
		for (uint32_t i = MSR_IA32_SYSENTER_CS; i <= MSR_IA32_SYSENTER_EIP; i++)
			msr_deny(&b, i);
	/* KVM keeps IA32_TSC_ADJUST for every guest, whatever CPUID lists:
	 * without it in the model a guest's RDMSR/WRMSR must #GP (SDM Vol. 4,
	 * Table 2-2), which answer_here gives */
	if (!m->tsc_adjust_present && !leaf7_is_hosts)
		msr_deny(&b, MSR_IA32_TSC_ADJUST);
	/* PAT (0x277) is outside the low range: range 3 below */
	if (!m->efer)
		msr_deny(&b, MSR_EFER);
	if (!(m->efer_writable & EFER_SCE))
		msr_deny(&b, MSR_STAR);
	if (!(m->efer_writable & EFER_LME))
		for (uint32_t i = MSR_LSTAR; i <= MSR_KERNEL_GS_BASE; i++)
			if (i <= MSR_SFMASK || i >= MSR_FS_BASE)
				msr_deny(&b, i);
	f.ranges[0] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = 0x200, .base = MSR_RANGE_LOW, .bitmap = b.low };
	f.ranges[1] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = 0x90, .base = MSR_RANGE_EXT, .bitmap = b.ext };
	f.ranges[2] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = 8, .base = MSR_RANGE_K7, .bitmap = b.k7 };
	static uint8_t pat_deny[1];	/* PAT alone: its bit 0 clear */
	static uint8_t vmm_deny[1];	/* IA32_TSC_DEADLINE: to the VMM */
	if (!m->pat)
		f.ranges[3] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 1, .base = MSR_IA32_PAT, .bitmap = pat_deny };
	/* KVM would keep IA32_TSC_DEADLINE for its in-kernel APIC, which the
	 * VM has not (writes dropped, reads 0): the VMM's device answers */
	f.ranges[4] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = 1, .base = MSR_IA32_TSC_DEADLINE, .bitmap = vmm_deny };
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0 ||
	    !(ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) > 0)) {
		snprintf(err, errlen, "kvm: this KVM cannot hand MSRs to user space (no "
			 "KVM_CAP_X86_MSR_FILTER/USER_SPACE_MSR), so it cannot give the CPU model's "
			 "performance-counter and identity MSRs");
		return -1;
	}
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
				      .args = { KVM_MSR_EXIT_REASON_FILTER } };
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return kvm_err(err, errlen, "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR)");
	if (ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return kvm_err(err, errlen, "KVM_X86_SET_MSR_FILTER");
	return 0;
}

/* A guest RDMSR/WRMSR the filter handed over: answered from the model's
 * MSR file; KVM raises #GP(0) when error is set (KVM API, KVM_EXIT_X86_RDMSR).
 * Only MSRs that need no architectural state come here (see above). */
static void answer_here(struct kvm_user_msrs *u, struct kvm_run *run)
{
	struct hyvm_cpu_state none = { 0 };
	uint64_t val = 0;
	enum cpu_msr_result r;

	u->exits++;
	if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
		r = cpu_msr_read(&u->file, &none, 0, run->msr.index, &val);
		run->msr.data = r == CPU_MSR_GP ? 0 : val;
	} else {
		/* no TSC here: KVM keeps IA32_TSC, and the kvm engine's
		 * model lists no IA32_TSC_ADJUST (kvm_probe.c) */
		uint64_t tsc = 0;
		r = cpu_msr_write(&u->file, &none, &tsc, run->msr.index, run->msr.data);
	}
	run->msr.error = r == CPU_MSR_GP;
}

/* A device's MSR (engine_msr_to_vmm) leaves as EXIT_MSR with the guest's
 * TSC now (a host-initiated read of IA32_TSC, which the filter does not
 * see); false: not one. */
static bool to_vmm(struct kvm_user_msrs *u, int vcpu_fd, struct kvm_run *run,
		   struct vcpu_exit *exit)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} tsc = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };

	if (!engine_msr_to_vmm(run->msr.index))
		return false;
	u->pending = true;
	u->access = (struct engine_msr){
		.index = run->msr.index, .write = run->exit_reason == KVM_EXIT_X86_WRMSR,
		.data = run->exit_reason == KVM_EXIT_X86_WRMSR ? run->msr.data : 0,
	};
	if (ioctl(vcpu_fd, KVM_GET_MSRS, &tsc) == 1)
		u->access.tsc = tsc.e.data;
	exit->kind = EXIT_MSR;
	exit->msr = &u->access;
	return true;
}

/* The VMM's answer to the last EXIT_MSR, for KVM to finish the RDMSR or
 * WRMSR with (#GP on error) as the next KVM_RUN enters. */
void kvm_msr_complete(struct kvm_user_msrs *u, struct kvm_run *run)
{
	if (!u->pending)
		return;
	u->pending = false;
	run->msr.error = u->access.gp;
	if (!u->access.write)
		run->msr.data = u->access.gp ? 0 : u->access.data;
}


bool kvm_msr_exit(struct kvm_user_msrs *u, int vcpu_fd, struct kvm_run *run,
		  struct vcpu_exit *exit)
{
	if (to_vmm(u, vcpu_fd, run, exit))
		return true;
	answer_here(u, run);	/* KVM finishes the instruction on entry */
	return false;
}

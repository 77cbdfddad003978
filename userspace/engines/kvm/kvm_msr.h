/*
 * The kvm engine's MSRs in user space: those KVM would answer otherwise
 * than the CPU model says, answered from the model's MSR file
 * (cpu/cpu_msr.c, as bt), and the devices' (engine_msr_to_vmm), handed
 * to the VMM as EXIT_MSR. Both through KVM_X86_SET_MSR_FILTER with
 * KVM_CAP_X86_USER_SPACE_MSR (KVM API, 4.97 and 7.21).
 */
#ifndef HYVM_KVM_MSR_H
#define HYVM_KVM_MSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "cpu/cpu_msr.h"
#include "engines/engine.h"

struct kvm_user_msrs {
	struct cpu_msrs file;		/* the model's MSR file (set_cpuid) */
	uint64_t exits;			/* guest accesses answered from it */
	bool pending;			/* an EXIT_MSR waits for the VMM's answer */
	struct engine_msr access;	/* its access, engine-owned (engine.h) */
};

/* The filter for model m on the VM: -1 and one line in err when this KVM
 * cannot hand MSRs to user space. */
/* leaf7_is_hosts: the guest reads the host's CPUID leaf 7, not the
 * model's (kvm_pvm with the host's vendor: engine_kvm.c), so KVM's own
 * IA32_TSC_ADJUST is what its CPUID promises */
int kvm_msr_filter(int vm_fd, const struct cpu_msrs *m, bool leaf7_is_hosts,
		   char *err, size_t errlen);
/* A KVM_EXIT_X86_RDMSR/WRMSR in run: answered from the file (false: KVM
 * finishes it on the next KVM_RUN), or made an EXIT_MSR in exit (true). */
bool kvm_msr_exit(struct kvm_user_msrs *u, int vcpu_fd, struct kvm_run *run,
		  struct vcpu_exit *exit);
/* Before KVM_RUN: the VMM's answer to a pending EXIT_MSR into run. */
void kvm_msr_complete(struct kvm_user_msrs *u, struct kvm_run *run);

#endif

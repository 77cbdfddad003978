/* Conversions between hyvm_cpu_state and KVM's register structs, kept apart
 * from the ioctls so they are unit-tested without /dev/kvm. */
#ifndef HYVM_KVM_STATE_H
#define HYVM_KVM_STATE_H

#include <linux/kvm.h>
#include <hyvm/cpu_state.h>

/* MSRs carried in hyvm_cpu_state, in the order kvm_msrs_from_state uses. */
#define KVM_STATE_NR_MSRS 10

struct kvm_msrs_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[KVM_STATE_NR_MSRS];
};

void kvm_segment_from_hyvm(struct kvm_segment *k, const struct hyvm_segment *h);
void hyvm_segment_from_kvm(struct hyvm_segment *h, const struct kvm_segment *k);

void kvm_regs_from_state(struct kvm_regs *r, const struct hyvm_cpu_state *st);
void state_from_kvm_regs(struct hyvm_cpu_state *st, const struct kvm_regs *r);
void kvm_sregs_from_state(struct kvm_sregs *s, const struct hyvm_cpu_state *st);
void state_from_kvm_sregs(struct hyvm_cpu_state *st, const struct kvm_sregs *s);
void kvm_fpu_from_state(struct kvm_fpu *f, const struct hyvm_cpu_state *st);
void state_from_kvm_fpu(struct hyvm_cpu_state *st, const struct kvm_fpu *f);
void kvm_events_from_state(struct kvm_vcpu_events *e, const struct hyvm_cpu_state *st);
void state_from_kvm_events(struct hyvm_cpu_state *st, const struct kvm_vcpu_events *e);
/* Fills indices (and values, from st) */
void kvm_msrs_from_state(struct kvm_msrs_buf *m, const struct hyvm_cpu_state *st);
void state_from_kvm_msrs(struct hyvm_cpu_state *st, const struct kvm_msrs_buf *m);

#endif

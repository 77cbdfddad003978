/*
 * What the kvm engine adds to the statistics: names for KVM's exit reasons
 * and the counters KVM itself keeps per vCPU (KVM_GET_STATS_FD, Linux 5.14+).
 */
#ifndef HYVM_STATS_KVM_H
#define HYVM_STATS_KVM_H

#include <stdint.h>
#include "engines/engine.h"

#define KVM_STATS_PICKED 28	/* leaves engine_stats room for the engine's own */

struct kvm_binary_stats {
	int fd;			/* -1: this KVM has no binary statistics */
	uint64_t data_offset;
	unsigned nr;
	struct { char name[40]; uint32_t offset; } pick[KVM_STATS_PICKED];
};

const char *kvm_exit_reason_name(uint32_t raw_reason);
/* Opens vcpu_fd's statistics; ks->fd stays -1 where KVM has none. */
void kvm_binary_stats_open(struct kvm_binary_stats *ks, int vcpu_fd);
/* Appends KVM's counters (name "kvm.NAME") to st. */
void kvm_binary_stats_read(struct kvm_binary_stats *ks, struct engine_stats *st);
void kvm_binary_stats_close(struct kvm_binary_stats *ks);

#endif

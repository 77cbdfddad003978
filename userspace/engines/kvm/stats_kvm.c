/*
 * KVM's own per-vCPU counters through its binary statistics interface
 * (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD): a header, descriptors
 * naming each counter and its offset, then a data block re-read with one
 * pread per publish. Only single-value counters are shown; the ones that
 * explain exits come first.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "engines/kvm/stats_kvm.h"

const char *kvm_exit_reason_name(uint32_t raw)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN", [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO", [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG", [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR", [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS", [KVM_EXIT_NMI] = "KVM_EXIT_NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
		[KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
		[KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR", [KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
		[KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK", [KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
	};
	return raw < sizeof(names) / sizeof(names[0]) ? names[raw] : NULL;
}

/* Shown first, in this order; the rest of the scalars fill what is left. */
static const char *const preferred[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_window_exits", "signal_exits",
	"irq_exits", "request_irq_exits", "insn_emulation", "insn_emulation_fail",
	"irq_injections", "pf_taken", "pf_fixed", "pf_emulate", "pf_guest", "tlb_flush",
	"invlpg", "hypercalls", "host_state_reload", "fpu_reload", "halt_wakeup",
};

static int rank(const char *name)
{
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (!strcmp(name, preferred[i]))
			return (int)i;
	return (int)(sizeof(preferred) / sizeof(preferred[0]));
}

void kvm_binary_stats_open(struct kvm_binary_stats *ks, int vcpu_fd)
{
	struct kvm_stats_header h;
	char *descs = NULL;

	memset(ks, 0, sizeof(*ks));
	ks->fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (ks->fd < 0)
		return;
	if (pread(ks->fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 ||
	    h.name_size > 256)
		goto none;
	size_t dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	if (!descs || pread(ks->fd, descs, dsize * h.num_desc, h.desc_offset) !=
		      (ssize_t)(dsize * h.num_desc))
		goto none;
	ks->data_offset = h.data_offset;
	/* Selection by rank: at most KVM_STATS_PICKED scalar counters. */
	for (int want = 0; want <= rank("") && ks->nr < KVM_STATS_PICKED; want++)
		for (uint32_t i = 0; i < h.num_desc && ks->nr < KVM_STATS_PICKED; i++) {
			struct kvm_stats_desc *d = (void *)(descs + i * dsize);
			uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
			d->name[h.name_size - 1] = 0;
			if (d->size != 1 || rank(d->name) != want ||
			    (type != KVM_STATS_TYPE_CUMULATIVE && type != KVM_STATS_TYPE_INSTANT &&
			     type != KVM_STATS_TYPE_PEAK))
				continue;
			snprintf(ks->pick[ks->nr].name, sizeof(ks->pick[0].name), "kvm.%s", d->name);
			ks->pick[ks->nr++].offset = d->offset;
		}
	free(descs);
	return;
none:
	free(descs);
	close(ks->fd);
	ks->fd = -1;
	ks->nr = 0;
}

void kvm_binary_stats_read(struct kvm_binary_stats *ks, struct engine_stats *st)
{
	for (unsigned i = 0; ks->fd >= 0 && i < ks->nr && st->nr_counters < sizeof(st->counter) / sizeof(st->counter[0]); i++) {
		uint64_t v;
		if (pread(ks->fd, &v, sizeof(v), ks->data_offset + ks->pick[i].offset) != sizeof(v))
			return;
		st->counter[st->nr_counters].name = ks->pick[i].name;
		st->counter[st->nr_counters++].value = v;
	}
}

void kvm_binary_stats_close(struct kvm_binary_stats *ks)
{
	if (ks->fd >= 0)
		close(ks->fd);
	ks->fd = -1;
}

/*
 * The kvm engine: the host's /dev/kvm. On a host with VT-x or AMD-V this is
 * hardware assist; on the development machines it is kvm_pvm, a software
 * KVM whose limits probe() reports so that runners skip what it cannot run.
 * No in-kernel irqchip: the VMM's own PIC decides, and we inject with
 * KVM_INTERRUPT when KVM says the guest can take it.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpu/cpu_msr.h"
#include "engines/engine.h"
#include "engines/kvm/kvm_debug.h"
#include "engines/kvm/kvm_msr.h"
#include "engines/kvm/kvm_probe.h"
#include "engines/kvm/kvm_state.h"
#include "engines/kvm/stats_kvm.h"

/* kvm_device() and kvm_probe() are in kvm_probe.c. */

struct engine_vm {
	int kvm_fd, vm_fd;
	int nr_slots;
};

struct engine_vcpu {
	struct engine_vm *vm;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	bool io_pending;	/* an exit's IN data lives in the run page */
	int index;
	uint64_t apic_base;	/* the CPU model's IA32_APIC_BASE (set_cpuid) */
	struct kvm_user_msrs umsr;	/* the MSRs answered in user space (kvm_msr.c) */
	struct engine_stats stats;
	struct kvm_binary_stats kstats;
	struct kvm_debug_slots debug;	/* kvm_debug.c */
};

static int kvm_err(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "kvm: %s: %s", what, strerror(errno));
	return -1;
}

static int kvm_vm_create(struct engine_vm **out, char *err, size_t errlen)
{
	struct engine_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return kvm_err(err, errlen, "allocating VM");
	vm->kvm_fd = open(kvm_device(), O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		kvm_err(err, errlen, "opening the KVM device");
		free(vm);
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		kvm_err(err, errlen, "KVM_CREATE_VM");
		close(vm->kvm_fd);
		free(vm);
		return -1;
	}
	/* Intel needs a TSS area for real mode (three pages below 4 GiB that
	 * the guest never uses); elsewhere it is harmless or refused. */
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000);
	*out = vm;
	return 0;
}

static int kvm_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
		       int memfd, off_t offset, unsigned flags, char *err, size_t errlen)
{
	struct kvm_userspace_memory_region region = {
		.slot = vm->nr_slots,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	/* A read-only slot (ROM): guest writes to it come back as
	 * KVM_EXIT_MMIO writes, which the VMM drops (KVM API,
	 * KVM_SET_USER_MEMORY_REGION, KVM_MEM_READONLY). */
	if (flags & ENGINE_MAP_READONLY) {
		if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
			snprintf(err, errlen, "kvm: this KVM cannot map ROM read-only "
				 "(no KVM_CAP_READONLY_MEM)");
			return -1;
		}
		region.flags |= KVM_MEM_READONLY;
	}
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kvm_err(err, errlen, "KVM_SET_USER_MEMORY_REGION");
	vm->nr_slots++;
	return 0;
}

/* Whether the guest reads the host's CPUID leaf 7 instead of the model's:
 * kvm_pvm shows leaves 1 (ECX/EDX), 7 and 0xd of the host to a model of
 * the host's vendor, whatever KVM_SET_CPUID2 said (measured by
 * tests/cpu/same-cpuid.sh; other vendors' models are applied as given). */
static bool leaf7_is_hosts(const struct hyvm_cpuid_table *t)
{
	const struct hyvm_cpuid_entry *e = hyvm_cpuid_find(t, 0, 0);
	unsigned int eax, ebx, ecx, edx;

	if (!kvm_is_pvm() || !e)
		return false;
	__cpuid(0, eax, ebx, ecx, edx);
	(void)eax;
	return e->ebx == ebx && e->ecx == ecx && e->edx == edx;
}

/* The VM's CPU model, as KVM_SET_CPUID2 takes it. KVM keeps some bits its
 * own (the OSXSAVE/OSPKE mirrors of CR4, the APIC ID in leaf 1 follows the
 * table); the model lists only features every engine honours, so there is
 * nothing for KVM to add. The MSRs KVM would answer otherwise than the
 * model go to user space (kvm_msr_filter). */
static int kvm_set_cpuid(struct engine_vcpu *vcpu, const struct hyvm_cpuid_table *t,
			 char *err, size_t errlen)
{
	struct kvm_cpuid2 *cpuid;
	int r;

	if (hyvm_cpuid_table_check(t) < 0) {
		snprintf(err, errlen, "kvm: invalid CPUID table");
		return -1;
	}
	cpuid = calloc(1, sizeof(*cpuid) + t->nent * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return kvm_err(err, errlen, "allocating the CPUID table");
	cpuid->nent = t->nent;
	for (__u32 i = 0; i < t->nent; i++) {
		const struct hyvm_cpuid_entry *e = &t->entries[i];
		cpuid->entries[i] = (struct kvm_cpuid_entry2){
			.function = e->function, .index = e->index,
			.flags = (e->flags & HYVM_CPUID_INDEXED) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
		};
	}
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	vcpu->apic_base = hyvm_cpuid_apic_base(t, vcpu->index == 0);
	if (r < 0)
		return kvm_err(err, errlen, "KVM_SET_CPUID2");
	cpu_msrs_init(&vcpu->umsr.file, t, vcpu->index == 0);
	return kvm_msr_filter(vcpu->vm->vm_fd, &vcpu->umsr.file, leaf7_is_hosts(t), err, errlen);
}

static int kvm_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **out,
			   char *err, size_t errlen)
{
	struct engine_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	int size;

	if (!vcpu)
		return kvm_err(err, errlen, "allocating vCPU");
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		goto fail;
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		goto fail_fd;
	vcpu->run_size = size;
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		goto fail_fd;
	kvm_binary_stats_open(&vcpu->kstats, vcpu->fd);
	/* KVM copies RIP and the control registers into the run page on every
	 * exit (~0.1 us): the console's exit addresses and mode switches
	 * without a KVM_GET_REGS/SREGS (~2.5 us each on kvm_pvm). */
	int sync = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if (sync > 0)
		vcpu->run->kvm_valid_regs = sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
	*out = vcpu;
	return 0;
fail_fd:
	kvm_err(err, errlen, "mapping the vCPU run page");
	close(vcpu->fd);
	free(vcpu);
	return -1;
fail:
	kvm_err(err, errlen, "KVM_CREATE_VCPU");
	free(vcpu);
	return -1;
}

static void fill_error(struct vcpu_exit *exit, const char *fmt, unsigned long long a,
		       unsigned long long b)
{
	snprintf(exit->error.msg, sizeof(exit->error.msg), fmt, a, b);
	exit->error.last_vector = 0xff;
}

static int kvm_vcpu_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	int r;

	kvm_msr_complete(&vcpu->umsr, run);
	memset(exit, 0, sizeof(*exit));
	vcpu->stats.runs++;
	for (;;) {
		r = ioctl(vcpu->fd, KVM_RUN, 0);
		if (r < 0 || (run->exit_reason != KVM_EXIT_X86_RDMSR &&
			      run->exit_reason != KVM_EXIT_X86_WRMSR))
			break;
		if (kvm_msr_exit(&vcpu->umsr, vcpu->fd, run, exit))
			break;	/* a device's: the VMM answers it */
	}
	run->immediate_exit = 0;
	exit->irq_window_open = run->ready_for_interrupt_injection && run->if_flag;
	if (run->kvm_valid_regs & KVM_SYNC_X86_REGS)
		exit->rip = run->s.regs.regs.rip;
	/* The same copy carries CR0/CR4/EFER, so mode switches are seen at
	 * the exit after them without a KVM_GET_SREGS. */
	if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS) {
		exit->ctl_valid = true;
		exit->cr0 = run->s.regs.sregs.cr0;
		exit->cr4 = run->s.regs.sregs.cr4;
		exit->efer = run->s.regs.sregs.efer;
	}
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			exit->kind = EXIT_KICKED;
			exit->raw_reason = KVM_EXIT_INTR;
			vcpu->stats.exits[EXIT_KICKED]++;
			return 0;
		}
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "KVM_RUN: %s", strerror(errno));
		exit->error.last_vector = 0xff;
		return -1;
	}
	exit->raw_reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_X86_RDMSR: case KVM_EXIT_X86_WRMSR:
		break;		/* a device's MSR: kvm_msr_exit filled exit */
	case KVM_EXIT_IO:
		exit->kind = EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.write = run->io.direction == KVM_EXIT_IO_OUT;
		exit->io.count = run->io.count;
		exit->io.data = (uint8_t *)run + run->io.data_offset;
		if ((uint64_t)run->io.data_offset + (uint64_t)run->io.count * run->io.size >
		    vcpu->run_size) {
			exit->kind = EXIT_ERROR;
			fill_error(exit, "KVM I/O exit data out of the run page (count %llu)",
				   run->io.count, 0);
			return -1;
		}
		break;
	case KVM_EXIT_MMIO:
		exit->kind = EXIT_MMIO;
		exit->mmio.gpa = run->mmio.phys_addr;
		exit->mmio.size = run->mmio.len > 8 ? 8 : run->mmio.len;
		exit->mmio.write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;	/* KVM completes a read from here */
		break;
	case KVM_EXIT_HLT:
		exit->kind = EXIT_HLT;
		break;
	case KVM_EXIT_DEBUG:
		kvm_debug_exit(run, &vcpu->debug, exit);
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		exit->kind = EXIT_IRQ_WINDOW;
		break;
	case KVM_EXIT_INTR:
		exit->kind = EXIT_KICKED;
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->kind = EXIT_SHUTDOWN;
		fill_error(exit, "triple fault (KVM_EXIT_SHUTDOWN)", 0, 0);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->kind = EXIT_ERROR;
		fill_error(exit, "VM entry failed, hardware reason 0x%llx",
			   run->fail_entry.hardware_entry_failure_reason, 0);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->kind = EXIT_ERROR;
		exit->error.last_vector = 0xff;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "KVM internal error, suberror %u%s", run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				 ? " (instruction emulation failed)" : "");
		break;
	default:
		exit->kind = EXIT_ERROR;
		fill_error(exit, "unexpected KVM exit reason %llu", run->exit_reason, 0);
		break;
	}
	vcpu->stats.exits[exit->kind]++;
	return exit->kind == EXIT_ERROR ? -1 : 0;
}

static int kvm_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	struct kvm_msrs_buf msrs;

	memset(st, 0, sizeof(*st));
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	state_from_kvm_regs(st, &regs);
	state_from_kvm_sregs(st, &sregs);
	if (ioctl(vcpu->fd, KVM_GET_FPU, &fpu) == 0)
		state_from_kvm_fpu(st, &fpu);
	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &events) == 0)
		state_from_kvm_events(st, &events);
	kvm_msrs_from_state(&msrs, st);
	int n = ioctl(vcpu->fd, KVM_GET_MSRS, &msrs);
	if (n >= 0) {
		msrs.hdr.nmsrs = n;
		state_from_kvm_msrs(st, &msrs);
	}
	return 0;
}

/*
 * On AMD-V, TR goes to KVM as an available TSS (type 1 or 9), not busy as
 * hyvm_cpu_state has it (3 or 11): an AMD CPU keeps no busy bit in the
 * VMCB's TR (KVM's svm_get_segment adds it back: "busy flag isn't
 * exposed"), and a nested kvm_amd under QEMU TCG, where the emulated host
 * runs, makes QEMU abort ("invalid tss type") on an interrupt from CPL 3
 * if it is there. hyvm.ko's svm does the same (kmod/svm/svm_state.c).
 * Not on VT-x, whose VM entry requires the busy type, nor on kvm_pvm.
 */
static bool tr_without_busy_bit(void)
{
	static int amd = -1;

	if (amd < 0)
		amd = kvm_host_has_cpu_flag("svm") && !kvm_is_pvm();
	return amd;
}

static int kvm_set_state(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			 char *err, size_t errlen)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events events;
	struct kvm_msrs_buf msrs;

	kvm_sregs_from_state(&sregs, st);
	if (vcpu->apic_base)
		sregs.apic_base = vcpu->apic_base;
	if (tr_without_busy_bit() && (sregs.tr.type & 1))
		sregs.tr.type &= (uint8_t)~2;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_err(err, errlen, "KVM_SET_SREGS");
	kvm_regs_from_state(&regs, st);
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return kvm_err(err, errlen, "KVM_SET_REGS");
	kvm_fpu_from_state(&fpu, st);
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return kvm_err(err, errlen, "KVM_SET_FPU");
	kvm_events_from_state(&events, st);
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &events) < 0)
		return kvm_err(err, errlen, "KVM_SET_VCPU_EVENTS");
	kvm_msrs_from_state(&msrs, st);
	/* KVM_SET_MSRS returns how many it set; a host that lacks one of the
	 * long-mode MSRs sets fewer, which a 32-bit guest never notices. */
	if (ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) < 0)
		return kvm_err(err, errlen, "KVM_SET_MSRS");
	return 0;
}

static int kvm_inject_irq(struct engine_vcpu *vcpu, uint8_t vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return ioctl(vcpu->fd, KVM_INTERRUPT, &irq);
}

static void kvm_request_irq_window(struct engine_vcpu *vcpu, bool on)
{
	vcpu->run->request_interrupt_window = on;
}

/* Async-signal-safe: KVM checks immediate_exit on entry, and a signal that
 * lands during KVM_RUN makes it return EINTR. */
static void kvm_kick(struct engine_vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
}

static void kvm_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st)
{
	*st = vcpu->stats;
	st->counter[st->nr_counters].name = "kvm.user_msr_exits";
	st->counter[st->nr_counters++].value = vcpu->umsr.exits;
	kvm_binary_stats_read(&vcpu->kstats, st);
}

static void kvm_vcpu_destroy(struct engine_vcpu *vcpu)
{
	kvm_binary_stats_close(&vcpu->kstats);
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	free(vcpu);
}

static void kvm_vm_destroy(struct engine_vm *vm)
{
	close(vm->vm_fd);
	close(vm->kvm_fd);
	free(vm);
}

static int kvm_set_guest_debug(struct engine_vcpu *vcpu, const struct engine_debug *d,
			       char *err, size_t errlen)
{
	return kvm_debug_set(vcpu->fd, d, &vcpu->debug, err, errlen);
}

const struct engine_ops kvm_engine_ops = {
	.name = "kvm",
	.probe = kvm_probe,
	.vm_create = kvm_vm_create,
	.map_ram = kvm_map_ram,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_run = kvm_vcpu_run,
	.get_state = kvm_get_state,
	.set_state = kvm_set_state,
	.set_cpuid = kvm_set_cpuid,
	.inject_irq = kvm_inject_irq,
	.request_irq_window = kvm_request_irq_window,
	.kick = kvm_kick,
	.read_stats = kvm_read_stats,
	.raw_reason_name = kvm_exit_reason_name,
	.set_guest_debug = kvm_set_guest_debug,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vm_destroy = kvm_vm_destroy,
};
ENGINE_REGISTER(kvm_engine_ops, 30)

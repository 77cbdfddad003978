/*
 * The /dev/hyvm client that the svm and vmx engines share: opening the
 * device, capabilities, VM/vCPU creation, the shared run page, state, the
 * run loop and its exit translation, MMIO and string port I/O finished in
 * user space (mmio_emulate.c), and statistics. hyvm.ko speaks one ABI for
 * both vendors; what differs is said by a struct hyvm_vendor: how the
 * engine describes the CPU, what a failed exit means, and which raw exit
 * reasons are worth naming.
 */
#ifndef HYVM_ENGINE_HYVM_H
#define HYVM_ENGINE_HYVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hyvm/ioctl.h>
#include "engines/engine.h"
#include "emul/guest_walk.h"
#include "emul/mmio_emulate.h"

struct hyvm_vendor {
	const char *name;		/* "svm", "vmx": the prefix of messages */
	uint32_t cap_flag;		/* HYVM_CAP_SVM or HYVM_CAP_VMX */
	const char *no_cpu;		/* e.g. "this CPU has no AMD-V (SVM)" */
	/* Optional, after the device answered for this vendor: an absence
	 * the vendor adds (set caps->absent_why, return false). */
	bool (*usable)(const struct hyvm_capabilities *hc, struct engine_caps *caps);
	/* caps->description once the engine is present. */
	void (*describe)(const struct hyvm_capabilities *hc, struct engine_caps *caps);
	const char *real_mode_why;	/* without HYVM_MODE_REAL, e.g. "real mode
					 * needs VT-x unrestricted guest" */
	const char *busy_why;		/* HYVM_CREATE_VM said EBUSY */
	const char *shutdown_msg;	/* the triple fault, in the vendor's words */
	/* HYVM_EXIT_FAIL: exit->error.msg and last_vector from run->fail. */
	void (*fail_message)(struct vcpu_exit *exit, const struct hyvm_run *run);
	/* Appends the vendor's raw-reason counters after the common ones. */
	void (*counters)(const struct hyvm_run *run, struct engine_stats *st);
};

struct engine_vm {
	const struct hyvm_vendor *vendor;
	int dev_fd, vm_fd;
	struct hyvm_capabilities caps;	/* as the module said at vm_create */
	struct guest_mem mem;		/* for the instruction emulator */
};

struct engine_vcpu {
	int fd;
	struct hyvm_run *run;
	struct engine_vm *vm;
	struct engine_stats stats;
	/* An MMIO or INS/OUTS instruction being finished in user space; the
	 * guest runs again when it is done. */
	bool emulating;
	uint64_t emulated;		/* instructions, for the console */
	struct emul emul;
	/* a HYVM_EXIT_MSR out to the VMM (EXIT_MSR), its answer written to
	 * the run page before the next HYVM_RUN */
	bool msr_pending;
	struct engine_msr msr_access;
	struct hyvm_guest_debug debug;	/* as last set (hyvm_debug.c) */
};

void hyvm_engine_probe(const struct hyvm_vendor *v, struct engine_caps *caps);
int hyvm_engine_vm_create(const struct hyvm_vendor *v, struct engine_vm **vm,
			  char *err, size_t errlen);

int hyvm_engine_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
			int memfd, off_t offset, unsigned flags, char *err, size_t errlen);
int hyvm_engine_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **vcpu,
			    char *err, size_t errlen);
int hyvm_engine_vcpu_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit);
int hyvm_engine_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st);
int hyvm_engine_set_state(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			  char *err, size_t errlen);
int hyvm_engine_set_cpuid(struct engine_vcpu *vcpu, const struct hyvm_cpuid_table *t,
			  char *err, size_t errlen);
int hyvm_engine_inject_irq(struct engine_vcpu *vcpu, uint8_t vector);
void hyvm_engine_request_irq_window(struct engine_vcpu *vcpu, bool on);
void hyvm_engine_kick(struct engine_vcpu *vcpu);
void hyvm_engine_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st);
void hyvm_engine_vcpu_destroy(struct engine_vcpu *vcpu);
void hyvm_engine_vm_destroy(struct engine_vm *vm);
/* hyvm_debug.c */
int hyvm_engine_set_guest_debug(struct engine_vcpu *vcpu, const struct engine_debug *d,
				char *err, size_t errlen);
void hyvm_engine_debug_exit(struct engine_vcpu *vcpu, struct vcpu_exit *exit);
bool hyvm_engine_step_after_emulation(struct engine_vcpu *vcpu, struct vcpu_exit *exit,
				      uint64_t rip);

/* The engine_ops members that are the same for every vendor. */
#define HYVM_ENGINE_COMMON_OPS						\
	.map_ram = hyvm_engine_map_ram,					\
	.vcpu_create = hyvm_engine_vcpu_create,				\
	.vcpu_run = hyvm_engine_vcpu_run,				\
	.get_state = hyvm_engine_get_state,				\
	.set_state = hyvm_engine_set_state,				\
	.set_cpuid = hyvm_engine_set_cpuid,				\
	.inject_irq = hyvm_engine_inject_irq,				\
	.request_irq_window = hyvm_engine_request_irq_window,		\
	.kick = hyvm_engine_kick,					\
	.read_stats = hyvm_engine_read_stats,				\
	.vcpu_destroy = hyvm_engine_vcpu_destroy,			\
	.vm_destroy = hyvm_engine_vm_destroy,				\
	.set_guest_debug = hyvm_engine_set_guest_debug

#endif

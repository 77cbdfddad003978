/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm.ko internals: the VM and vCPU objects behind the file descriptors,
 * and the table of operations a vendor backend (svm/, vmx/) fills.
 */
#ifndef HYVM_KMOD_H
#define HYVM_KMOD_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <hyvm/ioctl.h>
#include "hyvm_msr.h"

struct hyvm_vcpu;

/* An IN still owed to the guest: filled from run->io_data on next run. */
struct hyvm_pending_in {
	bool active;
	u8 size;
};

/* A RDMSR/WRMSR handed to user space (HYVM_EXIT_MSR), owed until the
 * next run. */
struct hyvm_pending_msr {
	bool active;
	bool write;
};

/* One guest RAM slot: user pages pinned for the VM's lifetime. */
struct hyvm_slot {
	u64 gpa;
	u64 size;
	unsigned long nr_pages;
	struct page **pages;
	bool readonly;			/* HYVM_MEM_READONLY: no write in the NPT/EPT */
};

struct hyvm_vm {
	struct kref ref;		/* the VM fd and each vCPU fd */
	struct mutex lock;		/* slots, vCPUs, backend memory state */
	struct hyvm_slot slot[HYVM_MAX_RAM_SLOTS];
	unsigned int nr_slots;
	struct hyvm_vcpu *vcpu[HYVM_MAX_VCPUS];
	void *backend;			/* e.g. the NPT root */
};

struct hyvm_vcpu {
	struct hyvm_vm *vm;
	unsigned int index;
	struct mutex lock;		/* one ioctl at a time on this vCPU */
	struct hyvm_run *run;		/* the shared page */
	bool irq_window_wanted;
	struct hyvm_cpuid_table *cpuid;	/* HYVM_SET_CPUID's, NULL: filtered host */
	struct hyvm_msrs msrs;		/* MSRs outside the VMCB/VMCS (hyvm_msr.c) */
	struct hyvm_guest_debug debug;	/* HYVM_SET_GUEST_DEBUG's (hyvm_debug.c) */
	bool step_owed;			/* a step done before returning to user space */
	void *backend;			/* e.g. the VMCB */
};

/* Guest registers the VMCB or VMCS holds (or the backend keeps beside
 * it), for the code both backends share (hyvm_msr.c, hyvm_cpuid.c). */
enum hyvm_reg {
	HYVM_REG_CR0,			/* read only: as the guest sees it */
	HYVM_REG_CR4,			/* read only */
	HYVM_REG_EFER,			/* writes keep LMA as it is */
	HYVM_REG_STAR,
	HYVM_REG_LSTAR,
	HYVM_REG_CSTAR,
	HYVM_REG_SFMASK,
	HYVM_REG_KERNEL_GS_BASE,
	HYVM_REG_FS_BASE,
	HYVM_REG_GS_BASE,
	HYVM_REG_SYSENTER_CS,
	HYVM_REG_SYSENTER_ESP,
	HYVM_REG_SYSENTER_EIP,
	HYVM_REG_PAT,
	HYVM_REG_TSC_OFFSET,		/* guest TSC = host TSC + offset */
};

/* A vendor backend. Calls on one vCPU are serialized by vcpu->lock. */
struct hyvm_backend {
	const char *name;
	int (*vm_init)(struct hyvm_vm *vm);
	void (*vm_free)(struct hyvm_vm *vm);
	int (*vcpu_init)(struct hyvm_vcpu *vcpu);
	void (*vcpu_free)(struct hyvm_vcpu *vcpu);
	int (*run)(struct hyvm_vcpu *vcpu);
	void (*get_state)(struct hyvm_vcpu *vcpu, struct hyvm_cpu_state *st);
	int (*set_state)(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st);
	int (*inject_irq)(struct hyvm_vcpu *vcpu, u8 vector);
	/* Only while handling an exit (VMX: the VMCS is current). set_reg
	 * gets values hyvm_msr.c has checked; nonzero: #GP. */
	u64 (*get_reg)(struct hyvm_vcpu *vcpu, enum hyvm_reg reg);
	int (*set_reg)(struct hyvm_vcpu *vcpu, enum hyvm_reg reg, u64 val);
	/* A debug setting hyvm_debug.c has checked, for the next entry;
	 * nonzero: refused (e.g. -EOPNOTSUPP: no way to single-step). */
	int (*set_guest_debug)(struct hyvm_vcpu *vcpu, const struct hyvm_guest_debug *d);
	void (*exit)(void);		/* module unload */
};

/* hyvm_caps.c */
void hyvm_detect_caps(struct hyvm_capabilities *caps);

/* hyvm_vm.c */
long hyvm_create_vm(void);
struct page *hyvm_gpa_to_page(struct hyvm_vm *vm, u64 gpa, bool *readonly);
bool hyvm_gpa_is_rom(struct hyvm_vm *vm, u64 gpa);
void hyvm_vm_put(struct hyvm_vm *vm);

/* hyvm_vcpu.c */
long hyvm_create_vcpu(struct hyvm_vm *vm, unsigned long index);

/* hyvm_cpuid.c: the guest's CPUID (table or filtered host, per-vCPU bits) */
void hyvm_guest_cpuid(struct hyvm_vcpu *vcpu, u32 leaf, u32 sub, u32 r[4]);
bool hyvm_guest_has(struct hyvm_vcpu *vcpu, u32 leaf, unsigned int reg, unsigned int bit);
bool hyvm_guest_is_amd(struct hyvm_vcpu *vcpu);
bool hyvm_guest_is_intel(struct hyvm_vcpu *vcpu);
long hyvm_set_cpuid(struct hyvm_vcpu *vcpu, const void __user *uarg);

/* hyvm_exit.c: exit handling both backends share */
bool hyvm_io_exit(struct hyvm_vcpu *vcpu, struct hyvm_pending_in *owed, u16 port,
		  u8 size, bool in, bool string, bool rep, u64 rax);
void hyvm_complete_in(struct hyvm_vcpu *vcpu, struct hyvm_pending_in *owed, u64 *rax);
bool hyvm_msr_exit(struct hyvm_vcpu *vcpu, struct hyvm_pending_msr *owed, u32 msr,
		   bool write, u64 val);
bool hyvm_complete_msr(struct hyvm_vcpu *vcpu, struct hyvm_pending_msr *owed, bool *gp,
		       u64 *val, bool *write);

/* hyvm_debug.c: HYVM_SET_GUEST_DEBUG */
long hyvm_set_guest_debug(struct hyvm_vcpu *vcpu, const void __user *uarg);
bool hyvm_step_completed(struct hyvm_vcpu *vcpu, u64 rip_before, u64 rip_now);
bool hyvm_step_owed(struct hyvm_vcpu *vcpu, u64 rip_now);
int hyvm_step_after_exit(struct hyvm_vcpu *vcpu, int ret, u64 rip_at_exit, u64 rip_now);

/* hyvm_guest_walk.c: the guest's paging registers, and a write through
 * them (-EFAULT: not mapped, or not RAM) */
struct hyvm_paging {
	u64 cr0, cr3, cr4, efer;
};
int hyvm_guest_clear_byte_bits(struct hyvm_vm *vm, const struct hyvm_paging *pg, u64 la, u8 bits);
int hyvm_guest_read(struct hyvm_vm *vm, const struct hyvm_paging *pg, u64 la, void *buf,
		    unsigned int len);

/* hyvm_state.c: state checks both backends share */
bool hyvm_pat_valid(u64 pat);
bool hyvm_state_valid(struct hyvm_vcpu *vcpu, const struct hyvm_cpu_state *st);

/* The backend chosen at load time; NULL if the CPU cannot run guests. */
extern const struct hyvm_backend *hyvm_backend;

/* svm/ */
const struct hyvm_backend *hyvm_svm_init(const struct hyvm_capabilities *caps);
/* vmx/: refines the VMX capabilities it finds (VPID, unrestricted guest) */
const struct hyvm_backend *hyvm_vmx_init(struct hyvm_capabilities *caps);

static inline unsigned int hyvm_counter_index(u64 raw)
{
	if (raw < HYVM_COUNTER_NPF)
		return raw;
	return raw == 0x400 ? HYVM_COUNTER_NPF : HYVM_COUNTER_OTHER;
}

#endif

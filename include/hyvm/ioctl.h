/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The /dev/hyvm ioctl ABI. Versioned: user space checks HYVM_GET_API_VERSION
 * before anything else and refuses a module that speaks another version.
 *
 * Three kinds of file descriptor, as with KVM:
 *   /dev/hyvm      capabilities, HYVM_CREATE_VM
 *   VM fd          HYVM_MAP_RAM, HYVM_CREATE_VCPU
 *   vCPU fd        HYVM_RUN, state, interrupts, CPUID; mmap offset 0 gives the
 *                  struct hyvm_run page shared with the module
 */
#ifndef HYVM_IOCTL_H
#define HYVM_IOCTL_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include "cpu_state.h"
#include "cpuid_table.h"

#define HYVM_API_VERSION	6	/* 2: HYVM_SET_CPUID; 3: HYVM_MEM_READONLY;
					 * 4: HYVM_EXIT_MODE; 5: HYVM_EXIT_MSR;
					 * 6: HYVM_SET_GUEST_DEBUG */
#define HYVM_IOCTL_TYPE		0xB7

#define HYVM_CAP_VENDOR_INTEL	0x1
#define HYVM_CAP_VENDOR_AMD	0x2
#define HYVM_CAP_VMX		0x4
#define HYVM_CAP_SVM		0x8
#define HYVM_CAP_NESTED_PAGING	0x10	/* EPT or NPT */
#define HYVM_CAP_UNRESTRICTED	0x20	/* real mode runs in hardware */
#define HYVM_CAP_TAGGED_TLB	0x40	/* VPID or ASIDs */
#define HYVM_CAP_NRIPS		0x80	/* SVM next-RIP save */
#define HYVM_CAP_RUNNABLE	0x100	/* the module can run guests here */

struct hyvm_capabilities {
	__u32 api_version;
	__u32 flags;		/* HYVM_CAP_* */
	__u32 nr_asids;		/* ASIDs (SVM) or VPIDs (VMX) available */
	__u32 guest_modes;	/* HYVM_MODE_* the module can run */
	char  missing[96];	/* NUL-terminated: what the CPU lacks, for users */
};

/* Limits the module enforces (and user space may check first). */
#define HYVM_MAX_RAM_SLOTS	8
#define HYVM_MAX_GPA		(1ULL << 36)	/* guest-physical space: 64 GiB */
#define HYVM_MAX_VCPUS		16
#define HYVM_MAX_VMS		64

/* /dev/hyvm */
#define HYVM_GET_API_VERSION	_IO(HYVM_IOCTL_TYPE, 0x00)
#define HYVM_GET_CAPABILITIES	_IOR(HYVM_IOCTL_TYPE, 0x01, struct hyvm_capabilities)
#define HYVM_CREATE_VM		_IO(HYVM_IOCTL_TYPE, 0x02)	/* arg 0; returns VM fd */

/* VM fd. user_addr, gpa and size are page aligned; a slot may not overlap
 * another in guest-physical space; each slot may be mapped once.
 *
 * HYVM_MEM_READONLY (API 3): a ROM slot. The guest reads and executes it
 * at full speed; a guest write to it (or the CPU's own A/D update of a
 * guest page table in it) is not done but returns HYVM_EXIT_MMIO with
 * mmio.gpa and mmio.write = 1, as for memory outside every slot, so user
 * space finishes the instruction. The user mapping need only be readable
 * (the pages are pinned without FOLL_WRITE). Any other flag: EINVAL. */
#define HYVM_MEM_READONLY	0x1
#define HYVM_MEM_FLAGS		HYVM_MEM_READONLY	/* every flag known */
struct hyvm_ram_map {
	__u64 user_addr;
	__u64 gpa;
	__u64 size;
	__u32 flags;		/* HYVM_MEM_* */
	__u32 pad;		/* must be 0 */
};
#define HYVM_MAP_RAM		_IOW(HYVM_IOCTL_TYPE, 0x10, struct hyvm_ram_map)
#define HYVM_CREATE_VCPU	_IO(HYVM_IOCTL_TYPE, 0x11)	/* arg index; returns vCPU fd */

/* vCPU fd */
#define HYVM_RUN		_IO(HYVM_IOCTL_TYPE, 0x20)
#define HYVM_GET_STATE		_IOR(HYVM_IOCTL_TYPE, 0x21, struct hyvm_cpu_state)
#define HYVM_SET_STATE		_IOW(HYVM_IOCTL_TYPE, 0x22, struct hyvm_cpu_state)
#define HYVM_INJECT_IRQ		_IO(HYVM_IOCTL_TYPE, 0x23)	/* arg vector */
#define HYVM_SET_IRQ_WINDOW	_IO(HYVM_IOCTL_TYPE, 0x24)	/* arg 0 or 1 */
/* What the guest's CPUID answers from now on (cpuid_table.h lookup, plus
 * the initial APIC ID = vCPU index and OSXSAVE = CR4.OSXSAVE as a CPU
 * computes them). EINVAL unless hyvm_cpuid_table_check() passes. Until
 * set: the host's CPUID filtered to what hyvm.ko virtualizes. It also
 * decides which MSRs exist (vendor, feature bits). */
#define HYVM_SET_CPUID		_IOW(HYVM_IOCTL_TYPE, 0x25, struct hyvm_cpuid_table)

/*
 * (API 6) A debugger's control of the vCPU, until set again; all zero:
 * off. HYVM_DEBUG_SINGLESTEP: HYVM_RUN returns HYVM_EXIT_DEBUG (debug.dr6
 * bit 14, BS) after each guest instruction or event delivery; interrupts
 * are held off meanwhile (irq_window_open is 0). VMX uses the monitor
 * trap flag where the CPU has it; elsewhere, and on SVM, RFLAGS.TF, which
 * the guest does not see (PUSHF, HYVM_GET_STATE).
 * HYVM_DEBUG_HW_BP: dr[0-3] and dr7 (SDM Vol. 3B 18.2.4: L/G enables,
 * R/W 00 execute with LEN 00, 01 write, 11 read/write; LEN 1, 2, 4 or 8
 * bytes, an address aligned to it; canonical addresses) replace the
 * guest's debug registers in hardware while set; a hit returns
 * HYVM_EXIT_DEBUG with its B0-B3 bit in debug.dr6, before an execute
 * breakpoint's instruction (the next HYVM_RUN runs it: RF) or after a
 * data access. Not supported: I/O breakpoints (R/W 10), DR7.GD; on svm
 * the guest's own breakpoints while HW_BP is set (the guest's reads of
 * DR0-3 see the debugger's). Anything else, an unknown flag, or a nonzero
 * pad or dr/dr7 without HW_BP: EINVAL. EOPNOTSUPP: HW_BP on VT-x
 * without the "load debug controls" entry control.
 */
#define HYVM_DEBUG_SINGLESTEP	0x1
#define HYVM_DEBUG_HW_BP	0x2
#define HYVM_DEBUG_FLAGS	(HYVM_DEBUG_SINGLESTEP | HYVM_DEBUG_HW_BP)
struct hyvm_guest_debug {
	__u32 flags;		/* HYVM_DEBUG_* */
	__u32 pad;		/* must be 0 */
	__u64 dr[4];
	__u64 dr7;
};
#define HYVM_SET_GUEST_DEBUG	_IOW(HYVM_IOCTL_TYPE, 0x26, struct hyvm_guest_debug)

/* Why HYVM_RUN returned (struct hyvm_run.exit_kind). */
#define HYVM_EXIT_NONE		0
#define HYVM_EXIT_IO		1	/* port access: io */
#define HYVM_EXIT_MMIO		2	/* access outside guest RAM, or a write
					 * to a HYVM_MEM_READONLY slot: mmio */
#define HYVM_EXIT_HLT		3
#define HYVM_EXIT_IRQ_WINDOW	4	/* the guest can take an interrupt now */
#define HYVM_EXIT_INTR		5	/* signal pending or immediate_exit */
#define HYVM_EXIT_SHUTDOWN	6	/* triple fault */
#define HYVM_EXIT_FAIL		7	/* entry failed or unhandled exit: fail */
/* The guest entered a mode this CPU cannot run (VT-x without unrestricted
 * guest: CR0.PE cleared, or a state VM entry refuses, SDM 26.3.1). The
 * state (HYVM_GET_STATE) is complete and consistent: a MOV CR0 that did it
 * is performed, RIP past it. HYVM_RUN returns this again, without
 * entering, until HYVM_SET_STATE gives a state the CPU can run. */
#define HYVM_EXIT_MODE		8
/* (API 5) A guest RDMSR/WRMSR of an MSR that belongs to user space's
 * devices: IA32_TSC_DEADLINE (0x6e0, the local APIC's, SDM Vol. 3A
 * 11.5.4.1), when the vCPU's CPUID lists TSC-deadline (leaf 1 ECX[24])
 * (both backends hand it over). msr.data holds a
 * WRMSR's value; for a RDMSR user space writes the value there. User
 * space sets msr.error to refuse the access (#GP(0)). The next HYVM_RUN
 * completes the instruction; until then RIP is at it, and irq_window_open
 * is 0 (an event injected now would be lost to the #GP). */
#define HYVM_EXIT_MSR		9
/* (API 6) A stop HYVM_SET_GUEST_DEBUG asked for: debug.dr6 says which
 * (BS: a step; B0-B3: that slot's breakpoint); rip is where the guest
 * stands. A #DB that is the guest's own (its TF, its breakpoints) is
 * delivered to the guest, not reported. */
#define HYVM_EXIT_DEBUG		10

/* fail.flags: HYVM_FAIL_HOST_STATE: after #VMEXIT the VMCB held the
 * host's own state, not the guest's (the SVM below hyvm.ko misbehaved:
 * kmod/svm/svm_exit.c); the guest's state is lost. */
#define HYVM_FAIL_HOST_STATE	0x1

/* io.flags: a string instruction (INS/OUTS) that user space emulates
 * from the instruction at rip (not yet advanced); io_data is unused. */
#define HYVM_IO_STRING		0x1
#define HYVM_IO_REP		0x2

/* Per-raw-reason exit counters: index = raw exit code when it is below
 * HYVM_COUNTER_NPF; SVM's nested page fault (0x400) counts in
 * HYVM_COUNTER_NPF, anything else larger in HYVM_COUNTER_OTHER. */
#define HYVM_NR_COUNTERS	256
#define HYVM_COUNTER_NPF	254
#define HYVM_COUNTER_OTHER	255
#define HYVM_IO_DATA_MAX	1024

/*
 * The page shared by a vCPU fd (mmap offset 0, HYVM_RUN_SIZE bytes).
 * An IN or a string IN is completed on the next HYVM_RUN from io_data,
 * which user space fills (KVM's model).
 */
struct hyvm_run {
	/* in */
	__u8 immediate_exit;		/* HYVM_RUN returns HYVM_EXIT_INTR at once */
	__u8 pad0[7];
	/* out */
	__u32 exit_kind;		/* HYVM_EXIT_* */
	__u32 raw_reason;		/* SVM exit code or VMX basic exit reason */
	__u64 rip;			/* guest RIP at the exit (before any skip) */
	__u8 irq_window_open;		/* HYVM_INJECT_IRQ would be taken now */
	__u8 ctl_valid;			/* cr0/cr4/efer below are this exit's */
	__u8 pad1[6];
	union {
		struct {
			__u16 port;
			__u8 size;		/* 1, 2 or 4 */
			__u8 write;
			__u32 count;		/* elements in io_data; 0 with HYVM_IO_STRING */
			__u32 flags;		/* HYVM_IO_* */
		} io;
		struct {
			__u64 gpa;
			__u8 write;
			__u8 insn_len;		/* bytes valid in insn[], 0 if unknown */
			__u8 pad[6];
			__u8 insn[16];		/* the faulting instruction, fetched */
		} mmio;
		struct {
			__u32 index;		/* ECX */
			__u8 write;		/* WRMSR */
			__u8 error;		/* in: raise #GP(0) instead */
			__u8 pad[2];
			__u64 data;		/* WRMSR's value; in: RDMSR's */
			__u64 tsc;		/* the guest's TSC at the exit */
		} msr;
		struct {
			__u64 dr6;		/* B0-B3 (bits 0-3), BS (bit 14) */
		} debug;
		struct {
			__u64 hw_reason;	/* raw exit code */
			__u64 info1, info2;	/* EXITINFO1/2 or qualification */
			__u32 exit_int_info;	/* event being delivered, raw */
			__u32 flags;		/* HYVM_FAIL_* */
		} fail;
		__u8 raw[64];
	};
	__u64 runs;			/* HYVM_RUN calls */
	__u64 entries;			/* hardware VM entries */
	__u64 handled_in_kernel;	/* exits that never reached user space */
	__u64 cr0, cr4, efer;		/* at the exit, when ctl_valid */
	__u8 pad2[256 - 144];
	__u64 exit_count[HYVM_NR_COUNTERS];	/* offset 256 */
	__u8 pad3[4096 - 256 - 8 * HYVM_NR_COUNTERS - HYVM_IO_DATA_MAX];
	__u8 io_data[HYVM_IO_DATA_MAX];	/* offset 3072 */
};
#define HYVM_RUN_SIZE		4096

#endif

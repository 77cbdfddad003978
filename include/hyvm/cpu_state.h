/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one CPU-state struct that every engine, checkpoint and test speaks.
 * Shared by hyvm.ko and user space, so it uses only fixed-width kernel types
 * and has explicit padding: its layout is part of the ioctl ABI.
 */
#ifndef HYVM_CPU_STATE_H
#define HYVM_CPU_STATE_H

#include <linux/types.h>

/* GPR indices follow the x86 register encoding, so a decoder's register
 * number indexes gpr[] directly. */
enum hyvm_gpr {
	HYVM_RAX, HYVM_RCX, HYVM_RDX, HYVM_RBX,
	HYVM_RSP, HYVM_RBP, HYVM_RSI, HYVM_RDI,
	HYVM_R8, HYVM_R9, HYVM_R10, HYVM_R11,
	HYVM_R12, HYVM_R13, HYVM_R14, HYVM_R15,
	HYVM_NR_GPRS
};

/* Segment register indices follow the sreg encoding (ES=0 .. GS=5). */
enum hyvm_seg {
	HYVM_ES, HYVM_CS, HYVM_SS, HYVM_DS, HYVM_FS, HYVM_GS,
	HYVM_LDTR, HYVM_TR,
	HYVM_NR_SEGS
};

/*
 * Hidden descriptor attributes in the packed layout of descriptor bits
 * 40..47 and 52..55 (the layout AMD's VMCB uses), plus an "unusable" bit
 * (VMX's notion: a null selector loaded into a data segment).
 */
#define HYVM_SEG_TYPE_MASK	0x000f
#define HYVM_SEG_S		0x0010	/* code/data (not system) */
#define HYVM_SEG_DPL_SHIFT	5
#define HYVM_SEG_DPL_MASK	0x0060
#define HYVM_SEG_P		0x0080
#define HYVM_SEG_AVL		0x0100
#define HYVM_SEG_L		0x0200	/* 64-bit code segment */
#define HYVM_SEG_DB		0x0400	/* default operand size 32 */
#define HYVM_SEG_G		0x0800	/* limit in 4K units (already applied to limit) */
#define HYVM_SEG_UNUSABLE	0x10000

struct hyvm_segment {
	__u64 base;
	__u32 limit;		/* byte granular, G already applied */
	__u32 attrib;		/* HYVM_SEG_* */
	__u16 selector;
	__u16 pad[3];
};

struct hyvm_dtable {
	__u64 base;
	__u32 limit;
	__u32 pad;
};

/* An event that was being delivered when the vCPU stopped, or that the VMM
 * wants delivered on the next entry. */
#define HYVM_EVENT_NONE		0
#define HYVM_EVENT_EXTINT	1
#define HYVM_EVENT_NMI		2
#define HYVM_EVENT_EXCEPTION	3
#define HYVM_EVENT_SOFTINT	4

struct hyvm_pending_event {
	__u8 type;		/* HYVM_EVENT_* */
	__u8 vector;
	__u8 has_error_code;
	__u8 pad;
	__u32 error_code;
};

#define HYVM_INTR_SHADOW_STI	0x1	/* blocking by STI */
#define HYVM_INTR_SHADOW_MOVSS	0x2	/* blocking by MOV SS / POP SS */
#define HYVM_NMI_BLOCKED	0x4

struct hyvm_cpu_state {
	__u64 gpr[HYVM_NR_GPRS];
	__u64 rip;
	__u64 rflags;

	struct hyvm_segment seg[HYVM_NR_SEGS];
	struct hyvm_dtable gdtr;
	struct hyvm_dtable idtr;

	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 dr6, dr7;

	__u64 sysenter_cs, sysenter_esp, sysenter_eip;
	__u64 star, lstar, cstar, sfmask, kernel_gs_base;
	__u64 pat;
	__u64 tsc;

	struct hyvm_pending_event event;
	__u32 interruptibility;	/* HYVM_INTR_SHADOW_*, HYVM_NMI_BLOCKED */
	__u32 halted;		/* vCPU is in HLT waiting for an interrupt */

	/* x87/SSE state in FXSAVE layout (Intel SDM Vol. 1, 10.5.1). */
	__u8 fxsave[512] __attribute__((aligned(16)));
};

/* Guest CPU modes, as reported by engines' capabilities and guest needs. */
#define HYVM_MODE_REAL		0x01
#define HYVM_MODE_PROT		0x02	/* protected mode, no paging */
#define HYVM_MODE_PAGED		0x04	/* 2-level 32-bit paging */
#define HYVM_MODE_PAE		0x08
#define HYVM_MODE_LONG		0x10
#define HYVM_MODE_V86		0x20

static inline unsigned int hyvm_seg_dpl(const struct hyvm_segment *s)
{
	return (s->attrib & HYVM_SEG_DPL_MASK) >> HYVM_SEG_DPL_SHIFT;
}

#endif

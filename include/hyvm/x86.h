/*
 * x86 architectural constants: one copy for user space, bt and the test
 * guests (32-bit freestanding code: plain #defines, no includes, no
 * types). Values from the Intel SDM (Vol. 3A unless noted); the AMD APM
 * Vol. 2 agrees on every one used here.
 *
 * Names carry no X86_ prefix; they are unlike Linux's asm/ header names
 * (X86_CR0_PE, _PAGE_PRESENT, ...) except MSR_EFER and the MSR_IA32_*
 * indices, which have the same values there.
 */
#ifndef HYVM_X86_H
#define HYVM_X86_H

/* --- EFLAGS (2.3) --- */
#define EFLAGS_CF	0x00000001u
#define EFLAGS_FIXED1	0x00000002u	/* bit 1 always reads as 1 */
#define EFLAGS_PF	0x00000004u
#define EFLAGS_AF	0x00000010u
#define EFLAGS_ZF	0x00000040u
#define EFLAGS_SF	0x00000080u
#define EFLAGS_TF	0x00000100u
#define EFLAGS_IF	0x00000200u
#define EFLAGS_DF	0x00000400u
#define EFLAGS_OF	0x00000800u
#define EFLAGS_IOPL	0x00003000u
#define EFLAGS_IOPL_SHIFT 12
#define EFLAGS_NT	0x00004000u
#define EFLAGS_RF	0x00010000u
#define EFLAGS_VM	0x00020000u
#define EFLAGS_AC	0x00040000u
#define EFLAGS_VIF	0x00080000u
#define EFLAGS_VIP	0x00100000u
#define EFLAGS_ID	0x00200000u
/* The six status flags arithmetic instructions write. */
#define EFLAGS_ARITH	(EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* --- Control registers (2.5) --- */
#define CR0_PE		0x00000001u	/* protection enable */
#define CR0_MP		0x00000002u
#define CR0_EM		0x00000004u
#define CR0_TS		0x00000008u
#define CR0_ET		0x00000010u
#define CR0_NE		0x00000020u
#define CR0_WP		0x00010000u	/* supervisor writes honour R/W */
#define CR0_AM		0x00040000u
#define CR0_NW		0x20000000u
#define CR0_CD		0x40000000u
#define CR0_PG		0x80000000u

#define CR4_VME		0x00000001u
#define CR4_PVI		0x00000002u
#define CR4_TSD		0x00000004u
#define CR4_DE		0x00000008u
#define CR4_PSE		0x00000010u	/* 4 MiB pages in 32-bit paging */
#define CR4_PAE		0x00000020u
#define CR4_MCE		0x00000040u
#define CR4_PGE		0x00000080u
#define CR4_PCE		0x00000100u
#define CR4_OSFXSR	0x00000200u
#define CR4_OSXMMEXCPT	0x00000400u
#define CR4_SMEP	0x00100000u
#define CR4_SMAP	0x00200000u

/* --- MSR indices (Vol. 4) and EFER bits (2.2.1) --- */
#define MSR_IA32_TSC		0x00000010u
#define MSR_IA32_PLATFORM_ID	0x00000017u
#define MSR_IA32_APIC_BASE	0x0000001bu
#define MSR_IA32_TSC_ADJUST	0x0000003bu	/* SDM Vol. 3B, 17.17.3 */
#define MSR_IA32_BIOS_SIGN_ID	0x0000008bu
#define MSR_P6_PERFCTR0		0x000000c1u
#define MSR_P6_EVNTSEL0		0x00000186u
#define MSR_IA32_MISC_ENABLE	0x000001a0u
#define MSR_IA32_SYSENTER_CS	0x00000174u
#define MSR_IA32_SYSENTER_ESP	0x00000175u
#define MSR_IA32_SYSENTER_EIP	0x00000176u
#define MSR_IA32_PAT		0x00000277u
#define MSR_IA32_TSC_DEADLINE	0x000006e0u	/* the local APIC's (SDM Vol. 3A, 11.5.4.1) */
#define MSR_EFER		0xc0000080u
#define MSR_STAR		0xc0000081u
#define MSR_LSTAR		0xc0000082u
#define MSR_CSTAR		0xc0000083u
#define MSR_SFMASK		0xc0000084u
#define MSR_FS_BASE		0xc0000100u
#define MSR_GS_BASE		0xc0000101u
#define MSR_KERNEL_GS_BASE	0xc0000102u
#define MSR_K7_EVNTSEL0		0xc0010000u	/* AMD PerfEvtSel0-3 (APM Vol. 2, 13.2) */
#define MSR_K7_PERFCTR0		0xc0010004u	/* AMD PerfCtr0-3 */
#define MSR_K7_HWCR		0xc0010015u	/* AMD hardware configuration (APM Vol. 2, A.2) */
#define MSR_AMD64_NB_CFG	0xc001001fu	/* AMD northbridge configuration (family 10h-17h BKDG/PPR) */

#define EFER_SCE	0x00000001u	/* SYSCALL/SYSRET */
#define EFER_LME	0x00000100u	/* long mode enable */
#define EFER_LMA	0x00000400u	/* long mode active (set by the CPU) */
#define EFER_NXE	0x00000800u	/* execute-disable bit in PAE/4-level entries */

/* --- Paging-structure entries (4.3, 4.4, 4.5) --- */
#define PTE_P		0x001u	/* present */
#define PTE_W		0x002u	/* read/write */
#define PTE_U		0x004u	/* user/supervisor */
#define PTE_PWT		0x008u
#define PTE_PCD		0x010u
#define PTE_A		0x020u	/* accessed */
#define PTE_D		0x040u	/* dirty (leaf entries only) */
#define PTE_PS		0x080u	/* page size: a large leaf in a PDE/PDPTE */
#define PTE_G		0x100u
#define PTE_NX		0x8000000000000000ull	/* execute-disable, PAE/4-level only */

/* #PF error code bits (4.7) */
#define PFERR_P		0x01u	/* 1: protection violation, 0: not present */
#define PFERR_W		0x02u	/* the access was a write */
#define PFERR_U		0x04u	/* the access was made at CPL 3 */
#define PFERR_RSVD	0x08u	/* a reserved bit was set in an entry */
#define PFERR_I		0x10u	/* the access was an instruction fetch */

/* --- Exception vectors (6.3.1, Table 6-1) --- */
#define VEC_DE		0	/* divide error */
#define VEC_DB		1	/* debug */
#define VEC_NMI		2
#define VEC_BP		3	/* INT3 */
#define VEC_OF		4	/* INTO */
#define VEC_BR		5	/* BOUND */
#define VEC_UD		6	/* invalid opcode */
#define VEC_NM		7	/* device not available */
#define VEC_DF		8	/* double fault */
#define VEC_TS		10	/* invalid TSS */
#define VEC_NP		11	/* segment not present */
#define VEC_SS		12	/* stack-segment fault */
#define VEC_GP		13	/* general protection */
#define VEC_PF		14	/* page fault */
#define VEC_MF		16	/* x87 floating-point error */
#define VEC_AC		17	/* alignment check */
#define VEC_MC		18
#define VEC_XM		19	/* SIMD floating-point */

/* --- Segment descriptors (3.4.5) --- */
/* Access byte (descriptor bits 40..47) */
#define DESC_TYPE_MASK	0x0fu	/* type field */
#define DESC_TYPE_ACCESSED 0x01u
#define DESC_TYPE_RW	0x02u	/* data: writable; code: readable */
#define DESC_TYPE_EC	0x04u	/* data: expand-down; code: conforming */
#define DESC_TYPE_CODE	0x08u
#define DESC_S		0x10u	/* 1: code/data, 0: system */
#define DESC_DPL_SHIFT	5
#define DESC_DPL_MASK	0x60u
#define DESC_P		0x80u	/* present */
/* Flags nibble (descriptor bits 52..55) */
#define DESC_FLAG_AVL	0x1u
#define DESC_FLAG_L	0x2u	/* 64-bit code */
#define DESC_FLAG_DB	0x4u	/* 32-bit default size / big stack */
#define DESC_FLAG_G	0x8u	/* limit in 4 KiB units */
/* System descriptor types (3.5, Table 3-2) */
#define DESC_SYS_TSS32_AVAIL	0x9u
#define DESC_SYS_TSS32_BUSY	0xbu
#define DESC_SYS_INT_GATE32	0xeu
#define DESC_SYS_TRAP_GATE32	0xfu

/* Selector fields (3.4.2) */
#define SEL_RPL_MASK	0x3u
#define SEL_TI		0x4u	/* 1: LDT */

/* --- The APICs as hyvm's PC has them (platform choices, not the SDM's:
 * QEMU's pc values, so the firmware tables and the APIC devices agree) --- */
#define LAPIC_VERSION	0x14u	/* integrated local APIC (SDM 10.4.8), QEMU's APIC_VERSION */
#define IOAPIC_VERSION	0x20u	/* 82093AA-compatible with an EOI register, QEMU's ioapic */
#define IOAPIC_PINS	24u	/* redirection entries */

#endif

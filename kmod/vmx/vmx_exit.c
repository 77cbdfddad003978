// SPDX-License-Identifier: GPL-2.0
/*
 * VM-exit handlers, indexed by basic exit reason (SDM Vol. 3D, Appendix
 * C). They run right after the exit with the VMCS current and preemption
 * disabled. A handler returns 1 to re-enter the guest, 0 to return to user
 * space with run->exit_kind set, or VMX_EXIT_EPT_MAP to have the run loop
 * map guest RAM (which may sleep) and re-enter.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/msr.h>
#include "vmx.h"

#define X86_VEC_UD	6
#define X86_VEC_GP	13

static inline struct vmx_vcpu *to_vmx(struct hyvm_vcpu *vcpu)
{
	return vcpu->backend;
}

/* SDM 27.2.5: the exit's instruction length; a skipped instruction ends
 * blocking by STI or MOV SS. */
static void skip_insn_len(u32 len)
{
	u32 intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

	vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) + len);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

static void skip_insn(void)
{
	skip_insn_len(vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}

/* Real mode pushes no error code (SDM 20.1.4), and VM entry refuses one
 * there (SDM 26.2.1.3, unrestricted guest with CR0.PE = 0). */
void vmx_inject_exception(u8 vector, bool has_err, u32 err)
{
	if (!(vmcs_read(GUEST_CR0) & X86_CR0_PE))
		has_err = false;
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION |
		   vector | (has_err ? INTR_INFO_DELIVER_CODE_MASK : 0));
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
}

static int inject_gp(void)
{
	vmx_inject_exception(X86_VEC_GP, true, 0);
	return 1;
}

static int handle_gp(struct hyvm_vcpu *vcpu)
{
	return inject_gp();	/* RDPMC: no performance counters offered */
}

/* SDM 6.8.1 and 24.4.2: IF set, no STI/MOV SS shadow, nothing queued. */
bool vmx_irq_window_open(struct vmx_vcpu *vv)
{
	/* none while a debugger single-steps: interrupts are held off */
	return !(vv->vcpu->debug.flags & HYVM_DEBUG_SINGLESTEP) &&
	       (vmcs_read(GUEST_RFLAGS) & X86_EFLAGS_IF) &&
	       !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		 (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
	       !(vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK);
}

static int exit_to_user(struct hyvm_vcpu *vcpu, u32 kind)
{
	vcpu->run->exit_kind = kind;
	return 0;
}

static int fail(struct hyvm_vcpu *vcpu)
{
	vcpu->run->fail.hw_reason = (u32)vmcs_read(VM_EXIT_REASON);
	vcpu->run->fail.info1 = vmcs_read(EXIT_QUALIFICATION);
	vcpu->run->fail.info2 = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	vcpu->run->fail.exit_int_info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	vcpu->run->fail.flags = 0;
	return exit_to_user(vcpu, HYVM_EXIT_FAIL);
}

static u64 gpr_read(struct vmx_vcpu *vv, unsigned int r)
{
	return r == HYVM_RSP ? vmcs_read(GUEST_RSP) : vv->gprs[r];
}

static void gpr_write(struct vmx_vcpu *vv, unsigned int r, u64 val)
{
	if (r == HYVM_RSP)
		vmcs_write(GUEST_RSP, val);
	else
		vv->gprs[r] = val;
}

/* Outside 64-bit mode an instruction sees the low 32 bits. */
static u64 op_mask(struct vmx_vcpu *vv)
{
	return (vv->efer & EFER_LMA) && (vmcs_read(GUEST_CS_AR_BYTES) & (1u << 13)) ?
		~0ULL : 0xffffffffULL;
}

/* CPUID as the vCPU's model answers it (hyvm_cpuid.c). */
static int handle_cpuid(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u32 r[4];

	hyvm_guest_cpuid(vcpu, vv->gprs[HYVM_RAX], vv->gprs[HYVM_RCX], r);
	vv->gprs[HYVM_RAX] = r[0];
	vv->gprs[HYVM_RBX] = r[1];
	vv->gprs[HYVM_RCX] = r[2];
	vv->gprs[HYVM_RDX] = r[3];
	skip_insn();
	return 1;
}

static int handle_hlt(struct hyvm_vcpu *vcpu)
{
	skip_insn();
	return exit_to_user(vcpu, HYVM_EXIT_HLT);
}

/* SDM Table 27-5: size-1 in bits 2:0, IN in bit 3, string in bit 4, REP
 * in bit 5, port in 31:16. */
static int handle_io(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	u8 size = (q & 7) + 1;

	if (size != 1 && size != 2 && size != 4)
		return fail(vcpu);
	if (hyvm_io_exit(vcpu, &vv->pending_in, q >> 16, size, q & 8, q & 16, q & 32,
			 vv->gprs[HYVM_RAX]))
		skip_insn();
	return 0;
}

/* The IN owed since the last IO exit, from the data user space wrote. */
void vmx_complete_in(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);

	hyvm_complete_in(vcpu, &vv->pending_in, &vv->gprs[HYVM_RAX]);
}

/* The RDMSR/WRMSR owed since the last HYVM_EXIT_MSR, as user space
 * answered it: #GP(0) at the instruction, or done and skipped by the
 * length its exit gave. The VMCS is current (vmx_run_once). */
void vmx_complete_msr(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	bool gp, write;
	u64 val;

	if (!hyvm_complete_msr(vcpu, &vv->pending_msr, &gp, &val, &write))
		return;
	if (gp) {
		inject_gp();
		return;
	}
	if (!write) {
		vv->gprs[HYVM_RAX] = (u32)val;
		vv->gprs[HYVM_RDX] = val >> 32;
	}
	skip_insn_len(vv->msr_insn_len);
}

/* A device's MSR for user space (hyvm_msr_exit): RIP stays until
 * vmx_complete_msr. */
static bool msr_to_user(struct hyvm_vcpu *vcpu, bool write, u64 val)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);

	if (!hyvm_msr_exit(vcpu, &vv->pending_msr, vv->gprs[HYVM_RCX], write, val))
		return false;
	vv->msr_insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	return true;
}

/* All MSR accesses exit (no MSR bitmap). hyvm_msr.c decides; an MSR the
 * vCPU's model does not have raises #GP(0); a device's goes to user
 * space. */
static int handle_rdmsr(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u64 val;

	if (msr_to_user(vcpu, false, 0))
		return exit_to_user(vcpu, HYVM_EXIT_MSR);
	if (hyvm_get_msr(vcpu, vv->gprs[HYVM_RCX], &val))
		return inject_gp();
	vv->gprs[HYVM_RAX] = (u32)val;
	vv->gprs[HYVM_RDX] = val >> 32;
	skip_insn();
	return 1;
}

static int handle_wrmsr(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u64 val = (u32)vv->gprs[HYVM_RAX] | (vv->gprs[HYVM_RDX] << 32);

	if (msr_to_user(vcpu, true, val))
		return exit_to_user(vcpu, HYVM_EXIT_MSR);
	if (hyvm_set_msr(vcpu, vv->gprs[HYVM_RCX], val))
		return inject_gp();
	skip_insn();
	return 1;
}

/* SDM Table 27-3: CR number 3:0, access type 5:4, GPR 11:8, LMSW data
 * 31:16. */
static int handle_cr(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	unsigned int cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	u64 val;
	int ret = 0;

	switch (type) {
	case 0:		/* MOV to CR */
		val = gpr_read(vv, reg) & op_mask(vv);
		if (cr == 0)
			ret = vmx_set_cr0(vv, val);
		else if (cr == 3)
			vmx_set_cr3(vv, val);
		else if (cr == 4)
			ret = vmx_set_cr4(vv, val);
		else if (cr == 8 && val <= 15)
			vv->cr8 = val;
		else
			ret = -EINVAL;
		break;
	case 1:		/* MOV from CR: only CR3 (unpaged, identity map) and CR8 */
		if (cr == 3)
			gpr_write(vv, reg, vv->cr3 & op_mask(vv));
		else if (cr == 8)
			gpr_write(vv, reg, vv->cr8);
		else
			return fail(vcpu);
		break;
	case 2:		/* CLTS */
		ret = vmx_set_cr0(vv, vmx_guest_cr0(vv) & ~(u64)X86_CR0_TS);
		break;
	case 3:		/* LMSW: loads PE MP EM TS, cannot clear PE */
		val = (q >> 16) & 0xf;
		ret = vmx_set_cr0(vv, (vmx_guest_cr0(vv) & ~0xeULL) | val);
		break;
	}
	if (ret == -EOPNOTSUPP) {
		/* real mode without unrestricted guest: done in the guest's
		 * state, RIP past it, and user space continues elsewhere */
		skip_insn();
		return exit_to_user(vcpu, HYVM_EXIT_MODE);
	}
	if (ret)
		return inject_gp();
	skip_insn();
	return 1;
}

/* MOV DR exits (SDM Table 27-4): the guest's DRs live here, so hardware
 * breakpoints set by a guest never fire; the host's are never touched. */
static int handle_dr(struct hyvm_vcpu *vcpu)
{
	struct vmx_vcpu *vv = to_vmx(vcpu);
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	unsigned int dr = q & 7, reg = (q >> 8) & 15;
	bool from = q & 16;
	u64 *slot;

	if ((dr == 4 || dr == 5) && (vv->cr4 & X86_CR4_DE)) {
		vmx_inject_exception(X86_VEC_UD, false, 0);
		return 1;
	}
	slot = dr < 4 ? &vv->dr[dr] : (dr == 4 || dr == 6) ? &vv->dr6 : &vv->dr7;
	if (from) {
		gpr_write(vv, reg, *slot & op_mask(vv));
	} else {
		u64 val = gpr_read(vv, reg) & op_mask(vv);

		if (dr >= 4 && (val >> 32))
			return inject_gp();
		*slot = dr == 4 || dr == 6 ? (val & 0xe00f) | 0xffff0ff0 :
			dr >= 5 ? (val | 0x400) & ~0x2000ULL : val;
	}
	skip_insn();
	return 1;
}

/* SDM 27.2.1, Table 27-7: bits 0-2 the access, 3-5 what the EPT entry
 * allowed (all 0: not present). A write to a readable, unwritable entry is
 * a write to ROM (hyvm_npt.c maps it R+X): MMIO at once, nothing to map;
 * that includes the CPU's A/D update of a guest page table in ROM. */
static int handle_ept_violation(struct hyvm_vcpu *vcpu)
{
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	u64 gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	u64 allowed = (q & EPT_VIOLATION_RWX_MASK) >> EPT_VIOLATION_RWX_SHIFT;

	vcpu->run->mmio.gpa = gpa;
	vcpu->run->mmio.write = !!(q & EPT_VIOLATION_ACC_WRITE);
	vcpu->run->mmio.insn_len = 0;	/* undefined for EPT violations */
	if (!allowed) {
		to_vmx(vcpu)->ept_gpa = gpa;
		return VMX_EXIT_EPT_MAP;
	}
	if ((q & EPT_VIOLATION_ACC_WRITE) && (allowed & VMX_EPT_READABLE_MASK) &&
	    !(allowed & VMX_EPT_WRITABLE_MASK) && hyvm_gpa_is_rom(vcpu->vm, gpa))
		return exit_to_user(vcpu, HYVM_EXIT_MMIO);
	return fail(vcpu);	/* present, yet refused: not expected */
}

static int handle_irq_window(struct hyvm_vcpu *vcpu)
{
	vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_INTR_WINDOW_EXITING);
	return exit_to_user(vcpu, HYVM_EXIT_IRQ_WINDOW);
}

/* NMIs are taken in the run loop right after the exit; the only exception
 * intercepted is #DB, while a debugger has breakpoints (vmx_debug.c). */
static int handle_exception_nmi(struct hyvm_vcpu *vcpu)
{
	u32 info = vmcs_read(VM_EXIT_INTR_INFO);

	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		return 1;
	if ((info & INTR_INFO_VECTOR_MASK) == 1)
		return vmx_handle_db(vcpu);	/* a debugger's breakpoints */
	return fail(vcpu);
}

/*
 * External interrupts are taken by the host when it enables interrupts.
 * The preemption timer (1 ms per entry, reloaded on each) brings back a
 * guest that spins with interrupts off even where the external-interrupt
 * exit does not come: under Bochs 2.7 it did not (a `cli; jmp $` guest
 * hung the host).
 */
static int handle_in_host(struct hyvm_vcpu *vcpu)
{
	return 1;
}

/* INVD, WBINVD: the host's caches are not the guest's to drop. PAUSE: a
 * spinning guest comes back through cond_resched() in the run loop. */
static int handle_skip(struct hyvm_vcpu *vcpu)
{
	skip_insn();
	return 1;
}

static int handle_ud(struct hyvm_vcpu *vcpu)
{
	vmx_inject_exception(X86_VEC_UD, false, 0);
	return 1;
}

static int handle_triple_fault(struct hyvm_vcpu *vcpu)
{
	return exit_to_user(vcpu, HYVM_EXIT_SHUTDOWN);
}

static int (*const vmx_exit_handlers[])(struct hyvm_vcpu *) = {
	[EXIT_REASON_EXCEPTION_NMI]		= handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= handle_in_host,
	[EXIT_REASON_TRIPLE_FAULT]		= handle_triple_fault,
	[EXIT_REASON_MONITOR_TRAP_FLAG]		= vmx_handle_mtf,
	[EXIT_REASON_INTERRUPT_WINDOW]		= handle_irq_window,
	[EXIT_REASON_CPUID]			= handle_cpuid,
	[EXIT_REASON_HLT]			= handle_hlt,
	[EXIT_REASON_INVD]			= handle_skip,
	[EXIT_REASON_RDPMC]			= handle_gp,
	[EXIT_REASON_VMCALL]			= handle_ud,
	[EXIT_REASON_VMCLEAR]			= handle_ud,
	[EXIT_REASON_VMLAUNCH]			= handle_ud,
	[EXIT_REASON_VMPTRLD]			= handle_ud,
	[EXIT_REASON_VMPTRST]			= handle_ud,
	[EXIT_REASON_VMREAD]			= handle_ud,
	[EXIT_REASON_VMRESUME]			= handle_ud,
	[EXIT_REASON_VMWRITE]			= handle_ud,
	[EXIT_REASON_VMOFF]			= handle_ud,
	[EXIT_REASON_VMON]			= handle_ud,
	[EXIT_REASON_CR_ACCESS]			= handle_cr,
	[EXIT_REASON_DR_ACCESS]			= handle_dr,
	[EXIT_REASON_IO_INSTRUCTION]		= handle_io,
	[EXIT_REASON_MSR_READ]			= handle_rdmsr,
	[EXIT_REASON_MSR_WRITE]			= handle_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= handle_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= handle_ud,
	[EXIT_REASON_PAUSE_INSTRUCTION]		= handle_skip,
	[EXIT_REASON_EPT_VIOLATION]		= handle_ept_violation,
	[EXIT_REASON_PREEMPTION_TIMER]		= handle_in_host,
	[EXIT_REASON_INVEPT]			= handle_ud,
	[EXIT_REASON_INVVPID]			= handle_ud,
	[EXIT_REASON_WBINVD]			= handle_skip,
	[EXIT_REASON_XSETBV]			= handle_ud,
	[EXIT_REASON_VMFUNC]			= handle_ud,
};

int vmx_handle_exit(struct hyvm_vcpu *vcpu, u32 reason)
{
	/* bit 31: VM entry failed, e.g. invalid guest state (SDM 27.8) */
	if (!(reason & VMX_EXIT_REASONS_FAILED_VMENTRY) &&
	    reason < ARRAY_SIZE(vmx_exit_handlers) && vmx_exit_handlers[reason])
		return vmx_exit_handlers[reason](vcpu);
	/* Without unrestricted guest, a state VM entry refuses (SDM 26.3.1:
	 * e.g. segments still holding real-mode values after CR0.PE was set
	 * elsewhere) is a mode this CPU cannot run, not a hyvm.ko bug: the
	 * guest state is untouched by the failed entry (SDM 26.8), so user
	 * space can run it elsewhere. fail() still records the reason. */
	if ((reason & VMX_EXIT_REASONS_FAILED_VMENTRY) &&
	    (reason & 0xffff) == EXIT_REASON_INVALID_STATE && !vmx_cfg.unrestricted) {
		fail(vcpu);
		return exit_to_user(vcpu, HYVM_EXIT_MODE);
	}
	return fail(vcpu);
}

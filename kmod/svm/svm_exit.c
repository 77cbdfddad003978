// SPDX-License-Identifier: GPL-2.0
/*
 * #VMEXIT handlers, indexed by exit code (AMD APM Vol. 2, Appendix C).
 * A handler returns 1 to re-enter the guest, 0 to return to user space
 * with run->exit_kind set.
 *
 * QEMU's TCG SVM has no next-RIP save (CPUID 8000000Ah EDX[3] = 0), so
 * instruction lengths come from the instruction itself: CPUID, RDMSR and
 * WRMSR are two bytes, HLT one; IOIO reports the next RIP in EXITINFO2
 * (APM 15.10.2).
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>
#include "svm.h"

#define X86_VEC_UD	6
#define X86_VEC_GP	13

static void skip_insn(struct svm_vcpu *sv, unsigned int len)
{
	struct vmcb *v = sv->vmcb;

	if (svm_has_nrips && v->control.next_rip)
		v->save.rip = v->control.next_rip;
	else
		v->save.rip += len;
	v->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/* Real mode pushes FLAGS, CS and IP only, no error code (SDM 20.1.4). */
void svm_inject_exception(struct svm_vcpu *sv, u8 vector, bool has_err, u32 err)
{
	if (!(sv->vmcb->save.cr0 & X86_CR0_PE))
		has_err = false;
	sv->vmcb->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT |
		vector | (has_err ? SVM_EVTINJ_VALID_ERR : 0);
	sv->vmcb->control.event_inj_err = err;
}

bool svm_irq_window_open(struct svm_vcpu *sv)
{
	struct vmcb *v = sv->vmcb;

	return !sv->dbg.step && (v->save.rflags & X86_EFLAGS_IF) &&
	       !(v->control.int_state & SVM_INTERRUPT_SHADOW_MASK) &&
	       !(v->control.event_inj & SVM_EVTINJ_VALID);
}

static int exit_to_user(struct hyvm_vcpu *vcpu, u32 kind)
{
	vcpu->run->exit_kind = kind;
	return 0;
}

static int fail(struct hyvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &((struct svm_vcpu *)vcpu->backend)->vmcb->control;

	vcpu->run->fail.hw_reason = c->exit_code | ((u64)c->exit_code_hi << 32);
	vcpu->run->fail.info1 = c->exit_info_1;
	vcpu->run->fail.info2 = c->exit_info_2;
	vcpu->run->fail.exit_int_info = c->exit_int_info;
	vcpu->run->fail.flags = 0;
	return exit_to_user(vcpu, HYVM_EXIT_FAIL);
}

/* CPUID as the vCPU's model answers it (hyvm_cpuid.c). */
static int handle_cpuid(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	u32 r[4];

	hyvm_guest_cpuid(vcpu, sv->vmcb->save.rax, sv->gprs[HYVM_RCX], r);
	sv->vmcb->save.rax = r[0];
	sv->gprs[HYVM_RBX] = r[1];
	sv->gprs[HYVM_RCX] = r[2];
	sv->gprs[HYVM_RDX] = r[3];
	skip_insn(sv, 2);
	return 1;
}

/* RDPMC (0F 33, APM Vol. 3): #GP(0) at CPL > 0 without CR4.PCE or for
 * a counter the model lacks; else the counter the guest wrote with WRMSR
 * (they do not count). Linux reads them (x86_perf_event_update) when its
 * NMI watchdog's event stops, at power-off; not intercepted, RDPMC ran on
 * the host CPU, which under QEMU TCG raises #UD. */
static int handle_rdpmc(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_save_area *s = &sv->vmcb->save;
	u64 val;

	if ((s->cpl && !(s->cr4 & X86_CR4_PCE)) ||
	    hyvm_rdpmc(vcpu, (u32)sv->gprs[HYVM_RCX], &val)) {
		svm_inject_exception(sv, X86_VEC_GP, true, 0);
		return 1;
	}
	s->rax = (u32)val;
	sv->gprs[HYVM_RDX] = val >> 32;
	skip_insn(sv, 2);
	return 1;
}

static int handle_hlt(struct hyvm_vcpu *vcpu)
{
	skip_insn(vcpu->backend, 1);
	return exit_to_user(vcpu, HYVM_EXIT_HLT);
}

/* APM 15.10.2: EXITINFO1 holds port, size, direction, string and REP;
 * EXITINFO2 the next RIP. */
static int handle_ioio(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;
	u64 info = v->control.exit_info_1;
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;

	if (size != 1 && size != 2 && size != 4)
		return fail(vcpu);
	if (hyvm_io_exit(vcpu, &sv->pending_in, info >> 16, size, info & SVM_IOIO_TYPE_MASK,
			 info & SVM_IOIO_STR_MASK, info & SVM_IOIO_REP_MASK, v->save.rax)) {
		v->save.rip = v->control.exit_info_2;
		v->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	}
	return 0;
}

/* The IN owed since the last IO exit, from the data user space wrote. */
void svm_complete_in(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;

	hyvm_complete_in(vcpu, &sv->pending_in, &sv->vmcb->save.rax);
}

/* The RDMSR/WRMSR owed since the last HYVM_EXIT_MSR, as user space
 * answered it: #GP(0) at the instruction, or done and skipped (2 bytes,
 * as handle_msr: no next-RIP save under QEMU TCG). */
void svm_complete_msr(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	bool gp, write;
	u64 val;

	if (!hyvm_complete_msr(vcpu, &sv->pending_msr, &gp, &val, &write))
		return;
	if (gp) {
		svm_inject_exception(sv, X86_VEC_GP, true, 0);
		return;
	}
	if (!write) {
		sv->vmcb->save.rax = (u32)val;
		sv->gprs[HYVM_RDX] = val >> 32;
	}
	skip_insn(sv, 2);
}

/* APM 15.11: EXITINFO1 is 0 for RDMSR, 1 for WRMSR. hyvm_msr.c decides;
 * an MSR the vCPU's model does not have raises #GP(0). A device's MSR
 * goes to user space (hyvm_msr_exit). */
static int handle_msr(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	u32 msr = sv->gprs[HYVM_RCX];
	bool write = sv->vmcb->control.exit_info_1;
	u64 val = (u32)sv->vmcb->save.rax | (sv->gprs[HYVM_RDX] << 32);

	if (hyvm_msr_exit(vcpu, &sv->pending_msr, msr, write, val))
		return exit_to_user(vcpu, HYVM_EXIT_MSR);
	if (write) {
		if (hyvm_set_msr(vcpu, msr, val)) {
			svm_inject_exception(sv, X86_VEC_GP, true, 0);
			return 1;
		}
	} else {
		if (hyvm_get_msr(vcpu, msr, &val)) {
			svm_inject_exception(sv, X86_VEC_GP, true, 0);
			return 1;
		}
		sv->vmcb->save.rax = (u32)val;
		sv->gprs[HYVM_RDX] = val >> 32;
	}
	skip_insn(sv, 2);
	return 1;
}

/* APM 15.25.6: EXITINFO1 is a #PF-style error code (bit 0 present,
 * bit 1 write), EXITINFO2 the GPA. A write to a present entry is a write
 * to ROM (its leaves lack RW, hyvm_npt.c): MMIO, as an unmapped address,
 * and so is the CPU's A/D update of a guest page table in ROM. */
static int handle_npf(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb_control_area *c = &sv->vmcb->control;
	u64 gpa = c->exit_info_2;
	int ret;
	u8 insn_len;

	if (c->exit_info_1 & 1) {	/* present */
		if (!(c->exit_info_1 & 2) || !hyvm_gpa_is_rom(vcpu->vm, gpa))
			return fail(vcpu);	/* a fault we did not expect */
	} else {
		ret = hyvm_npt_map(vcpu->vm, &((struct svm_vm *)vcpu->vm->backend)->npt, gpa);
		if (!ret)
			return 1;
		if (ret != -ENOENT)
			return fail(vcpu);
	}
	/* the length from a local, never read back from the run page: user
	 * space (or a guest that has the page as RAM) may rewrite it between
	 * the store and the copy, which would copy past insn_bytes */
	insn_len = min_t(u8, c->insn_len, 15);
	vcpu->run->mmio.gpa = gpa;
	vcpu->run->mmio.write = !!(c->exit_info_1 & 2);
	vcpu->run->mmio.insn_len = insn_len;
	memcpy(vcpu->run->mmio.insn, c->insn_bytes, insn_len);
	return exit_to_user(vcpu, HYVM_EXIT_MMIO);
}

static int handle_vintr(struct hyvm_vcpu *vcpu)
{
	struct vmcb *v = ((struct svm_vcpu *)vcpu->backend)->vmcb;

	v->control.int_ctl &= ~V_IRQ_MASK;
	svm_clr_intercept(v, INTERCEPT_VINTR);
	return exit_to_user(vcpu, HYVM_EXIT_IRQ_WINDOW);
}

static int handle_in_host(struct hyvm_vcpu *vcpu)
{
	return 1;	/* INTR/NMI/SMI/INIT: taken by the host after STGI */
}

/* INVD would drop the host's dirty cache lines: do nothing, as WBINVD. */
static int handle_invd(struct hyvm_vcpu *vcpu)
{
	skip_insn(vcpu->backend, 2);
	return 1;
}

static int handle_ud(struct hyvm_vcpu *vcpu)
{
	svm_inject_exception(vcpu->backend, X86_VEC_UD, false, 0);
	return 1;
}

/*
 * MOV to DR0-DR7 (0F 23 /r), intercepted (svm_vmcb_init) and done here:
 * DR0-3 into sv->dr (svm_enter_guest loads them before VMRUN), DR6 and
 * DR7 into the VMCB, which VMRUN loads (APM 15.5.1). The guest never
 * runs one itself because QEMU's TCG SVM, the emulated AMD host of
 * tests/kmod/run-svm.sh, arms its own breakpoints only on MOV DR7 and
 * MOV DRn, keyed by the DR7 it holds then, while VMRUN and #VMEXIT
 * overwrite that DR7 without re-arming (target/i386 svm_helper.c,
 * bpt_helper.c, read in QEMU's source). A guest's MOV DR7 armed
 * breakpoints at its DR0-3 that stayed armed in the host after #VMEXIT:
 * an instruction breakpoint raises #DB in the host whatever the host's
 * DR7 says (breakpoint_handler), and the next MOV DR7 (another vCPU's
 * guest, or ours for HYVM_SET_GUEST_DEBUG) removed them by the types of
 * a DR7 that did not arm them, through storage breakpoints and
 * watchpoints share. hyvm_fuzz's random guest code stopped the emulated
 * host that way (issue 15: host triple faults and RCU stalls with every
 * kind of call, none without random code). On hardware, where #VMEXIT
 * disables the host's breakpoints (APM 15.6), this costs an exit per
 * MOV DR, which guests do rarely.
 *
 * SDM Vol. 2B "MOV - Move to/from Debug Registers": the register form
 * whatever MOD says; 64-bit operands in 64-bit mode (bits 63:32 of DR6
 * and DR7 set: #GP(0)), 32-bit elsewhere; DR4/DR5 alias DR6/DR7 unless
 * CR4.DE (then #UD); REX.R (DR8-15) #UD; CPL > 0 (V86 included) was
 * refused with #GP by the CPU before the intercept (APM 15.7.1), checked
 * again here. DR7.GD (general detect) is not emulated.
 */
#define DR6_FIXED_1	0xffff0ff0ULL
#define DR7_FIXED_1	0x400ULL

static int handle_dr_write(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;
	struct vmcb_save_area *s = &v->save;
	struct hyvm_paging pg = { s->cr0, s->cr3, s->cr4, s->efer };
	bool wide = (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SELECTOR_L_MASK);
	unsigned int dr = v->control.exit_code - SVM_EXIT_WRITE_DR0;
	unsigned int len = 0, gpr;
	u8 b = 0, rex = 0;
	u64 val;

	/* prefixes, REX, then 0F 23 and ModRM, at most 15 bytes */
	for (;;) {
		u64 la = wide ? s->rip + len : (u32)(s->cs.base + (u32)(s->rip + len));

		if (len >= 15 || hyvm_guest_read(vcpu->vm, &pg, la, &b, 1))
			return fail(vcpu);	/* not RAM now: rewritten meanwhile */
		len++;
		if (wide && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		if (b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
		    b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65) {
			rex = 0;	/* a REX counts only right before the opcode */
			continue;
		}
		break;
	}
	if (b != 0x0f)
		return fail(vcpu);
	if (len > 13 || hyvm_guest_read(vcpu->vm, &pg,
					wide ? s->rip + len : (u32)(s->cs.base + (u32)(s->rip + len)),
					&b, 1) || b != 0x23)
		return fail(vcpu);
	len++;
	if (hyvm_guest_read(vcpu->vm, &pg,
			    wide ? s->rip + len : (u32)(s->cs.base + (u32)(s->rip + len)), &b, 1) ||
	    ((b >> 3) & 7) != dr)
		return fail(vcpu);
	len++;
	gpr = (b & 7) | (rex & 1 ? 8 : 0);

	if (s->cpl || (s->rflags & X86_EFLAGS_VM)) {
		svm_inject_exception(sv, X86_VEC_GP, true, 0);
		return 1;
	}
	if ((rex & 4) || ((dr == 4 || dr == 5) && (s->cr4 & X86_CR4_DE))) {
		svm_inject_exception(sv, X86_VEC_UD, false, 0);
		return 1;
	}
	val = gpr == HYVM_RAX ? s->rax : gpr == HYVM_RSP ? s->rsp : sv->gprs[gpr];
	if (!wide)
		val = (u32)val;
	if (dr >= 4) {
		if (val >> 32) {
			svm_inject_exception(sv, X86_VEC_GP, true, 0);
			return 1;
		}
		if (dr == 4 || dr == 6)
			s->dr6 = val | DR6_FIXED_1;
		else
			s->dr7 = val | DR7_FIXED_1;
	} else {
		sv->dr[dr] = val;
	}
	skip_insn(sv, len);
	return 1;
}

/* PAUSE (F3 90) in a spin loop: let the host run something else, since
 * the vCPU the guest waits for may be waiting for this host CPU. */
static int handle_pause(struct hyvm_vcpu *vcpu)
{
	skip_insn(vcpu->backend, 2);
	cond_resched();
	return 1;
}

static int handle_shutdown(struct hyvm_vcpu *vcpu)
{
	return exit_to_user(vcpu, HYVM_EXIT_SHUTDOWN);
}

static int (*const svm_exit_handlers[])(struct hyvm_vcpu *) = {
	[SVM_EXIT_EXCP_BASE + 1] = svm_handle_db,
	[SVM_EXIT_PUSHF]	= svm_handle_pushf,
	[SVM_EXIT_POPF]		= svm_handle_popf_iret,
	[SVM_EXIT_IRET]		= svm_handle_popf_iret,
	[SVM_EXIT_INTR]		= handle_in_host,
	[SVM_EXIT_NMI]		= handle_in_host,
	[SVM_EXIT_SMI]		= handle_in_host,
	[SVM_EXIT_INIT]		= handle_in_host,
	[SVM_EXIT_VINTR]	= handle_vintr,
	[SVM_EXIT_CPUID]	= handle_cpuid,
	[SVM_EXIT_HLT]		= handle_hlt,
	[SVM_EXIT_IOIO]		= handle_ioio,
	[SVM_EXIT_MSR]		= handle_msr,
	[SVM_EXIT_RDPMC]	= handle_rdpmc,
	[SVM_EXIT_SHUTDOWN]	= handle_shutdown,
	[SVM_EXIT_PAUSE]	= handle_pause,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7] = handle_dr_write,
	[SVM_EXIT_RSM]		= handle_ud,
	[SVM_EXIT_INVD]		= handle_invd,
	[SVM_EXIT_INVLPGA]	= handle_ud,
	[SVM_EXIT_VMRUN]	= handle_ud,
	[SVM_EXIT_VMMCALL]	= handle_ud,
	[SVM_EXIT_VMLOAD]	= handle_ud,
	[SVM_EXIT_VMSAVE]	= handle_ud,
	[SVM_EXIT_STGI]		= handle_ud,
	[SVM_EXIT_CLGI]		= handle_ud,
	[SVM_EXIT_SKINIT]	= handle_ud,
	[SVM_EXIT_MONITOR]	= handle_ud,
	[SVM_EXIT_MWAIT]	= handle_ud,
	[SVM_EXIT_XSETBV]	= handle_ud,
	[SVM_EXIT_RDPRU]	= handle_ud,
};

/* HYVM_EXIT_FAIL for a VMCB that holds the host's state: now, and at
 * every HYVM_RUN until HYVM_SET_STATE replaces it (svm_run). */
void svm_fail_host_state(struct hyvm_vcpu *vcpu)
{
	fail(vcpu);
	vcpu->run->fail.flags = HYVM_FAIL_HOST_STATE;
}

/*
 * APM 15.5.1: VMRUN writes the host's state to the host save area
 * (VM_HSAVE_PA), its RIP being the instruction after VMRUN, and #VMEXIT
 * writes the guest's to the VMCB. A VMCB that holds that RIP and this
 * CPU's CR3 holds our own host state instead: the SVM below us wrote it
 * there (seen once under QEMU 7.2 TCG, in make test-kmod-svm: the host's
 * RIP in hyvm.ko and its paging reached user space as the guest's, whose
 * state was lost). Entering it again would run the host's code as the
 * guest, so the run fails here, saying so; the exit that came with it is
 * logged to tell which #VMEXIT path did it. QEMU's VMRUN does this when
 * its consistency checks fail (it checks after saving the host, and its
 * #VMEXIT stores what it holds then, RIP at the VMRUN itself, and its
 * own int_ctl: svm_run sets V_INTR_MASKING again); hyvm_state_valid
 * refuses those states. Run again, that state is the host's kernel at
 * CPL 0 with the host's CR3 as the guest's: the vCPU stays failed until
 * HYVM_SET_STATE.
 */
bool svm_vmcb_holds_host_state(struct hyvm_vcpu *vcpu)
{
	struct svm_vcpu *sv = vcpu->backend;
	struct vmcb *v = sv->vmcb;

	if (likely((v->save.rip != (unsigned long)hyvm_svm_vmrun_return &&
		    v->save.rip != (unsigned long)hyvm_svm_vmrun_insn) ||
		   (v->save.cr3 & CR3_ADDR_MASK) != (__read_cr3() & CR3_ADDR_MASK)))
		return false;
	pr_err_ratelimited("hyvm: svm: the VMCB at %#llx holds the host's state after #VMEXIT %#x (info1 %#llx, info2 %#llx, exitintinfo %#x, cpu %d, entry %llu)\n",
			   sv->vmcb_pa, v->control.exit_code, v->control.exit_info_1,
			   v->control.exit_info_2, v->control.exit_int_info,
			   raw_smp_processor_id(), vcpu->run->entries);
	sv->state_lost = true;
	vcpu->run->rip = 0;	/* the host's, stored by svm_run: not for user space */
	svm_fail_host_state(vcpu);
	return true;
}

int svm_handle_exit(struct hyvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &((struct svm_vcpu *)vcpu->backend)->vmcb->control;
	u32 code = c->exit_code;

	if (c->exit_code_hi == 0 && code == SVM_EXIT_NPF)
		return handle_npf(vcpu);
	if (c->exit_code_hi == 0 && code < ARRAY_SIZE(svm_exit_handlers) &&
	    svm_exit_handlers[code])
		return svm_exit_handlers[code](vcpu);
	return fail(vcpu);	/* includes VMEXIT_INVALID (-1): bad guest state */
}

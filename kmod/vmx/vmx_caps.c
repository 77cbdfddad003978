// SPDX-License-Identifier: GPL-2.0
/*
 * What VT-x offers here, from the VMX capability MSRs (Intel SDM Vol. 3D,
 * Appendix A), and the controls hyvm runs every guest with. Read once at
 * load time; nothing here changes CPU state.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/tsc.h>
#include "vmx.h"

static bool unrestricted_guest = true;
module_param(unrestricted_guest, bool, 0444);
MODULE_PARM_DESC(unrestricted_guest,
		 "VMX: run real mode in hardware when the CPU can (0: real mode needs another engine)");

static bool vpid = true;
module_param(vpid, bool, 0444);
MODULE_PARM_DESC(vpid, "VMX: tag guest TLB entries with VPIDs when the CPU can");

struct vmx_config vmx_cfg;

static void add_missing(struct hyvm_capabilities *caps, const char *what)
{
	if (caps->missing[0])
		strlcat(caps->missing, "; ", sizeof(caps->missing));
	strlcat(caps->missing, what, sizeof(caps->missing));
}

/*
 * SDM A.3-A.5: the low half of a control MSR holds the bits that must be
 * 1, the high half the bits that may be 1. "want" must be granted,
 * "optional" is taken where offered.
 */
static int adjust(u32 msr, u32 want, u32 optional, u32 *out)
{
	u32 must, may;

	rdmsr(msr, must, may);
	*out = ((want | optional) & may) | must;
	return (*out & want) == want ? 0 : -EOPNOTSUPP;
}

int vmx_setup_config(struct hyvm_capabilities *caps)
{
	struct vmx_config *c = &vmx_cfg;
	u64 basic, ept_vpid = 0;
	bool true_ctls;
	u32 p2_opt = 0;

	memset(c, 0, sizeof(*c));
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return -ENODEV;
	/* SDM A.1: revision, 4 KiB VMCS, WB VMCS memory, 64-bit addresses */
	c->revision = basic & 0x7fffffff;
	true_ctls = basic & (1ULL << 55);
	if ((basic >> 32 & 0x1fff) > PAGE_SIZE || (basic & (1ULL << 48)) ||
	    ((basic >> 50) & 0xf) != 6) {
		add_missing(caps, "VMX_BASIC: VMCS layout hyvm cannot use");
		return -ENODEV;
	}

	if (adjust(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
		   PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
		   PIN_BASED_VMX_PREEMPTION_TIMER, &c->pin) ||
	    adjust(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
		   CPU_BASED_HLT_EXITING | CPU_BASED_CR8_LOAD_EXITING |
		   CPU_BASED_CR8_STORE_EXITING | CPU_BASED_UNCOND_IO_EXITING |
		   CPU_BASED_MOV_DR_EXITING | CPU_BASED_USE_TSC_OFFSETTING |
		   CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
		   CPU_BASED_RDPMC_EXITING | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
		   CPU_BASED_PAUSE_EXITING, &c->proc)) {
		add_missing(caps, "VMX lacks required processor-based controls");
		return -ENODEV;
	}
	/* SDM A.3.2: CR3 exiting may be turned off only with the true MSR */
	if (c->proc & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING |
		       CPU_BASED_INVLPG_EXITING)) {
		add_missing(caps, "VMX forces CR3/INVLPG exiting");
		return -ENODEV;
	}
	/* SDM A.3.1: the monitor trap flag, used only while a debugger
	 * single-steps (vmx_debug.c), where its allowed-1 bit says so */
	{
		u32 lo, hi;

		rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
		      lo, hi);
		c->mtf = hi & CPU_BASED_MONITOR_TRAP_FLAG;
	}
	/* debug controls: DR7 loaded on entry, for a debugger's breakpoints */
	if (adjust(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
		   VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER |
		   VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_PAT,
		   VM_EXIT_SAVE_DEBUG_CONTROLS, &c->exit) ||
	    adjust(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
		   VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT,
		   VM_ENTRY_LOAD_DEBUG_CONTROLS, &c->entry)) {
		add_missing(caps, "VMX cannot load/save EFER and PAT on entry/exit");
		return -ENODEV;
	}
	c->exit &= ~VM_EXIT_ACK_INTR_ON_EXIT;	/* the host takes it on STI */
	c->entry &= ~VM_ENTRY_IA32E_MODE;	/* set per guest */

	/* SDM A.10: EPT with a 4-level walk, WB paging structures, INVEPT */
	rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_vpid);
	if (!(ept_vpid & VMX_EPT_PAGE_WALK_4_BIT) || !(ept_vpid & VMX_EPTP_WB_BIT) ||
	    !(ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(ept_vpid & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT))) {
		add_missing(caps, "EPT lacks a 4-level walk, WB or INVEPT");
		return -ENODEV;
	}
	c->invept_single = ept_vpid & VMX_EPT_EXTENT_CONTEXT_BIT;
	if (vpid && (ept_vpid >> 32 & VMX_VPID_INVVPID_BIT) &&
	    (ept_vpid >> 32 & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT))
		p2_opt |= SECONDARY_EXEC_ENABLE_VPID;
	if (unrestricted_guest)
		p2_opt |= SECONDARY_EXEC_UNRESTRICTED_GUEST;
	if (adjust(MSR_IA32_VMX_PROCBASED_CTLS2, SECONDARY_EXEC_ENABLE_EPT, p2_opt,
		   &c->proc2)) {
		add_missing(caps, "no EPT");
		return -ENODEV;
	}
	c->vpid = c->proc2 & SECONDARY_EXEC_ENABLE_VPID;
	/* SDM 25.5.1: the preemption timer counts TSC >> IA32_VMX_MISC[4:0];
	 * a 1 ms budget per entry */
	if (c->pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 misc;

		rdmsrl(MSR_IA32_VMX_MISC, misc);
		c->preempt_timer = max_t(u64, (u64)tsc_khz >> (misc & 0x1f), 1);
	}
	c->unrestricted = c->proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST;

	/* SDM A.7-A.8: bits of CR0/CR4 fixed while in VMX operation */
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, c->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, c->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, c->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, c->cr4_fixed1);
	if (c->unrestricted)
		c->cr0_fixed0 &= ~(u64)(X86_CR0_PE | X86_CR0_PG);	/* SDM 26.3.1.1 */

	/* The report: rebuild the VMX part of the capabilities. */
	caps->missing[0] = 0;
	caps->flags &= ~(HYVM_CAP_TAGGED_TLB | HYVM_CAP_UNRESTRICTED);
	caps->flags |= HYVM_CAP_NESTED_PAGING;
	caps->nr_asids = 0;
	if (c->vpid) {
		caps->flags |= HYVM_CAP_TAGGED_TLB;
		caps->nr_asids = 0xffff;
	} else {
		add_missing(caps, vpid ? "no VPID" : "vpid=0");
	}
	if (c->unrestricted)
		caps->flags |= HYVM_CAP_UNRESTRICTED;
	else if (!unrestricted_guest)
		add_missing(caps, "unrestricted_guest=0: real mode needs another engine");
	else
		add_missing(caps, "no unrestricted guest: real mode needs another engine");
	return 0;
}

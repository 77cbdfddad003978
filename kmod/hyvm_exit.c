// SPDX-License-Identifier: GPL-2.0
/*
 * Exit handling that is the same on VMX and SVM: a port access handed to
 * user space, and the IN completed from the data user space wrote; a
 * device's MSR handed to user space and completed the same way (CPUID
 * is hyvm_cpuid.c's, MSRs hyvm_msr.c's). The backends decode their own exit
 * information (SDM Table 27-5, APM 15.10.2) and advance RIP their way.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/msr.h>
#include "hyvm.h"

/*
 * A port access for user space. A string instruction (INS/OUTS) moves
 * guest memory through segments and guest paging: user space emulates it
 * from the instruction at RIP (userspace/emul/mmio_emulate.c), so the caller
 * must leave RIP alone; returns false then. Otherwise the OUT data is in
 * io_data, or the IN is owed until the next run (hyvm_complete_in), and
 * the caller skips the instruction.
 */
bool hyvm_io_exit(struct hyvm_vcpu *vcpu, struct hyvm_pending_in *owed, u16 port,
		  u8 size, bool in, bool string, bool rep, u64 rax)
{
	struct hyvm_run *run = vcpu->run;

	run->exit_kind = HYVM_EXIT_IO;
	run->io.port = port;
	run->io.size = size;
	run->io.write = !in;
	run->io.count = 1;
	run->io.flags = 0;
	if (string) {
		run->io.count = 0;
		run->io.flags = HYVM_IO_STRING | (rep ? HYVM_IO_REP : 0);
		return false;
	}
	if (in) {
		owed->active = true;
		owed->size = size;
	} else {
		memcpy(run->io_data, &rax, size);
	}
	return true;
}

/* The IN owed since the last I/O exit: into AL/AX/EAX as the CPU would
 * (a 32-bit destination zero-extends, SDM Vol. 1, 3.4.1.1). */
void hyvm_complete_in(struct hyvm_vcpu *vcpu, struct hyvm_pending_in *owed, u64 *rax)
{
	u32 val = 0;

	if (!owed->active)
		return;
	owed->active = false;
	memcpy(&val, vcpu->run->io_data, owed->size);
	switch (owed->size) {
	case 1:
		*rax = (*rax & ~0xffULL) | (u8)val;
		break;
	case 2:
		*rax = (*rax & ~0xffffULL) | (u16)val;
		break;
	default:
		*rax = val;
	}
}

/*
 * IA32_TSC_DEADLINE belongs to user space's local APIC (SDM Vol. 3A,
 * 11.5.4.1): when the vCPU's model lists TSC-deadline (CPUID.1:ECX[24]),
 * a RDMSR/WRMSR of it goes there (HYVM_EXIT_MSR) with the guest's TSC.
 * true: run is filled and the access owed; the caller leaves RIP at the
 * instruction and returns to user space. Without the bit the MSR does
 * not exist and hyvm_msr.c raises #GP as before.
 */
bool hyvm_msr_exit(struct hyvm_vcpu *vcpu, struct hyvm_pending_msr *owed, u32 msr,
		   bool write, u64 val)
{
	struct hyvm_run *run = vcpu->run;

	if (msr != MSR_IA32_TSC_DEADLINE || !hyvm_guest_has(vcpu, 1, 2 /* ECX */, 24))
		return false;
	run->exit_kind = HYVM_EXIT_MSR;
	run->msr.index = msr;
	run->msr.write = write;
	run->msr.error = 0;
	run->msr.data = write ? val : 0;
	run->msr.tsc = rdtsc() + hyvm_backend->get_reg(vcpu, HYVM_REG_TSC_OFFSET);
	owed->active = true;
	owed->write = write;
	return true;
}

/* The access owed since the last HYVM_EXIT_MSR, from what user space
 * wrote: false if none. *gp: raise #GP(0) (RIP stays); else a RDMSR loads
 * *val into EDX:EAX, and the caller skips the instruction. */
bool hyvm_complete_msr(struct hyvm_vcpu *vcpu, struct hyvm_pending_msr *owed, bool *gp,
		       u64 *val, bool *write)
{
	if (!owed->active)
		return false;
	owed->active = false;
	*gp = READ_ONCE(vcpu->run->msr.error) != 0;
	*val = READ_ONCE(vcpu->run->msr.data);
	*write = owed->write;
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Exit handling that is the same on VMX and SVM: a port access handed to
 * user space, and the IN completed from the data user space wrote (CPUID
 * is hyvm_cpuid.c's, MSRs hyvm_msr.c's). The backends decode their own exit
 * information (SDM Table 27-5, APM 15.10.2) and advance RIP their way.
 */
#include <linux/kernel.h>
#include <linux/string.h>
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

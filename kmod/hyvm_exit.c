// SPDX-License-Identifier: GPL-2.0
/*
 * Exit handling that is the same on VMX and SVM: the CPUID the guest is
 * offered, a port access handed to user space, and the IN completed from
 * the data user space wrote. The backends decode their own exit
 * information (SDM Table 27-5, APM 15.10.2) and advance RIP their way.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/processor.h>
#include "hyvm.h"

/* The host's CPUID minus what hyvm does not virtualize (SDM Vol. 2A
 * CPUID; APM Vol. 3 App. E): VMX/SMX, MONITOR, PCID, x2APIC, XSAVE/AVX
 * (XSETBV is refused). One logical CPU, APIC ID 0, hypervisor bit set. */
void hyvm_cpuid(u32 leaf, u32 sub, u32 r[4])
{
	u32 a, b, c, d;

	cpuid_count(leaf, sub, &a, &b, &c, &d);
	switch (leaf) {
	case 1:
		c &= ~(BIT(3) | BIT(5) | BIT(6) | BIT(17) | BIT(21) | BIT(24) |
		       BIT(26) | BIT(27) | BIT(28));
		c |= BIT(31);
		b &= 0x0000ffff;
		break;
	case 7:
		if (sub == 0)
			b &= BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | BIT(20);
		else
			b = 0;
		a = c = d = 0;
		break;
	case 0xd:
		a = b = c = d = 0;
		break;
	case 0x40000000:
		a = 0x40000000;
		b = c = d = 0x6d767968;		/* "hyvm" */
		break;
	}
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = d;
}

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

// SPDX-License-Identifier: GPL-2.0
/*
 * What CPUID answers a guest. User space sets a vCPU's CPU model as one
 * table (HYVM_SET_CPUID, include/hyvm/cpuid_table.h), looked up here as
 * in every other engine; until it does, the guest sees the host's CPUID
 * filtered to what hyvm virtualizes. On top of either, the bits a real
 * CPU computes per logical processor at the time of the CPUID: the
 * initial APIC ID and OSXSAVE (SDM Vol. 2A, CPUID).
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include "hyvm.h"

/* The host's CPUID minus what hyvm does not virtualize (SDM Vol. 2A
 * CPUID; APM Vol. 3 App. E): VMX/SMX, MONITOR, PCID, x2APIC, XSAVE/AVX
 * (XSETBV is refused), SVM (APM Vol. 3, CPUID 8000_0001h ECX[2] and
 * 8000_000Ah: no nested virtualization). Hypervisor bit set. */
static void hyvm_cpuid_default(u32 leaf, u32 sub, u32 r[4])
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
	case 0x8000000a:
		a = b = c = d = 0;
		break;
	case 0x40000000:
		a = 0x40000000;
		b = c = d = 0x6d767968;		/* "hyvm" */
		break;
	case 0x80000001:
		c &= ~BIT(2);
		break;
	}
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = d;
}

/* The vCPU's model, before the per-processor bits. */
static void model_cpuid(struct hyvm_vcpu *vcpu, u32 leaf, u32 sub, u32 r[4])
{
	if (vcpu->cpuid)
		hyvm_cpuid_lookup(vcpu->cpuid, leaf, sub, r);
	else
		hyvm_cpuid_default(leaf, sub, r);
}

/*
 * CPUID as the guest executes it. SDM Vol. 2A, CPUID: leaf 1 EBX[31:24]
 * is the initial APIC ID (hyvm's is the vCPU index), ECX[27] OSXSAVE
 * reflects CR4.OSXSAVE; leaves 0Bh and 1Fh give the x2APIC ID in EDX for
 * every subleaf. leaf is EAX as the guest wrote it (an out-of-range leaf
 * is answered by hyvm_cpuid_lookup's rule, not changed here).
 */
void hyvm_guest_cpuid(struct hyvm_vcpu *vcpu, u32 leaf, u32 sub, u32 r[4])
{
	u32 max[4];

	model_cpuid(vcpu, leaf, sub, r);
	if (leaf == 1) {
		r[1] = (r[1] & 0x00ffffff) | (vcpu->index << 24);
		r[2] &= ~BIT(27);
		if (hyvm_backend->get_reg(vcpu, HYVM_REG_CR4) & X86_CR4_OSXSAVE)
			r[2] |= BIT(27);
	} else if (leaf == 0xb || leaf == 0x1f) {
		model_cpuid(vcpu, 0, 0, max);
		if (leaf <= max[0])
			r[3] = vcpu->index;
	}
}

/* One feature bit of the vCPU's model: leaf, subleaf 0, register (0-3 for
 * EAX..EDX), bit. For hyvm_msr.c: an MSR exists when its feature does. */
bool hyvm_guest_has(struct hyvm_vcpu *vcpu, u32 leaf, unsigned int reg, unsigned int bit)
{
	u32 r[4];

	model_cpuid(vcpu, leaf, 0, r);
	return r[reg] & BIT(bit);
}

/* The vendor string of the vCPU's model (leaf 0: EBX, EDX, ECX). */
bool hyvm_guest_is_amd(struct hyvm_vcpu *vcpu)
{
	u32 r[4];

	model_cpuid(vcpu, 0, 0, r);
	/* "AuthenticAMD" and "HygonGenuine" (a Zen licensee, APM rules) */
	return (r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163) ||
	       (r[1] == 0x6f677948 && r[3] == 0x6e65476e && r[2] == 0x656e6975);
}

bool hyvm_guest_is_intel(struct hyvm_vcpu *vcpu)
{
	u32 r[4];

	model_cpuid(vcpu, 0, 0, r);
	return r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e;
}

/* HYVM_SET_CPUID: the whole fixed-size table, checked as the header says
 * (count, reserved bits, a leaf 0), replaces the vCPU's model. Called
 * with vcpu->lock held, so no exit is being handled meanwhile. */
long hyvm_set_cpuid(struct hyvm_vcpu *vcpu, const void __user *uarg)
{
	struct hyvm_cpuid_table *t;

	t = kmalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	if (copy_from_user(t, uarg, sizeof(*t))) {
		kfree(t);
		return -EFAULT;
	}
	if (hyvm_cpuid_table_check(t)) {
		kfree(t);
		return -EINVAL;
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = t;
	/* the model's reset value, the same on every engine */
	vcpu->msrs.apic_base = hyvm_cpuid_apic_base(t, vcpu->index == 0);
	return 0;
}

/*
 * Device MSRs through the VMM (vm_msr.h).
 */
#include <string.h>
#include "vmm/vm.h"
#include "vmm/vm_msr.h"
#include "cpu/cpu_model.h"

#define MSR_VCPU	0	/* the one vCPU */

void vm_msr_set_model(struct vm *vm, const struct hyvm_cpuid_table *t)
{
	/* IA32_TSC_DEADLINE exists iff CPUID.01H:ECX.TSC_Deadline[24]
	 * (SDM Vol. 4, Table 2-2) */
	vm->tsc_deadline_listed = cpu_model_has(t, 1, CPUID_REG_ECX, CPUID_1_ECX_TSC_DEADLINE);
}

static bool listed(const struct vm *vm, uint32_t index)
{
	return index == MSR_IA32_TSC_DEADLINE && vm->tsc_deadline_listed;
}

void vm_msr_exit(struct vm *vm, struct vcpu_exit *e)
{
	struct engine_msr *msr = e->msr;
	uint8_t data[8];

	if (!listed(vm, msr->index)) {
		msr->gp = true;
		return;
	}
	/* the pair tsc_to_ns converts from while the device answers */
	guest_tsc_note(&vm->guest_tsc, msr->tsc, vm->env.now_ns(vm->env.clock_ctx));
	for (unsigned i = 0; i < 8; i++)
		data[i] = (uint8_t)(msr->data >> (8 * i));
	if (!bus_access(&vm->msr, DEVICE_MSR_ADDR(MSR_VCPU, msr->index), data, 8,
			msr->write)) {
		msr->gp = true;	/* no device: the MSR is not there */
		return;
	}
	if (!msr->write) {
		msr->data = 0;
		for (unsigned i = 0; i < 8; i++)
			msr->data |= (uint64_t)data[i] << (8 * i);
	}
}

uint64_t vm_msr_tsc_to_ns(void *ctx, unsigned vcpu, uint64_t tsc)
{
	struct vm *vm = ctx;

	return guest_tsc_to_ns(&vm->guest_tsc, tsc);
}

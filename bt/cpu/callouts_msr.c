/*
 * RDMSR/WRMSR (SDM Vol. 2B): the CPU's MSRs from the model's MSR file
 * (cpu/cpu_msr.c); the MSRs that belong to a device (engine_msr_to_vmm:
 * the local APIC's IA32_TSC_DEADLINE) out to the VMM as EXIT_MSR, the
 * instruction completed at the next run from its answer, as an IN.
 */
#include <x86intrin.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/cpu/callouts.h"
#include "engines/engine.h"

/* RDMSR/WRMSR through the model's MSR file (cpu/cpu_msr.c); false: #GP(0). */
static bool msr_file(struct bt_cpu *cpu, bool write)
{
	uint32_t idx = cpu->gpr[HYVM_RCX];
	uint64_t v = ((uint64_t)cpu->gpr[HYVM_RDX] << 32) | cpu->gpr[HYVM_RAX];

	if (!write) {
		if (cpu_msr_read(&cpu->msrs, &cpu->arch, __rdtsc() + cpu->tsc_offset, idx, &v) ==
		    CPU_MSR_GP)
			return false;
		cpu->gpr[HYVM_RAX] = (uint32_t)v;
		cpu->gpr[HYVM_RDX] = (uint32_t)(v >> 32);
		return true;
	}
	bt_xfer_changed(cpu);	/* IA32_SYSENTER_CS/ESP/EIP among them */
	uint64_t host = __rdtsc(), tsc = host + cpu->tsc_offset;
	switch (cpu_msr_write(&cpu->msrs, &cpu->arch, &tsc, idx, v)) {
	case CPU_MSR_GP:
		return false;
	case CPU_MSR_TSC_WRITTEN:	/* IA32_TSC or IA32_TSC_ADJUST */
		cpu->tsc_offset = tsc - host;
		break;
	case CPU_MSR_EFER_CHANGED:
		/* NXE, and LME: inert until CR0.PG, where bt stops with
		 * EXIT_MODE_UNSUPPORTED (dispatch.c) for an engine that runs
		 * long mode */
		if (cpu->arch.cr0 & CR0_PG)
			cpu_paging_changed(cpu);
		break;
	case CPU_MSR_OK:
		break;
	}
	return true;
}

enum callout_result callout_msr(struct bt_cpu *cpu, bool write, uint32_t next,
				struct vcpu_exit *exit)
{
	uint32_t idx = cpu->gpr[HYVM_RCX];

	if (engine_msr_to_vmm(idx)) {
		cpu->msr.pending = true;
		cpu->msr.next_eip = next;
		cpu->msr.access = (struct engine_msr){
			.index = idx, .write = write,
			.data = write ? ((uint64_t)cpu->gpr[HYVM_RDX] << 32) | cpu->gpr[HYVM_RAX] : 0,
			.tsc = __rdtsc() + cpu->tsc_offset,
		};
		exit->kind = EXIT_MSR;
		exit->msr = &cpu->msr.access;
		return CALLOUT_EXIT;
	}
	if (!msr_file(cpu, write))
		guest_exception(cpu, VEC_GP, true, 0);
	else
		cpu->eip = next;
	return CALLOUT_DONE;
}

void callout_complete_msr(struct bt_cpu *cpu)
{
	const struct engine_msr *m = &cpu->msr.access;

	if (!cpu->msr.pending)
		return;
	cpu->msr.pending = false;
	if (m->gp) {
		guest_exception(cpu, VEC_GP, true, 0);	/* eip still at the instruction */
		return;
	}
	if (!m->write) {
		cpu->gpr[HYVM_RAX] = (uint32_t)m->data;
		cpu->gpr[HYVM_RDX] = (uint32_t)(m->data >> 32);
	}
	cpu->eip = cpu->msr.next_eip;
}

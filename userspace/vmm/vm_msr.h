/*
 * The VMM's side of EXIT_MSR: a guest RDMSR/WRMSR of an MSR that belongs
 * to a device (engine_msr_to_vmm) goes to the device that registered it
 * on the MSR bus (device_env.msr), if the VM's CPU model has the feature
 * the MSR comes with; otherwise #GP(0), as the CPU would raise.
 */
#ifndef HYVM_VM_MSR_H
#define HYVM_VM_MSR_H

#include <stdbool.h>
#include <hyvm/cpuid_table.h>

struct vm;
struct vcpu_exit;

/* What the model lists (vm_attach_engine calls it with the model). */
void vm_msr_set_model(struct vm *vm, const struct hyvm_cpuid_table *t);
/* Answers exit (EXIT_MSR): exit->msr.data for a read, or msr.gp. */
void vm_msr_exit(struct vm *vm, struct vcpu_exit *exit);
/* device_env.tsc_to_ns */
uint64_t vm_msr_tsc_to_ns(void *ctx, unsigned vcpu, uint64_t tsc);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU SVM state and the entry sequence around VMRUN.
 *
 * hyvm borrows SVM per entry instead of owning it: EFER.SVME and
 * VM_HSAVE_PA are set just before VMRUN and put back as they were right
 * after, with interrupts off, so a kvm_amd loaded in the same kernel keeps
 * its own host save area and never sees ours (which is freed on unload).
 */
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/io.h>
#include <linux/percpu.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/trapnr.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include "svm.h"

struct svm_cpu {
	struct page *hsave;		/* VM_HSAVE_PA: VMRUN's host save area */
	struct page *host_save;		/* our VMSAVE of the host's hidden state */
	u64 last_vcpu;			/* svm_vcpu.id that last ran here */
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpus);
bool svm_has_nrips;
u64 svm_iopm_pa, svm_msrpm_pa;
u32 svm_asid;
static struct page *iopm_pages, *msrpm_pages;

/*
 * The host's IDT with one change, #DB to hyvm_svm_db_iret without IST,
 * loaded around VMRUN while the debugger's breakpoints are armed in the
 * host's DR7 for QEMU (svm_enter_guest). QEMU 7.2's TCG keeps a data
 * watchpoint's hit as a pending debug request until the end of the
 * instruction; when the same instruction then exits (a MOVS reading a
 * watched word and writing outside RAM: a nested page fault), the request
 * survives the #VMEXIT, and QEMU takes it before the host's first
 * instruction, checking it against the host's DR7, which holds the same
 * slot. Its #DB then came through Linux's IST gate while TR still held
 * the guest's TSS (the host's comes with the VMLOAD after VMSAVE), so the
 * IST stack pointer was read from a guest address: the emulated host
 * triple-faulted (hyvm_fuzz, hyvm_abuse's watchpoint-then-exit). A real
 * CPU reports a data breakpoint as a trap once its instruction completes
 * (Intel SDM Vol. 3B 18.3.1.2), which an exiting one does not, and the
 * host never touches the lower-half slots armed here: on hardware this
 * IDT is never used.
 */
static gate_desc *db_idt;
static struct desc_ptr db_idt_ptr;

static int svm_db_idt_init(void)
{
	unsigned long fn = (unsigned long)hyvm_svm_db_iret;
	struct desc_ptr host;
	gate_desc *g;

	asm volatile("sidt %0" : "=m"(host));
	if (host.size >= PAGE_SIZE)
		return -EINVAL;
	db_idt = (gate_desc *)get_zeroed_page(GFP_KERNEL);
	if (!db_idt)
		return -ENOMEM;
	memcpy(db_idt, (void *)host.address, host.size + 1);
	g = &db_idt[X86_TRAP_DB];
	g->offset_low = (u16)fn;
	g->offset_middle = (u16)(fn >> 16);
	g->offset_high = (u32)(fn >> 32);
	g->segment = __KERNEL_CS;
	g->bits.ist = 0;
	g->bits.zero = 0;
	g->bits.type = GATE_INTERRUPT;
	g->bits.dpl = 0;
	g->bits.p = 1;
	db_idt_ptr.address = (unsigned long)db_idt;
	db_idt_ptr.size = host.size;
	return 0;
}

#define IOPM_ORDER	2	/* 12 KiB used (APM 15.10.1) */
#define MSRPM_ORDER	1	/* 8 KiB (APM 15.11) */

static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/*
 * APM 15.17: with GIF clear, interrupts and NMIs are held pending. They
 * stay pending across VMRUN and cause INTR/NMI intercepts while the guest
 * runs (V_INTR_MASKING keeps the guest's IF from masking them, 15.21.1);
 * they are taken by the host after STGI.
 */
void svm_enter_guest(struct svm_vcpu *sv)
{
	struct svm_cpu *c;
	const unsigned long *dr;
	/* the debugger's slots in the host's DR7 (below), db_idt with them */
	bool armed = sv->dbg.hw && (sv->dbg.host_dr7 & 0xff);
	struct desc_ptr host_idt;
	unsigned long flags;
	u64 efer, hsave_old;
	int cpu;

	kernel_fpu_begin();	/* also disables preemption */
	cpu = smp_processor_id();
	c = this_cpu_ptr(&svm_cpus);

	/* One ASID for all hyvm vCPUs: flush when another vCPU (or another
	 * CPU) used it last (APM 15.16, TLB_CONTROL). */
	if (sv->flush || sv->last_cpu != cpu || c->last_vcpu != sv->id)
		sv->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	else
		sv->vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	sv->flush = false;
	sv->last_cpu = cpu;
	c->last_vcpu = sv->id;

	asm volatile("fxrstorq %0" : : "m"(*(u8 (*)[512])sv->fxsave));

	local_irq_save(flags);
	rdmsrl(MSR_EFER, efer);
	rdmsrl(MSR_VM_HSAVE_PA, hsave_old);
	if (!(efer & EFER_SVME))
		wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(c->hsave));

	/* APM 15.5.1: VMRUN switches DR6/DR7 only; DR0-3 are ours to swap
	 * (the debugger's while it has breakpoints: svm_debug.c). */
	dr = sv->dbg.hw ? sv->dbg.dr : sv->dr;
	set_debugreg(dr[0], 0);
	set_debugreg(dr[1], 1);
	set_debugreg(dr[2], 2);
	set_debugreg(dr[3], 3);

	svm_clgi();
	/* The debugger's DR7 in the host register too, with GIF clear, just
	 * before VMRUN loads its own from the VMCB: QEMU's TCG SVM (the
	 * emulated AMD host of tests/kmod/run-svm.sh) arms breakpoints only
	 * on a MOV to DR7, not on VMRUN's load, so without this they never
	 * fire there. On hardware it is redundant. Only lower-half slots
	 * (svm_debug.c): the host code between here and VMRUN runs and
	 * touches kernel addresses only, so it cannot hit them. */
	if (armed) {
		/* GIF is clear: no interrupt or NMI comes through it */
		asm volatile("sidt %0" : "=m"(host_idt));
		asm volatile("lidt %0" : : "m"(db_idt_ptr));
		set_debugreg(sv->dbg.host_dr7, 7);
	}
	local_irq_enable();
	hyvm_svm_vmrun(sv->gprs, sv->vmcb_pa, page_to_phys(c->host_save));
	local_irq_disable();
	if (armed) {
		set_debugreg(0x400, 7);	/* disarmed; the host's own below */
		asm volatile("lidt %0" : : "m"(host_idt));
	}
	svm_stgi();

	if (!sv->dbg.hw) {
		get_debugreg(sv->dr[0], 0);
		get_debugreg(sv->dr[1], 1);
		get_debugreg(sv->dr[2], 2);
		get_debugreg(sv->dr[3], 3);
	}
	/* the host's breakpoints, if it has any armed (as KVM does) */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	wrmsrl(MSR_VM_HSAVE_PA, hsave_old);
	if (!(efer & EFER_SVME))
		wrmsrl(MSR_EFER, efer);
	local_irq_restore(flags);

	asm volatile("fxsaveq %0" : "=m"(*(u8 (*)[512])sv->fxsave));
	kernel_fpu_end();
}

void svm_cpu_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *c = per_cpu_ptr(&svm_cpus, cpu);

		if (c->hsave)
			__free_page(c->hsave);
		if (c->host_save)
			__free_page(c->host_save);
		c->hsave = c->host_save = NULL;
	}
	if (db_idt)
		free_page((unsigned long)db_idt);
	db_idt = NULL;
	if (iopm_pages)
		__free_pages(iopm_pages, IOPM_ORDER);
	if (msrpm_pages)
		__free_pages(msrpm_pages, MSRPM_ORDER);
	iopm_pages = msrpm_pages = NULL;
}

int svm_cpu_init(void)
{
	u32 eax, ebx, ecx, edx;
	int cpu;

	cpuid(0x8000000a, &eax, &ebx, &ecx, &edx);
	svm_has_nrips = edx & (1u << 3);
	if (ebx < 2)
		return -ENODEV;
	/* kvm_amd hands out ASIDs from 1 upwards: take the last one. */
	svm_asid = ebx - 1;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *c = per_cpu_ptr(&svm_cpus, cpu);
		int node = cpu_to_node(cpu);

		c->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		c->host_save = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!c->hsave || !c->host_save)
			goto nomem;
	}
	if (svm_db_idt_init())
		goto nomem;
	/* Every port and every MSR intercepted: all bits set. */
	iopm_pages = alloc_pages(GFP_KERNEL, IOPM_ORDER);
	msrpm_pages = alloc_pages(GFP_KERNEL, MSRPM_ORDER);
	if (!iopm_pages || !msrpm_pages)
		goto nomem;
	memset(page_address(iopm_pages), 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(page_address(msrpm_pages), 0xff, PAGE_SIZE << MSRPM_ORDER);
	svm_iopm_pa = page_to_phys(iopm_pages);
	svm_msrpm_pa = page_to_phys(msrpm_pages);
	return 0;
nomem:
	svm_cpu_exit();
	return -ENOMEM;
}

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Exit categories for VMX's raw exit reasons (the index of
 * struct hyvm_run.exit_count[]: basic exit reasons, Intel SDM Vol. 3D,
 * Appendix C), so the console sums them by kind. SVM's counters are
 * listed by exit code in engine_svm.c and need no categories.
 * Header-only, for hyvm.ko and user space alike.
 */
#ifndef HYVM_EXIT_CATEGORY_H
#define HYVM_EXIT_CATEGORY_H

enum hyvm_exit_cat {
	HYVM_CAT_IO,
	HYVM_CAT_CPUID,
	HYVM_CAT_MSR,
	HYVM_CAT_CR,
	HYVM_CAT_HLT,
	HYVM_CAT_EXCEPTION,
	HYVM_CAT_EXTINT,	/* external interrupt, NMI, SMI, INIT */
	HYVM_CAT_IRQ_WINDOW,
	HYVM_CAT_NPF,		/* EPT violation / misconfig, NPT fault */
	HYVM_CAT_SHUTDOWN,	/* triple fault */
	HYVM_CAT_OTHER,
	HYVM_CAT_COUNT
};

struct hyvm_exit_class {
	unsigned char cat;	/* enum hyvm_exit_cat */
};

/* VMX: exception or NMI (0) carries its vector in the exit's interruption
 * information, which the counters do not keep. */
static inline struct hyvm_exit_class hyvm_vmx_exit_class(unsigned int raw)
{
	struct hyvm_exit_class c = { HYVM_CAT_OTHER };

	switch (raw & 0xffff) {
	case 0:  c.cat = HYVM_CAT_EXCEPTION; break;
	case 1:  c.cat = HYVM_CAT_EXTINT; break;
	case 2:  c.cat = HYVM_CAT_SHUTDOWN; break;
	case 3: case 4: case 5: case 6: case 8:
		 c.cat = HYVM_CAT_EXTINT; break;	/* INIT, SIPI, I/O SMI, SMI, NMI window */
	case 7:  c.cat = HYVM_CAT_IRQ_WINDOW; break;
	case 10: c.cat = HYVM_CAT_CPUID; break;
	case 12: c.cat = HYVM_CAT_HLT; break;
	case 28: c.cat = HYVM_CAT_CR; break;
	case 30: c.cat = HYVM_CAT_IO; break;
	case 31: case 32: c.cat = HYVM_CAT_MSR; break;
	case 48: case 49: c.cat = HYVM_CAT_NPF; break;
	case 52: c.cat = HYVM_CAT_EXTINT; break;	/* preemption timer */
	}
	return c;
}

#endif

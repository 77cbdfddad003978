/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * One set of exit categories for VMX and SVM, so a console can show both
 * side by side; the raw reason (struct hyvm_run.raw_reason, the index of
 * exit_count[]) stays one key away. Header-only, for hyvm.ko and user
 * space alike.
 *
 * Raw reasons: VMX basic exit reasons (Intel SDM Vol. 3D, Appendix C);
 * SVM exit codes (AMD APM Vol. 2, Appendix C), with the nested page fault
 * (0x400) counted at HYVM_COUNTER_NPF.
 */
#ifndef HYVM_EXIT_CATEGORY_H
#define HYVM_EXIT_CATEGORY_H

enum hyvm_exit_cat {
	HYVM_CAT_IO,
	HYVM_CAT_MMIO,		/* from exit kinds: a nested fault outside RAM */
	HYVM_CAT_CPUID,
	HYVM_CAT_MSR,
	HYVM_CAT_CR,
	HYVM_CAT_HLT,
	HYVM_CAT_EXCEPTION,	/* vector in hyvm_exit_class.vector, if known */
	HYVM_CAT_EXTINT,	/* external interrupt, NMI, SMI, INIT */
	HYVM_CAT_IRQ_WINDOW,
	HYVM_CAT_NPF,		/* EPT violation / misconfig, NPT fault */
	HYVM_CAT_SHUTDOWN,	/* triple fault */
	HYVM_CAT_OTHER,
	HYVM_CAT_COUNT
};

static const char *const hyvm_exit_cat_names[HYVM_CAT_COUNT] = {
	"io", "mmio", "cpuid", "msr", "cr access", "hlt", "exception",
	"external interrupt", "interrupt window", "nested page fault",
	"shutdown", "other",
};

struct hyvm_exit_class {
	unsigned char cat;	/* enum hyvm_exit_cat */
	signed char vector;	/* HYVM_CAT_EXCEPTION: 0-31, or -1 unknown */
};

/* VMX: exception or NMI (0) carries its vector in the exit's interruption
 * information, which the counters do not keep. */
static inline struct hyvm_exit_class hyvm_vmx_exit_class(unsigned int raw)
{
	struct hyvm_exit_class c = { HYVM_CAT_OTHER, -1 };

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

static inline struct hyvm_exit_class hyvm_svm_exit_class(unsigned int raw)
{
	struct hyvm_exit_class c = { HYVM_CAT_OTHER, -1 };

	if (raw <= 0x0f || (raw >= 0x10 && raw <= 0x1f))
		c.cat = HYVM_CAT_CR;			/* CR reads and writes */
	else if (raw >= 0x40 && raw <= 0x5f) {
		c.cat = HYVM_CAT_EXCEPTION;
		c.vector = raw - 0x40;
	} else if (raw >= 0x60 && raw <= 0x63)
		c.cat = HYVM_CAT_EXTINT;		/* INTR, NMI, SMI, INIT */
	else if (raw == 0x64)
		c.cat = HYVM_CAT_IRQ_WINDOW;		/* VINTR */
	else if (raw == 0x72)
		c.cat = HYVM_CAT_CPUID;
	else if (raw == 0x78)
		c.cat = HYVM_CAT_HLT;
	else if (raw == 0x7b)
		c.cat = HYVM_CAT_IO;
	else if (raw == 0x7c)
		c.cat = HYVM_CAT_MSR;
	else if (raw == 0x7f)
		c.cat = HYVM_CAT_SHUTDOWN;
	else if (raw == 0x400 || raw == 254)	/* HYVM_COUNTER_NPF */
		c.cat = HYVM_CAT_NPF;
	return c;
}

#endif

/*
 * The CPU models: "host" (the host's identity, with only the features
 * every engine honours) and named older CPUs, whose identity (vendor,
 * family/model/stepping, maximum leaves, brand string, leaf 2 descriptors)
 * is that of QEMU's model of the same name, measured by running
 * tests/guests/cpuid.elf under qemu-system-x86_64 -cpu NAME, and whose
 * features are QEMU's filtered the same way as the host's.
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include "cpu/cpu_model.h"
#include "cpu/cpu_model_build.h"

#define BIT(n) (1u << (n))

/* What every engine honours, by register (bt is the limit: see bt/README.md
 * and the CR4 bits bt/callouts.c accepts). The APIC only when the machine
 * has a local APIC device (cpu_model_limits.local_apic, edx1_honoured),
 * no MCE/MCA (no machine-check MSRs), no MTRR, no VME/DE/PSE36, no
 * MONITOR, XSAVE/AVX, x2APIC, PCID, VMX/SVM. */
static const uint32_t honoured_1_edx =
	BIT(CPUID_1_EDX_FPU) | BIT(CPUID_1_EDX_PSE) | BIT(CPUID_1_EDX_TSC) |
	BIT(CPUID_1_EDX_MSR) | BIT(CPUID_1_EDX_PAE) | BIT(CPUID_1_EDX_CX8) |
	BIT(CPUID_1_EDX_SEP) | BIT(CPUID_1_EDX_PGE) | BIT(CPUID_1_EDX_CMOV) |
	BIT(CPUID_1_EDX_PAT) | BIT(CPUID_1_EDX_CLFSH) | BIT(CPUID_1_EDX_MMX) |
	BIT(CPUID_1_EDX_FXSR) | BIT(CPUID_1_EDX_SSE) | BIT(CPUID_1_EDX_SSE2);
static uint32_t edx1_honoured(const struct cpu_model_limits *lim)
{
	return honoured_1_edx | (lim->local_apic ? BIT(CPUID_1_EDX_APIC) : 0);
}

/* SSE3, SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, RDRAND: bt runs them
 * as the host does */
static const uint32_t honoured_1_ecx =
	BIT(0) | BIT(9) | BIT(13) | BIT(19) | BIT(20) | BIT(22) | BIT(23) | BIT(30);
static const uint32_t honoured_7_ebx = BIT(3) | BIT(8);	/* BMI1, BMI2 */
/* LAHF/SAHF, LZCNT, SSE4A, misaligned SSE, PREFETCHW */
static const uint32_t honoured_x1_ecx = BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8);
/* AMD's copies of leaf 1 EDX bits 0-9, 12-17, 23, 24 (APM Vol. 3, CPUID
 * Fn8000_0001_EDX; bit 11 there is SYSCALL, not SEP) */
static const uint32_t amd_x1_edx_from_1 = 0x0183f3ffu;

struct named_model {
	const char *name, *describe;
	const char *vendor;		/* 12 characters */
	uint32_t signature;		/* leaf 1 EAX */
	uint32_t leaf1_ebx;		/* CLFLUSH line size etc. */
	uint32_t max_basic, max_ext;
	uint32_t ecx1, edx1, ecx_x1, edx_x1;
	uint32_t leaf2[4];		/* Intel cache descriptors, if max_basic >= 2 */
	uint32_t x8_eax;		/* address sizes, if max_ext >= 0x80000008 */
	const char *brand;		/* 48 bytes at most; NULL: none */
};

static const struct named_model named[] = {
	{ "pentium3", "Intel Pentium III (family 6 model 7 stepping 3), no extended leaves",
	  "GenuineIntel", 0x00000673, 0, 3, 0, 0, 0x0383fbfd, 0, 0,
	  { 0x00000001, 0, 0x0000004d, 0x002c307d }, 0, NULL },
	{ "core2duo", "Intel Core 2 Duo T7700 (family 6 model 15 stepping 11), long mode, NX",
	  "GenuineIntel", 0x000006fb, 0x00000800, 10, 0x80000008,
	  BIT(0) | BIT(9) | BIT(13), 0x0fcbfbfd, BIT(0),
	  BIT(CPUID_X1_EDX_SYSCALL) | BIT(CPUID_X1_EDX_NX) | BIT(CPUID_X1_EDX_LM),
	  { 0x00000001, 0, 0x0000004d, 0x002c307d }, 0x00003028,
	  "Intel(R) Core(TM)2 Duo CPU     T7700  @ 2.40GHz" },
};
#define NR_NAMED (sizeof(named) / sizeof(named[0]))

static const char *const all_names[] = { "host", "pentium3", "core2duo", NULL };

const char *const *cpu_model_names(void)
{
	return all_names;
}

const char *cpu_model_describe(const char *name)
{
	if (!strcmp(name, "host"))
		return "the host CPU's identity, features limited to what every engine honours (default)";
	for (size_t i = 0; i < NR_NAMED; i++)
		if (!strcmp(name, named[i].name))
			return named[i].describe;
	return NULL;
}

bool cpu_model_exists(const char *name)
{
	return name && cpu_model_describe(name);
}

void cpu_model_host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

static void put(struct hyvm_cpuid_table *t, uint32_t fn, uint32_t index, bool indexed,
		uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	struct hyvm_cpuid_entry *e;

	if (t->nent >= HYVM_CPUID_MAX_ENTRIES)
		return;
	e = &t->entries[t->nent++];
	*e = (struct hyvm_cpuid_entry){ .function = fn, .index = index,
		.flags = indexed ? HYVM_CPUID_INDEXED : 0, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

static void put_vendor(struct hyvm_cpuid_table *t, uint32_t fn, uint32_t max, const char *v)
{
	uint32_t w[3];

	memcpy(w, v, 12);
	put(t, fn, 0, false, max, w[0], w[2], w[1]);	/* EBX EDX ECX spell it */
}

static void put_brand(struct hyvm_cpuid_table *t, const char *brand)
{
	uint32_t w[12] = { 0 };

	memcpy(w, brand, strnlen(brand, 47));
	for (int i = 0; i < 3; i++)
		put(t, 0x80000002 + i, 0, false, w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]);
}

/* The hyvm leaf: max hypervisor leaf, "hyvmhyvmhyvm". */
static void put_hypervisor(struct hyvm_cpuid_table *t)
{
	put(t, 0x40000000, 0, false, 0x40000000, CPU_MODEL_HV_SIGNATURE,
	    CPU_MODEL_HV_SIGNATURE, CPU_MODEL_HV_SIGNATURE);
}

static uint32_t ext1_edx(enum cpu_vendor v, uint32_t edx1, uint32_t want,
			 const struct cpu_model_limits *lim)
{
	uint32_t r = want & BIT(CPUID_X1_EDX_NX);

	if (v == CPU_VENDOR_AMD)
		r |= edx1 & amd_x1_edx_from_1;
	/* SYSCALL goes with long mode: bt runs no SYSCALL, and outside
	 * 64-bit mode Intel CPUs do not either (SDM Vol. 2B, SYSCALL) */
	if (lim->long_mode)
		r |= want & (BIT(CPUID_X1_EDX_LM) | BIT(CPUID_X1_EDX_SYSCALL));
	return r;
}

static enum cpu_vendor vendor_of(const char *v)
{
	return !memcmp(v, "GenuineIntel", 12) ? CPU_VENDOR_INTEL :
	       !memcmp(v, "AuthenticAMD", 12) ? CPU_VENDOR_AMD : CPU_VENDOR_OTHER;
}

static void build_host(const struct cpu_model_limits *lim, cpu_model_host_fn host,
		       struct hyvm_cpuid_table *t)
{
	uint32_t r[4], l1[4], tsc[4], max_basic, max_ext, host_max;
	char vendor[12];
	enum cpu_vendor v;

	host(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	v = vendor_of(vendor);
	host_max = r[0];
	max_basic = r[0] < 7 ? r[0] : 7;
	/* The TSC leaves, when the host has them (Intel since Skylake; AMD
	 * has neither, APM Vol. 3 Appendix E): every engine's guest TSC
	 * ticks at the host's rate (bt reads it, kvm, svm and vmx offset it),
	 * so the host's ratio is the guest's and Linux learns the TSC's
	 * frequency without calibrating it (native_calibrate_tsc). Leaves
	 * 8-0x14 in between read as zeros: no feature of theirs is listed. */
	if (v == CPU_VENDOR_INTEL && host_max >= 0x15) {
		host(0x15, 0, tsc);
		if (tsc[0] && tsc[1])	/* SDM Vol. 2A CPUID 15H: 0 = not enumerated */
			max_basic = host_max >= 0x16 ? 0x16 : 0x15;
	}
	put_vendor(t, 0, max_basic, vendor);
	host(1, 0, l1);
	/* EBX: brand index and CLFLUSH size; one logical CPU, APIC ID 0
	 * (the engine puts the vCPU's in bits 31:24) */
	put(t, 1, 0, false, l1[0], l1[1] & 0xffffu,
	    (l1[2] & honoured_1_ecx) | BIT(CPUID_1_ECX_HYPERVISOR) |
	    (lim->tsc_deadline ? BIT(CPUID_1_ECX_TSC_DEADLINE) : 0),
	    l1[3] & edx1_honoured(lim));
	if (v == CPU_VENDOR_INTEL && max_basic >= 2) {
		host(2, 0, r);
		put(t, 2, 0, false, r[0], r[1], r[2], r[3]);
	}
	if (v == CPU_VENDOR_INTEL && max_basic >= 4) {
		/* deterministic cache parameters, one core and one thread
		 * (SDM Vol. 2A, CPUID leaf 4: EAX[31:26] and [25:14]) */
		for (uint32_t i = 0; i < 8; i++) {
			host(4, i, r);
			put(t, 4, i, true, r[0] & 0x3fffu, r[1], r[2], r[3]);
			if (!(r[0] & 0x1f))
				break;
		}
	}
	if (max_basic >= 7) {
		host(7, 0, r);
		put(t, 7, 0, true, 0, (r[1] & honoured_7_ebx) |
		    (lim->tsc_adjust ? BIT(CPUID_7_EBX_TSC_ADJUST) : 0), 0, 0);
	}
	if (max_basic >= 0x15) {
		/* TSC/crystal ratio and crystal Hz (SDM Vol. 2A, CPUID 15H) */
		put(t, 0x15, 0, false, tsc[0], tsc[1], tsc[2], 0);
		if (max_basic >= 0x16) {
			/* base, maximum and bus MHz (CPUID 16H) */
			host(0x16, 0, r);
			put(t, 0x16, 0, false, r[0] & 0xffffu, r[1] & 0xffffu, r[2] & 0xffffu, 0);
		}
	}
	put_hypervisor(t);
	host(0x80000000, 0, r);
	max_ext = r[0] >= 0x80000000u && r[0] <= 0x8000ffffu ? r[0] : 0;
	if (max_ext > 0x80000008u)
		max_ext = 0x80000008u;
	if (!max_ext)
		goto out;
	put_vendor(t, 0x80000000, max_ext, vendor);
	host(0x80000001, 0, r);
	put(t, 0x80000001, 0, false, v == CPU_VENDOR_AMD ? r[0] : 0, 0,
	    r[2] & honoured_x1_ecx, ext1_edx(v, l1[3] & edx1_honoured(lim), r[3], lim));
	for (uint32_t fn = 0x80000002; fn <= 0x80000004 && fn <= max_ext; fn++) {
		host(fn, 0, r);
		put(t, fn, 0, false, r[0], r[1], r[2], r[3]);
	}
	for (uint32_t fn = 0x80000005; fn <= 0x80000006 && fn <= max_ext; fn++) {
		host(fn, 0, r);	/* cache and TLB descriptions */
		put(t, fn, 0, false, r[0], r[1], r[2], r[3]);
	}
	if (max_ext >= 0x80000007) {
		host(0x80000007, 0, r);	/* invariant TSC: bt's TSC is the host's */
		put(t, 0x80000007, 0, false, 0, 0, 0, r[3] & BIT(8));
	}
	if (max_ext >= 0x80000008) {
		host(0x80000008, 0, r);	/* address sizes only; one core */
		put(t, 0x80000008, 0, false, r[0] & 0xffffu, 0, 0, 0);
	}
out:
	t->out_of_range = v == CPU_VENDOR_INTEL ? HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC :
						  HYVM_CPUID_OUT_OF_RANGE_ZERO;
}

static void build_named(const struct named_model *m, const struct cpu_model_limits *lim,
			cpu_model_host_fn host, struct hyvm_cpuid_table *t)
{
	uint32_t h1[4], hx[4] = { 0 }, r[4];
	enum cpu_vendor v = vendor_of(m->vendor);

	/* a feature the host lacks is one bt or kvm cannot give either */
	host(1, 0, h1);
	host(0x80000000, 0, r);
	if (r[0] >= 0x80000001 && r[0] <= 0x8000ffffu)
		host(0x80000001, 0, hx);
	put_vendor(t, 0, m->max_basic, m->vendor);
	uint32_t edx1 = m->edx1 & edx1_honoured(lim) & h1[3];
	put(t, 1, 0, false, m->signature, m->leaf1_ebx,
	    (m->ecx1 & honoured_1_ecx & h1[2]) | BIT(31), edx1);
	if (m->max_basic >= 2)
		put(t, 2, 0, false, m->leaf2[0], m->leaf2[1], m->leaf2[2], m->leaf2[3]);
	put_hypervisor(t);
	if (m->max_ext) {
		put_vendor(t, 0x80000000, m->max_ext, m->vendor);
		put(t, 0x80000001, 0, false, v == CPU_VENDOR_AMD ? m->signature : 0, 0,
		    m->ecx_x1 & honoured_x1_ecx & hx[2],
		    ext1_edx(v, edx1, m->edx_x1 & hx[3], lim));
		if (m->brand && m->max_ext >= 0x80000004)
			put_brand(t, m->brand);
		if (m->max_ext >= 0x80000008)
			put(t, 0x80000008, 0, false, m->x8_eax, 0, 0, 0);
	}
	t->out_of_range = v == CPU_VENDOR_INTEL ? HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC :
						  HYVM_CPUID_OUT_OF_RANGE_ZERO;
}

int cpu_model_build_with(const char *name, const struct cpu_model_limits *lim,
			 cpu_model_host_fn host, struct cpu_model *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!cpu_model_exists(name)) {
		snprintf(err, errlen, "unknown CPU model '%s' (hyvm run --cpu help lists them)",
			 name ? name : "");
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (!strcmp(name, "host")) {
		build_host(lim, host, &out->cpuid);
		return 0;
	}
	for (size_t i = 0; i < NR_NAMED; i++)
		if (!strcmp(name, named[i].name))
			build_named(&named[i], lim, host, &out->cpuid);
	return 0;
}

int cpu_model_build(const char *name, const struct cpu_model_limits *lim,
		    struct cpu_model *out, char *err, size_t errlen)
{
	return cpu_model_build_with(name, lim, cpu_model_host_cpuid, out, err, errlen);
}

bool cpu_model_long_mode(const char *name, const struct cpu_model_limits *lim, bool *gbpages)
{
	struct cpu_model m;
	char err[128];

	*gbpages = false;
	if (cpu_model_build(name, lim, &m, err, sizeof(err)) < 0)
		return false;
	*gbpages = cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_PAGE1GB);
	return cpu_model_has(&m.cpuid, 0x80000001, CPUID_REG_EDX, CPUID_X1_EDX_LM);
}

enum cpu_vendor cpu_model_vendor(const struct hyvm_cpuid_table *t)
{
	const struct hyvm_cpuid_entry *e = hyvm_cpuid_find(t, 0, 0);
	char v[12];

	if (!e)
		return CPU_VENDOR_OTHER;
	memcpy(v, &e->ebx, 4);
	memcpy(v + 4, &e->edx, 4);
	memcpy(v + 8, &e->ecx, 4);
	return vendor_of(v);
}

unsigned cpu_model_family(const struct hyvm_cpuid_table *t)
{
	uint32_t r[4];
	unsigned f;

	hyvm_cpuid_lookup(t, 1, 0, r);
	f = (r[0] >> 8) & 0xf;
	return f == 0xf ? f + ((r[0] >> 20) & 0xff) : f;
}

bool cpu_model_has(const struct hyvm_cpuid_table *t, uint32_t leaf, int reg, int bit)
{
	uint32_t r[4];
	const struct hyvm_cpuid_entry *max = hyvm_cpuid_find(t, leaf & 0xffff0000u, 0);

	if (!max || leaf > max->eax)
		return false;	/* not the repeated highest basic leaf */
	hyvm_cpuid_lookup(t, leaf, 0, r);
	return r[reg] & (1u << bit);
}

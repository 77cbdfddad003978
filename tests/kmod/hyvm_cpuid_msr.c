/*
 * HYVM_SET_CPUID and the MSRs hyvm.ko implements, seen from a guest. A
 * real-mode guest executes CPUID for a list of (EAX, ECX) pairs and
 * reports each answer by port I/O; it must see exactly the table (through
 * hyvm_cpuid_lookup, the one lookup every engine uses) with the initial
 * APIC ID of its vCPU. Then RDMSR/WRMSR, one instruction per run, on the
 * MSRs the table's vendor and features imply: AMD's legacy performance
 * counters, PAT, MTRRs, machine check, and #GP where the SDM/APM say.
 */
#include <stdint.h>
#include "hyvm_test.h"

/* The guest: for each (EAX, ECX) pair at 0x2000 until EAX = ffffffffh,
 * CPUID, then OUT EAX, EBX, ECX, EDX to port 0xe9 as dwords; HLT. */
extern const unsigned char cpuid_guest[], cpuid_guest_end[];
asm(".pushsection .rodata\n"
    "cpuid_guest:\n"
    ".code16\n"
    "	mov $0x2000, %si\n"
    "1:	mov (%si), %eax\n"
    "	cmp $0xffffffff, %eax\n"
    "	je 2f\n"
    "	mov 4(%si), %ecx\n"
    "	cpuid\n"
    "	mov %edx, %edi\n"
    "	mov $0xe9, %dx\n"
    "	out %eax, %dx\n"
    "	mov %ebx, %eax\n"
    "	out %eax, %dx\n"
    "	mov %ecx, %eax\n"
    "	out %eax, %dx\n"
    "	mov %edi, %eax\n"
    "	out %eax, %dx\n"
    "	add $8, %si\n"
    "	jmp 1b\n"
    "2:	hlt\n"
    ".code64\n"
    "cpuid_guest_end:\n"
    ".popsection\n");

static void entry(struct hyvm_cpuid_table *t, uint32_t fn, uint32_t idx, uint32_t flags,
		  uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	struct hyvm_cpuid_entry *e = &t->entries[t->nent++];

	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

#define EDX1_FEATURES	((1u << 4) | (1u << 5) | (1u << 9) | (1u << 11) | (1u << 12) | \
			 (1u << 14) | (1u << 16))	/* TSC MSR APIC SEP MTRR MCA PAT */
#define EDX81_FEATURES	((1u << 11) | (1u << 20) | (1u << 29))	/* SYSCALL NX LM */

/* A CPU model: vendor, family 6, the features above, MAXPHYADDR 40. */
static void make_table(struct hyvm_cpuid_table *t, const char *vendor, uint32_t oor)
{
	uint32_t v[3];

	memcpy(v, vendor, 12);		/* EBX, EDX, ECX order */
	memset(t, 0, sizeof(*t));
	t->out_of_range = oor;
	entry(t, 0, 0, 0, 0xd, v[0], v[2], v[1]);
	/* EBX: APIC ID field ff (the vCPU's replaces it); ECX: OSXSAVE set
	 * (CR4.OSXSAVE is 0, so the guest must see it clear) */
	entry(t, 1, 0, 0, 0x000306c3, 0xff010800, 0x08000001 | (1u << 31), EDX1_FEATURES);
	entry(t, 7, 0, HYVM_CPUID_INDEXED, 1, 0x209, 0, 0);
	entry(t, 7, 1, HYVM_CPUID_INDEXED, 0, 0x11111111, 0, 0);
	entry(t, 0xb, 0, HYVM_CPUID_INDEXED, 1, 1, 0x100, 0xdeadbeef);
	entry(t, 0xd, 0, HYVM_CPUID_INDEXED, 0xdd, 0xd0, 0xd1, 0xd2);
	entry(t, 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	entry(t, 0x80000001, 0, 0, 0, 0, 1, EDX81_FEATURES);
	entry(t, 0x80000008, 0, 0, 0x3028, 0, 0, 0);
}

static const uint32_t queries[][2] = {
	{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 7, 0 }, { 7, 1 }, { 7, 5 }, { 0xb, 0 }, { 0xb, 1 },
	{ 0xd, 0 }, { 0x20, 0 }, { 0x40000000, 0 }, { 0x80000000, 0 }, { 0x80000001, 0 },
	{ 0x80000008, 0 }, { 0x80000020, 0 },
};
#define NQ (sizeof(queries) / sizeof(queries[0]))

/* What the guest must see: the table's answer, then the per-vCPU bits
 * (SDM Vol. 2A CPUID). */
static void expected(const struct hyvm_cpuid_table *t, unsigned index, uint32_t fn,
		     uint32_t idx, uint32_t r[4])
{
	uint32_t max[4];

	hyvm_cpuid_lookup(t, fn, idx, r);
	hyvm_cpuid_lookup(t, 0, 0, max);
	if (fn == 1) {
		r[1] = (r[1] & 0x00ffffff) | (index << 24);
		r[2] &= ~(1u << 27);
	}
	if ((fn == 0xb || fn == 0x1f) && fn <= max[0])
		r[3] = index;
}

/* Runs the CPUID guest on vcpu; fills got[NQ][4]. */
static int run_cpuid_guest(struct test_vm *t, int vcpu, struct hyvm_run *run,
			   uint32_t got[][4], const char *name)
{
	struct hyvm_cpu_state st;
	unsigned q, i;

	memcpy(t->ram + 0x1000, cpuid_guest, cpuid_guest_end - cpuid_guest);
	for (q = 0; q < NQ; q++)
		memcpy(t->ram + 0x2000 + 8 * q, queries[q], 8);
	memset(t->ram + 0x2000 + 8 * NQ, 0xff, 8);
	real_mode_state(&st, 0x1000, 0);
	if (ioctl(vcpu, HYVM_SET_STATE, &st)) {
		check(0, name, "HYVM_SET_STATE: %s", strerror(errno));
		return -1;
	}
	for (q = 0; q < NQ; q++)
		for (i = 0; i < 4; i++) {
			if (ioctl(vcpu, HYVM_RUN, 0) || run->exit_kind != HYVM_EXIT_IO ||
			    run->io.port != 0xe9 || run->io.size != 4 || !run->io.write) {
				check(0, name, "query %u reg %u: kind %u port %#x size %u raw %#x",
				      q, i, run->exit_kind, run->io.port, run->io.size,
				      run->raw_reason);
				return -1;
			}
			memcpy(&got[q][i], run->io_data, 4);
		}
	if (ioctl(vcpu, HYVM_RUN, 0) || run->exit_kind != HYVM_EXIT_HLT) {
		check(0, name, "no HLT at the end: kind %u", run->exit_kind);
		return -1;
	}
	return 0;
}

static void compare(const struct hyvm_cpuid_table *tab, unsigned index, uint32_t got[][4],
		    const char *name)
{
	unsigned q, bad = 0;
	uint32_t want[4];

	for (q = 0; q < NQ; q++) {
		expected(tab, index, queries[q][0], queries[q][1], want);
		if (memcmp(want, got[q], sizeof(want))) {
			if (!bad++)
				check(0, name, "CPUID %#x/%u: got %08x %08x %08x %08x, want "
				      "%08x %08x %08x %08x", queries[q][0], queries[q][1],
				      got[q][0], got[q][1], got[q][2], got[q][3],
				      want[0], want[1], want[2], want[3]);
		}
	}
	if (!bad)
		check(1, name, "");
}

static void test_cpuid(void)
{
	static struct hyvm_cpuid_table tab;
	struct test_vm t;
	struct hyvm_run *run3;
	uint32_t got[NQ][4];
	int vcpu3;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "cpuid-setup", "%s", strerror(errno));
	make_table(&tab, "AuthenticAMD", HYVM_CPUID_OUT_OF_RANGE_ZERO);
	check(ioctl(t.vcpu, HYVM_SET_CPUID, &tab) == 0, "cpuid-set", "%s", strerror(errno));
	check_errno(ioctl(t.vm, HYVM_SET_CPUID, &tab), ENOTTY, "cpuid-set-on-vm-fd");
	if (!run_cpuid_guest(&t, t.vcpu, t.run, got, "cpuid-guest-run")) {
		compare(&tab, 0, got, "cpuid-table-exact");
		/* a few answers spelled out, not only through the lookup */
		check(got[0][1] == 0x68747541 && got[0][0] == 0xd, "cpuid-vendor-leaf0",
		      "eax %#x ebx %#x", got[0][0], got[0][1]);
		check(got[1][1] == 0x00010800 && !(got[1][2] & (1u << 27)) &&
		      got[1][3] == EDX1_FEATURES, "cpuid-leaf1-apic-id-osxsave",
		      "ebx %#x ecx %#x edx %#x", got[1][1], got[1][2], got[1][3]);
		check(got[4][1] == 0x11111111 && got[5][1] == 0 && got[2][0] == 0,
		      "cpuid-subleaf-and-absent", "7/1 ebx %#x 7/5 ebx %#x 2 eax %#x",
		      got[4][1], got[5][1], got[2][0]);
		check(got[9][0] == 0 && got[14][0] == 0 && got[10][0] == 0,
		      "cpuid-out-of-range-zero", "0x20 eax %#x 0x80000020 eax %#x",
		      got[9][0], got[14][0]);
		check(got[6][3] == 0 && got[7][3] == 0, "cpuid-x2apic-id", "edx %#x %#x",
		      got[6][3], got[7][3]);
	}

	/* vCPU 3 of the same VM: APIC ID 3 in leaf 1 and leaf 0Bh */
	vcpu3 = ioctl(t.vm, HYVM_CREATE_VCPU, 3);
	run3 = vcpu3 < 0 ? MAP_FAILED :
		mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu3, 0);
	if (run3 == MAP_FAILED) {
		check(0, "cpuid-vcpu3", "%s", strerror(errno));
	} else {
		make_table(&tab, "GenuineIntel", HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC);
		check(ioctl(vcpu3, HYVM_SET_CPUID, &tab) == 0, "cpuid-set-vcpu3", "%s",
		      strerror(errno));
		if (!run_cpuid_guest(&t, vcpu3, run3, got, "cpuid-guest-run-vcpu3")) {
			compare(&tab, 3, got, "cpuid-table-exact-vcpu3");
			check(got[1][1] >> 24 == 3 && got[6][3] == 3, "cpuid-apic-id-vcpu3",
			      "leaf 1 ebx %#x, 0xb edx %#x", got[1][1], got[6][3]);
			/* Intel: above the maximum, the highest basic leaf (0xd) */
			check(got[9][0] == 0xdd && got[14][0] == 0xdd, "cpuid-out-of-range-intel",
			      "0x20 eax %#x 0x80000020 eax %#x", got[9][0], got[14][0]);
		}
		munmap(run3, HYVM_RUN_SIZE);
	}
	if (vcpu3 >= 0)
		close(vcpu3);
	test_vm_destroy(&t);
}

/* One RDMSR or WRMSR in real mode: code at 0x1000 (wrmsr; hlt) and 0x1010
 * (rdmsr; hlt), #GP handler at 0x1100 (hlt). 0: done, 1: #GP, -1: other. */
static int guest_msr(struct test_vm *t, int write, uint32_t msr, uint64_t *val)
{
	struct hyvm_cpu_state st;
	unsigned ip = write ? 0x1000 : 0x1010;

	if (ioctl(t->vcpu, HYVM_GET_STATE, &st))
		return -1;
	st.rip = ip;
	st.gpr[HYVM_RSP] = 0x8000;
	st.gpr[HYVM_RCX] = msr;
	st.gpr[HYVM_RAX] = write ? (uint32_t)*val : 0;
	st.gpr[HYVM_RDX] = write ? *val >> 32 : 0;
	if (ioctl(t->vcpu, HYVM_SET_STATE, &st) || ioctl(t->vcpu, HYVM_RUN, 0) ||
	    t->run->exit_kind != HYVM_EXIT_HLT || ioctl(t->vcpu, HYVM_GET_STATE, &st))
		return -1;
	if (st.rip == 0x1101)
		return 1;
	if (st.rip != ip + 3)
		return -1;
	if (!write)
		*val = (uint32_t)st.gpr[HYVM_RAX] | (st.gpr[HYVM_RDX] << 32);
	return 0;
}

static void msr_roundtrip(struct test_vm *t, uint32_t msr, uint64_t wr, uint64_t want,
			  const char *name)
{
	uint64_t v = wr;
	int w = guest_msr(t, 1, msr, &v), r = w ? -2 : guest_msr(t, 0, msr, &v);

	check(w == 0 && r == 0 && v == want, name, "msr %#x: wrmsr %d rdmsr %d read %#llx want %#llx",
	      msr, w, r, (unsigned long long)v, (unsigned long long)want);
}

static void msr_read_is(struct test_vm *t, uint32_t msr, uint64_t want, const char *name)
{
	uint64_t v = 0;
	int r = guest_msr(t, 0, msr, &v);

	check(r == 0 && v == want, name, "msr %#x: rdmsr %d read %#llx want %#llx", msr, r,
	      (unsigned long long)v, (unsigned long long)want);
}

static void msr_gp(struct test_vm *t, int write, uint32_t msr, uint64_t wr, const char *name)
{
	uint64_t v = wr;
	int r = guest_msr(t, write, msr, &v);

	check(r == 1, name, "%s %#x (value %#llx): %s", write ? "wrmsr" : "rdmsr", msr,
	      (unsigned long long)wr, r == 0 ? "no #GP" : "failed run");
}

static void test_msrs(void)
{
	static struct hyvm_cpuid_table tab;
	struct hyvm_cpu_state st;
	struct test_vm t;
	char name[64];
	uint64_t v;
	unsigned i;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "msr-setup", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, "\x0f\x30\xf4", 3);
	memcpy(t.ram + 0x1010, "\x0f\x32\xf4", 3);
	t.ram[0x1100] = 0xf4;
	*(uint16_t *)(t.ram + 13 * 4) = 0x1100;		/* IVT[13] = 0000:1100 */
	*(uint16_t *)(t.ram + 13 * 4 + 2) = 0;
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	make_table(&tab, "AuthenticAMD", HYVM_CPUID_OUT_OF_RANGE_ZERO);
	check(ioctl(t.vcpu, HYVM_SET_CPUID, &tab) == 0, "msr-set-cpuid-amd", "%s", strerror(errno));

	/* APM Vol. 2, 13.2: PerfEvtSel0-3 and PerfCtr0-3 read back */
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "msr-amd-perfevtsel%u", i);
		msr_roundtrip(&t, 0xc0010000 + i, 0x430076 + i, 0x430076 + i, name);
		snprintf(name, sizeof(name), "msr-amd-perfctr%u", i);
		msr_roundtrip(&t, 0xc0010004 + i, 0x123456789abcULL + i, 0x123456789abcULL + i, name);
	}
	msr_read_is(&t, 0xc0010001, 0x430077, "msr-amd-perfevtsel1-kept");
	msr_gp(&t, 1, 0xc0010000, 1ULL << 63, "msr-amd-perfevtsel-reserved-gp");
	msr_gp(&t, 0, 0xc0010200, 0, "msr-amd-perfctr-core-absent-gp");
	msr_gp(&t, 0, 0x1a0, 0, "msr-misc-enable-amd-gp");

	/* PAT (SDM 11.12.2): round trip, reserved types #GP, kept in state */
	msr_roundtrip(&t, 0x277, 0x0001040600070406ULL, 0x0001040600070406ULL, "msr-pat");
	msr_gp(&t, 1, 0x277, 0x0007040600070402ULL, "msr-pat-reserved-type-gp");
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.pat == 0x0001040600070406ULL, "msr-pat-in-state", "pat %#llx",
	      (unsigned long long)st.pat);

	/* MTRRs (SDM 11.11) */
	msr_read_is(&t, 0xfe, 0x508, "msr-mtrrcap");
	msr_gp(&t, 1, 0xfe, 0x508, "msr-mtrrcap-read-only-gp");
	msr_roundtrip(&t, 0x2ff, 0xc06, 0xc06, "msr-mtrr-deftype");
	msr_gp(&t, 1, 0x2ff, 0xc02, "msr-mtrr-deftype-type2-gp");
	msr_gp(&t, 1, 0x2ff, 0x1006, "msr-mtrr-deftype-reserved-gp");
	msr_roundtrip(&t, 0x250, 0x0606060606060606ULL, 0x0606060606060606ULL, "msr-mtrr-fix64k");
	msr_roundtrip(&t, 0x26f, 0x0505050504040400ULL, 0x0505050504040400ULL, "msr-mtrr-fix4k-f8000");
	msr_gp(&t, 1, 0x268, 0x0707070707070707ULL, "msr-mtrr-fix-type7-gp");
	msr_roundtrip(&t, 0x200, 0x80000006ULL, 0x80000006ULL, "msr-mtrr-physbase0");
	msr_roundtrip(&t, 0x20f, 0xff80000800ULL, 0xff80000800ULL, "msr-mtrr-physmask7");
	msr_gp(&t, 1, 0x201, 1ULL << 45 | 0x800, "msr-mtrr-physmask-above-maxphyaddr-gp");
	msr_gp(&t, 0, 0x210, 0, "msr-mtrr-var8-absent-gp");

	/* machine check (SDM 15.3) */
	msr_read_is(&t, 0x179, 0x104, "msr-mcg-cap");
	msr_roundtrip(&t, 0x17b, 0, 0, "msr-mcg-ctl");
	msr_gp(&t, 1, 0x17b, 5, "msr-mcg-ctl-partial-gp");
	msr_roundtrip(&t, 0x401, 0, 0, "msr-mc0-status-zero");
	msr_gp(&t, 1, 0x401, 1, "msr-mc0-status-nonzero-gp");
	msr_gp(&t, 0, 0x410, 0, "msr-mc4-absent-gp");

	/* the MSRs in the VMCB/VMCS, through the common checks */
	msr_roundtrip(&t, 0xc0000082, 0xffff800012345678ULL, 0xffff800012345678ULL, "msr-lstar");
	msr_gp(&t, 1, 0xc0000082, 0x0000800000000000ULL, "msr-lstar-noncanonical-gp");
	msr_gp(&t, 1, 0xc0000080, 1ULL << 12, "msr-efer-svme-gp");
	msr_roundtrip(&t, 0xc0000080, 0x801, 0x801, "msr-efer-nx-sce");
	msr_read_is(&t, 0x8b, 1ULL << 32, "msr-ucode-rev");
	v = 1ULL << 40;
	check(guest_msr(&t, 1, 0x10, &v) == 0 && guest_msr(&t, 0, 0x10, &v) == 0 &&
	      v >= 1ULL << 40 && v < (1ULL << 40) + (1ULL << 38), "msr-tsc-write",
	      "tsc %#llx", (unsigned long long)v);
	msr_gp(&t, 0, 0x12345678, 0, "msr-unknown-read-gp");
	msr_gp(&t, 1, 0x12345678, 0, "msr-unknown-write-gp");

	/* an Intel model: AMD's counters are gone, Intel's MSRs appear */
	make_table(&tab, "GenuineIntel", HYVM_CPUID_OUT_OF_RANGE_HIGHEST_BASIC);
	check(ioctl(t.vcpu, HYVM_SET_CPUID, &tab) == 0, "msr-set-cpuid-intel", "%s", strerror(errno));
	msr_gp(&t, 0, 0xc0010000, 0, "msr-amd-perfevtsel-on-intel-gp");
	msr_read_is(&t, 0x1a0, 0x1801, "msr-misc-enable-intel");
	msr_gp(&t, 1, 0x1a0, 0x1801 | (1ULL << 22), "msr-misc-enable-limit-cpuid-gp");
	msr_read_is(&t, 0x3a, 1, "msr-feature-control-locked");
	msr_gp(&t, 1, 0x3a, 5, "msr-feature-control-write-gp");
	msr_read_is(&t, 0x2ff, 0xc06, "msr-mtrr-kept-across-set-cpuid");
	/* without MTRR in CPUID.1:EDX the MTRRs #GP */
	tab.entries[1].edx &= ~(1u << 12);
	check(ioctl(t.vcpu, HYVM_SET_CPUID, &tab) == 0, "msr-set-cpuid-no-mtrr", "%s", strerror(errno));
	msr_gp(&t, 0, 0xfe, 0, "msr-mtrrcap-without-mtrr-gp");
	test_vm_destroy(&t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_cpuid();
	test_msrs();
	return test_failures ? 1 : 0;
}

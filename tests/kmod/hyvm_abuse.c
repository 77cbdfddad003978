/*
 * Drives /dev/hyvm with invalid and hostile arguments and checks each
 * errno. The harness then requires a clean dmesg and a successful rmmod
 * (no reference leaked by any error path).
 */
#define _GNU_SOURCE	/* sched_setaffinity */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include "hyvm_test.h"

#define PAGE 4096UL

static void on_usr1(int sig)
{
}

static int map_ram(int vm, void *addr, unsigned long long gpa,
		   unsigned long long size, unsigned flags)
{
	struct hyvm_ram_map m = {
		.user_addr = (unsigned long)addr, .gpa = gpa, .size = size, .flags = flags,
	};

	return ioctl(vm, HYVM_MAP_RAM, &m);
}

static void test_device(void)
{
	int dev = open_dev();

	check_errno(ioctl(dev, HYVM_CREATE_VM, 1), EINVAL, "dev-create-vm-arg");
	check_errno(ioctl(dev, HYVM_GET_CAPABILITIES, NULL), EFAULT, "dev-caps-null");
	check_errno(ioctl(dev, HYVM_GET_CAPABILITIES, (void *)0xffff888000000000UL), EFAULT,
		    "dev-caps-kernel-addr");
	check_errno(ioctl(dev, HYVM_MAP_RAM, NULL), ENOTTY, "dev-vm-ioctl-on-dev");
	check_errno(ioctl(dev, HYVM_RUN, 0), ENOTTY, "dev-vcpu-ioctl-on-dev");
	close(dev);
}

static void test_map_ram(void)
{
	int dev = open_dev(), vm = ioctl(dev, HYVM_CREATE_VM, 0);
	unsigned char *mem = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *ro = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *hole = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	check(vm >= 0, "vm-create", "%s", strerror(errno));
	munmap(hole, 4 * PAGE);		/* now certainly unmapped */
	check_errno(ioctl(vm, HYVM_MAP_RAM, NULL), EFAULT, "map-null-arg");
	check_errno(map_ram(vm, mem, 0, 0, 0), EINVAL, "map-size-zero");
	check_errno(map_ram(vm, mem + 1, 0, PAGE, 0), EINVAL, "map-user-misaligned");
	check_errno(map_ram(vm, mem, 0x800, PAGE, 0), EINVAL, "map-gpa-misaligned");
	check_errno(map_ram(vm, mem, 0, PAGE + 1, 0), EINVAL, "map-size-misaligned");
	check_errno(map_ram(vm, mem, 0, PAGE, HYVM_MEM_READONLY << 1), EINVAL, "map-flags");
	check_errno(map_ram(vm, mem, 0, PAGE, 0x80000000u), EINVAL, "map-flags-high");
	check_errno(map_ram(vm, mem, 0, PAGE, HYVM_MEM_READONLY | 4), EINVAL,
		    "map-flags-readonly-and-unknown");
	check_errno(map_ram(vm, mem + 1, 0, PAGE, HYVM_MEM_READONLY), EINVAL,
		    "map-readonly-user-misaligned");
	check_errno(map_ram(vm, mem, 0x800, PAGE, HYVM_MEM_READONLY), EINVAL,
		    "map-readonly-gpa-misaligned");
	check_errno(map_ram(vm, mem, 0, PAGE + 1, HYVM_MEM_READONLY), EINVAL,
		    "map-readonly-size-misaligned");
	check_errno(map_ram(vm, hole, 0, 4 * PAGE, HYVM_MEM_READONLY), EFAULT,
		    "map-readonly-unmapped-user");
	check_errno(map_ram(vm, mem, HYVM_MAX_GPA, PAGE, 0), EINVAL, "map-gpa-out-of-range");
	check_errno(map_ram(vm, mem, HYVM_MAX_GPA - PAGE, 2 * PAGE, 0), EINVAL, "map-gpa-end-out-of-range");
	check_errno(map_ram(vm, mem, 0, -PAGE, 0), EINVAL, "map-size-huge");
	/* more than the host has: refused before its page array is sized
	 * (at 4 GiB: mem + 64 GiB may pass the top of user space, EINVAL) */
	if (sysconf(_SC_PHYS_PAGES) < (long)(HYVM_MAX_GPA / PAGE))
		check_errno(map_ram(vm, (void *)0x100000000UL, 0, HYVM_MAX_GPA, 0), ENOMEM,
			    "map-more-than-host-ram");
	else
		printf("SKIP map-more-than-host-ram: this host has %lld GiB or more\n",
		       HYVM_MAX_GPA >> 30);
	check_errno(map_ram(vm, (void *)0xffff888000000000UL, 0, PAGE, 0), EINVAL, "map-kernel-addr");
	check_errno(map_ram(vm, (void *)(-(long)PAGE), 0, 2 * PAGE, 0), EINVAL, "map-addr-wraps");
	check_errno(map_ram(vm, hole, 0, 4 * PAGE, 0), EFAULT, "map-unmapped-user");
	check_errno(map_ram(vm, ro, 0, 4 * PAGE, 0), EFAULT, "map-read-only-user");
	check_errno(map_ram(vm, mem + 62 * PAGE, 0, 4 * PAGE, 0), EFAULT, "map-partly-unmapped");
	check(map_ram(vm, mem, 0x100000, 16 * PAGE, 0) == 0, "map-ok", "%s", strerror(errno));
	check_errno(map_ram(vm, mem + 16 * PAGE, 0x100000, PAGE, 0), EEXIST, "map-same-gpa");
	check_errno(map_ram(vm, mem + 16 * PAGE, 0x10f000, 2 * PAGE, 0), EEXIST, "map-overlap-end");
	check_errno(map_ram(vm, mem + 16 * PAGE, 0xff000, 2 * PAGE, 0), EEXIST, "map-overlap-start");
	/* A ROM slot needs only a readable mapping; it overlaps like RAM. */
	check(map_ram(vm, ro, 0xf0000, 4 * PAGE, HYVM_MEM_READONLY) == 0, "map-readonly-ok",
	      "%s", strerror(errno));
	check_errno(map_ram(vm, ro, 0xf2000, 4 * PAGE, HYVM_MEM_READONLY), EEXIST,
		    "map-readonly-overlap-rom");
	check_errno(map_ram(vm, mem + 16 * PAGE, 0xf3000, PAGE, 0), EEXIST,
		    "map-ram-overlap-rom");
	check_errno(map_ram(vm, ro, 0x10f000, PAGE, HYVM_MEM_READONLY), EEXIST,
		    "map-readonly-overlap-ram");
	for (i = 1; i < HYVM_MAX_RAM_SLOTS; i++)
		map_ram(vm, mem + (16 + i) * PAGE, 0x200000 + i * PAGE, PAGE, 0);
	check_errno(map_ram(vm, mem + 40 * PAGE, 0x400000, PAGE, 0), ENOSPC, "map-too-many-slots");
	/* the process drops its mapping; the VM keeps the pinned pages */
	munmap(mem, 64 * PAGE);
	close(vm);
	close(dev);
	munmap(ro, 4 * PAGE);
}

static void test_vcpu_args(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	void *p;
	int ret;

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "vcpu-setup", "%s", strerror(errno));
	check_errno(ioctl(t.vm, HYVM_CREATE_VCPU, HYVM_MAX_VCPUS), EINVAL, "vcpu-index-range");
	check_errno(ioctl(t.vm, HYVM_CREATE_VCPU, -1L), EINVAL, "vcpu-index-negative");
	check_errno(ioctl(t.vm, HYVM_CREATE_VCPU, 0), EEXIST, "vcpu-twice");
	check_errno(ioctl(t.vcpu, HYVM_CREATE_VCPU, 1), ENOTTY, "vcpu-vm-ioctl-on-vcpu");
	check_errno(ioctl(t.vcpu, HYVM_RUN, 1), EINVAL, "vcpu-run-arg");
	check_errno(ioctl(t.vcpu, HYVM_GET_STATE, NULL), EFAULT, "vcpu-get-state-null");
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, (void *)8), EFAULT, "vcpu-set-state-bad-ptr");
	check_errno(ioctl(t.vcpu, HYVM_INJECT_IRQ, 256), EINVAL, "vcpu-inject-vector-range");
	check_errno(ioctl(t.vcpu, HYVM_SET_IRQ_WINDOW, 2), EINVAL, "vcpu-irq-window-arg");
	check_errno(ioctl(t.vcpu, _IO(HYVM_IOCTL_TYPE, 0x7e), 0), ENOTTY, "vcpu-unknown-ioctl");

	p = mmap(NULL, 2 * HYVM_RUN_SIZE, PROT_READ, MAP_SHARED, t.vcpu, 0);
	check(p == MAP_FAILED && errno == EINVAL, "vcpu-mmap-too-big", "mmap returned %p", p);
	p = mmap(NULL, HYVM_RUN_SIZE, PROT_READ, MAP_SHARED, t.vcpu, HYVM_RUN_SIZE);
	check(p == MAP_FAILED && errno == EINVAL, "vcpu-mmap-offset", "mmap returned %p", p);
	p = mmap(NULL, HYVM_RUN_SIZE, PROT_READ, MAP_SHARED, t.vm, 0);
	check(p == MAP_FAILED, "vm-mmap-refused", "mmap of a VM fd returned %p", p);

	real_mode_state(&st, 0x1000, 0);
	st.cr0 |= 1ULL << 40;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-cr0-reserved");
	real_mode_state(&st, 0x1000, 0);
	st.efer = 1ULL << 20;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-efer-reserved");
	real_mode_state(&st, 0x1000, 0);
	*(unsigned *)&st.fxsave[24] = 0xffffffff;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-mxcsr-reserved");
	real_mode_state(&st, 0x1000, 0);
	st.event.type = 9;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-event-type");
	real_mode_state(&st, 0x1000, 0);
	st.event.type = HYVM_EVENT_EXCEPTION;
	st.event.vector = 200;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-exception-vector");
	real_mode_state(&st, 0x1000, 0);
	st.pat = 0x02;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-pat");

	/* State the hardware refuses (long mode without PAE): refused by
	 * SET_STATE on both. On vmx a data segment in CS gets past it and
	 * fails VM entry (SDM 26.3.1.2): a failed entry reported to user
	 * space, not a host problem. svm refuses every state VMRUN refuses
	 * (hyvm_state.c), so there is none to run there. */
	real_mode_state(&st, 0x1000, 0);
	st.cr0 = 0x80000011;
	st.efer = 0x500;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-long-no-pae");
	if (is_vmx()) {
		real_mode_state(&st, 0x1000, 0);
		st.seg[HYVM_CS].attrib = 0x91;
		check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "state-bad-but-accepted", "%s",
		      strerror(errno));
		ret = ioctl(t.vcpu, HYVM_RUN, 0);
		check(ret == 0 && t.run->exit_kind == HYVM_EXIT_FAIL &&
		      (unsigned)t.run->fail.hw_reason == 0x80000021u, "run-invalid-state-fails",
		      "ret %d (%s) kind %u reason %#llx raw %#x", ret, strerror(errno),
		      t.run->exit_kind, (unsigned long long)t.run->fail.hw_reason,
		      t.run->raw_reason);
	} else {
		printf("SKIP run-invalid-state-fails: on svm SET_STATE refuses every state VMRUN refuses\n");
	}

	/* A guest whose code is not in RAM: instruction fetch is MMIO. */
	real_mode_state(&st, 0x1000, 0);
	st.seg[HYVM_CS].base = 0x90000;
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check(ioctl(t.vcpu, HYVM_RUN, 0) == 0 && t.run->exit_kind == HYVM_EXIT_MMIO &&
	      t.run->mmio.gpa == 0x91000, "run-fetch-outside-ram",
	      "kind %u gpa %#llx", t.run->exit_kind, (unsigned long long)t.run->mmio.gpa);
	/* a guest trying SVM instructions gets #UD -> with empty IVT: shutdown */
	real_mode_state(&st, 0x1000, 0);
	memcpy(t.ram + 0x1000, "\x0f\x01\xd8", 3);	/* vmrun */
	st.idtr.limit = 0;
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check(ioctl(t.vcpu, HYVM_RUN, 0) == 0 && t.run->exit_kind == HYVM_EXIT_SHUTDOWN,
	      "guest-vmrun-refused", "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	test_vm_destroy(&t);
}

/* "address sizes : 40 bits physical" and whether "umip" is a flag, from
 * the host's /proc/cpuinfo: what hyvm.ko's checks compare against. */
static void host_cpu(unsigned *phys_bits, int *umip)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");

	*phys_bits = 36;
	*umip = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "address sizes", 13))
			sscanf(strchr(line, ':') + 1, "%u", phys_bits);
		if (!strncmp(line, "flags", 5) && strstr(line, " umip"))
			*umip = 1;
	}
	if (f)
		fclose(f);
}

/*
 * States no CPU can be in, refused by HYVM_SET_STATE (kmod/hyvm_state.c).
 * The first is hyvm_fuzz's finding of 2026-12-04 (seed 739666425, --ops 1):
 * real mode with CR4 0xfff (UMIP, which QEMU's emulated EPYC lacks) and
 * RFLAGS 0xfffff000. QEMU's VMRUN failed its CR4 check and stored the
 * host's registers in the VMCB; the vCPU then ran the host's kernel
 * state as its guest and the emulated host's CPU stalled (RCU).
 */
static void test_state_checks(void)
{
	static const struct {
		const char *name;
		unsigned long long cr0, cr4, efer, rflags, cr3;
	} bad[] = {
		{ "state-fuzz-2026-12-04", 0x60000010, 0xfff, 0, 0xfffff000, 0 },
		{ "state-rflags-reserved-high", 0x60000010, 0, 0, 0x400002, 0 },
		{ "state-rflags-reserved-15", 0x60000010, 0, 0, 0x8002, 0 },
		{ "state-rflags-bit1-clear", 0x60000010, 0, 0, 0, 0 },
		{ "state-vm86-in-real-mode", 0x60000010, 0, 0, 0x20002, 0 },
		{ "state-vm86-in-long-mode", 0x80000011, 0x20, 0x500, 0x20002, 0 },
		{ "state-cr4-vmxe", 0x60000010, 1 << 13, 0, 2, 0 },
		{ "state-cr4-reserved-15", 0x60000010, 1 << 15, 0, 2, 0 },
		{ "state-pg-without-pe", 0x80000010, 0, 0, 2, 0 },
		{ "state-lma-without-paging", 0x60000011, 0x20, 0x400, 2, 0 },
		{ "state-lme-paging-no-lma", 0x80000011, 0x20, 0x100, 2, 0 },
		{ "state-pcide-outside-long-mode", 0x80000011, 0x20 | (1 << 17), 0, 2, 0 },
	};
	struct test_vm t;
	struct hyvm_cpu_state st;
	unsigned phys_bits, i;
	int umip;

	host_cpu(&phys_bits, &umip);
	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "state-setup", "%s", strerror(errno));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		real_mode_state(&st, 0x1000, 0);
		st.cr0 = bad[i].cr0;
		st.cr4 = bad[i].cr4;
		st.efer = bad[i].efer;
		st.rflags = bad[i].rflags;
		check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, bad[i].name);
	}
	/* After those, a valid state at IF=0 in a loop still leaves the
	 * host its interrupts: a timer signal ends HYVM_RUN. Before the
	 * fix, QEMU's VMRUN refused the CR4 above, its #VMEXIT cleared
	 * V_INTR_MASKING in the VMCB, and this run never came back (the
	 * emulated host's CPU stalled). */
	{
		struct sigaction sa = { .sa_handler = on_usr1 };
		struct itimerval it = { { 0, 0 }, { 0, 50 * 1000 } };

		sigaction(SIGALRM, &sa, NULL);
		real_mode_state(&st, 0x1000, 0);
		t.ram[0x1000] = 0xeb;	/* jmp $ */
		t.ram[0x1001] = 0xfe;
		check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "state-after-refused", "%s",
		      strerror(errno));
		setitimer(ITIMER_REAL, &it, NULL);
		check(ioctl(t.vcpu, HYVM_RUN, 0) == 0 && t.run->exit_kind == HYVM_EXIT_INTR,
		      "state-if0-loop-interrupted", "kind %u raw %#x", t.run->exit_kind,
		      t.run->raw_reason);
		signal(SIGALRM, SIG_DFL);
	}
	/* the CR4 of the finding alone: refused where the CPU lacks UMIP */
	real_mode_state(&st, 0x1000, 0);
	st.cr4 = 0xfff;
	if (umip)
		printf("SKIP state-cr4-umip: this CPU has UMIP, CR4 0xfff is valid here\n");
	else
		check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-cr4-umip");
	/* PAE paging, CR3 at this CPU's MAXPHYADDR bit and at bit 51 */
	real_mode_state(&st, 0x1000, 0);
	st.cr0 = 0x80000011;
	st.cr4 = 0x20;
	st.cr3 = 1ULL << phys_bits;
	check_errno(ioctl(t.vcpu, HYVM_SET_STATE, &st), EINVAL, "state-cr3-above-maxphyaddr");
	st.cr3 = 1ULL << (phys_bits - 1);
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "state-cr3-below-maxphyaddr", "%s",
	      strerror(errno));
	/* virtual-8086 mode where it exists: accepted, and it runs to a
	 * clean exit: HLT at CPL 3 is #GP, whose gate in the empty IDT is
	 * not one: #DF, then a triple fault (SDM 6.15) */
	real_mode_state(&st, 0x1000, 0);
	st.cr0 |= 1;
	st.rflags = 0x23002;
	for (i = HYVM_ES; i <= HYVM_GS; i++)
		st.seg[i].attrib = 0xf3;	/* as VM entry wants them (SDM 26.3.1.2) */
	t.ram[0x1000] = 0xf4;
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "state-vm86-protected", "%s",
	      strerror(errno));
	check(ioctl(t.vcpu, HYVM_RUN, 0) == 0 && t.run->exit_kind == HYVM_EXIT_SHUTDOWN,
	      "state-vm86-runs", "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	test_vm_destroy(&t);
}

/* HYVM_SET_GUEST_DEBUG (API 6): settings the module must refuse. */
static void test_guest_debug(void)
{
	struct test_vm t;
	struct hyvm_guest_debug d;
	int r;

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "debug-setup", "%s", strerror(errno));
#define DEBUG_REFUSED(name, edit) \
	do { memset(&d, 0, sizeof(d)); d.flags = HYVM_DEBUG_HW_BP; edit; \
	     check_errno(ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, &d), EINVAL, name); } while (0)
	memset(&d, 0, sizeof(d));
	check(ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, &d) == 0, "debug-off", "%s", strerror(errno));
	d.flags = HYVM_DEBUG_SINGLESTEP;
	r = ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, &d);
	/* VT-x without the monitor trap flag says so */
	check(r == 0 || errno == EOPNOTSUPP, "debug-step", "%s", strerror(errno));
	memset(&d, 0, sizeof(d));
	d.flags = HYVM_DEBUG_HW_BP;
	d.dr[0] = 0x1000;
	d.dr[1] = 0x2000;
	d.dr7 = 0x1 | 0x4 | (0xdULL << 20);	/* slot 0 execute, slot 1 4-byte r/w */
	r = ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, &d);
	check(r == 0 || errno == EOPNOTSUPP, "debug-hw-bp", "%s", strerror(errno));
	DEBUG_REFUSED("debug-unknown-flag", d.flags |= 0x4);
	DEBUG_REFUSED("debug-flags-high", d.flags = 0x80000000u);
	DEBUG_REFUSED("debug-pad", d.pad = 1);
	DEBUG_REFUSED("debug-dr7-without-hw", (d.flags = 0, d.dr7 = 1));
	DEBUG_REFUSED("debug-dr-without-hw", (d.flags = HYVM_DEBUG_SINGLESTEP, d.dr[2] = 0x1000));
	DEBUG_REFUSED("debug-dr7-gd", d.dr7 = 1ULL << 13);
	DEBUG_REFUSED("debug-dr7-reserved", d.dr7 = 1ULL << 12);
	DEBUG_REFUSED("debug-dr7-high", d.dr7 = 1ULL << 32);
	DEBUG_REFUSED("debug-io-breakpoint", d.dr7 = 0x1 | (0x2ULL << 16));
	DEBUG_REFUSED("debug-exec-len", d.dr7 = 0x1 | (0x1ULL << 18));
	DEBUG_REFUSED("debug-unaligned", (d.dr[3] = 0x1002, d.dr7 = 0x40 | (0xdULL << 28)));
	DEBUG_REFUSED("debug-non-canonical", (d.dr[0] = 0x0000800000000000ULL, d.dr7 = 1));
	DEBUG_REFUSED("debug-non-canonical-unused", d.dr[1] = 0x8000000000000000ULL);
#undef DEBUG_REFUSED
	check_errno(ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, NULL), EFAULT, "debug-null");
	check_errno(ioctl(t.vm, HYVM_SET_GUEST_DEBUG, &d), ENOTTY, "debug-on-vm-fd");
	test_vm_destroy(&t);
}

/*
 * A guest's MOV DR0/MOV DR7 must not arm a breakpoint in the host. Under
 * QEMU's TCG SVM (tests/kmod/run-svm.sh) a guest's MOV DR7 armed QEMU's
 * breakpoint at the guest's DR0, and #VMEXIT, which only overwrites
 * QEMU's DR7, left it armed: the host's next execution of that address
 * took #DB whatever the host's DR7 said (kmod/svm/svm_exit.c,
 * handle_dr_write, which now does the guest's MOV DR instead). The guest
 * sets DR0 to a page of this process holding RET and enables it as an
 * execute breakpoint; this thread, on the CPU the guest ran on, then
 * calls that page. Before the fix: SIGTRAP there. svm only: VT-x is run
 * under Bochs, whose VM exit disables the host's breakpoints as hardware
 * does (SDM 27.5.1), and whose MOV DR handling is not this case's.
 */
static void test_guest_dr7_host(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	unsigned char *page = MAP_FAILED;
	unsigned long want;
	int r, status = 0;
	pid_t child;
	cpu_set_t cpus, was;
	unsigned i;
	unsigned char code[] = {
		0x66, 0xb8, 0, 0, 0, 0,		/* mov eax, page */
		0x0f, 0x23, 0xc0,		/* mov dr0, eax */
		0x66, 0xb8, 0x01, 0x04, 0, 0,	/* mov eax, 0x401: L0, execute */
		0x0f, 0x23, 0xf8,		/* mov dr7, eax */
		0xf4,				/* hlt */
	};

	if (is_vmx()) {
		printf("SKIP guest-dr7-no-host-breakpoint: QEMU's TCG SVM only (svm)\n");
		return;
	}
	/* below 4 GiB: the real-mode guest's MOV DR0 takes 32 bits */
	for (want = 0x10000000; want < 0xf0000000 && page == MAP_FAILED; want += 0x10000000)
		page = mmap((void *)want, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED)
		return check(0, "guest-dr7-setup", "no page below 4 GiB: %s", strerror(errno));
	page[0] = 0xc3;			/* ret */
	mprotect(page, PAGE, PROT_READ | PROT_EXEC);
	for (i = 0; i < 4; i++)
		code[2 + i] = (unsigned long)page >> (8 * i);
	/* QEMU's breakpoints are per CPU: the guest and the call on one */
	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		munmap(page, PAGE);
		return check(0, "guest-dr7-setup", "sched_setaffinity: %s", strerror(errno));
	}
	if (test_vm_create(&t, 16 * PAGE)) {
		sched_setaffinity(0, sizeof(was), &was);
		munmap(page, PAGE);
		return check(0, "guest-dr7-setup", "%s", strerror(errno));
	}
	memcpy(t.ram + 0x1000, code, sizeof(code));
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	r = ioctl(t.vcpu, HYVM_RUN, 0);
	check(r == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "guest-dr7-runs",
	      "returned %d (%s), kind %u raw %#x rip %#llx", r, r ? strerror(errno) : "",
	      t.run->exit_kind, t.run->raw_reason, (unsigned long long)t.run->rip);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.dr7 == 0x401, "guest-dr7-kept", "dr7 %#llx, wanted 0x401",
	      (unsigned long long)st.dr7);
	/* in a child, on CPU 0 too: a breakpoint left armed makes the call
	 * a #DB storm that never returns (Linux, knowing no breakpoint of
	 * its own there, sends no signal and returns to the same RIP; seen
	 * before the fix), or SIGTRAP */
	fflush(stdout);
	child = fork();
	if (child == 0) {
		alarm(5);
		((void (*)(void))page)();
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		status = -1;
	check(status == 0, "guest-dr7-no-host-breakpoint",
	      "the call of %p, the guest's DR0, after its HYVM_RUN on this CPU: %s %d "
	      "(SIGALRM: a #DB storm there)", page,
	      status == -1 ? "fork/wait failed" : WIFSIGNALED(status) ? "killed by signal" : "exit status",
	      status == -1 ? errno : WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	test_vm_destroy(&t);
	sched_setaffinity(0, sizeof(was), &was);
	munmap(page, PAGE);
}

/*
 * A debugger's data watchpoint that the guest's instruction hits before
 * the same instruction exits. Under QEMU's TCG SVM (tests/kmod/run-svm.sh)
 * the hit is held as a pending debug request that the #VMEXIT does not
 * clear: QEMU takes it at the host's first instruction after VMRUN,
 * checks it against the host's DR7, which hyvm.ko arms with the
 * debugger's lower-half slots for QEMU's sake (svm_cpu.c), and raises #DB
 * in the host while TR still holds the guest's TSS, so the #DB's IST
 * stack came from guest addresses: the emulated host triple-faulted
 * (hyvm_fuzz --ops 0x23, seed 2002). A real CPU reports a data breakpoint
 * as a trap once its instruction completes (Intel SDM Vol. 3B 18.3.1.2),
 * and an instruction that exits does not. Here MOVSW reads the watched
 * word in RAM and writes outside RAM (a nested page fault,
 * HYVM_EXIT_MMIO). Before the fix (svm_cpu.c's db_idt) this case stopped
 * the emulated host with QEMU's "Triple fault".
 */
static void test_watchpoint_then_exit(void)
{
	static const unsigned char code[] = {
		0xb8, 0x00, 0x20,		/* mov ax,0x2000 */
		0x8e, 0xc0,			/* mov es,ax: ES:0 = 0x20000, no RAM */
		0xbe, 0x00, 0x20,		/* mov si,0x2000 (watched) */
		0x31, 0xff,			/* xor di,di */
		0xa5,				/* movsw */
		0xf4,				/* hlt */
	};
	struct hyvm_guest_debug d;
	struct hyvm_cpu_state st;
	struct test_vm t;
	int r;

	if (is_vmx()) {
		printf("SKIP watchpoint-then-exit: QEMU's TCG SVM only (svm)\n");
		return;
	}
	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "watchpoint-exit-setup", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, code, sizeof(code));
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	memset(&d, 0, sizeof(d));
	d.flags = HYVM_DEBUG_HW_BP;
	d.dr[0] = 0x2000;
	d.dr7 = 0x1 | (0x3ULL << 16) | (0x1ULL << 18);	/* slot 0: 2-byte r/w */
	if (ioctl(t.vcpu, HYVM_SET_GUEST_DEBUG, &d)) {
		check(errno == EOPNOTSUPP, "watchpoint-exit-debug", "%s", strerror(errno));
		return test_vm_destroy(&t);
	}
	r = ioctl(t.vcpu, HYVM_RUN, 0);
	check(r == 0 && t.run->exit_kind == HYVM_EXIT_MMIO && t.run->mmio.gpa == 0x20000 &&
	      t.run->mmio.write, "watchpoint-then-exit",
	      "returned %d (%s), kind %u raw %#x rip %#llx gpa %#llx: wanted the MOVSW's "
	      "write to 0x20000", r, r ? strerror(errno) : "", t.run->exit_kind,
	      t.run->raw_reason, (unsigned long long)t.run->rip,
	      (unsigned long long)t.run->mmio.gpa);
	test_vm_destroy(&t);
}

/* HYVM_SET_CPUID with tables hyvm_cpuid_table_check() refuses. */
static void test_set_cpuid(void)
{
	static struct hyvm_cpuid_table tab;
	struct test_vm t;

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "cpuid-args-setup", "%s", strerror(errno));
	memset(&tab, 0, sizeof(tab));
	tab.nent = 2;
	tab.entries[0].eax = 1;			/* leaf 0: max basic leaf 1 */
	tab.entries[1].function = 1;
	check(ioctl(t.vcpu, HYVM_SET_CPUID, &tab) == 0, "cpuid-args-valid", "%s", strerror(errno));
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, NULL), EFAULT, "cpuid-args-null");
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, (void *)0xffff888000000000UL), EFAULT,
		    "cpuid-args-kernel-addr");
	tab.nent = 0;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-nent-0");
	tab.nent = HYVM_CPUID_MAX_ENTRIES + 1;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-nent-too-big");
	tab.nent = 0xffffffff;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-nent-huge");
	tab.nent = 2;
	tab.entries[1].reserved = 1;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-entry-reserved");
	tab.entries[1].reserved = 0;
	tab.entries[1].flags = 2;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-entry-flags");
	tab.entries[1].flags = 0;
	tab.out_of_range = 2;
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-out-of-range-mode");
	tab.out_of_range = 0;
	tab.entries[0].function = 0x80000000;	/* no basic leaf 0 any more */
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-no-leaf-0");
	tab.entries[0].function = 0;
	tab.entries[0].flags = HYVM_CPUID_INDEXED;
	tab.entries[0].index = 1;		/* leaf 0 only for ECX = 1 */
	check_errno(ioctl(t.vcpu, HYVM_SET_CPUID, &tab), EINVAL, "cpuid-args-leaf-0-indexed-1");
	check_errno(ioctl(t.vm, HYVM_SET_CPUID, &tab), ENOTTY, "cpuid-args-on-vm-fd");
	check_errno(ioctl(t.vcpu, _IOW(HYVM_IOCTL_TYPE, 0x25, int), &tab), ENOTTY,
		    "cpuid-args-wrong-size");
	test_vm_destroy(&t);
}

/* The process unmaps guest RAM and closes the VM fd; the guest still runs
 * on the pinned pages through its vCPU fd. */
static void test_unmap_while_alive(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	static const unsigned char code[] = {
		0xc6, 0x06, 0x00, 0x20, 0x42,	/* mov byte [0x2000],0x42 */
		0xa0, 0x00, 0x20,		/* mov al,[0x2000] */
		0xf4,
	};

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "unmap-setup", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, code, sizeof(code));
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	munmap(t.ram, t.ram_size);
	t.ram = NULL;
	close(t.vm);
	t.vm = -1;
	check(ioctl(t.vcpu, HYVM_RUN, 0) == 0 && t.run->exit_kind == HYVM_EXIT_HLT,
	      "run-after-munmap", "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check((st.gpr[HYVM_RAX] & 0xff) == 0x42, "guest-ram-after-munmap", "al %#x",
	      (unsigned)(st.gpr[HYVM_RAX] & 0xff));
	test_vm_destroy(&t);
}

struct runner {
	int vcpu;
	int ret;
	struct hyvm_run *run;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->ret = ioctl(r->vcpu, HYVM_RUN, 0);
	return NULL;
}

/* Close every fd while a vCPU is inside HYVM_RUN, then kick it. */
static void test_close_mid_run(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct runner r;
	pthread_t th;
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "close-setup", "%s", strerror(errno));
	t.ram[0x1000] = 0xeb;
	t.ram[0x1001] = 0xfe;
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	sigaction(SIGUSR1, &sa, NULL);
	r.vcpu = t.vcpu;
	r.run = t.run;
	r.ret = -2;
	pthread_create(&th, NULL, run_thread, &r);
	nanosleep(&ms50, NULL);
	close(t.vcpu);
	close(t.vm);
	close(t.dev);
	t.vcpu = t.vm = t.dev = -1;
	nanosleep(&ms50, NULL);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	check(r.ret == 0 && r.run->exit_kind == HYVM_EXIT_INTR, "close-mid-run",
	      "ret %d kind %u", r.ret, r.run->exit_kind);
	test_vm_destroy(&t);
}

static void test_many_vms(void)
{
	int dev = open_dev(), fds[HYVM_MAX_VMS + 1], n = 0, i, last;

	for (i = 0; i < HYVM_MAX_VMS; i++) {
		fds[i] = ioctl(dev, HYVM_CREATE_VM, 0);
		if (fds[i] < 0)
			break;
		n++;
		ioctl(fds[i], HYVM_CREATE_VCPU, 0);	/* its fd leaks into the VM's life */
	}
	check(n == HYVM_MAX_VMS, "many-vms", "created %d of %d: %s", n, HYVM_MAX_VMS,
	      strerror(errno));
	last = ioctl(dev, HYVM_CREATE_VM, 0);
	check_errno(last, ENOSPC, "too-many-vms");
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(dev);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_device();
	test_map_ram();
	test_vcpu_args();
	test_state_checks();
	test_set_cpuid();
	test_guest_debug();
	test_guest_dr7_host();
	test_watchpoint_then_exit();
	test_unmap_while_alive();
	test_close_mid_run();
	test_many_vms();
	return test_failures ? 1 : 0;
}

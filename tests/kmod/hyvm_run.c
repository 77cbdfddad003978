/*
 * Runs tiny real-mode guests on /dev/hyvm and checks every exit kind the
 * module produces: port I/O both ways, CPUID and MSRs handled in the
 * kernel, HLT, MMIO outside RAM, interrupt window + injection (kept
 * across a kick before the entry that delivers it), triple fault, and a
 * signal interrupting a guest that never exits.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include "hyvm_test.h"

static const unsigned char io_code[] = {
	0x66, 0x31, 0xc0,		/* xor eax,eax */
	0x0f, 0xa2,			/* cpuid */
	0xb0, 'H',			/* mov al,'H' */
	0xba, 0xf8, 0x03,		/* mov dx,0x3f8 */
	0xee,				/* out dx,al */
	0xec,				/* in al,dx */
	0xf4,				/* hlt */
	0xa2, 0x34, 0x12,		/* mov [0x1234],al (ds=0x2000: MMIO) */
	0xf4,
};

static const unsigned char msr_code[] = {
	0x66, 0xb9, 0x74, 0x01, 0x00, 0x00,	/* mov ecx,0x174 (SYSENTER_CS) */
	0x66, 0xb8, 0x08, 0x00, 0x00, 0x00,	/* mov eax,8 */
	0x66, 0x31, 0xd2,			/* xor edx,edx */
	0x0f, 0x30,				/* wrmsr */
	0x66, 0x31, 0xc0,			/* xor eax,eax */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0x89, 0xc6,			/* mov esi,eax */
	0xf4,
};

static const unsigned char irq_code[] = {
	0xfa,			/* cli */
	0xfb,			/* sti */
	0x90,			/* nop (STI shadow) */
	0xf4,			/* hlt */
	0xeb, 0xfe,		/* jmp $ */
};
static const unsigned char irq_handler[] = {
	0xb3, 0x77,		/* mov bl,0x77 */
	0xf4,			/* hlt */
};

/* At 0x1000 in RAM: on to the ROM at 0x20000 (cs = ds = 0x2000). */
static const unsigned char rom_entry[] = {
	0xea, 0x00, 0x01, 0x00, 0x20,	/* jmp 0x2000:0x0100 */
};
/* At 0x100 in the ROM: reads and fetches in hardware, one write. */
static const unsigned char rom_code[] = {
	0xa0, 0x10, 0x00,		/* mov al,[0x10] */
	0x8a, 0x1e, 0xf0, 0x3f,		/* mov bl,[0x3ff0] (the ROM's last page) */
	0xa2, 0x20, 0x00,		/* mov [0x20],al: a write to ROM */
	0xf4,				/* hlt */
};

static int run_once(struct test_vm *t)
{
	return ioctl(t->vcpu, HYVM_RUN, 0);
}

static void test_io_cpuid_mmio(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	unsigned long long npf;

	if (test_vm_create(&t, 64 * 1024)) {
		check(0, "run-setup", "%s", strerror(errno));
		return;
	}
	memcpy(t.ram + 0x1000, io_code, sizeof(io_code));
	real_mode_state(&st, 0x1000, 0x2000);
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "run-set-state", "%s", strerror(errno));

	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_IO &&
	      t.run->io.port == 0x3f8 && t.run->io.write && t.run->io.size == 1 &&
	      t.run->io_data[0] == 'H', "run-out",
	      "kind %u port %#x write %u size %u data %#x raw %#x", t.run->exit_kind,
	      t.run->io.port, t.run->io.write, t.run->io.size, t.run->io_data[0],
	      t.run->raw_reason);
	check(t.run->exit_count[exit_index().cpuid] == 1, "run-cpuid-in-kernel",
	      "cpuid exits %llu", (unsigned long long)t.run->exit_count[exit_index().cpuid]);

	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_IO &&
	      !t.run->io.write && t.run->io.port == 0x3f8, "run-in",
	      "kind %u write %u", t.run->exit_kind, t.run->io.write);
	t.run->io_data[0] = 0x5a;

	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "run-hlt",
	      "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check((st.gpr[HYVM_RAX] & 0xff) == 0x5a && st.rip == 0x1000 + 13, "run-in-completed",
	      "rax %#llx rip %#llx", (unsigned long long)st.gpr[HYVM_RAX],
	      (unsigned long long)st.rip);

	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_MMIO &&
	      t.run->mmio.gpa == 0x21234 && t.run->mmio.write, "run-mmio",
	      "kind %u gpa %#llx write %u", t.run->exit_kind,
	      (unsigned long long)t.run->mmio.gpa, t.run->mmio.write);
	npf = t.run->exit_count[exit_index().npf];
	check(npf >= 2, "run-npf-counted", "npf %llu", npf);
	printf("info: entries %llu, in kernel %llu, npf %llu\n",
	       (unsigned long long)t.run->entries,
	       (unsigned long long)t.run->handled_in_kernel, npf);
	test_vm_destroy(&t);
}

/* A HYVM_MEM_READONLY slot (from a read-only user mapping): the guest
 * runs from it and reads it without exits; its write is an MMIO exit and
 * leaves the ROM as it was. */
static void test_rom(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	struct hyvm_ram_map m = { .gpa = 0x20000, .size = 0x4000, .flags = HYVM_MEM_READONLY };
	unsigned char *rom;
	unsigned long long npf;
	int i;

	if (test_vm_create(&t, 64 * 1024)) {
		check(0, "rom-setup", "%s", strerror(errno));
		return;
	}
	rom = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom == MAP_FAILED) {
		check(0, "rom-setup", "%s", strerror(errno));
		test_vm_destroy(&t);
		return;
	}
	for (i = 0; i < 0x4000; i++)
		rom[i] = 0xa0 + (i & 0x1f);
	memcpy(rom + 0x100, rom_code, sizeof(rom_code));
	mprotect(rom, 0x4000, PROT_READ);
	m.user_addr = (unsigned long)rom;
	check(ioctl(t.vm, HYVM_MAP_RAM, &m) == 0, "rom-map", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, rom_entry, sizeof(rom_entry));
	real_mode_state(&st, 0x1000, 0x2000);
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "rom-set-state", "%s", strerror(errno));

	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_MMIO &&
	      t.run->mmio.gpa == 0x20020 && t.run->mmio.write, "rom-write-is-mmio",
	      "kind %u gpa %#llx write %u raw %#x", t.run->exit_kind,
	      (unsigned long long)t.run->mmio.gpa, t.run->mmio.write, t.run->raw_reason);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.rip == 0x107 && (st.gpr[HYVM_RAX] & 0xff) == 0xb0 &&
	      (st.gpr[HYVM_RBX] & 0xff) == 0xb0, "rom-read-in-hardware",
	      "rip %#llx al %#llx bl %#llx", (unsigned long long)st.rip,
	      (unsigned long long)st.gpr[HYVM_RAX] & 0xff,
	      (unsigned long long)st.gpr[HYVM_RBX] & 0xff);
	/* one fault maps the 2 MiB around 0x1000, ROM included; then the write */
	npf = t.run->exit_count[exit_index().npf];
	check(npf == 2, "rom-no-exit-on-read-or-fetch", "npf %llu, in kernel %llu", npf,
	      (unsigned long long)t.run->handled_in_kernel);
	check(rom[0x20] == 0xa0 && !memcmp(rom + 0x100, rom_code, sizeof(rom_code)),
	      "rom-unchanged", "rom[0x20] %#x", rom[0x20]);

	/* user space finishes the write by dropping it: skip the MOV */
	st.rip += 3;
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "rom-after-write",
	      "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	test_vm_destroy(&t);
	munmap(rom, 0x4000);
}

static void test_msr(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "msr-setup", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, msr_code, sizeof(msr_code));
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "msr-run",
	      "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.sysenter_cs == 8 && (st.gpr[HYVM_RSI] & 0xffffffff) == 8, "msr-sysenter-cs",
	      "sysenter_cs %#llx esi %#llx", (unsigned long long)st.sysenter_cs,
	      (unsigned long long)st.gpr[HYVM_RSI]);
	test_vm_destroy(&t);
}

static void test_irq(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	int ret;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "irq-setup", "%s", strerror(errno));
	memcpy(t.ram + 0x1000, irq_code, sizeof(irq_code));
	memcpy(t.ram + 0x1100, irq_handler, sizeof(irq_handler));
	*(unsigned short *)(t.ram + 0x20 * 4) = 0x1100;	/* IVT[0x20] = 0000:1100 */
	*(unsigned short *)(t.ram + 0x20 * 4 + 2) = 0;
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check_errno(ioctl(t.vcpu, HYVM_INJECT_IRQ, 0x20), EBUSY, "irq-inject-if0-busy");
	ioctl(t.vcpu, HYVM_SET_IRQ_WINDOW, 1);
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_IRQ_WINDOW &&
	      t.run->irq_window_open, "irq-window",
	      "kind %u open %u rip %#llx", t.run->exit_kind, t.run->irq_window_open,
	      (unsigned long long)t.run->rip);
	ioctl(t.vcpu, HYVM_SET_IRQ_WINDOW, 0);
	check(ioctl(t.vcpu, HYVM_INJECT_IRQ, 0x20) == 0, "irq-inject", "%s", strerror(errno));
	/* A kick before the entry that delivers it: the run returns without
	 * entering, and the window must read closed (the vector waits), or
	 * user space would acknowledge another vector and lose it. */
	t.run->immediate_exit = 1;
	ret = run_once(&t);	/* before check(): its arguments' order is unspecified */
	check(ret == 0 && t.run->exit_kind == HYVM_EXIT_INTR && !t.run->irq_window_open,
	      "irq-kicked-window-closed", "ret %d kind %u open %u", ret, t.run->exit_kind,
	      t.run->irq_window_open);
	t.run->immediate_exit = 0;
	check_errno(ioctl(t.vcpu, HYVM_INJECT_IRQ, 0x21), EBUSY, "irq-inject-queued-busy");
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "irq-delivered-run",
	      "kind %u", t.run->exit_kind);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check((st.gpr[HYVM_RBX] & 0xff) == 0x77 && st.rip == 0x1103, "irq-handler-ran",
	      "rbx %#llx rip %#llx", (unsigned long long)st.gpr[HYVM_RBX],
	      (unsigned long long)st.rip);
	test_vm_destroy(&t);
}

static void test_triple_fault(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "shutdown-setup", "%s", strerror(errno));
	t.ram[0x1000] = 0xcc;		/* int3 with an empty IVT limit */
	real_mode_state(&st, 0x1000, 0);
	st.idtr.limit = 0;
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_SHUTDOWN, "shutdown",
	      "kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	test_vm_destroy(&t);
}

/* 64-bit long mode with 4-level paging (identity map through a 2 MiB
 * page): the guest's own page tables walked through the nested ones. */
static void test_long_mode(void)
{
	static const unsigned char code[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax,imm64 */
		0x48, 0x89, 0x04, 0x25, 0x00, 0x30, 0x10, 0x00,	/* mov [0x103000],rax */
		0x48, 0x8b, 0x1c, 0x25, 0x00, 0x30, 0x10, 0x00,	/* mov rbx,[0x103000] */
		0xe6, 0x80,					/* out 0x80,al */
		0xf4,						/* hlt */
	};
	struct test_vm t;
	struct hyvm_cpu_state st;
	unsigned long long *pml4, *pdpt, *pd;
	int i;

	if (test_vm_create(&t, 2 * 1024 * 1024))
		return check(0, "long-setup", "%s", strerror(errno));
	pml4 = (unsigned long long *)(t.ram + 0x10000);
	pdpt = (unsigned long long *)(t.ram + 0x11000);
	pd = (unsigned long long *)(t.ram + 0x12000);
	pml4[0] = 0x11000 | 3;
	pdpt[0] = 0x12000 | 3;
	pd[0] = 0 | 0x83;				/* 2 MiB, RW, present */
	memcpy(t.ram + 0x100000, code, sizeof(code));
	real_mode_state(&st, 0, 0);
	for (i = 0; i < HYVM_NR_SEGS; i++)
		set_seg(&st.seg[i], 0x10, 0, 0xffffffff, 0xc93);
	set_seg(&st.seg[HYVM_CS], 0x08, 0, 0xffffffff, 0xa9b);	/* L=1, G */
	set_seg(&st.seg[HYVM_LDTR], 0, 0, 0, 0x82);
	set_seg(&st.seg[HYVM_TR], 0x18, 0, 0x67, 0x8b);
	st.rip = 0x100000;
	st.gpr[HYVM_RSP] = 0x180000;
	st.cr0 = 0x80050033;		/* PG WP NE ET MP PE */
	st.cr3 = 0x10000;
	st.cr4 = 0x20;			/* PAE */
	st.efer = 0x500;		/* LME LMA */
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "long-set-state", "%s", strerror(errno));
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_IO && t.run->io.port == 0x80 &&
	      t.run->io_data[0] == 0x88, "long-out", "kind %u port %#x raw %#x",
	      t.run->exit_kind, t.run->io.port, t.run->raw_reason);
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "long-hlt", "kind %u",
	      t.run->exit_kind);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.gpr[HYVM_RBX] == 0x1122334455667788ULL &&
	      *(unsigned long long *)(t.ram + 0x103000) == 0x1122334455667788ULL &&
	      (st.efer & 0x500) == 0x500, "long-mode-memory",
	      "rbx %#llx efer %#llx", (unsigned long long)st.gpr[HYVM_RBX],
	      (unsigned long long)st.efer);
	test_vm_destroy(&t);
}

/* A second slot at 4 GiB, reached from long mode: NPT/EPT above 32 bits
 * (hyvm run --mem above 3.5 GiB puts RAM there; the small slot here
 * keeps the test cheap in the emulated hosts). */
static void test_high_ram(void)
{
	static const unsigned char code[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax,imm64 */
		0x48, 0xa3, 0x08, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* mov [0x100001008],rax */
		0x31, 0xc0,					/* xor eax,eax */
		0x48, 0xa1, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* mov rax,[0x100001000] */
		0xf4,						/* hlt */
	};
	struct test_vm t;
	struct hyvm_cpu_state st;
	struct hyvm_ram_map m = { .gpa = 0x100000000ULL, .size = 2 * 1024 * 1024 };
	unsigned long long *pml4, *pdpt, *pd, *pd4;
	unsigned char *high;
	int i;

	if (test_vm_create(&t, 2 * 1024 * 1024))
		return check(0, "high-setup", "%s", strerror(errno));
	high = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (high == MAP_FAILED) {
		test_vm_destroy(&t);
		return check(0, "high-setup", "%s", strerror(errno));
	}
	*(unsigned long long *)(high + 0x1000) = 0xfeedfacecafef00dULL;
	m.user_addr = (unsigned long)high;
	check(ioctl(t.vm, HYVM_MAP_RAM, &m) == 0, "high-map", "%s", strerror(errno));
	pml4 = (unsigned long long *)(t.ram + 0x10000);
	pdpt = (unsigned long long *)(t.ram + 0x11000);
	pd = (unsigned long long *)(t.ram + 0x12000);
	pd4 = (unsigned long long *)(t.ram + 0x13000);
	pml4[0] = 0x11000 | 3;
	pdpt[0] = 0x12000 | 3;
	pdpt[4] = 0x13000 | 3;			/* linear 4 GiB: 2 MiB at gpa 4 GiB */
	pd[0] = 0 | 0x83;
	pd4[0] = 0x100000000ULL | 0x83;
	memcpy(t.ram + 0x100000, code, sizeof(code));
	real_mode_state(&st, 0, 0);
	for (i = 0; i < HYVM_NR_SEGS; i++)
		set_seg(&st.seg[i], 0x10, 0, 0xffffffff, 0xc93);
	set_seg(&st.seg[HYVM_CS], 0x08, 0, 0xffffffff, 0xa9b);
	set_seg(&st.seg[HYVM_LDTR], 0, 0, 0, 0x82);
	set_seg(&st.seg[HYVM_TR], 0x18, 0, 0x67, 0x8b);
	st.rip = 0x100000;
	st.gpr[HYVM_RSP] = 0x180000;
	st.cr0 = 0x80050033;
	st.cr3 = 0x10000;
	st.cr4 = 0x20;
	st.efer = 0x500;
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0, "high-set-state", "%s", strerror(errno));
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_HLT, "high-hlt",
	      "kind %u raw %#x gpa %#llx", t.run->exit_kind, t.run->raw_reason,
	      (unsigned long long)t.run->mmio.gpa);
	ioctl(t.vcpu, HYVM_GET_STATE, &st);
	check(st.gpr[HYVM_RAX] == 0xfeedfacecafef00dULL &&
	      *(unsigned long long *)(high + 0x1008) == 0x1122334455667788ULL,
	      "high-ram-above-4g", "rax %#llx, [4 GiB + 0x1008] %#llx",
	      (unsigned long long)st.gpr[HYVM_RAX],
	      *(unsigned long long *)(high + 0x1008));
	test_vm_destroy(&t);
	munmap(high, m.size);
}

static void on_alarm(int sig)
{
}

/* A guest that never exits on its own: a signal must bring HYVM_RUN back. */
static void test_signal(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	int ret;

	if (test_vm_create(&t, 64 * 1024))
		return check(0, "signal-setup", "%s", strerror(errno));
	t.ram[0x1000] = 0xeb;		/* jmp $ */
	t.ram[0x1001] = 0xfe;
	real_mode_state(&st, 0x1000, 0);
	ioctl(t.vcpu, HYVM_SET_STATE, &st);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	ret = run_once(&t);
	check(ret == 0 && t.run->exit_kind == HYVM_EXIT_INTR, "signal-kicks-run",
	      "ret %d kind %u", ret, t.run->exit_kind);
	printf("info: spinning guest: %llu entries, %llu intr exits\n",
	       (unsigned long long)t.run->entries,
	       (unsigned long long)t.run->exit_count[exit_index().intr]);
	t.run->immediate_exit = 1;
	check(run_once(&t) == 0 && t.run->exit_kind == HYVM_EXIT_INTR, "immediate-exit",
	      "kind %u", t.run->exit_kind);
	test_vm_destroy(&t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_io_cpuid_mmio();
	test_rom();
	test_msr();
	test_irq();
	test_triple_fault();
	test_long_mode();
	test_high_ram();
	test_signal();
	return test_failures ? 1 : 0;
}

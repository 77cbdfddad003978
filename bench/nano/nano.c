/* hyvm bench's guest: the nanobenchmarks of Adams & Agesen 2006 (ASPLOS,
 * "A comparison of software and hardware techniques for x86
 * virtualization"), each timed with RDTSC over N operations.
 *
 * The command line selects what runs, so that one guest serves every
 * engine: "iters=N only=in,out,..." (no "only=": all). The ELF declares
 * no needs; each benchmark's needs are listed here and in
 * userspace/nanobench/bench.h, and `hyvm bench` leaves out what an engine cannot
 * run (kvm_pvm: no 32-bit paging, no IRET to ring 3).
 *
 * Output on COM1, one line per benchmark:
 *   NANO name ops cycles      ops operations took cycles TSC ticks
 *   NANOSKIP name             not selected
 *
 * Handlers return with POPF + RETF 4 rather than IRET, as the guest
 * library does: kvm_pvm cannot emulate IRET at CPL0. Returns to ring 3
 * use IRET (int80) or SYSEXIT (sysenter), as a real kernel would. */
#include "guest.h"

GUEST("nano", "");

/* Free page-directory slots (paging32_enable maps the first GiB). */
#define PF_PDE 300u
#define PM_PDE 301u
#define PF_BASE (PF_PDE << 22)
#define PM_BASE (PM_PDE << 22)

/* Shared with the asm below, hence not static. */
volatile uint32_t nano_iters;
volatile uint32_t nano_t0[2], nano_t1[2];
volatile uint32_t pf_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t pm_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t second_directory[1024] __attribute__((aligned(4096)));
static uint8_t target_pages[2][4096] __attribute__((aligned(4096)));
static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

void catch_longjmp(void) __attribute__((noreturn));
void de_entry(void), pf_entry(void), int80_entry(void), sysenter_entry(void);
void user_int80_loop(void), user_sysenter_loop(void);

asm(".text\n"
    /* #DE: skip the 2-byte "div %ecx" and resume. */
    ".globl de_entry\nde_entry:\n\t"
    "addl $2, (%esp)\n\t"
    "pushl 8(%esp)\n\tpopf\n\tlret $4\n"
    /* #PF in the pgfault window: make the PTE present and retry. A
     * not-present entry is never cached, so no INVLPG is needed. */
    ".globl pf_entry\npf_entry:\n\t"
    "pushl %eax\n\t"
    "movl %cr2, %eax\n\t"
    "shrl $12, %eax\n\t"
    "andl $0x3ff, %eax\n\t"
    "orl $1, pf_table(,%eax,4)\n\t"
    "popl %eax\n\t"
    "addl $4, %esp\n\t"	/* error code */
    "pushl 8(%esp)\n\tpopf\n\tlret $4\n"
    /* int 0x80 from ring 3: EAX=0 ends the run, anything else returns. */
    ".globl int80_entry\nint80_entry:\n\t"
    "testl %eax, %eax\n\t"
    "jz catch_longjmp\n\t"
    "iret\n"
    ".globl sysenter_entry\nsysenter_entry:\n\t"
    "testl %eax, %eax\n\t"
    "jz catch_longjmp\n\t"
    "sysexit\n"
    /* Ring 3: N int 0x80 round trips between two RDTSCs. */
    ".globl user_int80_loop\nuser_int80_loop:\n\t"
    "movl nano_iters, %ecx\n\t"
    "rdtsc\n\tmovl %eax, nano_t0\n\tmovl %edx, nano_t0+4\n"
    "1:\tmovl $1, %eax\n\t"
    "int $0x80\n\t"
    "decl %ecx\n\tjnz 1b\n\t"
    "rdtsc\n\tmovl %eax, nano_t1\n\tmovl %edx, nano_t1+4\n\t"
    "xorl %eax, %eax\n\tint $0x80\n"
    /* Ring 3: N sysenter/sysexit round trips; the return EIP and ESP
     * travel in EDX and ECX, as in Linux's vDSO. */
    ".globl user_sysenter_loop\nuser_sysenter_loop:\n\t"
    "movl nano_iters, %ebx\n\t"
    "rdtsc\n\tmovl %eax, nano_t0\n\tmovl %edx, nano_t0+4\n"
    "1:\tmovl $1, %eax\n\t"
    "movl %esp, %ecx\n\t"
    "movl $2f, %edx\n\t"
    "sysenter\n"
    "2:\tdecl %ebx\n\tjnz 1b\n\t"
    "rdtsc\n\tmovl %eax, nano_t1\n\tmovl %edx, nano_t1+4\n\t"
    "xorl %eax, %eax\n\tmovl %esp, %ecx\n\tsysenter\n"
    /* The callee of call/ret. */
    "nano_leaf:\n\tret\n");

static uint64_t t_start, t_end;
static inline void t0(void) { t_start = rdtsc(); }
static inline void t1(void) { t_end = rdtsc(); }

static uint64_t user_elapsed(void)
{
	return (((uint64_t)nano_t1[1] << 32) | nano_t1[0]) - (((uint64_t)nano_t0[1] << 32) | nano_t0[0]);
}

static void int80_user(void *unused)
{
	enter_user_iret(user_int80_loop, user_stack + sizeof(user_stack));
}

static void sysenter_user(void *unused)
{
	enter_user_sysexit(user_sysenter_loop, user_stack + sizeof(user_stack));
}

/* Each returns the number of operations timed between t0() and t1()
 * (or sets t_start/t_end from the ring 3 figures). */
static uint32_t b_syscall_int80(uint32_t n)
{
	struct fault f = { .vector = ~0u };
	idt_set_raw(0x80, int80_entry, GATE_INT | GATE_DPL3);
	nano_iters = n;
	bool unwound = catch_fault(int80_user, NULL, &f);
	if (!check(unwound && f.vector == ~0u, "int80: trap %u at %x", f.vector, f.eip))
		return 0;
	t_start = 0, t_end = user_elapsed();
	return n;
}

static uint32_t b_syscall_sysenter(uint32_t n)
{
	struct fault f = { .vector = ~0u };
	nano_iters = n;
	bool unwound = catch_fault(sysenter_user, NULL, &f);
	if (!check(unwound && f.vector == ~0u, "sysenter: trap %u at %x", f.vector, f.eip))
		return 0;
	t_start = 0, t_end = user_elapsed();
	return n;
}

static uint32_t b_in(uint32_t n)
{
	t0();
	for (uint32_t i = n; i; i--)
		asm volatile("inb $0x80, %%al" : : : "eax");
	t1();
	return n;
}

static uint32_t b_out(uint32_t n)
{
	t0();
	for (uint32_t i = n; i; i--)
		asm volatile("outb %%al, $0x80" : : "a"(0) : );
	t1();
	return n;
}

static uint32_t b_cpuid(uint32_t n)
{
	t0();
	/* EAX and ECX are outputs too: every iteration asks for leaf 0 */
	for (uint32_t i = n; i; i--) {
		uint32_t a = 0, c = 0;
		asm volatile("cpuid" : "+a"(a), "+c"(c) : : "ebx", "edx", "memory");
	}
	t1();
	return n;
}

static uint32_t b_divzero(uint32_t n)
{
	idt_set_raw(VEC_DE, de_entry, GATE_INT);
	t0();
	for (uint32_t i = n; i; i--)
		asm volatile("xorl %%edx, %%edx\n\t"
		             "movl $1, %%eax\n\t"
		             "divl %%ecx" /* f7 f1: 2 bytes, skipped by de_entry */
		             : : "c"(0) : "eax", "edx");
	t1();
	return n;
}

static uint32_t b_callret(uint32_t n)
{
	t0();
	for (uint32_t i = n; i; i--)
		asm volatile("call nano_leaf" : : : "memory");
	t1();
	return n;
}

/* pgfault: 1024 not-present pages (all aliases of one frame); touching
 * each faults once and the handler makes it present. Re-arming a batch
 * (clear P, reload CR3) is not timed. */
static uint32_t b_pgfault(uint32_t n)
{
	uint64_t total = 0;
	uint32_t done = 0;
	idt_set_raw(VEC_PF, pf_entry, GATE_INT);
	paging32_directory[PF_PDE] = (uint32_t)pf_table | PTE_P | PTE_W;
	while (done < n) {
		uint32_t batch = n - done < 1024 ? n - done : 1024;
		for (uint32_t i = 0; i < 1024; i++)
			pf_table[i] = (uint32_t)target_pages[0] | PTE_W;
		write_cr3(read_cr3());
		t0();
		for (uint32_t i = 0; i < batch; i++)
			(void)*(volatile uint32_t *)(PF_BASE + (i << 12));
		t1();
		total += t_end - t_start;
		done += batch;
	}
	t_start = 0, t_end = total;
	return n;
}

/* ptemod: rewrite one PTE (alternating two frames) and INVLPG it. */
static uint32_t b_ptemod(uint32_t n)
{
	uint32_t a = (uint32_t)target_pages[0] | PTE_P | PTE_W;
	uint32_t b = (uint32_t)target_pages[1] | PTE_P | PTE_W;
	paging32_directory[PM_PDE] = (uint32_t)pm_table | PTE_P | PTE_W;
	write_cr3(read_cr3());
	t0();
	for (uint32_t i = n; i; i--) {
		pm_table[0] = (i & 1) ? a : b;
		invlpg((void *)PM_BASE);
	}
	t1();
	return n;
}

/* cr3: switch between two page directories with the same contents. */
static uint32_t b_cr3(uint32_t n)
{
	uint32_t one = (uint32_t)paging32_directory, two = (uint32_t)second_directory;
	for (int i = 0; i < 1024; i++)
		second_directory[i] = paging32_directory[i];
	n &= ~1u;
	t0();
	for (uint32_t i = n / 2; i; i--) {
		write_cr3(two);
		write_cr3(one);
	}
	t1();
	return n;
}

struct nano {
	const char *name;
	bool paged, sysenter, user;
	uint32_t (*run)(uint32_t n);
};

/* The order matters: unpaged ones first, then paging stays on. Names and
 * needs match userspace/nanobench/bench.h. */
static const struct nano nanos[] = {
	{ "syscall-int80", false, false, true, b_syscall_int80 },
	{ "syscall-sysenter", false, true, false, b_syscall_sysenter },
	{ "in", false, false, false, b_in },
	{ "out", false, false, false, b_out },
	{ "cpuid", false, false, false, b_cpuid },
	{ "divzero", false, false, false, b_divzero },
	{ "callret", false, false, false, b_callret },
	{ "pgfault", true, false, false, b_pgfault },
	{ "ptemod", true, false, false, b_ptemod },
	{ "cr3", true, false, false, b_cr3 },
};

static bool selected(const char *only, const char *name)
{
	size_t k = strlen(name);
	if (!only)
		return true;
	for (const char *p = only; *p && *p != ' ';) {
		if (!memcmp(p, name, k) && (p[k] == ',' || p[k] == ' ' || !p[k]))
			return true;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return false;
}

void guest_main(const struct mb_info *mbi)
{
	const char *cmd = (mbi->flags & MBI_CMDLINE) ? (const char *)mbi->cmdline : "";
	const char *iters = cmdline_value(cmd, "iters");
	const char *only = cmdline_value(cmd, "only");
	uint32_t n = 10000;
	bool paging = false;

	if (iters) {
		n = 0;
		for (; *iters >= '0' && *iters <= '9'; iters++)
			n = n * 10 + (uint32_t)(*iters - '0');
	}
	if (n < 2)
		n = 2;
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);

	check_begin("nano");
	for (unsigned i = 0; i < sizeof(nanos) / sizeof(nanos[0]); i++) {
		const struct nano *b = &nanos[i];
		if (!selected(only, b->name)) {
			printf_serial("NANOSKIP %s\n", b->name);
			continue;
		}
		if (b->paged && !paging) {
			paging32_enable();
			paging = true;
		}
		if (b->user)	/* only here: LTR is of no use elsewhere */
			tss_load((uint32_t)kernel_stack + sizeof(kernel_stack));
		if (b->sysenter) {
			wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE);
			wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack + sizeof(kernel_stack));
			wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)sysenter_entry);
		}
		b->run(n < 64 ? n : 64);	/* warm up: translate, fault in */
		uint32_t ops = b->run(n);
		if (ops)
			printf_serial("NANO %s %u %llu\n", b->name, ops, (unsigned long long)(t_end - t_start));
	}
	check_end();
}

/* Hostile: seeded random-code pages, run one after the other at CPL0 or
 * CPL3 (tests/hostile/random-pages.sh drives it on bt and in QEMU and
 * compares the endings). Command line: "seed=S ring=0|3 first=F count=N"
 * (defaults 1, 3, 0, 500). Page K's code, its data page and its
 * registers come from a xorshift generator seeded with (S, K), so any
 * page is reproducible alone (first=K count=1).
 *
 * Paging maps only this guest's image (supervisor: a CPL3 access faults,
 * and a CPL0 one lands there only by a 1-in-10^4 chance per absolute
 * address), the code page, its data page and a stack page (user, RW).
 * The IDT catches every vector (lib catch_fault); the PIT, restarted for
 * each page, ends one that runs 10 ms (vector 0x20, IF set on entry). Each page prints
 * "p K VECTOR ERROR" when it ends (the timer's vector says "timer": not
 * deterministic, the driver does not compare it). A page that wrecks the
 * machine itself (its stack at CPL0 gone: a triple fault; a reset, a port
 * write that ends the VM, CLI+HLT) ends the run; the driver restarts
 * after it. "random_pages: done" ends a complete batch. Before each page
 * the tables, control registers and segments are loaded again, since CPL0
 * code may have changed them and still come back through a gate. */
#include "guest.h"

GUEST("random_pages", "paging32 user-mode soft-int-cpl0");

#define CODE_VA  0x00800000u	/* code page, then data, then stack */
#define DATA_VA  (CODE_VA + 0x1000)
#define STACK_VA (CODE_VA + 0x2000)
#define TIMER_VECTOR PIC_VECTOR_BASE

extern char __guest_image_start[], stack_top[];

static volatile uint32_t pd[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_image[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_pages[1024] __attribute__((aligned(4096)));
/* the three pages' frames (identity: the image's bss, below stack_top) */
static uint8_t frames[3][4096] __attribute__((aligned(4096)));

struct __attribute__((packed)) table_reg { uint16_t limit; uint32_t base; };
static struct table_reg saved_gdtr, saved_idtr;
static uint32_t saved_cr0, saved_cr3, saved_cr4;

static uint32_t rng;
static uint32_t next_random(void)
{
	/* xorshift32 (Marsaglia 2003) */
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t page_regs[7];	/* eax ecx edx ebx ebp esi edi */

static uint32_t parse(const char *s, const char *key, uint32_t dflt)
{
	size_t n = strlen(key);
	for (const char *start = s; *s; s++) {
		if ((s == start || s[-1] == ' ') && !memcmp(s, key, n)) {
			uint32_t v = 0;
			for (s += n; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint32_t)(*s - '0');
			return v;
		}
	}
	return dflt;
}

static void map_pages(void)
{
	uint32_t start = (uint32_t)__guest_image_start, end = ((uint32_t)stack_top + 0xfff) & ~0xfffu;
	for (uint32_t a = start; a < end; a += 0x1000)
		pt_image[a >> 12] = a | 0x3;			/* P RW, supervisor */
	for (uint32_t i = 0; i < 3; i++)
		pt_pages[i] = (uint32_t)frames[i] | 0x7;	/* P RW U */
	pd[0] = (uint32_t)pt_image | 0x3;
	pd[CODE_VA >> 22] = (uint32_t)pt_pages | 0x7;
	asm volatile("mov %0, %%cr3" : : "r"(pd) : "memory");
	write_cr0(read_cr0() | 0x80010000u);			/* PG, WP */
	saved_cr0 = read_cr0();
	saved_cr3 = read_cr3();
	saved_cr4 = read_cr4();
}

static volatile bool page_running;

/* The PIT's tick: ends a running page (as catch_fault would), or is
 * only acknowledged when it was pending from the harness's own time. */
static void on_timer(struct trap_frame *tf)
{
	pic_eoi(0);
	if (page_running)
		catch_unwind(tf);
}

/* A full period for every page, counted from its entry (writing the
 * control word stops the counter until the count is written: Intel
 * 8254 data sheet, "Write Operations"), and no tick left pending from
 * the harness's own time: a tick ends only pages that run for 10 ms. */
static void pit_restart(void)
{
	outb(0x43, 0x34);			/* channel 0, rate generator */
	outb(0x40, 11932 & 0xff);		/* 1193182 Hz / 11932: 100 Hz */
	outb(0x40, 11932 >> 8);
	/* a tick already pending (the harness took 10 ms: a loaded host) is
	 * taken here, by STI; HLT. An STI; NOP; CLI window would do as well
	 * (SDM Vol. 2B, STI): bt missed the interrupt in one before e3800fa
	 * made CLI a callout again (seen here: the 8259's IRR bit 0 still
	 * set after it); sti_shadow's sti_nop_cli_one_read checks the case,
	 * and with the window here and a 30M-iteration spin before this
	 * read, bt took all 23 ticks it met in 60 ring-3 pages */
	outb(0x20, 0x0a);			/* OCW3: read the IRR */
	if (inb(0x20) & 1)
		asm volatile("sti\n\thlt\n\tcli" ::: "memory");
}

static void restore_machine(void)
{
	asm volatile("lgdt %0\n\tlidt %1" : : "m"(saved_gdtr), "m"(saved_idtr));
	write_cr4(saved_cr4);
	write_cr0(saved_cr0);
	asm volatile("mov %0, %%cr3" : : "r"(saved_cr3) : "memory");
	asm volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs\n\tmov %0, %%gs"
		     : : "r"(SEL_DATA32));
	/* a null LDTR: an LDT selector faults with #GP everywhere (the
	 * LDTR cache a loader leaves behind differs: QEMU's has limit
	 * 0xffff from reset, SDM Vol. 3A Table 10-1) */
	asm volatile("lldt %w0" : : "r"(0));
	pic_set_mask(0xfffe);
}

static void fill_page(uint32_t seed, uint32_t k)
{
	rng = seed * 0x9e3779b9u ^ (k + 1) * 0x85ebca6bu;
	if (!rng)
		rng = 1;
	for (int i = 0; i < 16; i++)
		next_random();
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 4096; i += 4) {
			uint32_t r = next_random();
			memcpy(&frames[f][i], &r, 4);
		}
	memset(frames[2], 0, 4096);
	/* pointers into the data page: most register-based accesses land in
	 * mapped memory, so the run gets further than its first load */
	for (int i = 0; i < 7; i++)
		page_regs[i] = DATA_VA + (next_random() & 0xffc);
	page_regs[1] = next_random() & 0xfff;	/* ECX: a short REP/LOOP count */
	asm volatile("invlpg (%0)\n\tinvlpg (%1)\n\tinvlpg (%2)"
		     : : "r"(CODE_VA), "r"(DATA_VA), "r"(STACK_VA) : "memory");
}

/* Enters the page: ring 0 by a far return to itself (IF set), ring 3 by
 * IRET (IF set, IOPL 0). Both with every register from page_regs and
 * ESP at the top of the stack page. */
static void enter_ring0(void *arg)
{
	asm volatile("mov %[stk], %%esp\n\t"
		     "pushl $0x202\n\tpushl %[cs]\n\tpushl %[code]\n\t"
		     "mov 0(%[r]), %%eax\n\tmov 4(%[r]), %%ecx\n\tmov 8(%[r]), %%edx\n\t"
		     "mov 12(%[r]), %%ebx\n\tmov 16(%[r]), %%ebp\n\tmov 24(%[r]), %%edi\n\t"
		     "mov 20(%[r]), %%esi\n\t"
		     "iret"
		     : : [stk] "i"(STACK_VA + 0xff0), [cs] "i"(SEL_CODE32), [code] "i"(CODE_VA),
		       [r] "S"(page_regs)
		     : "eax", "ecx", "edx", "ebx", "edi", "memory");
	__builtin_unreachable();
}

static void enter_ring3(void *arg)
{
	asm volatile("pushl %[ss]\n\tpushl %[stk]\n\tpushl $0x202\n\tpushl %[cs]\n\tpushl %[code]\n\t"
		     "mov %[ss], %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es\n\t"
		     "mov %%eax, %%fs\n\tmov %%eax, %%gs\n\t"
		     "mov 0(%[r]), %%eax\n\tmov 4(%[r]), %%ecx\n\tmov 8(%[r]), %%edx\n\t"
		     "mov 12(%[r]), %%ebx\n\tmov 16(%[r]), %%ebp\n\tmov 24(%[r]), %%edi\n\t"
		     "mov 20(%[r]), %%esi\n\t"
		     "iret"
		     : : [stk] "i"(STACK_VA + 0xff0), [ss] "i"(SEL_UDATA32), [cs] "i"(SEL_UCODE32),
		       [code] "i"(CODE_VA), [r] "S"(page_regs)
		     : "eax", "ecx", "edx", "ebx", "edi", "memory");
	__builtin_unreachable();
}

void guest_main(const struct mb_info *mbi)
{
	const char *cmd = (mbi->flags & MBI_CMDLINE) ? (const char *)mbi->cmdline : "";
	uint32_t seed = parse(cmd, "seed=", 1), ring = parse(cmd, "ring=", 3);
	uint32_t first = parse(cmd, "first=", 0), count = parse(cmd, "count=", 500);
	static uint8_t kstack[8192] __attribute__((aligned(16)));

	printf_serial("random_pages: seed=%u ring=%u first=%u count=%u\n", seed, ring, first, count);
	asm volatile("sgdt %0\n\tsidt %1" : "=m"(saved_gdtr), "=m"(saved_idtr));
	for (int v = 0; v < 256; v++)
		idt_set_type(v, GATE_INT | GATE_DPL3 * (v == 3 || v == 4));
	tss_load((uint32_t)kstack + sizeof(kstack));
	trap_set_handler(TIMER_VECTOR, on_timer);
	pic_init(0x0001);
	map_pages();
	uint32_t ran = 0;
	for (uint32_t k = first; k < first + count; k++) {
		struct fault f;
		fill_page(seed, k);
		restore_machine();
		pit_restart();
		page_running = true;
		bool caught = catch_fault(ring == 0 ? enter_ring0 : enter_ring3, 0, &f);
		asm volatile("cli");
		page_running = false;
		restore_machine();
		if (!caught)
			f.vector = 256, f.error = 0, f.eip = 0;
		printf_serial("p %u %u %x %x %x\n", k, f.vector, f.error, f.eip, f.vector == 14 ? f.cr2 : 0);
		ran++;
	}
	pic_set_mask(0xffff);
	printf_serial("random_pages: done\n");
	check_begin("pages");
	check_eq("pages run", ran, count);
	check_end();
}

/* #PF raised over and over at the same instruction, as bt's adaptive
 * translation sees it: after a few host faults there it looks the access
 * up in a soft TLB and raises #PF from the page walk, without a host
 * fault (bt/memory/soft_tlb.c). Every #PF, the first and the fortieth,
 * must be the same as the hardware's (SDM Vol. 3A 4.7, 6.15): the error
 * code (P, W/R, U/S), CR2 (the first byte that faults: the second page
 * of an access across a page), the EIP of the instruction, the flags it
 * found and every register as it was (nothing of it done); after the
 * handler's fix the retry reads or writes the right frame. Each form is
 * 40 rounds at one instruction:
 *  - CPL0 read and write of a not-present page, ADD to memory of a
 *    read-only one;
 *  - CPL0 write to a read-only page with CR0.WP=1 (fault), then the same
 *    instruction with WP=0 (no fault, the frame written, D set);
 *  - CPL0 read across a page whose second page is not present;
 *  - CPL3 read of a supervisor page, of a not-present page, and a write
 *    to a read-only user page.
 * The memory CRC (A and D bits included) and the STATE line go to the
 * differential test against QEMU. */
#include "guest.h"
#include "mem_form.h"

GUEST("pf_adaptive", "paging32 user-mode");

#define PF_PDE 300u
#define BASE (PF_PDE << 22)
#define NPAGES 8
#define ROUNDS 40
#define VEC_SYSCALL 0x80

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frames[NPAGES][1024] __attribute__((aligned(4096)));
static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* what the #PF handler saw, and what it does to the faulting entry */
static volatile uint32_t seen_err, seen_cr2, seen_eip, seen_flags, seen_cs, faults;
static volatile uint32_t seen_eax, seen_ebx, seen_ecx, seen_edx;
static volatile uint32_t fix_bits, form_flags, form_esp;	/* form_esp: mem_form.h */

static void on_pf(struct trap_frame *tf)
{
	uint32_t cr2 = read_cr2();
	seen_err = tf->error;
	seen_cr2 = cr2;
	seen_eip = tf->eip;
	seen_cs = tf->cs & 0xffff;
	/* RF left out: hardware sets it in a fault's EFLAGS image (SDM
	 * Vol. 3A 18.3.1.1), QEMU TCG and bt do not */
	seen_flags = tf->eflags & ~0x10000u;
	seen_eax = tf->eax;
	seen_ebx = tf->ebx;
	seen_ecx = tf->ecx;
	seen_edx = tf->edx;
	faults++;
	if (cr2 - BASE < NPAGES * 4096u)
		table[(cr2 - BASE) >> 12] |= fix_bits;	/* the retry needs no INVLPG (4.10.4.1) */
}

static uint32_t page_addr(unsigned k, unsigned off)
{
	return BASE + k * 4096 + off;
}

/* The entry of page k set to flags, its TLB entry flushed. */
static void arm(unsigned k, uint32_t flags)
{
	table[k] = (uint32_t)frames[k] | flags;
	invlpg((void *)page_addr(k, 0));
}

MEM_FORM(form_read, "movl (%%ecx), %%eax")
MEM_FORM(form_write, "movl %%edx, (%%ecx)")
MEM_FORM(form_add, "addl %%edx, (%%ecx)")
MEM_FORM(form_wp, "movl %%edx, (%%ecx)")
MEM_FORM(form_cross, "movl (%%ecx), %%eax")

/* ROUNDS rounds of form at page (i % NPAGES) + off, each armed with
 * armed and fixed by the handler with fix: exactly one #PF with error
 * err at want_cr2's offset (or none if err is ~0), the frame as the
 * instruction found it, then the access done on the right frame. */
static void run_form(const char *what, form_fn form, bool write, uint32_t armed, uint32_t fix,
		     uint32_t err, unsigned off)
{
	uint32_t bad_frame = 0, bad_count = 0, bad_data = 0;

	for (uint32_t i = 0; i < ROUNDS; i++) {
		bool cross = off > 4092;
		unsigned k = cross ? i % (NPAGES - 1) : i % NPAGES, k2 = k + 1;
		uint32_t addr = page_addr(k, off), flags, at;
		uint32_t a = i * 0x9e3779b9u, b = i * 7 + (i & 1 ? 0x80000000u : 0);
		uint32_t v = 0xc0de0000 + i;
		uint32_t want_cr2 = cross ? page_addr(k2, 0) : addr;
		uint32_t before = faults;
		arm(k, cross ? PTE_P | PTE_W : armed);
		if (cross)
			arm(k2, armed);
		frames[k][off / 4] = 0x1000 * k + off;
		fix_bits = fix;
		uint32_t got = form(addr, a, b, v, &flags, &at);
		if (faults - before != (err == ~0u ? 0u : 1u)) {
			bad_count++;
			continue;
		}
		if (err != ~0u &&
		    (seen_err != err || seen_cr2 != want_cr2 || seen_eip != at ||
		     seen_cs != SEL_CODE32 || ((seen_flags ^ flags) & 0x8d5) != 0 ||
		     seen_eax != 0x5a5a0000 + a || seen_ebx != (a ^ b) || seen_ecx != addr ||
		     seen_edx != v))
			bad_frame++;
		if (cross)
			continue;	/* its bytes: the memory CRC */
		if (write ? frames[k][off / 4] != (form == form_add ? 0x1000 * k + off + v : v)
			  : got != 0x1000 * k + off)
			bad_data++;
	}
	check(bad_count == 0, "%s: %u of %u rounds without exactly one #PF", what, bad_count, ROUNDS);
	check(bad_frame == 0, "%s: %u of %u #PF frames wrong (last: error %x cr2 %x eip %x)", what,
	      bad_frame, ROUNDS, seen_err, seen_cr2, seen_eip);
	check(bad_data == 0, "%s: %u of %u accesses after the fix wrong", what, bad_data, ROUNDS);
}

/* --- CPL3: the user program loops at user_read_at / user_write_at; an
 * int 0x80 re-arms the next round's page (the table is supervisor-only
 * data) and ends the program. */
#define SYS_EXIT 0
#define SYS_ARM 1
static volatile uint32_t user_armed, user_fix, user_bad, user_faults_before;
static volatile uint32_t user_round_addr;

static void syscall_handler(struct trap_frame *tf)
{
	if (tf->eax == SYS_EXIT)
		catch_unwind(tf);
	unsigned k = tf->ebx % NPAGES;
	arm(k, user_armed);
	frames[k][5] = 0x1000 * k + 20;
	fix_bits = user_fix;
}

static uint32_t user_syscall(uint32_t nr, uint32_t arg)
{
	uint32_t r;
	asm volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(arg) : "memory");
	return r;
}

extern char user_read_at[], user_write_at[];
static volatile uint32_t user_write;	/* the form: read or write */
static volatile uint32_t user_results[ROUNDS];

static void user_program(void)
{
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t addr = page_addr(i % NPAGES, 20), eax = 0x77, edx = 0xbeef0000 + i;
		user_syscall(SYS_ARM, i);
		if (user_write)
			asm volatile(".globl user_write_at\nuser_write_at:\n\tmovl %%edx, (%%ecx)"
				     : "+a"(eax) : "c"(addr), "d"(edx) : "memory");
		else
			asm volatile(".globl user_read_at\nuser_read_at:\n\tmovl (%%ecx), %%eax"
				     : "+a"(eax) : "c"(addr) : "memory");
		user_results[i] = eax;
	}
	user_syscall(SYS_EXIT, 0);
}

static void enter_user(void *user_code)
{
	enter_user_iret(user_code, user_stack + sizeof(user_stack));
}

static void run_user(const char *what, bool write, uint32_t armed, uint32_t fix, uint32_t err)
{
	struct fault f = { .vector = ~0u };
	uint32_t before = faults, bad = 0;

	user_write = write;
	user_armed = armed;
	user_fix = fix;
	bool unwound = catch_fault(enter_user, (void *)user_program, &f);
	check(unwound && f.vector == VEC_SYSCALL, "%s: the user program did not end (vector %x)", what,
	      f.vector);
	check(faults - before == ROUNDS, "%s: %u #PF in %u rounds", what, faults - before, ROUNDS);
	check(seen_err == err && seen_cs == SEL_UCODE32 &&
	      seen_eip == (uint32_t)(write ? user_write_at : user_read_at) &&
	      seen_cr2 == page_addr((ROUNDS - 1) % NPAGES, 20),
	      "%s: last #PF error %x cs %x eip %x cr2 %x", what, seen_err, seen_cs, seen_eip, seen_cr2);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		unsigned k = i % NPAGES;
		if (write ? frames[k][5] != (i + NPAGES >= ROUNDS ? 0xbeef0000 + i : frames[k][5])
			  : user_results[i] != 0x1000 * k + 20)
			bad++;
	}
	check(bad == 0, "%s: %u of %u accesses after the fix wrong", what, bad, ROUNDS);
}

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	/* user pages: the low 4 MiB (code, data, stacks) and the test PDE */
	for (unsigned i = 0; i < 1024; i++)
		paging32_low_table[i] |= PTE_U;
	paging32_directory[0] |= PTE_U;
	paging32_directory[PF_PDE] = (uint32_t)table | PTE_P | PTE_W | PTE_U;
	write_cr3(read_cr3());
	tss_load((uint32_t)kernel_stack + sizeof(kernel_stack));
	idt_set_type(VEC_SYSCALL, GATE_INT | GATE_DPL3);
	trap_set_handler(VEC_SYSCALL, syscall_handler);
	trap_set_handler(VEC_PF, on_pf);

	check_begin("cpl0");
	run_form("read, not present", form_read, false, 0, PTE_P | PTE_W, 0, 0x40);
	run_form("write, not present", form_write, true, 0, PTE_P | PTE_W, 2, 0x44);
	/* a read-modify-write of a not-present page: the host CPU reports a
	 * write, QEMU a read; a read-only page is a write fault for both */
	run_form("add to memory, read-only", form_add, true, PTE_P, PTE_W, 3, 0x48);
	run_form("write, read-only, WP=1", form_wp, true, PTE_P, PTE_W, 3, 0x4c);
	write_cr0(read_cr0() & ~CR0_WP);
	run_form("write, read-only, WP=0", form_wp, true, PTE_P, 0, ~0u, 0x50);
	write_cr0(read_cr0() | CR0_WP);
	run_form("read across a page, second not present", form_cross, false, 0, PTE_P | PTE_W, 0, 4094);
	check_end();

	check_begin("cpl3");
	run_user("user read, supervisor page", false, PTE_P | PTE_W, PTE_U, 5);
	run_user("user read, not present", false, PTE_U | PTE_W, PTE_P, 4);
	run_user("user write, read-only", true, PTE_P | PTE_U, PTE_W, 7);
	check_end();
	trap_set_handler(VEC_PF, NULL);
}

/* #PF raised by bt from inside a translated block: an access that kept
 * faulting goes through the soft TLB (bt/memory/soft_tlb.c), and once its
 * in-block fill finds the page not present the #PF is delivered from the
 * block, with that walk's error code, and the block goes on at the
 * handler (bt/cpu/callout_in_block.c, stlb_fault_in_block). Every round
 * must still see what the hardware gives (SDM Vol. 3A 4.7, 6.15): the
 * error code (P, W/R, U/S), CR2, the frame (EIP of the faulting
 * instruction, CS, EFLAGS, at CPL3 the user's SS:ESP; at CPL0 the frame
 * right below the ESP the instruction had) and every register as it was.
 * Each form runs ROUNDS times at one instruction (bt's soft TLB takes it
 * over after 16):
 *  - CPL0 read and write of a page whose PTE is not present, and of one
 *    whose PDE is not present;
 *  - CPL0 read whose handler fixes nothing the first time: the retry
 *    faults again with the same state, the second handler run fixes it;
 *  - CPL3 read and write of a not-present user page (the frame on the
 *    TSS stack, the user's ESP in it);
 *  - CPL3 read of a not-present page with the TSS stack (ESP0) not
 *    present either: the #PF's frame faults, so #DF (Table 6-5), taken
 *    through a gate to a conforming code segment, so on the user's stack
 *    at CPL3: error code 0, and CR2 the stack address that faulted;
 *  - INT 0x80 from CPL3 with that stack not present: a #PF (not #DF) with
 *    CR2 the push's address and error code 2.
 * The memory CRC (A and D bits included) and the STATE line go to the
 * differential test against QEMU. */
#include "guest.h"
#include "mem_form.h"

GUEST("pf_in_block", "paging32 user-mode");

#define PF_PDE 300u	/* PTE-level faults: its table is present */
#define PD_PDE 301u	/* PDE-level faults: the entry itself comes and goes */
#define BASE (PF_PDE << 22)
#define PD_BASE (PD_PDE << 22)
#define NPAGES 8
#define ROUNDS 40
#define VEC_SYSCALL 0x80
#define SEL_CONFORMING SEL_SPARE(4)

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t pd_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frames[NPAGES][1024] __attribute__((aligned(4096)));
static uint8_t kernel_stack[4096] __attribute__((aligned(4096)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* what the #PF handler saw; fixes_left: how many handler runs pass before
 * the entry is fixed (0: the first) */
static volatile uint32_t seen_err, seen_cr2, seen_eip, seen_flags, seen_cs, seen_esp, faults;
static volatile uint32_t seen_eax, seen_ebx, seen_ecx, seen_edx, seen_user_esp, seen_user_ss;
static volatile uint32_t skip_fixes, skips_left, form_flags, form_esp;

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
	/* the ESP the instruction had: right above EFLAGS at CPL0 */
	seen_esp = (uint32_t)&tf->user_esp;
	seen_user_esp = (tf->cs & 3) ? tf->user_esp : 0;
	seen_user_ss = (tf->cs & 3) ? tf->user_ss & 0xffff : 0;
	faults++;
	if (skips_left) {
		skips_left--;
		return;	/* nothing fixed: the retry faults again */
	}
	if (cr2 - BASE < NPAGES * 4096u)
		table[(cr2 - BASE) >> 12] |= PTE_P;	/* no INVLPG needed (4.10.4.1) */
	else if (cr2 - PD_BASE < 4096u * 1024)
		paging32_directory[PD_PDE] |= PTE_P;
}

static uint32_t page_addr(unsigned k, unsigned off)
{
	return BASE + k * 4096 + off;
}

MEM_FORM(form_read, "movl (%%ecx), %%eax")
MEM_FORM(form_write, "movl %%edx, (%%ecx)")
MEM_FORM(form_pde_read, "movl (%%ecx), %%eax")
MEM_FORM(form_pde_write, "movl %%edx, (%%ecx)")
MEM_FORM(form_twice, "movl (%%ecx), %%eax")

/* ROUNDS rounds of form at page (i % NPAGES) + off of the PTE-level
 * window (or at pde ? a page of the PDE-level one), each armed not
 * present and fixed by the handler after skips runs of it: exactly
 * skips + 1 #PF with error err, the frame as the instruction found it,
 * then the access done on the right frame. */
static void run_form(const char *what, form_fn form, bool write, bool pde, uint32_t skips,
		     uint32_t err, unsigned off)
{
	uint32_t bad_frame = 0, bad_count = 0, bad_data = 0;

	for (uint32_t i = 0; i < ROUNDS; i++) {
		unsigned k = i % NPAGES;
		uint32_t addr = pde ? PD_BASE + (i % 1024) * 4096 + off : page_addr(k, off);
		uint32_t a = i * 0x9e3779b9u, b = i * 7 + (i & 1 ? 0x80000000u : 0);
		uint32_t v = 0xc0de0000 + i, flags, at;
		uint32_t before = faults;
		if (pde) {
			/* every PTE present: only the PDE is missing */
			pd_table[i % 1024] = (uint32_t)frames[k] | PTE_P | PTE_W;
			paging32_directory[PD_PDE] = (uint32_t)pd_table | PTE_W;
		} else {
			table[k] = (uint32_t)frames[k] | PTE_W;
		}
		invlpg((void *)addr);
		frames[k][off / 4] = 0x1000 * k + off;
		skips_left = skips;
		uint32_t got = form(addr, a, b, v, &flags, &at);
		if (faults - before != skips + 1) {
			bad_count++;
			continue;
		}
		if (seen_err != err || seen_cr2 != addr || seen_eip != at ||
		    seen_cs != SEL_CODE32 || ((seen_flags ^ flags) & 0x8d5) != 0 ||
		    seen_esp != form_esp || seen_eax != 0x5a5a0000 + a || seen_ebx != (a ^ b) ||
		    seen_ecx != addr || seen_edx != v)
			bad_frame++;
		if (write ? frames[k][off / 4] != v : got != 0x1000 * k + off)
			bad_data++;
	}
	check(bad_count == 0, "%s: %u of %u rounds without exactly %u #PF", what, bad_count, ROUNDS,
	      skips + 1);
	check(bad_frame == 0, "%s: %u of %u #PF frames wrong (last: error %x cr2 %x eip %x esp %x/%x)",
	      what, bad_frame, ROUNDS, seen_err, seen_cr2, seen_eip, seen_esp, form_esp);
	check(bad_data == 0, "%s: %u of %u accesses after the fix wrong", what, bad_data, ROUNDS);
}

/* --- CPL3: the user program loops at user_read_at / user_write_at; an
 * int 0x80 re-arms the next round's page (the table is supervisor-only
 * data), reports a #DF or ends the program. */
#define SYS_EXIT 0
#define SYS_ARM 1
#define SYS_DF 2
#define SYS_PF3 3
static volatile uint32_t user_write, user_df, user_int, df_seen, df_cr2;
volatile uint32_t df_err, df_cs, df_pte;	/* df_entry's */
static volatile uint32_t user_results[ROUNDS];
static volatile uint32_t user_esp_at[ROUNDS];

static void syscall_handler(struct trap_frame *tf)
{
	if (tf->eax == SYS_DF || tf->eax == SYS_PF3) {
		df_seen++;
		df_cr2 = read_cr2();
		catch_unwind(tf);
	}
	if (tf->eax == SYS_EXIT)
		catch_unwind(tf);
	unsigned k = tf->ebx % NPAGES;
	table[k] = (uint32_t)frames[k] | PTE_U | PTE_W;	/* not present */
	invlpg((void *)page_addr(k, 0));
	frames[k][5] = 0x1000 * k + 20;
}

static uint32_t user_syscall(uint32_t nr, uint32_t arg)
{
	uint32_t r;
	asm volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(arg) : "memory");
	return r;
}

extern char user_read_at[], user_write_at[];

static void user_program(void)
{
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t addr = page_addr(i % NPAGES, 20), eax = 0x77, edx = 0xbeef0000 + i, esp;
		if (user_int)
			user_syscall(SYS_ARM, i);	/* its frame faults */
		if (!user_df)
			user_syscall(SYS_ARM, i);
		if (user_write)
			asm volatile("movl %%esp, %1\n\t"
				     ".globl user_write_at\nuser_write_at:\n\tmovl %%edx, (%%ecx)"
				     : "+a"(eax), "=m"(esp) : "c"(addr), "d"(edx) : "memory");
		else
			asm volatile("movl %%esp, %1\n\t"
				     ".globl user_read_at\nuser_read_at:\n\tmovl (%%ecx), %%eax"
				     : "+a"(eax), "=m"(esp) : "c"(addr) : "memory");
		user_results[i] = eax;
		user_esp_at[i] = esp;
	}
	user_syscall(SYS_EXIT, 0);
}

static void enter_user(void *user_code)
{
	enter_user_iret(user_code, user_stack + sizeof(user_stack));
}

static void run_user(const char *what, bool write, uint32_t err)
{
	struct fault f = { .vector = ~0u };
	uint32_t before = faults, bad = 0;

	user_write = write;
	bool unwound = catch_fault(enter_user, (void *)user_program, &f);
	check(unwound && f.vector == VEC_SYSCALL, "%s: the user program did not end (vector %x)", what,
	      f.vector);
	check(faults - before == ROUNDS, "%s: %u #PF in %u rounds", what, faults - before, ROUNDS);
	check(seen_err == err && seen_cs == SEL_UCODE32 &&
	      seen_eip == (uint32_t)(write ? user_write_at : user_read_at) &&
	      seen_cr2 == page_addr((ROUNDS - 1) % NPAGES, 20) &&
	      seen_user_ss == SEL_UDATA32 && seen_user_esp == user_esp_at[ROUNDS - 1],
	      "%s: last #PF error %x cs %x eip %x cr2 %x user ss:esp %x:%x (want esp %x)", what,
	      seen_err, seen_cs, seen_eip, seen_cr2, seen_user_ss, seen_user_esp,
	      user_esp_at[ROUNDS - 1]);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		unsigned k = i % NPAGES;
		if (write ? (i + NPAGES >= ROUNDS && frames[k][5] != 0xbeef0000 + i)
			  : user_results[i] != 0x1000 * k + 20)
			bad++;
	}
	check(bad == 0, "%s: %u of %u accesses after the fix wrong", what, bad, ROUNDS);
}

/* #DF at CPL3 through a conforming code segment: no stack switch, so its
 * frame goes on the user's stack (which is present). Its saved CS:EIP is
 * undefined (SDM Vol. 3A 6.15, Interrupt 8); the error code is 0. The
 * low page tables are user pages here, so the handler makes ESP0's page
 * present again itself (a not-present entry is never cached) and then
 * reports through int 0x80, which needs that stack. */
void df_entry(void);
asm(".text\n.globl df_entry\ndf_entry:\n\t"
    "movl (%esp), %eax\n\tmovl %eax, df_err\n\t"
    "movl %cs, %eax\n\tmovl %eax, df_cs\n\t"
    "movl df_pte, %eax\n\torl $1, (%eax)\n\t"
    "movl $" STR(SYS_DF) ", %eax\n\tint $0x80\n");

/* #PF at CPL3 through the conforming segment, for an INT whose frame met
 * the not-present ESP0 page: records the error code, makes the page
 * present again and reports as df_entry does. */
void pf3_entry(void);
asm(".text\n.globl pf3_entry\npf3_entry:\n\t"
    "movl (%esp), %eax\n\tmovl %eax, df_err\n\t"
    "movl %cs, %eax\n\tmovl %eax, df_cs\n\t"
    "movl df_pte, %eax\n\torl $1, (%eax)\n\t"
    "movl $" STR(SYS_PF3) ", %eax\n\tint $0x80\n");

/* The gate of vector v pointed at selector sel (idt_set_raw uses
 * SEL_CODE32). */
static void gate_selector(uint8_t v, uint16_t sel)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr;
	asm volatile("sidt %0" : "=m"(idtr));
	volatile uint64_t *gate = (volatile uint64_t *)idtr.base + v;
	*gate = (*gate & ~0xffff0000ull) | ((uint64_t)sel << 16);
}

/* The user program's read at user_read_at (a soft-TLB site in bt by now)
 * faults; the #PF's frame goes to ESP0's page, which is not present. */
static void run_df(void)
{
	struct fault f = { .vector = ~0u };
	uint32_t stack_page = (uint32_t)kernel_stack;
	unsigned idx = (stack_page >> 12) & 0x3ff;
	uint32_t before = faults;

	gdt_set(SEL_CONFORMING, 0, 0xfffff, SEG_CODE_RX | DESC_TYPE_EC, SEG_FLAG_G | SEG_FLAG_DB);
	/* a conforming segment keeps the CPL (SDM Vol. 3A 5.8.5, 6.12.1) */
	idt_set_raw(VEC_DF, df_entry, GATE_INT);
	gate_selector(VEC_DF, SEL_CONFORMING);
	table[0] = (uint32_t)frames[0] | PTE_U | PTE_W;	/* not present */
	invlpg((void *)page_addr(0, 0));
	df_pte = (uint32_t)&paging32_low_table[idx];
	paging32_low_table[idx] &= ~PTE_P;
	invlpg((void *)stack_page);
	user_write = false;
	user_df = true;
	df_seen = 0;
	bool unwound = catch_fault(enter_user, (void *)user_program, &f);
	user_df = false;
	check(paging32_low_table[idx] & PTE_P, "#DF: the stack page is still not present");
	paging32_low_table[idx] |= PTE_P;
	check(unwound && f.vector == VEC_SYSCALL && df_seen == 1,
	      "#DF: the user program did not end through the #DF handler (vector %x, %u #DF)",
	      f.vector, df_seen);
	check(faults == before, "#DF: the #PF handler ran %u times", faults - before);
	check(df_err == 0 && (df_cs & 0xffff) == (SEL_CONFORMING | 3),
	      "#DF: error %x cs %x (want 0, %x)", df_err, df_cs & 0xffff, SEL_CONFORMING | 3);
	/* the last fault was the frame's push at the top of ESP0's page */
	check(df_cr2 >> 12 == stack_page >> 12, "#DF: cr2 %x, not in the stack page %x", df_cr2,
	      stack_page);
	idt_set_type(VEC_DF, GATE_INT);
}

/* INT 0x80 from CPL3 with ESP0's page not present: the frame's first push
 * (SS, at ESP0 - 4) meets a #PF, which a software interrupt does not turn
 * into #DF (SDM Vol. 3A Table 6-4: benign): #PF with CR2 = ESP0 - 4 and the
 * write's error code (supervisor, not present: 2), taken here through the
 * conforming segment on the user's stack. */
static void run_int_pf(void)
{
	struct fault f = { .vector = ~0u };
	uint32_t stack_page = (uint32_t)kernel_stack;
	unsigned idx = (stack_page >> 12) & 0x3ff;
	uint32_t before = faults;

	gdt_set(SEL_CONFORMING, 0, 0xfffff, SEG_CODE_RX | DESC_TYPE_EC, SEG_FLAG_G | SEG_FLAG_DB);
	idt_set_raw(VEC_PF, pf3_entry, GATE_INT);
	gate_selector(VEC_PF, SEL_CONFORMING);
	df_pte = (uint32_t)&paging32_low_table[idx];
	paging32_low_table[idx] &= ~PTE_P;
	invlpg((void *)stack_page);
	user_write = false;
	user_int = true;
	df_seen = 0;
	df_err = ~0u;
	bool unwound = catch_fault(enter_user, (void *)user_program, &f);
	user_int = false;
	idt_set_type(VEC_PF, GATE_INT);
	paging32_low_table[idx] |= PTE_P;
	check(unwound && f.vector == VEC_SYSCALL && df_seen == 1,
	      "int: the user program did not end through the #PF handler (vector %x, %u)", f.vector,
	      df_seen);
	check(faults == before, "int: the ring-0 #PF handler ran %u times", faults - before);
	check(df_err == 2 && (df_cs & 0xffff) == (SEL_CONFORMING | 3) &&
	      df_cr2 == stack_page + sizeof(kernel_stack) - 4,
	      "int: #PF error %x cs %x cr2 %x (want 2, %x, %x)", df_err, df_cs & 0xffff, df_cr2,
	      SEL_CONFORMING | 3, stack_page + (uint32_t)sizeof(kernel_stack) - 4);
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
	run_form("read, PTE not present", form_read, false, false, 0, 0, 0x40);
	run_form("write, PTE not present", form_write, true, false, 0, 2, 0x44);
	run_form("read, PDE not present", form_pde_read, false, true, 0, 0, 0x48);
	run_form("write, PDE not present", form_pde_write, true, true, 0, 2, 0x4c);
	run_form("read, not fixed the first time", form_twice, false, false, 1, 0, 0x50);
	check_end();

	check_begin("cpl3");
	run_user("user read, not present", false, 4);
	run_user("user write, not present", true, 6);
	check_end();

	/* before df, whose CR2 is the same stack address */
	check_begin("int_frame_pf");
	run_int_pf();
	check_end();

	check_begin("df");
	run_df();
	check_end();
	trap_set_handler(VEC_PF, NULL);
}

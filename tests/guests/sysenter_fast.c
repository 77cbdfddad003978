/* SYSENTER and SYSEXIT as bt translates them (bt/translate/sys_fast.c:
 * after the first transfer through C, the same SYSENTER or SYSEXIT site
 * does the transfer in translated code while its record holds). One
 * SYSENTER site and one SYSEXIT site, used ROUNDS times, every call
 * logged into arrays the STATE line's CRC covers, so
 * tests/bt/differential.sh compares each one with QEMU; checked here
 * against the SDM (Vol. 2B SYSENTER, SYSEXIT):
 *   round_trips  at SYSENTER: IF clear (the user runs with IF set), the
 *                user's arithmetic flags kept, CS = SYSENTER_CS & ~3,
 *                SS = CS + 8, ESP = SYSENTER_ESP; after SYSEXIT: CS/SS =
 *                (SYSENTER_CS + 16/24) | 3, ESP = ECX, EIP = EDX, the
 *                flags the kernel set (STI's IF among them); the user's
 *                DS switched to a segment with base 4 every third round
 *                (a block reading through DS is another block then);
 *   pending      IRQ 0 made pending by the kernel under IF=0, then
 *                `sti; sysexit`: taken at the user's first instruction
 *                (STI's shadow covers only the SYSEXIT, SDM Vol. 3A 6.8.3);
 *   cs_zero_gp   SYSENTER_CS written 0 by the kernel (which returns by
 *                IRET): the same SYSENTER raises #GP(0) at itself;
 *   sysexit_cpl3 the kernel's SYSEXIT reached from ring 3: #GP(0);
 *   sysexit_jc   a SYSEXIT the kernel reaches by an indirect jump, 50
 *                round trips, then the same indirect jump from ring 3:
 *                #GP(0) (bt's jump cache, keyed by segment bases and
 *                limits, not by CPL, hands ring 3 the ring-0 block). */
#include "guest.h"

GUEST("sysenter_fast", "user-mode sysenter sti-window");

#define ROUNDS 300
#define PENDING_AT 200		/* calls PENDING_AT.. make IRQ 0 pending */
#define PENDING_ROUNDS 6
#define KILL_AT (PENDING_AT + PENDING_ROUNDS)	/* this call zeroes SYSENTER_CS */
#define SEL_BASED4 (SEL_SPARE(4) | 3)	/* user data, base 4 */
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE0 0x30
#define PIT_READBACK_CH0_STATUS 0xe2
#define PIT_STATUS_OUT 0x80
#define PIC1_CMD 0x20
#define OCW3_READ_IRR 0x0a
#define IRQ_TIMER 0
#define IRR_BOUND 100000000u
#define FLAGS_ARITH 0xcd5u	/* OF DF SF ZF AF PF CF */

static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t trap_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* kernel side, indexed by call */
volatile uint32_t k_calls, k_flags_log[ROUNDS], k_esp_log[ROUNDS], k_exit_flags[ROUNDS];
volatile uint16_t k_cs_log[ROUNDS], k_ss_log[ROUNDS], k_ds_sel[ROUNDS];
volatile uint32_t k_pending_ok;
/* user side, indexed by round */
volatile uint32_t u_i, u_flags_in[ROUNDS], u_flags_log[ROUNDS], u_esp_log[ROUNDS], u_probe_log[ROUNDS];
volatile uint16_t u_cs_log[ROUNDS], u_ss_log[ROUNDS];
/* read through the user's DS: probe[0] flat, probe[1] through base 4 */
volatile uint32_t probe[2] = { 0x11111111, 0x22222222 };
volatile uint32_t taken, taken_eip[PENDING_ROUNDS], taken_cs[PENDING_ROUNDS];

void k_entry(void), u_loop(void), u_jump_sysexit(void), k_entry2(void), u_loop2(void);
extern const char k_sysexit[], u_sysenter[], u_ret[], k_sysexit2[];
volatile uint32_t k2_calls;
bool make_pending(void);

asm(".text\n"
    ".globl k_entry\nk_entry:\n\t"
    "pushfl\n\t"			/* the flags SYSENTER left */
    "pushl $" STR(SEL_SE_UDATA) "\n\t"
    "popl %ds\n\t"			/* flat, whatever the user had */
    "movl k_calls, %eax\n\t"
    "popl k_flags_log(,%eax,4)\n\t"
    "movl %esp, k_esp_log(,%eax,4)\n\t"
    "movw %cs, k_cs_log(,%eax,2)\n\t"
    "movw %ss, k_ss_log(,%eax,2)\n\t"
    "incl k_calls\n\t"
    "cmpl $" STR(KILL_AT) ", %eax\n\t"
    "je 2f\n\t"
    "cmpl $" STR(PENDING_AT) ", %eax\n\t"
    "jb 1f\n\t"
    "pushl %eax\n\tpushl %ecx\n\tpushl %edx\n\t"
    "call make_pending\n\t"
    "addl %eax, k_pending_ok\n\t"
    "popl %edx\n\tpopl %ecx\n\tpopl %eax\n"
    "1:\tmovw k_ds_sel(,%eax,2), %di\n\t"
    "pushl k_exit_flags(,%eax,4)\n\t"
    "movw %di, %ds\n\t"
    "popfl\n\t"
    "sti\n"
    ".globl k_sysexit\nk_sysexit:\n\t"
    "sysexit\n"
    /* SYSENTER_CS = 0, back to the user by IRET */
    "2:\tmovl %ecx, %esi\n\t"
    "movl %edx, %edi\n\t"
    "movl $0x174, %ecx\n\txorl %eax, %eax\n\txorl %edx, %edx\n\twrmsr\n\t"
    "pushl $" STR(SEL_SE_UDATA) "\n\tpushl %esi\n\tpushl $0x202\n\t"
    "pushl $" STR(SEL_SE_UCODE) "\n\tpushl %edi\n\tiret\n"
    /* ring 3: one SYSENTER site, forever (the kill's #GP ends it) */
    ".globl u_loop\nu_loop:\n\t"
    "movl %ss:u_i, %ebx\n\t"
    "pushl %ss:u_flags_in(,%ebx,4)\n\t"
    "popfl\n\t"
    "movl $1, %eax\n\t"
    "movl %esp, %ecx\n\t"
    "movl $u_ret, %edx\n"
    ".globl u_sysenter\nu_sysenter:\n\t"
    "sysenter\n"
    ".globl u_ret\nu_ret:\n\t"
    "pushfl\n\t"
    "movl %ss:u_i, %ebx\n\t"
    "popl %ss:u_flags_log(,%ebx,4)\n\t"
    "movl probe, %eax\n\t"		/* through DS */
    "movl %eax, %ss:u_probe_log(,%ebx,4)\n\t"
    "movl %esp, %ss:u_esp_log(,%ebx,4)\n\t"
    "movw %cs, %ss:u_cs_log(,%ebx,2)\n\t"
    "movw %ss, %ss:u_ss_log(,%ebx,2)\n\t"
    "incl %ss:u_i\n\t"
    "jmp u_loop\n"
    ".globl u_jump_sysexit\nu_jump_sysexit:\n\t"
    "jmp k_sysexit\n"
    /* sysexit_jc: the kernel's SYSEXIT through an indirect jump, then
     * ring 3's */
    ".globl k_entry2\nk_entry2:\n\t"
    "incl %ss:k2_calls\n\t"
    "movl $k_sysexit2, %esi\n\t"
    "jmp *%esi\n"
    ".globl k_sysexit2\nk_sysexit2:\n\t"
    "sysexit\n"
    ".globl u_loop2\nu_loop2:\n\t"
    "movl $50, %ebx\n"
    "1:\tmovl %esp, %ecx\n\t"
    "movl $2f, %edx\n\t"
    "sysenter\n"
    "2:\tdecl %ebx\n\t"
    "jnz 1b\n\t"
    "movl $k_sysexit2, %esi\n\t"
    "jmp *%esi\n");

static void timer_interrupt(struct trap_frame *tf)
{
	if (taken < PENDING_ROUNDS) {
		taken_eip[taken] = tf->eip;
		taken_cs[taken] = tf->cs;
	}
	taken++;
	pic_eoi(IRQ_TIMER);
}

/* IF=0: one PIT edge, then waits until the PIC holds it in IRR (as
 * tests/guests/transfers.c). */
bool make_pending(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE0);
	outb(PIT_CH0, 100);
	outb(PIT_CH0, 0);
	for (uint32_t i = 0; i < IRR_BOUND; i++) {
		outb(PIT_CMD, PIT_READBACK_CH0_STATUS);
		if (!(inb(PIT_CH0) & PIT_STATUS_OUT))
			continue;
		outb(PIC1_CMD, OCW3_READ_IRR);
		if (inb(PIC1_CMD) & (1u << IRQ_TIMER))
			return true;
	}
	return false;
}

/* The PIT's channel 0 once in mode 0 (no periodic edges after it), its
 * edge taken with IRQ 0 unmasked, so nothing is latched when the rounds
 * start. */
static void quiet_timer(void)
{
	asm volatile("cli");
	pic_init(1u << IRQ_TIMER);
	if (make_pending())
		asm volatile("sti\n\tnop\n\tcli");
	taken = 0;
}

static void enter_user(void *entry)
{
	enter_user_sysexit(entry, user_stack + sizeof(user_stack));
}

static void set_msrs(void)
{
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE);
	wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack + sizeof(kernel_stack));
	wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)k_entry);
}

static void round_trips(const struct fault *f)
{
	uint32_t bad_k = 0, bad_u = 0;

	check_begin("round_trips");
	check_eq("kernel calls", k_calls, KILL_AT + 1);
	check_eq("user rounds", u_i, KILL_AT + 1);
	for (uint32_t i = 0; i < KILL_AT; i++) {
		uint32_t want_flags = (u_flags_in[i] & FLAGS_ARITH) | 0x2;
		if (k_flags_log[i] != want_flags || k_cs_log[i] != SEL_SE_KCODE ||
		    k_ss_log[i] != SEL_SE_KDATA ||
		    k_esp_log[i] != (uint32_t)kernel_stack + sizeof(kernel_stack)) {
			if (!bad_k++)
				check(false, "call %u at SYSENTER: flags %x (want %x) cs %x ss %x esp %x", i,
				      k_flags_log[i], want_flags, k_cs_log[i], k_ss_log[i], k_esp_log[i]);
		}
		uint32_t want_u = k_exit_flags[i] | 0x200;
		uint32_t want_probe = k_ds_sel[i] == SEL_BASED4 ? probe[1] : probe[0];
		if (u_flags_log[i] != want_u || u_cs_log[i] != SEL_SE_UCODE || u_ss_log[i] != SEL_SE_UDATA ||
		    u_esp_log[i] != (uint32_t)user_stack + sizeof(user_stack) || u_probe_log[i] != want_probe) {
			if (!bad_u++)
				check(false, "round %u after SYSEXIT: flags %x (want %x) cs %x ss %x esp %x probe %x (want %x)",
				      i, u_flags_log[i], want_u, u_cs_log[i], u_ss_log[i], u_esp_log[i],
				      u_probe_log[i], want_probe);
		}
	}
	check_eq("calls with a wrong kernel view", bad_k, 0);
	check_eq("rounds with a wrong user view", bad_u, 0);
	check_end();

	check_begin("pending");
	check_eq("IRQ 0 made pending", k_pending_ok, PENDING_ROUNDS);
	check_eq("IRQs taken", taken, PENDING_ROUNDS);
	for (uint32_t i = 0; i < PENDING_ROUNDS && i < taken; i++) {
		check_eq("taken at the user's first instruction", taken_eip[i], (uint32_t)u_ret);
		check_eq("taken in ring 3", taken_cs[i], SEL_SE_UCODE);
	}
	check_end();

	check_begin("cs_zero_gp");
	check_eq("vector", f->vector, VEC_GP);
	check_eq("error code", f->error, 0);
	check_eq("at the SYSENTER", f->eip, (uint32_t)u_sysenter);
	check_eq("from ring 3", f->cs, SEL_SE_UCODE);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_BASED4, 4, 0xffffe, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	tss_load((uint32_t)trap_stack + sizeof(trap_stack));
	for (uint32_t i = 0; i < ROUNDS; i++) {
		/* arithmetic flags in and out, varied; IF set in the user's
		 * (CPL3 with IOPL 0: POPF leaves IF as it is) */
		u_flags_in[i] = ((i * 0x9e3779b1u) >> 7 & (FLAGS_ARITH & ~0x400u)) | 0x202;
		k_exit_flags[i] = ((i * 0x85ebca6bu) >> 9 & (FLAGS_ARITH & ~0x400u)) | 0x2;
		k_ds_sel[i] = i % 3 == 2 ? SEL_BASED4 : SEL_SE_UDATA;
	}
	trap_set_handler(PIC_VECTOR_BASE + IRQ_TIMER, timer_interrupt);
	quiet_timer();
	set_msrs();
	struct fault f = { .vector = ~0u };
	bool unwound = catch_fault(enter_user, (void *)u_loop, &f);
	pic_set_mask(0xffff);
	if (!check(unwound, "the user loop ended without a fault"))
		return;
	round_trips(&f);

	check_begin("sysexit_cpl3");
	set_msrs();
	f = (struct fault){ .vector = ~0u };
	unwound = catch_fault(enter_user, (void *)u_jump_sysexit, &f);
	check(unwound, "no fault");
	check_eq("vector", f.vector, VEC_GP);
	check_eq("error code", f.error, 0);
	check_eq("at the kernel's SYSEXIT", f.eip, (uint32_t)k_sysexit);
	check_eq("from ring 3", f.cs, SEL_SE_UCODE);
	check_end();

	check_begin("sysexit_jc");
	set_msrs();
	wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)k_entry2);
	f = (struct fault){ .vector = ~0u };
	unwound = catch_fault(enter_user, (void *)u_loop2, &f);
	check(unwound, "no fault");
	check_eq("kernel calls", k2_calls, 50);
	check_eq("vector", f.vector, VEC_GP);
	check_eq("error code", f.error, 0);
	check_eq("at the kernel's SYSEXIT", f.eip, (uint32_t)k_sysexit2);
	check_eq("from ring 3", f.cs, SEL_SE_UCODE);
	check_end();
}

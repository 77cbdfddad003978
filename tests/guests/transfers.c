/* SYSENTER, SYSEXIT, INT n, IRET, far RET and POPF, which bt does from
 * their block and goes on to the next block without its dispatcher
 * (bt/translate/callout_call.c, bt/cpu/callout_in_block.c). Each case runs
 * its transfer many times (the first run translates, later ones reuse the
 * remembered next block), so a wrong state from the in-block path shows
 * here and, against QEMU, in tests/bt/differential.sh:
 *   sysenter_loop  round trips with odd MSR values (SYSENTER_CS with RPL
 *                  3, an unaligned SYSENTER_ESP), the entry point and
 *                  stack changed between rounds, arithmetic flags kept;
 *   iret_pending   IRQ 0 waiting while IF=0; an INT whose handler's IRET
 *                  sets IF: taken right after the IRET (SDM Vol. 3A 6.8.1),
 *                  before the next instruction, every time;
 *   popf_pending   the same through a #DE handler that returns with
 *                  POPF (setting IF) and a far RET: taken at the RET. */
#include "guest.h"

GUEST("transfers", "user-mode sysenter soft-int-cpl0 sti-window");

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE0 0x30	/* interrupt on terminal count */
#define PIT_READBACK_CH0_STATUS 0xe2	/* read-back: status of counter 0 only */
#define PIT_STATUS_OUT 0x80
#define PIC1_CMD 0x20
#define OCW3_READ_IRR 0x0a
#define IRQ_TIMER 0
#define IRR_BOUND 100000000u
#define ROUNDS 200
#define PENDING_ROUNDS 6
#define VEC_SOFT 0x81

static uint8_t kernel_stack[2][4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

volatile uint32_t se_calls[2], se_esp[2], se_flags_cf, se_sum, se_rounds_done;
volatile uint32_t taken, taken_eip;
volatile uint32_t de_count;

void catch_longjmp(void) __attribute__((noreturn));
void entry_a(void);
void entry_b(void);
void soft_entry(void);
void de_entry(void);
void de_retf(void);
/* Two kernel entries; EAX = 0 ends the user program, else EAX = EBX + ESI
 * and CF as it came in is counted (SYSENTER keeps the arithmetic flags). */
asm(".text\n"
    ".globl entry_a\nentry_a:\n\t"
    "movl %esp, se_esp\n\t"
    "incl se_calls\n\t"
    "jmp 1f\n"
    ".globl entry_b\nentry_b:\n\t"
    "movl %esp, se_esp+4\n\t"
    "incl se_calls+4\n"
    "1:\tadcl $0, se_flags_cf\n\t"
    "testl %eax, %eax\n\t"
    "jz catch_longjmp\n\t"
    "leal (%ebx,%esi), %eax\n\t"
    "sysexit\n"
    /* INT VEC_SOFT: sets IF in the frame, IRET */
    ".globl soft_entry\nsoft_entry:\n\t"
    "orl $0x200, 8(%esp)\n\t"
    "iret\n"
    /* #DE: skip the 2-byte DIV, IF set in the restored flags, POPF, far RET */
    ".globl de_entry\nde_entry:\n\t"
    "addl $2, (%esp)\n\t"
    "incl de_count\n\t"
    "orl $0x200, 8(%esp)\n\t"
    "pushl 8(%esp)\n\t"
    "popf\n"
    ".globl de_retf\nde_retf:\n\t"
    "lret $4\n");

static void user_program(void)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t r;
		/* CF = i & 1 going in */
		asm volatile("movl %%esp, %%ecx\n\t"
			     "movl $1f, %%edx\n\t"
			     "btl $0, %%edi\n\t"
			     "sysenter\n"
			     "1:"
			     : "=a"(r) : "a"(1), "b"(i), "S"(3), "D"(i) : "ecx", "edx", "memory", "cc");
		sum += r;
	}
	se_sum = sum;
	se_rounds_done++;
	asm volatile("movl %%esp, %%ecx\n\tsysenter" : : "a"(0) : "ecx", "edx", "memory");
}

static void enter_user(void *unused)
{
	enter_user_sysexit((void *)user_program, user_stack + sizeof(user_stack));
}

static void timer_interrupt(struct trap_frame *tf)
{
	taken++;
	taken_eip = tf->eip;
	pic_eoi(IRQ_TIMER);
}

/* IF=0: one PIT edge, then waits until it happened (the read-back
 * status's OUT bit, Intel 8254 data sheet, read-back command) and the PIC holds it in
 * IRR. Waiting for IRR alone could return on an edge of the firmware's
 * periodic timer still latched there, with ours yet to come while IF=1. */
static bool make_pending(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE0);
	outb(PIT_CH0, 100);	/* ~84 us */
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

static void sysenter_loop(void)
{
	check_begin("sysenter_loop");
	/* RPL 3 in the MSR: SYSENTER clears it, SYSEXIT sets 3 anyway */
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE | 3);
	for (int round = 0; round < 2; round++) {
		/* an odd stack top, and the other entry and stack next round */
		wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack[round] + sizeof(kernel_stack[0]) - 3);
		wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)(round ? entry_b : entry_a));
		struct fault f = { .vector = ~0u };
		bool unwound = catch_fault(enter_user, NULL, &f);
		check(unwound && f.vector == ~0u, "round %d: no exit call (trap %u at %x)", round,
		      f.vector, f.eip);
		check_eq("user sum", se_sum, ROUNDS * 3 + ROUNDS * (ROUNDS - 1) / 2);
	}
	check_eq("rounds", se_rounds_done, 2);
	check_eq("calls through entry_a", se_calls[0], ROUNDS + 1);
	check_eq("calls through entry_b", se_calls[1], ROUNDS + 1);
	check_eq("ESP at entry_a", se_esp[0], (uint32_t)kernel_stack[0] + sizeof(kernel_stack[0]) - 3);
	check_eq("ESP at entry_b", se_esp[1], (uint32_t)kernel_stack[1] + sizeof(kernel_stack[1]) - 3);
	check_eq("CF seen by the kernel", se_flags_cf, ROUNDS);
	check_end();
}

static void iret_pending(void)
{
	uint32_t at = 0, fl;

	check_begin("iret_pending");
	taken = 0;
	for (int i = 0; i < PENDING_ROUNDS; i++) {
		if (!check(make_pending(), "IRQ 0 never reached the PIC's IRR"))
			break;
		asm volatile("int %2\n"
			     "1:\tcli\n\t"
			     "movl $1b, %0\n\t"
			     "pushf\n\tpopl %1"
			     : "=r"(at), "=r"(fl) : "i"(VEC_SOFT) : "memory");
		check_eq("taken after each IRET", taken, (uint32_t)i + 1);
		check_eq("at the instruction after INT", taken_eip, at);
		check_eq("IF after CLI", fl & 0x200, 0);
	}
	check_end();
}

static void popf_pending(void)
{
	check_begin("popf_pending");
	taken = 0;
	for (int i = 0; i < PENDING_ROUNDS; i++) {
		uint32_t q, zero = 0;
		if (!check(make_pending(), "IRQ 0 never reached the PIC's IRR"))
			break;
		asm volatile("movl $7, %%eax\n\txorl %%edx, %%edx\n\t"
			     "divl %1\n\t"	/* 2 bytes: f7 f1 with ECX */
			     "cli"
			     : "=&a"(q) : "c"(zero) : "edx", "memory", "cc");
		check_eq("taken after each POPF", taken, (uint32_t)i + 1);
		check_eq("at the far RET", taken_eip, (uint32_t)de_retf);
		check_eq("quotient register untouched", q, 7);
	}
	check_eq("#DE taken", de_count, PENDING_ROUNDS);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	sysenter_loop();

	trap_set_handler(PIC_VECTOR_BASE + IRQ_TIMER, timer_interrupt);
	idt_set_raw(VEC_SOFT, soft_entry, 0x8e);
	idt_set_raw(0, de_entry, 0x8e);
	pic_init(1u << IRQ_TIMER);
	iret_pending();
	popf_pending();
	pic_set_mask(0xffff);
}

/* The STI shadow is one instruction long (SDM Vol. 3A 6.8.3; Vol. 2B
 * STI): with IRQ 0 already pending while IF=0,
 *   sti; cli        takes no interrupt (the shadow covers the CLI),
 *   sti; nop; cli   takes it between NOP and CLI (the frame's EIP is the
 *                   CLI's), not after the rest of the code,
 *   sti; hlt        takes it after HLT (the frame's EIP follows HLT),
 * and sti; nop; cli again right after the one IRR read that first saw
 * the edge (random_pages.c's harness, where bt once seemed to miss it).
 * A translator that checks for interrupts only between its blocks lets
 * the second run past the CLI and never takes the interrupt there (bt
 * did). The PIT's one-shot mode makes exactly one edge per case. */
#include "guest.h"

GUEST("sti_shadow", "sti-window");

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE0 0x30	/* interrupt on terminal count */
#define PIC1_CMD 0x20
#define OCW3_READ_IRR 0x0a
#define IRQ_TIMER 0
#define IRR_BOUND 100000000u	/* reads of IRR before giving up (seconds) */

static volatile uint32_t taken, taken_eip;

static void timer_interrupt(struct trap_frame *tf)
{
	taken++;
	taken_eip = tf->eip;
	pic_eoi(IRQ_TIMER);
}

/* IF=0: one PIT edge, then waits until the PIC holds it in IRR. */
static bool make_pending(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE0);
	outb(PIT_CH0, 100);	/* ~84 us */
	outb(PIT_CH0, 0);
	outb(PIC1_CMD, OCW3_READ_IRR);
	for (uint32_t i = 0; i < IRR_BOUND; i++)
		if (inb(PIC1_CMD) & (1u << IRQ_TIMER))
			return true;
	return false;
}

void guest_main(const struct mb_info *mbi)
{
	uint32_t at = 0;

	trap_set_handler(PIC_VECTOR_BASE + IRQ_TIMER, timer_interrupt);
	pic_init(1u << IRQ_TIMER);

	check_begin("sti_cli");
	taken = 0;
	if (check(make_pending(), "IRQ 0 never reached the PIC's IRR")) {
		asm volatile("sti\n\tcli" ::: "memory");
		check_eq("interrupts taken in sti; cli", taken, 0);
		/* still pending: let it in, so the next case starts clean */
		asm volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
		check_eq("taken once IF stays set", taken, 1);
	}
	check_end();

	check_begin("sti_nop_cli");
	taken = 0;
	if (check(make_pending(), "IRQ 0 never reached the PIC's IRR")) {
		asm volatile("sti\n\tnop\n"
			     "1:\tcli\n\t"
			     "movl $1b, %0" : "=r"(at) :: "memory");
		check_eq("interrupts taken in sti; nop; cli", taken, 1);
		check_eq("taken at the CLI", taken_eip, at);
	}
	check_end();

	/* As tests/hostile/random_pages.c's harness met it: the edge comes
	 * while the guest runs without exits, and one read of IRR is the
	 * first exit that sees it, right before sti; nop; cli. */
	check_begin("sti_nop_cli_one_read");
	taken = 0;
	{
		bool pending = false;

		outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE0);
		outb(PIT_CH0, 100);
		outb(PIT_CH0, 0);
		for (uint32_t round = 0; round < 1000 && !pending; round++) {
			for (volatile uint32_t i = 0; i < 100000; i++)
				;	/* no exit here */
			outb(PIC1_CMD, OCW3_READ_IRR);
			pending = inb(PIC1_CMD) & (1u << IRQ_TIMER);
			if (pending)
				asm volatile("sti\n\tnop\n"
					     "1:\tcli\n\t"
					     "movl $1b, %0" : "=r"(at) :: "memory");
		}
		if (check(pending, "IRQ 0 never reached the PIC's IRR")) {
			check_eq("interrupts taken in sti; nop; cli", taken, 1);
			check_eq("taken at the CLI", taken_eip, at);
		}
	}
	check_end();

	check_begin("sti_hlt");
	taken = 0;
	if (check(make_pending(), "IRQ 0 never reached the PIC's IRR")) {
		asm volatile("sti\n\thlt\n"
			     "1:\tcli\n\t"
			     "movl $1b, %0" : "=r"(at) :: "memory");
		check_eq("interrupts taken in sti; hlt", taken, 1);
		check_eq("taken after the HLT", taken_eip, at);
	}
	check_end();
	pic_set_mask(0xffff);
}

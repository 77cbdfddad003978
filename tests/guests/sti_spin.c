/* STI, then a spin loop on a memory flag that an interrupt handler sets:
 * the interrupt must arrive. STI blocks interrupts for one instruction
 * only (SDM Vol. 3A 6.8.3, "Masking Maskable Hardware Interrupts"; Vol. 2B
 * STI). Linux's calibrate_APIC_clock waits for jiffies this way with no
 * ACPI PM timer or usable TSC. The wait is repeated so that a binary
 * translator has the loop already translated and chained to itself when
 * STI comes back to it; bt kept the STI shadow across its exit requests
 * there and the guest spun with interrupts blocked for good. The loop
 * uses only a compare and branches, nothing that leaves translated code. */
#include "guest.h"

GUEST("sti_spin", "");

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE2 0x34
#define PIT_HZ 1193182u
#define IRQ_TIMER 0
#define ROUNDS 8
/* a bound so a guest that never sees the tick ends: 300M loop turns take
 * seconds; the 1 ms tick ends the wait long before that */
#define SPIN_BOUND 300000000u

static volatile VOLATILE_STATE uint32_t ticks;
static volatile uint32_t flag;

static void timer_interrupt(struct trap_frame *tf)
{
	ticks++;
	flag = 1;
	pic_eoi(IRQ_TIMER);
}

/* sti; then spin until flag != 0 or the bound runs out; returns the turns
 * left (0: no interrupt came). */
static uint32_t sti_then_spin(void)
{
	uint32_t left = SPIN_BOUND;
	asm volatile("sti\n"
		     "1: cmpl $0, %1\n"
		     "jne 2f\n"
		     "dec %0\n"
		     "jnz 1b\n"
		     "2: cli"
		     : "+c"(left) : "m"(flag) : "memory", "cc");
	return left;
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(PIC_VECTOR_BASE + IRQ_TIMER, timer_interrupt);
	pic_init(1u << IRQ_TIMER);
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE2);
	outb(PIT_CH0, (PIT_HZ / 1000) & 0xff);
	outb(PIT_CH0, (PIT_HZ / 1000) >> 8);

	check_begin("tick_after_sti");
	for (int i = 0; i < ROUNDS; i++) {
		flag = 0;
		uint32_t left = sti_then_spin();
		if (!check(left != 0, "round %d: no timer interrupt after sti in %u loop turns",
			   i, SPIN_BOUND))
			break;
	}
	check_end();
	outb(PIT_CMD, 0x30);	/* channel 0 stopped: mode 0 waiting for a count */
	pic_set_mask(0xffff);
}

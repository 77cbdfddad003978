/* PIT channel 0 interrupts through the 8259A: the PIC remapped with
 * ICW1-4, IRQ0 counted with sti/hlt in mode 2 (rate generator) and mode 3
 * (square wave), the counter read back through a latch, and an IRQ that
 * arrives while IF=0 held pending until sti. */
#include "guest.h"

GUEST("pit", "");

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI 0x30
#define PIT_CMD_CH0_LATCH 0x00
#define PIT_MODE2 0x04
#define PIT_MODE3 0x06
#define PIT_HZ 1193182u
#define IRQ_TIMER 0

/* A wake-up may see two ticks on a slow host (see wait_ticks), so the final
 * count is host timing, not guest state: kept out of the exit checksum. */
static volatile VOLATILE_STATE uint32_t ticks;

static void timer_interrupt(struct trap_frame *tf)
{
	ticks++;
	pic_eoi(IRQ_TIMER);
}

static void pit_start(uint8_t mode, uint16_t count)
{
	outb(PIT_CMD, PIT_CMD_CH0_LOHI | mode);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
}

static uint16_t pit_read(void)
{
	outb(PIT_CMD, PIT_CMD_CH0_LATCH);
	uint8_t lo = inb(PIT_CH0);
	return lo | inb(PIT_CH0) << 8;
}

/* Waits for n timer interrupts; returns how many hlt wake-ups came
 * without a new tick. A slow host (an emulator, nested exits of ~100 us)
 * may deliver the next tick in the instant between IRET and CLI, so one
 * wake-up can see two ticks (and the count end at 11); none may see zero. */
static uint32_t wait_ticks(uint32_t n)
{
	uint32_t spurious = 0;
	ticks = 0;
	while (ticks < n) {
		uint32_t before = ticks;
		sti_hlt();
		cli();
		if (ticks == before)
			spurious++;
	}
	return spurious;
}

static void count_ticks(const char *group, uint8_t mode, uint16_t count)
{
	check_begin(group);
	pit_start(mode, count);
	uint32_t spurious = wait_ticks(10);
	check(ticks >= 10, "only %u ticks counted", (unsigned)ticks);
	/* Only the timer is unmasked, so every wake-up is a tick of it. */
	check_eq("hlt wake-ups without a tick", spurious, 0);
	uint16_t c = pit_read();
	check(c <= count, "latched count %u above the reload value %u", c, count);
	check_end();
}

/* While IF=0 the PIT wraps several times; the PIC holds one request in
 * its IRR, delivered as exactly one interrupt at sti. */
static void pending_while_masked(void)
{
	check_begin("pending_until_sti");
	pit_start(PIT_MODE2, 11932); /* 10 ms, so nothing else lands in the sti window */
	ticks = 0;
	uint16_t prev = pit_read();
	int wraps = 0, decreasing = 0, reads = 0;
	/* Two wraps take 20 ms; the bound only ends a counter that never
	 * wraps. QEMU TCG reads the PIT fast enough here to make 100000
	 * reads in under 20 ms, so the bound is far above that. */
	while (wraps < 2 && reads < 2000000) {
		uint16_t c = pit_read();
		reads++;
		if (c > prev)
			wraps++;
		else if (c < prev)
			decreasing++;
		prev = c;
	}
	check(wraps == 2, "the counter did not wrap twice in %d reads", reads);
	check(decreasing > 0, "the counter never counted down");
	check_eq("ticks while IF=0", ticks, 0);
	/* A control word with no count stops channel 0 (8254 datasheet:
	 * mode 0 waits for its count), so on a slow host no second tick can
	 * follow the held one before the cli below. */
	outb(PIT_CMD, PIT_CMD_CH0_LOHI);
	/* The held request wakes hlt at once. (Not "sti; nop; cli": right on
	 * real CPUs, but kvm_pvm's emulator opens no interrupt window there.) */
	sti_hlt();
	cli();
	check_eq("ticks after sti; hlt", ticks, 1);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(PIC_VECTOR_BASE + IRQ_TIMER, timer_interrupt);
	pic_init(1u << IRQ_TIMER);

	check_begin("pic_setup");
	check_eq("PIC mask read back", pic_get_mask(), 0xfffe);
	check_end();

	count_ticks("mode2_ticks", PIT_MODE2, PIT_HZ / 1000);
	count_ticks("mode3_ticks", PIT_MODE3, PIT_HZ / 1000);
	pending_while_masked();
	pic_set_mask(0xffff);
}

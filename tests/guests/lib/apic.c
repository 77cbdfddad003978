/* The local APIC and IOAPIC at their default addresses (paging is off or
 * identity-mapped, so physical = linear), and a PIT-measured delay the
 * APIC guests time their windows with. */
#include "guest.h"

uint32_t apic_read(uint32_t reg) { return *(volatile uint32_t *)(APIC_BASE + reg); }
void apic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(APIC_BASE + reg) = v; }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }

uint32_t ioapic_read(uint8_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

void ioapic_write(uint8_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static uint16_t pit0_read(void)
{
	outb(0x43, 0x00);	/* latch channel 0 */
	uint8_t lo = inb(0x40);
	return lo | inb(0x40) << 8;
}

/* Channel 0 free-running in mode 2 from 65536 (55 ms a turn); the wait
 * adds up the distance between reads modulo 65536, so it must read at
 * least every 55 ms, which any host does. */
void pit_free_run(void)
{
	outb(0x43, 0x34);
	outb(0x40, 0);
	outb(0x40, 0);
}

void pit_clock_start(struct pit_clock *c)
{
	c->prev = pit0_read();
	c->elapsed = 0;
}

uint32_t pit_clock_us(struct pit_clock *c)
{
	uint16_t now = pit0_read();

	c->elapsed += (uint16_t)(c->prev - now);
	c->prev = now;
	return c->elapsed / 1193 * 1000 + c->elapsed % 1193 * 1000 / 1193;
}

void pit_wait_us(uint32_t us)
{
	struct pit_clock c;

	pit_clock_start(&c);
	while (pit_clock_us(&c) < us)
		;
}

#define PM_TIMER_PORT	0x608
#define PM_TIMER_MASK	0xffffffu	/* TMR_VAL_EXT clear: 24 bits */
#define PM_TIMER_HZ	3579545u

uint32_t pm_timer_read(void)
{
	return inl(PM_TIMER_PORT) & PM_TIMER_MASK;
}

uint32_t pm_timer_us_since(uint32_t start)
{
	uint32_t ticks = (pm_timer_read() - start) & PM_TIMER_MASK;
	uint32_t part = ticks % PM_TIMER_HZ;

	/* in 32 bits (no 64-bit division here): whole seconds, then the
	 * rest at 3.580 ticks/us, 0.013% fast */
	return ticks / PM_TIMER_HZ * 1000000u + part * 1000u / 3580u;
}

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

void pit_wait_us(uint32_t us)
{
	uint32_t target = us / 1000 * 1193 + (us % 1000) * 1193 / 1000, elapsed = 0;
	uint16_t prev = pit0_read();

	while (elapsed < target) {
		uint16_t c = pit0_read();
		elapsed += (uint16_t)(prev - c);
		prev = c;
	}
}

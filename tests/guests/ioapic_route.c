/* Device interrupts through the IOAPIC to the local APIC, the 8259 fully
 * masked: the PIT's IRQ 0 on pin 2 (the source override every PC firmware
 * declares) as an edge, the RTC's periodic interrupt on pin 8 as a level:
 * Remote IRR set while the vector is in service, the line still asserted
 * at EOI delivering it again, the EOI after register C's read ending it
 * (SDM Vol. 3A, 11.8.5; 82093AA datasheet), and a masked level pin
 * delivering once unmasked. */
#include "guest.h"

GUEST("ioapic_route", "");

#define VEC_PIT 0x50
#define VEC_RTC 0x58
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define RTE_REMOTE_IRR (1u << 14)
#define PIN_PIT 2
#define PIN_RTC 8

/* Counts of host-timed events: kept out of the exit checksum. */
static volatile VOLATILE_STATE uint32_t pit_ticks, rtc_irqs, empty_wakeups;
static volatile uint32_t first_rirr, first_tmr;

static void rte(unsigned pin, uint32_t lo)
{
	ioapic_write(0x11 + 2 * pin, 0);	/* physical, APIC ID 0 */
	ioapic_write(0x10 + 2 * pin, lo);
}

static uint32_t rte_lo(unsigned pin) { return ioapic_read(0x10 + 2 * pin); }

static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static void on_pit(struct trap_frame *tf)
{
	pit_ticks++;
	apic_eoi();
}

/* The first time, EOI without reading register C: the RTC keeps IRQ 8
 * asserted, so the IOAPIC sends it again. */
static void on_rtc(struct trap_frame *tf)
{
	if (++rtc_irqs == 1) {
		first_rirr = rte_lo(PIN_RTC) & RTE_REMOTE_IRR;
		first_tmr = apic_read(APIC_TMR + 0x20) & (1u << (VEC_RTC - 64));
	} else {
		cmos_read(0x0c);	/* acknowledges: IRQ 8 falls */
	}
	apic_eoi();
}

static void wait_pit_ticks(uint32_t n)
{
	uint32_t until = pit_ticks + n;
	while (pit_ticks < until) {
		uint32_t before = pit_ticks + rtc_irqs;
		sti_hlt();
		cli();
		if (pit_ticks + rtc_irqs == before)
			empty_wakeups++;
	}
}

static void registers(void)
{
	check_begin("registers");
	uint32_t v = ioapic_read(0x01);
	check_eq("version", v & 0xff, 0x20);
	check_eq("maximum redirection entry", (v >> 16) & 0xff, 23);
	check_eq("pin 2 at reset (masked)", rte_lo(PIN_PIT) & RTE_MASKED, RTE_MASKED);
	rte(PIN_RTC, RTE_MASKED | RTE_LEVEL | VEC_RTC);
	check_eq("pin 8 read back", rte_lo(PIN_RTC), RTE_MASKED | RTE_LEVEL | VEC_RTC);
	check_end();
}

static void pit_on_pin2(void)
{
	check_begin("pit_pin2");
	rte(PIN_PIT, VEC_PIT);			/* edge, fixed, unmasked */
	outb(0x43, 0x34);			/* channel 0, mode 2, 10 ms */
	outb(0x40, 11932 & 0xff);
	outb(0x40, 11932 >> 8);
	empty_wakeups = 0;
	wait_pit_ticks(10);
	check(pit_ticks >= 10, "%u PIT ticks", pit_ticks);
	check_eq("hlt wake-ups without an interrupt", empty_wakeups, 0);
	check_end();
}

static void rtc_level(void)
{
	check_begin("rtc_masked");
	cmos_write(0x0a, 0x26);			/* 32.768 kHz base, 1024 Hz */
	cmos_write(0x0b, cmos_read(0x0b) | 0x40);	/* PIE */
	cmos_read(0x0c);
	wait_pit_ticks(3);			/* IRQ 8 up, pin 8 masked */
	check_eq("RTC interrupts through a masked pin", rtc_irqs, 0);
	check_eq("Remote IRR of the masked pin", rte_lo(PIN_RTC) & RTE_REMOTE_IRR, 0);
	check_end();

	check_begin("rtc_level");
	rte(PIN_RTC, RTE_LEVEL | VEC_RTC);	/* unmasked while asserted */
	while (rtc_irqs < 2)
		sti_hlt();
	cli();
	check(first_rirr != 0, "Remote IRR clear while the vector was in service");
	check(first_tmr != 0, "TMR clear for a level-triggered vector");
	cmos_write(0x0b, cmos_read(0x0b) & ~0x40);
	cmos_read(0x0c);
	wait_pit_ticks(2);			/* anything pending is taken */
	check_eq("Remote IRR after the last EOI", rte_lo(PIN_RTC) & RTE_REMOTE_IRR, 0);
	uint32_t n = rtc_irqs;
	wait_pit_ticks(2);
	check_eq("RTC interrupts after PIE off", rtc_irqs - n, 0);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(VEC_PIT, on_pit);
	trap_set_handler(VEC_RTC, on_rtc);
	pic_init(0);				/* every 8259 line masked */
	apic_write(APIC_SVR, 0x1ff);
	registers();
	pit_on_pin2();
	rtc_level();
	rte(PIN_PIT, RTE_MASKED | VEC_PIT);
	rte(PIN_RTC, RTE_MASKED | RTE_LEVEL | VEC_RTC);
	outb(0x43, 0x30);			/* channel 0 stops */
}

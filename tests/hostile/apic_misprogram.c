/* Hostile: the local APIC and IOAPIC programmed as no driver should
 * (SDM Vol. 3A ch. 11; 82093AA data sheet): LVT and IPI vectors 0-15
 * (illegal: "Illegal vector" in the ESR, 11.5.3, not delivered),
 * reserved delivery modes in the ICR and in an IOAPIC redirection entry,
 * an IOAPIC entry with vector 5 on a line that fires, writes to read-only
 * registers (version, ISR, IRR, PPR, current count; the IOAPIC's version),
 * and IA32_APIC_BASE moved over RAM and over the BIOS ROM area and back.
 * The guest must keep control through each (a count to SPIN with
 * interrupts enabled ends), the read-only registers keep their values,
 * and the APIC answers at its default base again; any vector that arrives
 * is caught and counted, not checked (where an illegal one goes is the
 * model's choice). bt: none arrives, ESR 0x60 (send and receive illegal
 * vector). Not an oracle run: in QEMU 8.x TCG an interrupt arrives as
 * vector 8, which the library's stub takes for a double fault with an
 * error code, and the guest loses its frame (FAIL "unexpected trap 8"). */
#include "guest.h"

GUEST("apic_misprogram", "");

#define SPIN 200000u
#define VEC_RTC 0x58
#define PIN_RTC 8
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define LVT_MASKED (1u << 16)
#define MOVED_RAM 0x00400000u
#define MOVED_ROM 0x000f0000u

static volatile VOLATILE_STATE uint32_t arrived[256], spun;

static void on_any(struct trap_frame *tf)
{
	arrived[tf->vector]++;
	if (tf->vector >= 32)
		apic_eoi();
}

static void spin(void)
{
	spun = 0;
	sti();
	for (uint32_t i = 0; i < SPIN; i++)
		spun++;
	cli();
	check_eq("spin ended", spun, SPIN);
}

static void cmos_write(uint8_t reg, uint8_t v) { outb(0x70, reg); outb(0x71, v); }
static uint8_t cmos_read(uint8_t reg) { outb(0x70, reg); return inb(0x71); }

static void read_only(uint32_t reg, const char *name)
{
	uint32_t before = apic_read(reg);
	apic_write(reg, ~before);
	check(apic_read(reg) == before, "%s changed by a write: 0x%x -> 0x%x", name, before, apic_read(reg));
}

void guest_main(const struct mb_info *mbi)
{
	for (int v = 0; v < 256; v++)
		if (v != 8 && v != 13 && v != 14)	/* faults stay faults */
			trap_set_handler(v, on_any);
	apic_write(APIC_SVR, 0x1ff);

	check_begin("illegal_vectors");
	apic_write(APIC_TIMER_DCR, 0xb);
	apic_write(APIC_LVT_TIMER, 5);			/* one-shot, vector 5 */
	apic_write(APIC_TIMER_ICR, 1000);
	apic_write(APIC_ICR_LO, 3 | (1u << 18));	/* self-IPI, vector 3 */
	apic_write(APIC_ICR_LO, 0 | (1u << 18));
	apic_write(APIC_LVT_ERROR, 2);			/* the error vector illegal too */
	spin();
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	apic_write(APIC_ESR, 0);
	printf_serial("apic_misprogram: after illegal vectors, ESR 0x%x\n", apic_read(APIC_ESR));
	check_end();

	check_begin("reserved_delivery_modes");
	/* ICR delivery modes 011 and 010 (SMI) to self, 111 (reserved) */
	apic_write(APIC_ICR_LO, 0x41 | (3u << 8) | (1u << 18));
	apic_write(APIC_ICR_LO, 0x41 | (7u << 8) | (1u << 18));
	/* RTC periodic interrupt on an IOAPIC entry with reserved delivery
	 * modes (011, 110), then vector 5, a level line never cleared */
	cmos_write(0x0a, 0x26);
	cmos_write(0x0b, 0x42);
	ioapic_write(0x11 + 2 * PIN_RTC, 0);
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL | (3u << 8));
	spin();
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL | (6u << 8));
	spin();
	ioapic_write(0x10 + 2 * PIN_RTC, 5 | RTE_LEVEL);
	spin();
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL | RTE_MASKED);
	cmos_read(0x0c);
	cmos_write(0x0b, 0x02);
	check_end();

	check_begin("read_only_registers");
	read_only(APIC_VERSION, "APIC version");
	read_only(APIC_ISR, "ISR[0]");
	read_only(APIC_ISR + 0x70, "ISR[7]");
	read_only(APIC_IRR + 0x10, "IRR[1]");
	read_only(APIC_TMR, "TMR[0]");
	read_only(APIC_PPR, "PPR");
	read_only(APIC_TIMER_CCR, "timer current count");
	uint32_t iover = ioapic_read(1);
	ioapic_write(1, ~iover);
	check_eq("IOAPIC version after a write", ioapic_read(1), iover);
	check_end();

	check_begin("apic_base_moved");
	uint64_t base = rdmsr(0x1b);
	*(volatile uint32_t *)(MOVED_RAM + APIC_VERSION) = 0x12345678;
	wrmsr(0x1b, (base & 0xfffull) | MOVED_RAM);
	(void)*(volatile uint32_t *)(MOVED_RAM + APIC_VERSION);
	*(volatile uint32_t *)(MOVED_RAM + APIC_TPR) = 0;
	spin();
	wrmsr(0x1b, (base & 0xfffull) | MOVED_ROM);
	(void)*(volatile uint32_t *)(MOVED_ROM + APIC_VERSION);
	*(volatile uint32_t *)(MOVED_ROM + APIC_TPR) = 0;
	spin();
	wrmsr(0x1b, base);
	check_eq("IA32_APIC_BASE back", (uint32_t)rdmsr(0x1b), (uint32_t)base);
	check_eq("APIC version at the default base", apic_read(APIC_VERSION), 0x50014);
	check_end();

	uint32_t n = 0;
	for (int v = 0; v < 256; v++)
		n += arrived[v];
	printf_serial("apic_misprogram: %u vectors arrived (not checked)\n", n);
}

/* Hostile: interrupt storms. Each storm runs while the guest counts to
 * SPIN with interrupts enabled; the guest must keep control (the count
 * ends), see at least one interrupt, and end cleanly; tests/hostile/run.sh
 * bounds hyvm's RSS and time. The PIT at its fastest rate (count 2 in
 * mode 2: 597 kHz, Intel 8254 data sheet: 1 is illegal in mode 2) through
 * the 8259; the local APIC timer periodic with initial count 1 and divide
 * by 1 (SDM Vol. 3A 11.5.4), TIMER_STORM interrupts; self-IPIs sent in a loop, as fast as the ICR
 * takes them (11.6.1); the RTC's periodic interrupt on IOAPIC pin 8 as a
 * level with its source never cleared, EOId each time (Remote IRR
 * cleared: delivered again at once, 82093AA data sheet, 3.2.4), then the
 * same line never EOId (delivered once: Remote IRR and the ISR bit hold
 * it). Counts are host-timed: kept out of the exit checksum.
 *
 * The timer and IPI handlers are raw gates ending in IRET, not the
 * library's stubs: those return with POPF + RETF, which opens IF one
 * instruction early, so a storm nests handlers until the stack overflows
 * (a triple fault of the guest's own making). Not run in QEMU: TCG does
 * not get through these storms in minutes (the 597 kHz PIT alone kept it
 * past a 5-minute bound here), so bt is checked alone. */
#include "guest.h"

GUEST("irq_storm", "");

#define SPIN 1000000u
#define VEC_PIT PIC_VECTOR_BASE
#define VEC_APIC_TIMER 0x40
#define VEC_IPI 0x41
#define VEC_RTC 0x58
#define VEC_SPURIOUS 0xff
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define PIN_RTC 8
#define LEVEL_STORM 10000u
/* A period of one bus clock outruns any handler, on hardware too (each
 * IRET is followed by the next interrupt): the handler masks the LVT
 * after this many, so the guest gets control back. */
#define TIMER_STORM 5000
#define PIT_HLTS 2000

volatile VOLATILE_STATE uint32_t count, spun;
volatile uint32_t eoi_rtc;

void raw_pit(void);
void raw_apic(void);
void raw_spurious(void);
void raw_rtc(void);
asm(".text\n"
    "raw_pit:\n\t"
    "push %eax\n\t"
    "incl count\n\t"
    "mov $0x20, %al\n\t"
    "out %al, $0x20\n\t"		/* non-specific EOI to the master 8259 */
    "pop %eax\n\t"
    "iret\n"
    "raw_apic:\n\t"
    "incl count\n\t"
    "cmpl $" STR(TIMER_STORM) ", count\n\t"
    "jb 1f\n\t"
    "orl $0x10000, 0xfee00320\n"	/* enough: LVT timer masked */
    "1:\tmovl $0, 0xfee000b0\n\t"	/* APIC EOI */
    "iret\n"
    /* register C is never read: the RTC keeps its line asserted */
    "raw_rtc:\n\t"
    "incl count\n\t"
    "cmpl $" STR(LEVEL_STORM) ", count\n\t"
    "jb 1f\n\t"
    "movl $0x20, 0xfec00000\n\t"	/* RTE 8, low half: masked */
    "movl $(0x58 | 0x8000 | 0x10000), 0xfec00010\n"
    "1:\tcmpl $0, eoi_rtc\n\t"
    "je 2f\n\t"
    "movl $0, 0xfee000b0\n"
    "2:\tiret\n"
    "raw_spurious:\n\t"
    "iret\n");

/* Counts to SPIN with interrupts enabled: returns only if the guest
 * keeps control through the storm. */
static void spin(void)
{
	spun = 0;
	sti();
	for (uint32_t i = 0; i < SPIN; i++)
		spun++;
	cli();
}

static void cmos_write(uint8_t reg, uint8_t v) { outb(0x70, reg); outb(0x71, v); }

void guest_main(const struct mb_info *mbi)
{
	idt_set_raw(VEC_PIT, raw_pit, GATE_INT);
	idt_set_raw(VEC_APIC_TIMER, raw_apic, GATE_INT);
	idt_set_raw(VEC_IPI, raw_apic, GATE_INT);
	idt_set_raw(VEC_SPURIOUS, raw_spurious, GATE_INT);
	idt_set_raw(VEC_RTC, raw_rtc, GATE_INT);
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);

	check_begin("pit_fastest");
	pic_init(0x0001);
	count = 0;
	outb(0x43, 0x34);
	outb(0x40, 2);
	outb(0x40, 0);
	/* HLT waits for the next tick: the guest gets control back after
	 * each (a count alone may end before the first tick is delivered:
	 * seen under ASan, where translated code runs faster than the
	 * VMM around it) */
	for (uint32_t i = 0; i < PIT_HLTS; i++)
		sti_hlt();
	cli();
	spin();
	pic_set_mask(0xffff);
	pit_free_run();
	check_eq("spin ended", spun, SPIN);
	check(count >= PIT_HLTS, "%u PIT interrupts at 597 kHz for %u HLTs", count, PIT_HLTS);
	check_end();

	check_begin("apic_timer_count_1");
	count = 0;
	apic_write(APIC_TIMER_DCR, 0xb);	/* divide by 1 */
	apic_write(APIC_LVT_TIMER, VEC_APIC_TIMER | LVT_PERIODIC);
	apic_write(APIC_TIMER_ICR, 1);
	while (count < TIMER_STORM)	/* the handler masks the LVT at TIMER_STORM */
		sti_hlt();
	cli();
	spin();
	apic_write(APIC_LVT_TIMER, VEC_APIC_TIMER | LVT_MASKED);
	apic_write(APIC_TIMER_ICR, 0);
	check_eq("spin ended", spun, SPIN);
	check(count >= TIMER_STORM, "%u APIC timer interrupts with initial count 1, want %u", count, TIMER_STORM);
	check_end();

	check_begin("self_ipi_loop");
	count = 0;
	sti();
	for (uint32_t i = 0; i < SPIN / 10; i++)
		apic_write(APIC_ICR_LO, VEC_IPI | (1u << 18));	/* self shorthand, fixed */
	cli();
	check(count > 0 && count <= SPIN / 10, "%u self-IPIs taken of %u sent", count, SPIN / 10);
	check_end();

	/* RTC periodic interrupt at 8 kHz (register A rate 3), every source
	 * enabled in register B, flags in register C never read */
	check_begin("ioapic_level_never_cleared");
	count = 0;
	eoi_rtc = 1;
	cmos_write(0x0a, 0x23);
	cmos_write(0x0b, 0x42);
	ioapic_write(0x11 + 2 * PIN_RTC, 0);
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL);
	spin();
	check_eq("spin ended", spun, SPIN);
	check_eq("deliveries until the handler masked the pin", count, LEVEL_STORM);
	check_end();

	check_begin("ioapic_level_never_eoid");
	count = 0;
	eoi_rtc = 0;
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL);
	spin();
	ioapic_write(0x10 + 2 * PIN_RTC, VEC_RTC | RTE_LEVEL | RTE_MASKED);
	check_eq("spin ended", spun, SPIN);
	check_eq("deliveries without an EOI", count, 1);
	apic_eoi();
	cmos_write(0x0b, 0x02);
	check_end();
}

/* UART interrupts: a line sent by the THR-empty interrupt (IER bit 1) on
 * IRQ4 through the 8259A, one character per interrupt, with IIR naming
 * the THRE source each time and no interrupt pending afterwards. */
#include "guest.h"

GUEST("uart_irq", "");

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define IER_THRE 0x02
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define MCR_DTR_RTS_OUT2 0x0b /* OUT2 gates the IRQ line on a PC */
#define IRQ_COM1 4

static const char message[] = "uart_irq: this line was sent by the THR-empty interrupt handler\n";
static volatile uint32_t sent, interrupts, wrong_iir, last_bad_iir;
static volatile bool done;

static void uart_interrupt(struct trap_frame *tf)
{
	uint8_t iir = inb(COM1 + UART_IIR);
	interrupts++;
	if ((iir & 0x0f) != IIR_THRE) {
		wrong_iir++;
		last_bad_iir = iir;
	} else if (message[sent]) {
		char c = message[sent++];
		outb(COM1 + UART_THR, (uint8_t)c);
	} else {
		outb(COM1 + UART_IER, 0);
		done = true;
	}
	pic_eoi(IRQ_COM1);
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(PIC_VECTOR_BASE + IRQ_COM1, uart_interrupt);
	pic_init(1u << IRQ_COM1);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
	outb(COM1 + UART_IER, IER_THRE); /* THR is empty: raises the interrupt */
	uint8_t ier = inb(COM1 + UART_IER);

	uint32_t wakeups = 0;
	while (!done && wakeups < 10000) {
		sti_hlt();
		cli();
		wakeups++;
	}
	pic_set_mask(0xffff);

	check_begin("thre_interrupts");
	check_eq("IER read back", ier, IER_THRE);
	check(done, "the handler never saw THR empty after the last character");
	check_eq("characters sent by the handler", sent, sizeof(message) - 1);
	/* One interrupt per character, plus the one that found nothing to send. */
	check_eq("interrupts", interrupts, sizeof(message));
	check(wrong_iir == 0, "%u interrupts with IIR not THRE (last 0x%x)", wrong_iir, last_bad_iir);
	check_eq("IIR after IER=0", inb(COM1 + UART_IIR) & 0x0f, IIR_NONE);
	check_end();
}

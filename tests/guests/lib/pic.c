/* The 8259A pair, programmed the way every PC operating system does it:
 * ICW1-4 move the master to vectors 0x20-0x27 and the slave to 0x28-0x2f,
 * away from the CPU exception vectors the BIOS mapping overlaps. */
#include "guest.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define ICW1_INIT_WITH_ICW4 0x11
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086 0x01
#define OCW2_EOI 0x20

void pic_init(uint16_t unmasked_irqs)
{
	outb(PIC_MASTER_CMD, ICW1_INIT_WITH_ICW4);
	outb(PIC_SLAVE_CMD, ICW1_INIT_WITH_ICW4);
	outb(PIC_MASTER_DATA, PIC_VECTOR_BASE);
	outb(PIC_SLAVE_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC_MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
	outb(PIC_SLAVE_DATA, ICW3_SLAVE_ID);
	outb(PIC_MASTER_DATA, ICW4_8086);
	outb(PIC_SLAVE_DATA, ICW4_8086);
	pic_set_mask(~unmasked_irqs);
}

void pic_set_mask(uint16_t masked_irqs)
{
	outb(PIC_MASTER_DATA, masked_irqs & 0xff);
	outb(PIC_SLAVE_DATA, masked_irqs >> 8);
}

uint16_t pic_get_mask(void) { return inb(PIC_MASTER_DATA) | inb(PIC_SLAVE_DATA) << 8; }

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_CMD, OCW2_EOI);
	outb(PIC_MASTER_CMD, OCW2_EOI);
}

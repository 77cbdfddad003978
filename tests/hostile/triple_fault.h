/* Shared by the triple_*.c hostile guests: each reaches one CPU mode and
 * raises #UD there with an IDT whose limit is 0, so the #UD's gate is out
 * of bounds (#GP), so is the #GP's (#DF), and so is the #DF's: shutdown,
 * a triple fault (SDM Vol. 3A 6.15, "Interrupt 8—Double Fault Exception":
 * a fault while delivering #DF shuts the processor down; APM Vol. 2
 * 8.2.9). hyvm must end with status 3 and say so; QEMU (-no-reboot)
 * shuts down. The code that runs in the new mode is copied to low memory
 * (TRIPLE_LOW, identity-mapped, below 64 KiB for the 16-bit modes). */
#ifndef TRIPLE_FAULT_H
#define TRIPLE_FAULT_H
#include "guest.h"

#define TRIPLE_LOW 0x7000u

static const struct __attribute__((packed)) {
	uint16_t limit;
	uint32_t base;
} triple_null_idtr = { 0, 0 };

/* Copies code to TRIPLE_LOW and announces the mode; the serial line is
 * what tests/hostile/run.sh and the QEMU oracle check got printed. */
static inline void triple_prepare(const char *mode, const uint8_t *code, uint32_t len)
{
	memcpy((void *)TRIPLE_LOW, code, len);
	printf_serial("triple_fault: %s: #UD with IDTR.limit = 0\n", mode);
}

/* From here on no gate is reachable: the next exception shuts down. */
static inline void triple_null_idt(void)
{
	asm volatile("cli\n\tlidt %0" : : "m"(triple_null_idtr) : "memory");
}
#endif

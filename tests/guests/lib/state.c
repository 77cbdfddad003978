/* The guest's final state as one STATE line, printed by guest_exit just
 * before the exit write. tests/bt/differential.sh compares it between
 * QEMU TCG (the oracle) and hyvm's engines, field by field, so an engine
 * that ends with the right PASS lines but a wrong register or a stray
 * store into guest memory is still caught.
 *
 * Only what is deterministic at this point is printed: a register whose
 * value depends on the host (the TSC, CPUID) is left out, and so is the
 * boot stack (see guest.ld). */
#include "guest.h"

extern const uint8_t __guest_image_start[], __guest_image_end[];
extern const uint8_t __guest_volatile_start[], __guest_volatile_end[];

/* In .volatile: built here, so it must not be part of what it checksums. */
static VOLATILE_STATE uint32_t crc_table[256];

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, const uint8_t *end)
{
	while (p < end)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* CRC-32 (IEEE, as zlib's crc32) of the image and bss minus .volatile.
 * Table-driven: kvm_pvm emulates some 32-bit code, where a bitwise loop
 * over ~60 KiB would be millions of emulated instructions. */
static uint32_t image_crc32(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	uint32_t crc = 0xffffffffu;
	crc = crc32_update(crc, __guest_image_start, __guest_volatile_start);
	crc = crc32_update(crc, __guest_volatile_end, __guest_image_end);
	return ~crc;
}

/* EFER exists where CPUID says the CPU has SYSCALL, NX or long mode;
 * reading it elsewhere raises #GP. The gate is CPUID's, so an engine whose
 * CPUID hides all three prints "none" and differs: that is worth seeing. */
static bool have_efer(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001 || r[0] > 0x8000ffff)
		return false;
	cpuid(0x80000001, 0, r);
	return r[3] & ((1u << 11) | (1u << 20) | (1u << 29));
}

struct __attribute__((packed)) table_reg {
	uint16_t limit;
	uint32_t base;
};

#define SEG(reg) ({ uint16_t v_; asm volatile("mov %%" #reg ", %0" : "=r"(v_)); v_; })

void state_report(void)
{
	/* First, before this function's own arithmetic changes the flags. IF
	 * is masked: whether the guest ends with interrupts on is its
	 * business, but hyvm's run loop and QEMU may see it ending in a
	 * different instant of an sti window. */
	uint32_t eflags, esp;
	asm volatile("pushf; pop %0; mov %%esp, %1" : "=r"(eflags), "=r"(esp));
	eflags &= ~0x200u;

	struct table_reg gdtr, idtr;
	uint16_t tr, ldtr;
	asm volatile("sgdt %0; sidt %1; str %2; sldt %3"
	             : "=m"(gdtr), "=m"(idtr), "=r"(tr), "=r"(ldtr));

	printf_serial("STATE eflags=%08x esp=%08x cr0=%08x cr2=%08x cr3=%08x cr4=%08x", eflags, esp,
	              read_cr0(), read_cr2(), read_cr3(), read_cr4());
	if (have_efer())
		printf_serial(" efer=%08x", (uint32_t)rdmsr(0xc0000080u));
	else
		printf_serial(" efer=none");
	printf_serial(" gdtr=%08x/%04x idtr=%08x/%04x", gdtr.base, gdtr.limit, idtr.base, idtr.limit);
	printf_serial(" cs=%04x ds=%04x es=%04x fs=%04x gs=%04x ss=%04x tr=%04x ldtr=%04x", SEG(cs),
	              SEG(ds), SEG(es), SEG(fs), SEG(gs), SEG(ss), tr, ldtr);
	printf_serial(" crc=%08x\n", image_crc32());
}

/* Hostile: REP STOS and REP MOVS that start in RAM and run 1 MiB past its
 * end (run.sh gives it 16 MiB) into whatever follows, unbacked on hyvm:
 * the RAM part is written, the rest dropped, ECX ends at 0 and EDI where
 * the CPU leaves it, in bounded time and memory. */
#include "guest.h"

GUEST("rep_end_of_ram", "");

#define PAST (1u << 20)

void guest_main(const struct mb_info *mbi)
{
	/* where the firmware says usable RAM ends (hyvm: 16 MiB; QEMU keeps
	 * its ACPI tables above) */
	uint32_t RAM_END = (mbi->mem_upper + 1024) << 10;

	check_begin("rep_stos_past_ram");
	check(RAM_END > (8u << 20), "mem_upper says %u KiB", mbi->mem_upper);
	uint8_t *d = (uint8_t *)(RAM_END - 4096);
	uint32_t n = 4096 + PAST;
	asm volatile("cld\n\trep stosb" : "+D"(d), "+c"(n) : "a"(0x5a) : "memory");
	check_eq("ecx", n, 0);
	check_eq("edi", (uint32_t)d, RAM_END + PAST);
	check_eq("last RAM byte", *(volatile uint8_t *)(RAM_END - 1), 0x5a);
	check_end();

	check_begin("rep_movs_past_ram");
	uint32_t *s = (uint32_t *)(RAM_END - 4096), *dd = (uint32_t *)(RAM_END - 8192);
	n = (4096 + PAST) / 4;
	asm volatile("cld\n\trep movsl" : "+S"(s), "+D"(dd), "+c"(n) : : "memory");
	check_eq("ecx", n, 0);
	check_eq("esi", (uint32_t)s, RAM_END + PAST);
	check_end();
}

/* Hostile: seeded random stores and loads of every size, single and REP,
 * to guest-physical memory the guest does not own: RAM above its image
 * (4 MiB up to the end), the VGA window and the BIOS ROM below 1 MiB, the
 * unbacked PCI hole and the ROM at the top of 4 GiB (the APICs are left
 * to the device fuzzer: their registers change the guest's own
 * interrupts). Every store lands or is dropped, every load returns what
 * the platform has there; the guest goes on and exits itself, and RAM it
 * wrote reads back. */
#include "guest.h"

GUEST("wild_writes", "");

#define ROUNDS 20000

static uint32_t rng = 0x1234567u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t target(uint32_t ram_end)
{
	uint32_t r = next();

	switch (next() % 5) {
	case 0: return (4u << 20) + r % (ram_end - (4u << 20) - 64);	/* RAM */
	case 1: return 0xa0000 + r % 0x20000;				/* VGA */
	case 2: return 0xe0000 + r % 0x1ffc0;				/* BIOS ROM */
	case 3: return 0xe0000000u + r % 0x1e000000u;			/* PCI hole */
	default: return 0xfffc0000u + r % 0x3ffc0u;			/* top ROM */
	}
}

void guest_main(const struct mb_info *mbi)
{
	uint32_t ram_end = (mbi->mem_upper + 1024) << 10, sum = 0, ram_ok = 0, ram_writes = 0;

	check_begin("wild_writes");
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t a = target(ram_end), v = next();
		switch (next() % 6) {
		case 0: *(volatile uint8_t *)a = (uint8_t)v; break;
		case 1: *(volatile uint16_t *)a = (uint16_t)v; break;
		case 2: *(volatile uint32_t *)a = v; break;
		case 3: sum += *(volatile uint32_t *)a; break;
		case 4: {
			void *d = (void *)a;
			uint32_t n = 1 + v % 32;
			asm volatile("cld\n\trep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
			break;
		}
		default: {
			const void *s = (const void *)a;
			uint8_t buf[32];
			void *d = buf;
			uint32_t n = 1 + v % 32;
			asm volatile("cld\n\trep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
			sum += buf[0];
			break;
		}
		}
		if (a >= (4u << 20) && a < ram_end - 64) {
			*(volatile uint32_t *)a = v;
			ram_writes++;
			ram_ok += *(volatile uint32_t *)a == v;
		}
	}
	check(ram_writes > ROUNDS / 10, "only %u stores to RAM", ram_writes);
	check_eq("RAM stores that read back", ram_ok, ram_writes);
	printf_serial("wild_writes: %u rounds, %u RAM stores, load sum %08x\n", ROUNDS, ram_writes, sum);
	check_end();
}

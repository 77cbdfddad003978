/* Indirect calls to one linear address whose code changes with the
 * address space, the TLB flush or the segments, for a translator that
 * looks indirect targets up by eip in a cache (bt's jump cache) kept
 * across CR3 loads for global translations and per segment key:
 *  - a non-global code page mapped to another frame in a second
 *    directory: after each CR3 load the call runs that directory's code
 *    (SDM Vol. 3A 4.10.4.1: MOV to CR3 invalidates non-global entries);
 *  - a global code page re-pointed, then CR4.PGE turned off: the new code
 *    (a PGE change invalidates global entries too, 4.10.4.1);
 *  - a global code page called in both directories, then re-pointed and
 *    INVLPG'd after a CR3 load: the new code (INVLPG invalidates global
 *    entries, 4.10.4.1);
 *  - code that reads through DS called with DS based at 0, then at 4096,
 *    then at 0 again: each call reads through the base of its time; code
 *    that never names DS called between (its cache entry may be shared).
 * Nothing is read between a page-table write and its flush, where the
 * processor may use either translation. */
#include "guest.h"

GUEST("jc_switch", "paging32");

#define CODE 0x40000000u	/* PDE 256 -> table of the directory in use */
#define SEL_DS4K SEL_SPARE(0)	/* data, base 4096 */
#define SEL_DS0 SEL_SPARE(1)	/* data, base 0 */

/* The tables' A bits are outside the checksum: after a CR3 load a global
 * translation may be used without a walk (QEMU walks again, a TLB that
 * keeps it does not), so whether B's entries get A is not defined. */
static VOLATILE_STATE volatile uint32_t table_a[1024] __attribute__((aligned(4096)));
static VOLATILE_STATE volatile uint32_t table_b[1024] __attribute__((aligned(4096)));
static VOLATILE_STATE volatile uint32_t dir_b[1024] __attribute__((aligned(4096)));
/* two code frames: "mov eax, imm32; ret" */
static volatile uint8_t frame[2][4096] __attribute__((aligned(4096)));
/* what the DS reader reads: word 0 of each page */
static volatile uint32_t window[2][1024] __attribute__((aligned(4096)));

typedef uint32_t (*code_fn)(void);

static void put_code(unsigned f, uint32_t value)
{
	frame[f][0] = 0xb8;	/* mov eax, imm32 */
	frame[f][1] = (uint8_t)value;
	frame[f][2] = (uint8_t)(value >> 8);
	frame[f][3] = (uint8_t)(value >> 16);
	frame[f][4] = (uint8_t)(value >> 24);
	frame[f][5] = 0xc3;	/* ret */
}

/* Calls CODE through a pointer several times (the first call fills a
 * translator's cache, the rest hit it); the value of the last. */
static uint32_t call_code(void)
{
	code_fn volatile fn = (code_fn)CODE;
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = fn();
	return v;
}

static void non_global_cr3(void)
{
	uint32_t dir_a = read_cr3();

	table_a[0] = (uint32_t)frame[0] | PTE_P | PTE_W;
	table_b[0] = (uint32_t)frame[1] | PTE_P | PTE_W;
	invlpg((void *)CODE);
	for (int round = 0; round < 3; round++) {
		check_eq("directory A's code", call_code(), 0x1111);
		write_cr3((uint32_t)dir_b);
		check_eq("directory B's code after the CR3 load", call_code(), 0x2222);
		write_cr3(dir_a);
	}
	check_eq("directory A's code at the end", call_code(), 0x1111);
}

static void global_pge(void)
{
	uint32_t cr4 = read_cr4();

	write_cr4(cr4 | CR4_PGE);
	table_a[0] = (uint32_t)frame[0] | PTE_P | PTE_W | PTE_G;
	invlpg((void *)CODE);
	check_eq("the global page's code", call_code(), 0x1111);
	table_a[0] = (uint32_t)frame[1] | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4 & ~CR4_PGE);
	check_eq("the re-pointed global page after CR4.PGE went off", call_code(), 0x2222);
	write_cr4(cr4 | CR4_PGE);
	check_eq("the same with CR4.PGE on again", call_code(), 0x2222);
	write_cr4(cr4);
}

static void global_invlpg(void)
{
	uint32_t cr4 = read_cr4(), dir_a = read_cr3();

	write_cr4(cr4 | CR4_PGE);
	table_a[0] = table_b[0] = (uint32_t)frame[0] | PTE_P | PTE_W | PTE_G;
	invlpg((void *)CODE);
	check_eq("the global page in directory A", call_code(), 0x1111);
	write_cr3((uint32_t)dir_b);
	check_eq("the same global page in directory B", call_code(), 0x1111);
	write_cr3(dir_a);
	table_a[0] = table_b[0] = (uint32_t)frame[1] | PTE_P | PTE_W | PTE_G;
	invlpg((void *)CODE);
	check_eq("the re-pointed global page after INVLPG", call_code(), 0x2222);
	write_cr3((uint32_t)dir_b);
	check_eq("... and in directory B", call_code(), 0x2222);
	write_cr3(dir_a);
	write_cr4(cr4);
}

/* Reads word 0 of window[0] through DS: the base of DS picks the page. */
static __attribute__((noinline)) uint32_t read_ds(void)
{
	uint32_t v;
	asm volatile("movl %%ds:(%1), %0" : "=r"(v) : "r"(window[0]) : "memory");
	return v;
}

static __attribute__((noinline)) uint32_t no_ds(uint32_t x)
{
	return x * 3 + 1;
}

/* Called through a pointer with DS based at base (sel), the flat DS back
 * before returning to C. */
static uint32_t call_with_ds(uint16_t sel, uint32_t (*volatile fn)(void))
{
	uint32_t v;
	asm volatile("pushl %%ds\n\t"
		     "movw %w1, %%ds\n\t"
		     "call *%2\n\t"
		     "popl %%ds"
		     : "=a"(v) : "r"(sel), "r"(fn) : "ecx", "edx", "memory");
	return v;
}

static void segment_bases(void)
{
	uint32_t (*volatile nd)(uint32_t) = no_ds;

	window[0][0] = 0xaaaa;
	window[1][0] = 0xbbbb;
	gdt_set(SEL_DS0, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_DS4K, 4096, 0xffffe, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	for (int round = 0; round < 3; round++) {
		check_eq("DS based at 0", call_with_ds(SEL_DS0, read_ds), 0xaaaa);
		check_eq("code without DS", nd(round), round * 3 + 1);
		check_eq("DS based at 4096", call_with_ds(SEL_DS4K, read_ds), 0xbbbb);
		check_eq("code without DS, DS at 4096 before", nd(round + 7), (round + 7) * 3 + 1);
	}
}

void guest_main(const struct mb_info *mbi)
{
	put_code(0, 0x1111);
	put_code(1, 0x2222);
	paging32_enable();
	for (unsigned i = 0; i < 1024; i++)
		dir_b[i] = paging32_directory[i];
	paging32_directory[CODE >> 22] = (uint32_t)table_a | PTE_P | PTE_W;
	dir_b[CODE >> 22] = (uint32_t)table_b | PTE_P | PTE_W;

	check_begin("non_global_cr3");
	non_global_cr3();
	check_end();
	check_begin("global_pge");
	global_pge();
	check_end();
	check_begin("global_invlpg");
	global_invlpg();
	check_end();
	check_begin("segment_bases");
	segment_bases();
	check_end();
}

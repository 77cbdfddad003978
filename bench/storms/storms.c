/* The storms of issue 13 as a benchmark guest: one storm per run, chosen
 * and sized by the command line "storm=NAME n=N", timed with RDTSC and
 * checked, so a translator that gets faster by getting it wrong fails:
 *   int80    N x INT 0x80 at CPL0 into an interrupt gate whose handler is
 *            IRET (SDM Vol. 3A 6.12.1: same privilege, no stack switch)
 *   ptwrite  N page-table rewrites: a PTE alternated between two frames,
 *            INVLPG, and a read through the mapping (SDM Vol. 3A 4.10.4.1:
 *            the read must see the new frame)
 *   smc      N code rewrites: a routine that stores its argument into its
 *            own MOV immediate and then runs it (SDM Vol. 3A 8.1.3: a
 *            store to code that is then executed is seen)
 * Output on COM1: "STORM name n cycles", then the library's PASS/STATE
 * lines. bench/storms/storms.sh runs it on bt and in QEMU TCG. */
#include "guest.h"

GUEST("storms", "soft-int-cpl0 paging32");

#define PT_PDE 302u
#define PT_BASE (PT_PDE << 22)

static volatile uint32_t pt_table[1024] __attribute__((aligned(4096)));
static uint32_t frames[2][1024] __attribute__((aligned(4096)));

void iret_entry(void);
extern uint32_t smc_patch(uint32_t v) __attribute__((regparm(1)));
asm(".text\n"
    ".globl iret_entry\niret_entry:\n\t"
    "iret\n"
    /* in .data: the routine writes itself */
    ".data\n"
    ".globl smc_patch\nsmc_patch:\n\t"
    "movl %eax, smc_patch_imm\n\t"
    ".byte 0xb8\n"		/* mov $imm32, %eax */
    "smc_patch_imm:\n\t"
    ".long 0\n\t"
    "ret\n"
    ".text\n");

static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint32_t storm_int80(uint32_t n)
{
	idt_set_raw(0x80, iret_entry, GATE_INT);
	for (uint32_t i = n; i; i--)
		asm volatile("int $0x80" : : : "memory");
	return 0;
}

static uint32_t storm_ptwrite(uint32_t n)
{
	uint32_t wrong = 0;
	frames[0][0] = 0x11111111;
	frames[1][0] = 0x22222222;
	paging32_enable();
	paging32_directory[PT_PDE] = (uint32_t)pt_table | PTE_P | PTE_W;
	write_cr3(read_cr3());
	for (uint32_t i = 0; i < n; i++) {
		pt_table[0] = (uint32_t)frames[i & 1] | PTE_P | PTE_W;
		invlpg((void *)PT_BASE);
		if (*(volatile uint32_t *)PT_BASE != (i & 1 ? 0x22222222u : 0x11111111u))
			wrong++;
	}
	return wrong;
}

static uint32_t storm_smc(uint32_t n)
{
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < n; i++)
		if (smc_patch(i * 0x01010101u) != i * 0x01010101u)
			wrong++;
	return wrong;
}

static const struct {
	const char *name;
	uint32_t (*run)(uint32_t n);	/* returns the number of wrong results */
} storms[] = {
	{ "int80", storm_int80 },
	{ "ptwrite", storm_ptwrite },
	{ "smc", storm_smc },
};

static bool word_is(const char *p, const char *word)
{
	size_t k = strlen(word);
	return p && !memcmp(p, word, k) && (p[k] == ' ' || !p[k]);
}

void guest_main(const struct mb_info *mbi)
{
	const char *cmd = (mbi->flags & MBI_CMDLINE) ? (const char *)mbi->cmdline : "";
	const char *which = cmdline_value(cmd, "storm");
	const char *count = cmdline_value(cmd, "n");
	uint32_t n = 0;

	for (; count && *count >= '0' && *count <= '9'; count++)
		n = n * 10 + (uint32_t)(*count - '0');
	check_begin("storms");
	for (unsigned i = 0; i < sizeof(storms) / sizeof(storms[0]); i++) {
		if (!word_is(which, storms[i].name))
			continue;
		uint64_t t0 = rdtsc64();
		uint32_t wrong = storms[i].run(n);
		uint64_t t1 = rdtsc64();
		check_eq("wrong results", wrong, 0);
		printf_serial("STORM %s %u %llu\n", storms[i].name, n, (unsigned long long)(t1 - t0));
		check_end();
		return;
	}
	check(false, "no storm named by \"storm=int80|ptwrite|smc n=N\" in \"%s\"", cmd);
	check_end();
}

/* Memory and interrupts across a checkpoint (tests/ctl/ckpt-guest.sh):
 * ROUNDS rounds (~2 s) each rewrite every word of a 1 MiB region at 8 MiB from
 * the word, the round and the index, print the region's sum, then sleep
 * in sti/hlt for TICKS PIT interrupts (so a save may land in HLT or with
 * an interrupt on its way). At the end every word is recomputed from
 * scratch and compared. The output is the same on every engine and in
 * QEMU, and the same when the run is saved and restored in the middle:
 * the test compares the two halves' output with an uninterrupted run.
 * The command line "rounds=N ticks=T" makes it run longer, or without
 * interrupts (ticks=0: the QMP tests). */
#include "guest.h"

GUEST("ckpt_mem", "cpl0-compute");	/* 100 x 1 MiB rewritten at CPL0 */

#define REGION		((volatile uint32_t *)0x800000)
#define WORDS		(1u << 18)		/* 1 MiB */
#define ROUNDS		100u
/* Few interrupts: bt on a loaded host has been seen to triple-fault in
 * isr_common after some thousands of PIT interrupts (also without any
 * checkpoint); this guest tests checkpoints, not that. */
#define TICKS		2u			/* at 100 Hz: ~20 ms a round */
#define PIT_CH0		0x40
#define PIT_CMD		0x43

static volatile VOLATILE_STATE uint32_t ticks;

static void timer_interrupt(struct trap_frame *tf)
{
	ticks++;
	pic_eoi(0);
}

static uint32_t step(uint32_t w, uint32_t round, uint32_t i)
{
	return w * 33u + (round * 2654435761u ^ i * 40503u) + 1u;
}

/* "KEY=N" from the command line, or def. */
static uint32_t arg(const struct mb_info *mbi, const char *key, uint32_t def)
{
	const char *s;
	size_t len = strlen(key);
	uint32_t n = 0;

	if (!(mbi->flags & MBI_CMDLINE))
		return def;
	for (s = (const char *)mbi->cmdline; *s; s++)
		if (!memcmp(s, key, len))
			break;
	if (!*s || s[len] < '0' || s[len] > '9')
		return def;
	for (s += len; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (uint32_t)(*s - '0');
	return n;
}

void guest_main(const struct mb_info *mbi)
{
	uint32_t rounds = arg(mbi, "rounds=", ROUNDS), sleep = arg(mbi, "ticks=", TICKS);
	uint32_t total = 0;

	trap_set_handler(0x20, timer_interrupt);
	pic_init(1u << 0);
	outb(PIT_CMD, 0x34);			/* channel 0, lo/hi, mode 2 */
	outb(PIT_CH0, 11932 & 0xff);		/* 100 Hz */
	outb(PIT_CH0, 11932 >> 8);
	for (uint32_t i = 0; i < WORDS; i++)
		REGION[i] = i;
	check_begin("rounds");
	for (uint32_t r = 0; r < rounds; r++) {
		uint32_t sum = 0;
		for (uint32_t i = 0; i < WORDS; i++) {
			uint32_t w = step(REGION[i], r, i);
			REGION[i] = w;
			sum = (sum << 5 | sum >> 27) ^ w;
		}
		total = total * 31u + sum;
		printf_serial("round %u sum %08x\n", r, sum);
		ticks = 0;
		while (ticks < sleep) {
			sti_hlt();
			cli();
		}
	}
	check_end();
	check_begin("recompute");
	uint32_t bad = 0;
	for (uint32_t i = 0; i < WORDS; i++) {
		uint32_t w = i;
		for (uint32_t r = 0; r < rounds; r++)
			w = step(w, r, i);
		if (w != REGION[i] && bad++ < 3)
			check(false, "word %u is %08x, recomputed %08x", i, REGION[i], w);
	}
	check(bad == 0, "%u words differ", bad);
	printf_serial("total %08x\n", total);
	check_end();
	pic_set_mask(0xffff);
	guest_exit();
}

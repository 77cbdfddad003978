/* The i8254 PIT and port 0x61, on a fake clock. */
#include "unit.h"
#include "fake_device_env.h"

#define HZ 1193182ull

static struct fake_env F;
static const struct device_model *model;
static void *pit;

/* Fake time that is exactly `ticks` PIT clocks after t0 (rounded up so
 * the PIT sees all of them). */
static uint64_t at_ticks(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * 1000000000ull + HZ - 1) / HZ;
}

static uint16_t latch_read(uint8_t channel)
{
	pio_out8(&F, 0x43, (uint8_t)(channel << 6));	/* counter latch */
	uint8_t lo = pio_in8(&F, 0x40 + channel);
	uint8_t hi = pio_in8(&F, 0x40 + channel);
	return (uint16_t)(lo | hi << 8);
}

static void program(uint8_t channel, uint8_t mode, uint16_t count)
{
	pio_out8(&F, 0x43, (uint8_t)(channel << 6 | 0x30 | mode << 1));
	pio_out8(&F, 0x40 + channel, (uint8_t)count);
	pio_out8(&F, 0x40 + channel, (uint8_t)(count >> 8));
}

static void poll_at(uint64_t t)
{
	F.now = t;
	model->poll(pit, F.now);
}

static int setup(void)
{
	if (fake_env_init(&F, 64 << 20))
		return -1;
	model = fake_model("pit8254");
	pit = fake_create(&F, "pit8254");
	return pit && model ? 0 : -1;
}

static int teardown(void)
{
	fake_env_fini(&F);
	return 0;
}

static void test_idle(void)
{
	CU_ASSERT_EQUAL(model->next_deadline(pit), UINT64_MAX);
	poll_at(F.now + 1000000000ull);
	CU_ASSERT_EQUAL(F.rising[0], 0);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x43), 0xff);	/* write-only */
	pio_out8(&F, 0x40, 0x12);	/* count before any control word */
	CU_ASSERT_EQUAL(model->next_deadline(pit), UINT64_MAX);
}

static void test_mode2_periods(void)
{
	uint64_t t0 = F.now;
	unsigned edges = F.rising[0];

	program(0, 2, 1193);			/* ~1 ms rate generator */
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 1193));
	poll_at(at_ticks(t0, 600));
	CU_ASSERT_EQUAL(F.rising[0], edges);
	CU_ASSERT_EQUAL(latch_read(0), 1193 - 600);

	poll_at(model->next_deadline(pit));
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);
	CU_ASSERT_FALSE(F.line[0]);		/* a pulse, not a stuck line */
	poll_at(F.now);				/* same instant: nothing new */
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 2 * 1193));

	poll_at(at_ticks(t0, 2 * 1193 + 5));
	CU_ASSERT_EQUAL(F.rising[0], edges + 2);
	CU_ASSERT_EQUAL(latch_read(0), 1193 - 5);

	/* 50 periods late: one edge now, the 49 others owed, 200 us apart
	 * (a guest counting ticks as time must get them all, as KVM's PIT
	 * reinjects them), then the period's own deadline again. */
	poll_at(at_ticks(t0, 52 * 1193 + 7));
	CU_ASSERT_EQUAL(F.rising[0], edges + 3);
	uint64_t last = F.now;
	poll_at(F.now + 1);			/* too soon for the next */
	CU_ASSERT_EQUAL(F.rising[0], edges + 3);
	CU_ASSERT_EQUAL(model->next_deadline(pit), last + 200000);
	/* polled at each deadline, it catches up with the periods that keep
	 * expiring meanwhile: every period up to now has had its edge */
	for (int i = 0; i < 200 && model->next_deadline(pit) <= at_ticks(t0, 70 * 1193); i++)
		poll_at(model->next_deadline(pit));
	uint64_t periods = (F.now - t0) * HZ / 1000000000ull / 1193;
	CU_ASSERT_EQUAL(F.rising[0], edges + periods);
	CU_ASSERT_TRUE(periods >= 60);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, (periods + 1) * 1193));
}

/* A VMM stopped for long owes at most 250 periods, paced, not a storm. */
static void test_mode2_owed_bounded(void)
{
	uint64_t t0 = F.now;
	unsigned edges = F.rising[0];

	program(0, 2, 1193);
	poll_at(at_ticks(t0, 10000 * 1193ull));	/* ~10 s late */
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);
	uint64_t late = F.now;
	for (int i = 0; i < 1000 && model->next_deadline(pit) < late + 100000000ull; i++)
		poll_at(model->next_deadline(pit));
	/* 250 owed, then the 100 periods of the 100 ms spent catching up */
	unsigned got = F.rising[0] - edges;
	CU_ASSERT(got >= 250 + 99 && got <= 250 + 101);
	CU_ASSERT(model->next_deadline(pit) > F.now);	/* caught up */
}

static void test_mode3_square_wave(void)
{
	uint64_t t0 = F.now;
	unsigned edges = F.rising[0];

	program(0, 3, 1000);
	F.now = at_ticks(t0, 100);
	CU_ASSERT_EQUAL(latch_read(0), 800);	/* counts down by two */
	F.now = at_ticks(t0, 499);
	CU_ASSERT_EQUAL(latch_read(0), 2);
	pio_out8(&F, 0x43, 0xe2);		/* read-back status, ch0 */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x80 | 0x30 | 3 << 1);	/* OUT high */
	F.now = at_ticks(t0, 600);
	pio_out8(&F, 0x43, 0xe2);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40) & 0x80, 0);	/* second half: low */

	poll_at(at_ticks(t0, 999));
	CU_ASSERT_EQUAL(F.rising[0], edges);
	poll_at(at_ticks(t0, 1000));
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);
	poll_at(at_ticks(t0, 3000));		/* one period missed: owed */
	CU_ASSERT_EQUAL(F.rising[0], edges + 2);
	/* the owed one 200 us after that edge (less than half a period) */
	CU_ASSERT_EQUAL(model->next_deadline(pit), F.now + 200000);
	poll_at(model->next_deadline(pit));
	CU_ASSERT_EQUAL(F.rising[0], edges + 3);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 4000));
}

static void test_access_modes(void)
{
	uint64_t t0 = F.now;

	pio_out8(&F, 0x43, 0x14);		/* ch0 LSB only, mode 2 */
	pio_out8(&F, 0x40, 100);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 100));
	F.now = at_ticks(t0, 30);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 70);

	t0 = F.now;
	pio_out8(&F, 0x43, 0x24);		/* ch0 MSB only, mode 2 */
	pio_out8(&F, 0x40, 0x02);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 0x200));
	F.now = at_ticks(t0, 0x10);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x01);	/* 0x1f0 */

	/* lohi without a latch: LSB then MSB of the live count. */
	t0 = F.now;
	program(0, 2, 0x1234);
	F.now = at_ticks(t0, 0x34);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x00);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x12);

	/* A latched value survives time passing and a second latch. */
	pio_out8(&F, 0x43, 0x00);
	F.now = at_ticks(t0, 0x1000);
	pio_out8(&F, 0x43, 0x00);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x00);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40), 0x12);

	/* Count 0 means 65536. */
	t0 = F.now;
	program(0, 2, 0);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 65536));

	/* BCD: 0x1000 is one thousand. */
	t0 = F.now;
	pio_out8(&F, 0x43, 0x35);
	pio_out8(&F, 0x40, 0x00);
	pio_out8(&F, 0x40, 0x10);
	CU_ASSERT_EQUAL(model->next_deadline(pit), at_ticks(t0, 1000));
	F.now = at_ticks(t0, 1);
	CU_ASSERT_EQUAL(latch_read(0), 0x0999);
}

static void test_mode0_one_shot(void)
{
	uint64_t t0 = F.now;
	unsigned edges = F.rising[0];

	program(0, 0, 500);
	pio_out8(&F, 0x43, 0xe2);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40) & 0x80, 0);	/* OUT low while counting */
	poll_at(at_ticks(t0, 499));
	CU_ASSERT_EQUAL(F.rising[0], edges);
	poll_at(at_ticks(t0, 500));
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);
	pio_out8(&F, 0x43, 0xe2);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x40) & 0x80, 0x80);
	poll_at(at_ticks(t0, 500 + 65536 * 3));
	CU_ASSERT_EQUAL(F.rising[0], edges + 1);		/* only once */
	CU_ASSERT_EQUAL(model->next_deadline(pit), UINT64_MAX);
}

/* Linux's PIT TSC calibration: channel 2, mode 0, gate through 0x61. */
static void test_channel2_port61(void)
{
	uint64_t t0 = F.now;

	pio_out8(&F, 0x61, 0x00);
	program(2, 0, 0xffff);
	F.now = at_ticks(t0, 5000);
	CU_ASSERT_EQUAL(latch_read(2), 0xffff);	/* gate low: not counting */
	pio_out8(&F, 0x61, 0x01);
	t0 = F.now;
	CU_ASSERT_EQUAL(pio_in8(&F, 0x61) & 0x21, 0x01);	/* gate on, OUT2 low */
	F.now = at_ticks(t0, 0x1000);
	CU_ASSERT_EQUAL(latch_read(2), 0xffff - 0x1000);
	pio_out8(&F, 0x61, 0x00);		/* gate low pauses mode 0 */
	F.now = at_ticks(t0, 0x9000);
	CU_ASSERT_EQUAL(latch_read(2), 0xffff - 0x1000);
	pio_out8(&F, 0x61, 0x01);
	F.now += 1000000000ull;			/* a full second: terminal count */
	CU_ASSERT_EQUAL(pio_in8(&F, 0x61) & 0x20, 0x20);
	CU_ASSERT_EQUAL(F.rising[2], 0);		/* channel 2 has no IRQ */

	/* The refresh bit toggles as time passes. */
	uint8_t a = pio_in8(&F, 0x61) & 0x10;
	F.now += 15085;
	CU_ASSERT_NOT_EQUAL(pio_in8(&F, 0x61) & 0x10, a);
}

UNIT_SUITE(pit8254, setup, teardown,
	   UNIT_TEST(test_idle),
	   UNIT_TEST(test_mode2_periods),
	   UNIT_TEST(test_mode2_owed_bounded),
	   UNIT_TEST(test_mode3_square_wave),
	   UNIT_TEST(test_access_modes),
	   UNIT_TEST(test_mode0_one_shot),
	   UNIT_TEST(test_channel2_port61))

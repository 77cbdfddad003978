/* The MC146818 RTC and CMOS bytes. The clock is the host's UTC, so the
 * time tests compare against gmtime() read around the device reads. */
#include <time.h>
#include "unit.h"
#include "fake_device_env.h"

static struct fake_env F;

static void start(uint64_t ram)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, ram), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "rtc_cmos"));
}

static uint8_t cmos(uint8_t index)
{
	pio_out8(&F, 0x70, index);
	return pio_in8(&F, 0x71);
}

static void cmos_set(uint8_t index, uint8_t v)
{
	pio_out8(&F, 0x70, index);
	pio_out8(&F, 0x71, v);
}

static unsigned cmos16(uint8_t lo)
{
	return cmos(lo) | cmos((uint8_t)(lo + 1)) << 8;
}

static void check_checksum(void)
{
	unsigned sum = 0;
	for (uint8_t i = 0x10; i <= 0x2d; i++)
		sum += cmos(i);
	CU_ASSERT_EQUAL(cmos(0x2e) << 8 | cmos(0x2f), sum & 0xffff);
}

static void test_memory_64m(void)
{
	start(64ull << 20);
	CU_ASSERT_EQUAL(cmos16(0x15), 640);
	CU_ASSERT_EQUAL(cmos16(0x17), 63 * 1024);
	CU_ASSERT_EQUAL(cmos16(0x30), 63 * 1024);
	CU_ASSERT_EQUAL(cmos16(0x34), (48 << 20) / 65536);
	CU_ASSERT_EQUAL(cmos(0x5b) | cmos(0x5c) | cmos(0x5d), 0);
	CU_ASSERT_EQUAL(cmos(0x0d), 0x80);	/* REG_D: valid RAM and time */
	check_checksum();
	fake_env_fini(&F);
}

static void test_memory_large_and_tiny(void)
{
	start(6ull << 30);		/* 3 GiB low, 3 GiB above 4 GiB */
	CU_ASSERT_EQUAL(cmos16(0x17), 0xffff);	/* capped */
	CU_ASSERT_EQUAL(cmos16(0x30), 0xffff);
	CU_ASSERT_EQUAL(cmos16(0x34), ((3ull << 30) - (16 << 20)) / 65536);
	CU_ASSERT_EQUAL(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16,
			(3ull << 30) / 65536);
	check_checksum();
	fake_env_fini(&F);

	start(3ull << 30);		/* all below the 3.5 GiB hole */
	CU_ASSERT_EQUAL(cmos16(0x34), ((3ull << 30) - (16 << 20)) / 65536);
	CU_ASSERT_EQUAL(cmos(0x5b) | cmos(0x5c) | cmos(0x5d), 0);
	fake_env_fini(&F);

	start(512 << 10);		/* less than 1 MiB: no extended memory */
	CU_ASSERT_EQUAL(cmos16(0x17), 0);
	CU_ASSERT_EQUAL(cmos16(0x34), 0);
	check_checksum();
	fake_env_fini(&F);
}

static unsigned bcd(unsigned v)
{
	return (v / 10) << 4 | (v % 10);
}

/* Reads the clock until two host reads bracket the same second. */
static void read_clock(uint8_t out[8], struct tm *tm)
{
	static const uint8_t regs[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };
	for (int tries = 0; tries < 5; tries++) {
		time_t before = time(NULL);
		for (int i = 0; i < 8; i++)
			out[i] = cmos(regs[i]);
		time_t after = time(NULL);
		if (before == after) {
			gmtime_r(&after, tm);
			return;
		}
	}
	CU_FAIL("clock kept changing second");
}

static void test_time_formats(void)
{
	uint8_t r[8];
	struct tm tm;

	start(16 << 20);
	CU_ASSERT_EQUAL(cmos(0x0b), 0x02);	/* BCD, 24 h */
	read_clock(r, &tm);
	CU_ASSERT_EQUAL(r[0], bcd((unsigned)tm.tm_sec));
	CU_ASSERT_EQUAL(r[1], bcd((unsigned)tm.tm_min));
	CU_ASSERT_EQUAL(r[2], bcd((unsigned)tm.tm_hour));
	CU_ASSERT_EQUAL(r[3], (unsigned)tm.tm_wday + 1);
	CU_ASSERT_EQUAL(r[4], bcd((unsigned)tm.tm_mday));
	CU_ASSERT_EQUAL(r[5], bcd((unsigned)tm.tm_mon + 1));
	CU_ASSERT_EQUAL(r[6], bcd((unsigned)tm.tm_year % 100));
	CU_ASSERT_EQUAL(r[7], bcd((unsigned)(tm.tm_year + 1900) / 100));

	cmos_set(0x0b, 0x06);			/* binary, 24 h */
	read_clock(r, &tm);
	CU_ASSERT_EQUAL(r[0], (unsigned)tm.tm_sec);
	CU_ASSERT_EQUAL(r[2], (unsigned)tm.tm_hour);
	CU_ASSERT_EQUAL(r[6], (unsigned)tm.tm_year % 100);
	CU_ASSERT_EQUAL(r[7], (unsigned)(tm.tm_year + 1900) / 100);

	cmos_set(0x0b, 0x04);			/* binary, 12 h */
	read_clock(r, &tm);
	unsigned h12 = tm.tm_hour % 12 ? (unsigned)tm.tm_hour % 12 : 12;
	CU_ASSERT_EQUAL(r[2], h12 | (tm.tm_hour >= 12 ? 0x80 : 0));
	fake_env_fini(&F);
}

static void test_set_time(void)
{
	start(16 << 20);
	cmos_set(0x0b, 0x82);			/* SET: freeze, BCD, 24 h */
	cmos_set(0x00, 0x30);
	cmos_set(0x02, 0x59);
	cmos_set(0x04, 0x23);
	cmos_set(0x07, 0x31);
	cmos_set(0x08, 0x12);
	cmos_set(0x09, 0x99);
	cmos_set(0x32, 0x19);
	CU_ASSERT_EQUAL(cmos(0x00), 0x30);	/* frozen while SET */
	cmos_set(0x0b, 0x02);			/* run from 1999-12-31 23:59:30 */
	CU_ASSERT_EQUAL(cmos(0x09), 0x99);
	CU_ASSERT_EQUAL(cmos(0x32), 0x19);
	CU_ASSERT_EQUAL(cmos(0x08), 0x12);
	CU_ASSERT_EQUAL(cmos(0x07), 0x31);
	CU_ASSERT_EQUAL(cmos(0x04), 0x23);
	CU_ASSERT_EQUAL(cmos(0x02), 0x59);
	CU_ASSERT(cmos(0x00) >= 0x30 && cmos(0x00) <= 0x32);
	CU_ASSERT_EQUAL(cmos(0x06), 6);		/* a Friday */

	/* One register written while running moves only that field. */
	cmos_set(0x09, 0x05);
	CU_ASSERT_EQUAL(cmos(0x09), 0x05);
	CU_ASSERT_EQUAL(cmos(0x08), 0x12);

	/* Junk BCD does not crash; the clock keeps running. */
	cmos_set(0x0b, 0x82);
	cmos_set(0x08, 0xff);
	cmos_set(0x07, 0x00);
	cmos_set(0x0b, 0x02);
	CU_ASSERT(cmos(0x08) >= 0x01 && cmos(0x08) <= 0x12);
	fake_env_fini(&F);
}

static void test_index_and_nvram(void)
{
	start(64ull << 20);
	/* Bit 7 of the index masks NMI; it does not pick the register. */
	CU_ASSERT_EQUAL(cmos(0x80 | 0x15), 0x80);
	cmos_set(0x80 | 0x40, 0xa5);
	CU_ASSERT_EQUAL(cmos(0x40), 0xa5);
	CU_ASSERT_EQUAL(pio_in8(&F, 0x70), 0xff);	/* index is write-only */
	cmos_set(0x0d, 0x00);				/* REG_D read-only */
	CU_ASSERT_EQUAL(cmos(0x0d), 0x80);
	fake_env_fini(&F);
}

static void test_periodic_interrupt(void)
{
	const struct device_model *m = fake_model("rtc_cmos");
	void *rtc;

	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 16 << 20), 0);
	rtc = fake_create(&F, "rtc_cmos");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rtc);
	cmos(0x0c);				/* clear stale flags */
	CU_ASSERT_EQUAL(m->next_deadline(rtc), UINT64_MAX);	/* nothing enabled */
	cmos_set(0x0a, 0x26);			/* 1024 Hz */
	cmos_set(0x0b, 0x42);			/* PIE */
	uint64_t t0 = F.now;
	uint64_t dl = m->next_deadline(rtc);
	CU_ASSERT(dl > t0 && dl <= t0 + 976563);
	F.now = t0 + 500000;
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(F.rising[8], 0);
	F.now = t0 + 1000000;
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(F.rising[8], 1);
	CU_ASSERT_TRUE(F.line[8]);
	CU_ASSERT_EQUAL(cmos(0x0c) & 0xc0, 0xc0);	/* IRQF | PF */
	CU_ASSERT_FALSE(F.line[8]);			/* read C lowers it */
	F.now = t0 + 50000000;				/* many periods: one edge */
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(F.rising[8], 2);
	cmos(0x0c);
	cmos_set(0x0b, 0x02);				/* PIE off */
	F.now += 50000000;
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(F.rising[8], 2);
	CU_ASSERT_EQUAL(cmos(0x0c) & 0x40, 0x40);	/* flag still sets */
	fake_env_fini(&F);
}

/* Guests wait for a clock tick by watching UIP rise and fall. */
static struct timespec fake_wall;

static struct timespec fake_wall_time(void *ctx)
{
	return fake_wall;
}

/* UIP is set for the last 244 us before the RTC's second rolls over
 * (MC146818 datasheet, register A), on a wall clock the test steps. */
static void test_uip(void)
{
	start(16 << 20);
	F.env.wall_time = fake_wall_time;
	fake_wall = (struct timespec){ .tv_sec = 1000000000, .tv_nsec = 500000000 };
	CU_ASSERT_EQUAL(cmos(0x0a) & 0x80, 0);
	uint8_t sec = cmos(0);
	fake_wall.tv_nsec = 999800000;		/* 200 us before the second ends */
	CU_ASSERT_EQUAL(cmos(0x0a) & 0x80, 0x80);
	CU_ASSERT_EQUAL(cmos(0), sec);		/* still the old second */
	fake_wall.tv_sec++;
	fake_wall.tv_nsec = 1000;
	CU_ASSERT_EQUAL(cmos(0x0a) & 0x80, 0);
	CU_ASSERT_NOT_EQUAL(cmos(0), sec);	/* UIP ended: a new second */
	fake_env_fini(&F);
}

UNIT_SUITE(rtc_cmos, NULL, NULL,
	   UNIT_TEST(test_memory_64m),
	   UNIT_TEST(test_memory_large_and_tiny),
	   UNIT_TEST(test_time_formats),
	   UNIT_TEST(test_set_time),
	   UNIT_TEST(test_index_and_nvram),
	   UNIT_TEST(test_periodic_interrupt),
	   UNIT_TEST(test_uip))

/*
 * Motorola MC146818 real-time clock and CMOS RAM, index port 0x70 (bit 7
 * masks NMI) and data port 0x71, IRQ8. The clock is the host's UTC clock
 * plus an offset the guest sets by writing the time registers; registers
 * are computed on read in BCD or binary, 24 h or 12 h, per register B.
 * CMOS bytes carry the memory sizes firmware and old kernels read, laid out
 * as QEMU's pc machine does, with the standard checksum over 0x10-0x2d.
 *
 * Register names are the datasheet's: seconds..year at 0x00-0x09, REG_A
 * (UIP, divider, rate), REG_B (SET, PIE, AIE, UIE, DM, 24/12), REG_C
 * (IRQF, PF, AF, UF; read clears), REG_D (VRT).
 */
#include <stdlib.h>
#include <time.h>
#include "devices/device_util.h"

#define RTC_INDEX	0x70
#define RTC_IRQ		8
#define NMI_DISABLE	0x80
#define CMOS_SIZE	128

enum {
	RTC_SEC, RTC_SEC_ALARM, RTC_MIN, RTC_MIN_ALARM, RTC_HOUR,
	RTC_HOUR_ALARM, RTC_DOW, RTC_DOM, RTC_MONTH, RTC_YEAR,
	RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_REG_D,
	CMOS_CHECKSUM_HI = 0x2e, CMOS_CHECKSUM_LO = 0x2f,
	RTC_CENTURY = 0x32,
};

#define REG_A_UIP	0x80
#define REG_A_DV_NORMAL	0x20	/* 32.768 kHz time base, running */
#define REG_A_DV_MASK	0x70
#define REG_A_RATE	0x0f
#define REG_B_SET	0x80
#define REG_B_PIE	0x40
#define REG_B_AIE	0x20
#define REG_B_UIE	0x10
#define REG_B_DM_BINARY	0x04
#define REG_B_24H	0x02
#define REG_C_IRQF	0x80
#define REG_C_PF	0x40
#define REG_C_AF	0x20
#define REG_C_UF	0x10
#define REG_D_VRT	0x80
#define HOUR_PM		0x80
#define ALARM_ANY	0xc0	/* alarm byte 0xc0-0xff matches every value */

/* The update cycle runs in the last 244 us of each second. */
#define UIP_NS		244000ull
#define NS_PER_SEC	1000000000ll

struct rtc {
	struct device_env *env;
	uint8_t cmos[CMOS_SIZE];
	uint8_t index;
	bool nmi_masked;
	int64_t offset_s;	/* guest time = host UTC + offset_s */
	int64_t last_second;	/* for UF/AF */
	uint64_t pf_start_ns, pf_periods;
	bool irq_level;
};

static struct timespec host_utc(const struct device_env *env)
{
	struct timespec ts;

	if (env->wall_time)
		return env->wall_time(env->clock_ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static int64_t guest_seconds(const struct rtc *r)
{
	return (int64_t)host_utc(r->env).tv_sec + r->offset_s;
}

static uint8_t encode(const struct rtc *r, unsigned v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? (uint8_t)v : bin_to_bcd(v);
}

static unsigned decode(const struct rtc *r, uint8_t v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? v : bcd_to_bin(v);
}

static uint8_t encode_hour(const struct rtc *r, unsigned hour)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return encode(r, hour);
	unsigned h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(encode(r, h12) | (hour >= 12 ? HOUR_PM : 0));
}

static unsigned decode_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return decode(r, v);
	unsigned h = decode(r, v & ~HOUR_PM) % 12;
	return h + (v & HOUR_PM ? 12 : 0);
}

/* Writes the running clock into the time registers. */
static void clock_to_registers(struct rtc *r)
{
	time_t t = (time_t)guest_seconds(r);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return;
	r->cmos[RTC_SEC] = encode(r, (unsigned)tm.tm_sec);
	r->cmos[RTC_MIN] = encode(r, (unsigned)tm.tm_min);
	r->cmos[RTC_HOUR] = encode_hour(r, (unsigned)tm.tm_hour);
	r->cmos[RTC_DOW] = encode(r, (unsigned)tm.tm_wday + 1);
	r->cmos[RTC_DOM] = encode(r, (unsigned)tm.tm_mday);
	r->cmos[RTC_MONTH] = encode(r, (unsigned)tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = encode(r, (unsigned)tm.tm_year % 100);
	r->cmos[RTC_CENTURY] = encode(r, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The guest set the clock: remember how far it is from the host's. */
static void registers_to_clock(struct rtc *r)
{
	struct tm tm = {
		.tm_sec = (int)decode(r, r->cmos[RTC_SEC]) % 60,
		.tm_min = (int)decode(r, r->cmos[RTC_MIN]) % 60,
		.tm_hour = (int)decode_hour(r, r->cmos[RTC_HOUR]) % 24,
		.tm_mday = (int)decode(r, r->cmos[RTC_DOM]),
		.tm_mon = (int)decode(r, r->cmos[RTC_MONTH]) - 1,
		.tm_year = (int)(decode(r, r->cmos[RTC_CENTURY]) * 100 +
				 decode(r, r->cmos[RTC_YEAR])) - 1900,
	};
	time_t t = timegm(&tm);	/* normalizes out-of-range fields */
	if (t != (time_t)-1)
		r->offset_s = (int64_t)t - (int64_t)host_utc(r->env).tv_sec;
}

static bool is_clock_register(unsigned i)
{
	return i == RTC_SEC || i == RTC_MIN || i == RTC_HOUR || i == RTC_DOW ||
	       i == RTC_DOM || i == RTC_MONTH || i == RTC_YEAR || i == RTC_CENTURY;
}

static bool clock_running(const struct rtc *r)
{
	return !(r->cmos[RTC_REG_B] & REG_B_SET) &&
	       (r->cmos[RTC_REG_A] & REG_A_DV_MASK) == REG_A_DV_NORMAL;
}

/* Periodic interrupt period from REG_A's rate select (32.768 kHz base). */
static uint64_t periodic_ns(const struct rtc *r)
{
	unsigned rate = r->cmos[RTC_REG_A] & REG_A_RATE;

	if (rate == 0)
		return 0;
	if (rate <= 2)
		rate += 7;	/* rates 1 and 2 alias 8 and 9 */
	return (uint64_t)NS_PER_SEC * (1u << rate) / 65536;
}

static bool alarm_matches(const struct rtc *r)
{
	static const uint8_t pairs[3][2] = {
		{ RTC_SEC_ALARM, RTC_SEC }, { RTC_MIN_ALARM, RTC_MIN },
		{ RTC_HOUR_ALARM, RTC_HOUR },
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t a = r->cmos[pairs[i][0]];
		if ((a & ALARM_ANY) != ALARM_ANY && a != r->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

static void update_irq(struct rtc *r)
{
	uint8_t b = r->cmos[RTC_REG_B], c = r->cmos[RTC_REG_C] & 0x70;
	bool level = (c & REG_C_PF && b & REG_B_PIE) ||
		     (c & REG_C_AF && b & REG_B_AIE) ||
		     (c & REG_C_UF && b & REG_B_UIE);

	if (level)
		r->cmos[RTC_REG_C] |= REG_C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		device_set_irq(r->env, r, RTC_IRQ, level);
	}
}

/* Brings REG_C's flags up to date with the clocks. */
static void update_flags(struct rtc *r, uint64_t now)
{
	if (clock_running(r)) {
		int64_t s = guest_seconds(r);
		if (s != r->last_second) {
			r->last_second = s;
			r->cmos[RTC_REG_C] |= REG_C_UF;
			/* Running time registers are recomputed on every read,
			 * so refreshing them here costs nothing. */
			clock_to_registers(r);
			if (alarm_matches(r))
				r->cmos[RTC_REG_C] |= REG_C_AF;
		}
	}
	uint64_t period = periodic_ns(r);
	if (period && now > r->pf_start_ns) {
		uint64_t n = (now - r->pf_start_ns) / period;
		if (n > r->pf_periods) {
			r->pf_periods = n;
			r->cmos[RTC_REG_C] |= REG_C_PF;
		}
	}
	update_irq(r);
}

static uint8_t rtc_read_data(struct rtc *r)
{
	unsigned i = r->index;
	uint8_t v;

	if (is_clock_register(i) && clock_running(r)) {
		clock_to_registers(r);
		return r->cmos[i];
	}
	switch (i) {
	case RTC_REG_A:
		v = r->cmos[i] & ~REG_A_UIP;
		if (clock_running(r) &&
		    (uint64_t)host_utc(r->env).tv_nsec >= NS_PER_SEC - UIP_NS)
			v |= REG_A_UIP;
		return v;
	case RTC_REG_C:
		update_flags(r, device_now(r->env));
		v = r->cmos[i];
		r->cmos[i] = 0;
		update_irq(r);
		return v;
	default:
		return r->cmos[i];
	}
}

static void rtc_write_data(struct rtc *r, uint8_t v)
{
	unsigned i = r->index;

	switch (i) {
	case RTC_REG_A: {
		uint8_t old_rate = r->cmos[i] & REG_A_RATE;
		r->cmos[i] = (uint8_t)((r->cmos[i] & REG_A_UIP) | (v & ~REG_A_UIP));
		if ((v & REG_A_RATE) != old_rate) {
			r->pf_start_ns = device_now(r->env);
			r->pf_periods = 0;
		}
		break;
	}
	case RTC_REG_B: {
		bool was_set = r->cmos[i] & REG_B_SET;
		/* Freeze: the registers hold the time SET found. */
		if ((v & REG_B_SET) && !was_set)
			clock_to_registers(r);
		if (v & REG_B_SET)
			v &= ~REG_B_UIE;	/* SET clears UIE (datasheet) */
		r->cmos[i] = v;
		if (!(v & REG_B_SET) && was_set)
			registers_to_clock(r);
		update_irq(r);
		break;
	}
	case RTC_REG_C:
	case RTC_REG_D:
		break;	/* read-only */
	default:
		if (is_clock_register(i) && clock_running(r)) {
			clock_to_registers(r);
			r->cmos[i] = v;
			registers_to_clock(r);
		} else {
			r->cmos[i] = v;
		}
		break;
	}
}

static void rtc_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		   bool is_write)
{
	struct rtc *r = opaque;

	if (addr == RTC_INDEX) {
		if (is_write) {
			r->index = data[0] & (CMOS_SIZE - 1);
			r->nmi_masked = data[0] & NMI_DISABLE;
		} else {
			data[0] = 0xff;	/* the index register is write-only */
		}
		return;
	}
	if (is_write)
		rtc_write_data(r, data[0]);
	else
		data[0] = rtc_read_data(r);
}

static void put16(uint8_t *cmos, unsigned lo, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	cmos[lo] = (uint8_t)v;
	cmos[lo + 1] = (uint8_t)(v >> 8);
}

/* Memory-size bytes as SeaBIOS reads them on QEMU's pc machine. RAM below
 * 4 GiB ends at 3.5 GiB (3 GiB once there is 3.5 GiB or more), the rest
 * is mapped above 4 GiB. */
static void fill_memory_sizes(uint8_t *cmos, uint64_t ram)
{
	const uint64_t kib = 1024, mib = 1024 * kib, gib = 1024 * mib;
	uint64_t lowmem = ram >= 0xe0000000ull ? 3 * gib : 0xe0000000ull;
	uint64_t below_4g = ram < lowmem ? ram : lowmem;
	uint64_t above_4g = ram - below_4g;

	put16(cmos, 0x15, 640);					/* base KiB */
	uint64_t ext = below_4g > mib ? (below_4g - mib) / kib : 0;
	put16(cmos, 0x17, ext);					/* KiB over 1 MiB */
	put16(cmos, 0x30, ext);
	uint64_t over16 = below_4g > 16 * mib ? (below_4g - 16 * mib) / (64 * kib) : 0;
	put16(cmos, 0x34, over16);				/* 64 KiB units */
	uint64_t high = above_4g / (64 * kib);
	if (high > 0xffffff)
		high = 0xffffff;
	cmos[0x5b] = (uint8_t)high;
	cmos[0x5c] = (uint8_t)(high >> 8);
	cmos[0x5d] = (uint8_t)(high >> 16);
}

static void *rtc_create(struct device_env *env, const char *config,
			char *err, size_t errlen)
{
	if (device_config_parse("rtc_cmos", config, NULL, 0, err, errlen))
		return NULL;
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r)
		return device_no_memory(err, errlen, "rtc_cmos");
	r->env = env;
	r->cmos[RTC_REG_A] = REG_A_DV_NORMAL | 0x06;	/* 1024 Hz rate */
	r->cmos[RTC_REG_B] = REG_B_24H;			/* BCD, 24 h */
	r->cmos[RTC_REG_D] = REG_D_VRT;
	r->cmos[0x14] = 0x06;	/* equipment: FPU, PS/2 mouse port */
	fill_memory_sizes(r->cmos, env->ram_size);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
	clock_to_registers(r);
	r->last_second = guest_seconds(r);
	r->pf_start_ns = device_now(env);
	if (bus_register(env->pio, RTC_INDEX, 2, rtc_io, r, "rtc-cmos")) {
		free(r);
		return device_ports_taken(err, errlen, "rtc_cmos", RTC_INDEX);
	}
	return r;
}

/* The MC146818's RESET pin clears PIE, AIE, UIE and SQWE in register B
 * and IRQF, PF, AF, UF in register C; the clock and the battery-backed
 * CMOS keep running (datasheet, "RESET"). */
static void rtc_reset(void *dev)
{
	struct rtc *r = dev;

	r->cmos[RTC_REG_B] &= (uint8_t)~(REG_B_PIE | REG_B_AIE | REG_B_UIE | 0x08);
	r->cmos[RTC_REG_C] = 0;
	r->index = 0;
	r->nmi_masked = false;
	update_irq(r);
}

/* The periodic timer's start is saved relative to the clock at save time;
 * the guest's offset from host UTC is kept as it is. */
static void rtc_save(void *dev, struct ds_writer *w)
{
	struct rtc *r = dev;

	ds_put_bytes(w, r->cmos, CMOS_SIZE);
	ds_put_u32(w, r->index);
	ds_put_bool(w, r->nmi_masked);
	ds_put_u64(w, (uint64_t)r->offset_s);
	ds_put_u64(w, (uint64_t)r->last_second);
	ds_put_u64(w, r->pf_start_ns - device_now(r->env));
	ds_put_u64(w, r->pf_periods);
	ds_put_bool(w, r->irq_level);
}

static int rtc_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct rtc *c = dev, t = *c;

	ds_get_bytes(r, t.cmos, CMOS_SIZE);
	t.index = (uint8_t)ds_get_below(r, CMOS_SIZE, "CMOS index");
	t.nmi_masked = ds_get_bool(r);
	t.offset_s = (int64_t)ds_get_u64(r);
	t.last_second = (int64_t)ds_get_u64(r);
	t.pf_start_ns = device_now(c->env) + ds_get_u64(r);
	t.pf_periods = ds_get_u64(r);
	t.irq_level = ds_get_bool(r);
	if (!ds_done(r))
		return -1;
	*c = t;
	device_set_irq(c->env, c, RTC_IRQ, c->irq_level);
	return 0;
}



static void rtc_poll(void *dev, uint64_t now)
{
	update_flags(dev, now);
}

static uint64_t rtc_next_deadline(void *dev)
{
	struct rtc *r = dev;
	uint8_t b = r->cmos[RTC_REG_B];
	uint64_t now = device_now(r->env), next = UINT64_MAX;

	/* Only while an interrupt is enabled and not already raised. */
	if (r->irq_level)
		return UINT64_MAX;
	uint64_t period = periodic_ns(r);
	if ((b & REG_B_PIE) && period)
		next = r->pf_start_ns + (r->pf_periods + 1) * period;
	if ((b & (REG_B_UIE | REG_B_AIE)) && clock_running(r)) {
		uint64_t to_second = (uint64_t)(NS_PER_SEC - host_utc(r->env).tv_nsec);
		if (now + to_second < next)
			next = now + to_second;
	}
	return next;
}

static void rtc_destroy(void *dev)
{
	struct rtc *r = dev;

	bus_unregister_owner(r->env->pio, r);
	free(r);
}

static struct device_model rtc_cmos_model = {
	.name = "rtc_cmos",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = rtc_create,
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
	.poll = rtc_poll,
	.next_deadline = rtc_next_deadline,
	.destroy = rtc_destroy,
};
DEVICE_REGISTER(rtc_cmos_model)

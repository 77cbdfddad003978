/*
 * Intel 8254 programmable interval timer at 0x40-0x43, clocked at
 * 1.193182 MHz, and the AT "system control port B" at 0x61 that gates
 * channel 2 and reads back its OUT (the speaker and the refresh toggle
 * firmware and Linux use for delays and TSC calibration).
 *
 * Counters are not ticked: each channel remembers when it was loaded and
 * the count is computed from the clock when read. Channel 0 drives IRQ0:
 * poll() raises one edge per expired period, at most one per call. A VMM
 * that was late (descheduled on a loaded host, or the guest kept it
 * from polling) owes the periods it missed: they follow one per
 * CATCHUP_NS, as KVM's PIT reinjects lost ticks, because a guest with no
 * other clock (Linux with acpi=off and no usable TSC: clocksource pit,
 * jiffies) counts these edges as time and would fall behind the host. At
 * most MAX_OWED are owed; beyond that (a VM stopped for a long time) the
 * rest are dropped, so the guest is never stormed.
 *
 * Names follow the 8254 datasheet: control word SC1-SC0 / RW1-RW0 /
 * M2-M0 / BCD, counter latch command, read-back command, status byte.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/device_util.h"
#include "devices/isa/pit8254.h"

#define PIT_BASE	0x40
#define PIT_CONTROL	3
#define PORT_B		0x61
#define PIT_HZ		1193182ull
#define PIT_IRQ		0

#define CW_SC(v)	(((v) >> 6) & 3)	/* 3: read-back command */
#define CW_RW(v)	(((v) >> 4) & 3)	/* 0: counter latch command */
#define CW_MODE(v)	(((v) >> 1) & 7)
#define CW_BCD		0x01
#define RB_NOT_COUNT	0x20
#define RB_NOT_STATUS	0x10
#define STATUS_OUT	0x80
#define STATUS_NULL	0x40

#define RW_LSB		1
#define RW_MSB		2
#define RW_LOHI		3

#define PORTB_GATE2	0x01
#define PORTB_SPEAKER	0x02
#define PORTB_REFRESH	0x10	/* toggles every 15.085 us (DRAM refresh) */
#define PORTB_OUT2	0x20
#define REFRESH_NS	15085ull

/* Missed channel 0 periods: the spacing of their edges (long enough for
 * the guest to take one before the next, or edge-triggered inputs would
 * merge them), and how many are kept owing (a second at HZ=250). */
#define CATCHUP_NS	200000ull
#define MAX_OWED	250u


static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000ull);
}

/* The earliest time at which ns_to_ticks reaches ticks. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	unsigned __int128 ns = ((unsigned __int128)ticks * 1000000000ull +
				PIT_HZ - 1) / PIT_HZ;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static unsigned effective_mode(const struct pit_channel *c)
{
	return c->mode >= 6 ? c->mode - 4 : c->mode;
}

static uint64_t ticks(const struct pit_channel *c, uint64_t now)
{
	if (!c->started)
		return 0;
	if (!c->running || now < c->start_ns)
		return c->tick_base;
	return c->tick_base + ns_to_ticks(now - c->start_ns);
}

/* Current value of the counting element, in binary. */
static uint32_t current_count(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = ticks(c, now);
	uint32_t n = c->reload;
	uint32_t wrap = c->bcd ? 10000 : 65536;

	if (!c->loaded)
		return 0;
	switch (effective_mode(c)) {
	case 2:
		return n - (uint32_t)(d % n);
	case 3:
		/* Counts down by two, twice per period. */
		return n - (uint32_t)((2 * d) % n);
	default:
		/* One-shot modes keep counting down past zero, wrapping. */
		return (uint32_t)((n + wrap - d % wrap) % wrap);
	}
}

static bool output(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = ticks(c, now);
	uint64_t n = c->reload;

	if (!c->loaded)
		return c->mode != 0;
	switch (effective_mode(c)) {
	case 0:
		return c->started && d >= n;
	case 1:
		return !c->started || d >= n;
	case 2:
		/* Low for the one clock between count 1 and the reload. */
		return !(c->started && d > 0 && d % n == 0);
	case 3:
		return !c->started || d % n < (n + 1) / 2;
	default:	/* 4, 5: one-clock low strobe at terminal count */
		return !(c->started && d == n);
	}
}

static uint16_t to_counter_format(const struct pit_channel *c, uint32_t v)
{
	if (c->bcd) {
		v %= 10000;
		return (uint16_t)(bin_to_bcd(v / 100) << 8 | bin_to_bcd(v % 100));
	}
	return (uint16_t)v;	/* 65536 reads as 0 */
}

static void start_counting(struct pit_channel *c, uint64_t now)
{
	c->started = true;
	c->running = true;
	c->start_ns = now;
	c->tick_base = 0;
	c->periods_signalled = 0;
	c->last_edge_ns = 0;
}

static void load_count(struct pit *p, struct pit_channel *c, uint16_t raw)
{
	uint64_t now = device_now(p->env);
	uint32_t n;

	if (c->bcd)
		n = bcd_to_bin((uint8_t)raw) + 100 * bcd_to_bin((uint8_t)(raw >> 8));
	else
		n = raw;
	if (n == 0)
		n = c->bcd ? 10000 : 65536;
	c->reload = n;
	c->loaded = true;
	/* Modes 1 and 5 wait for a gate trigger; the others start now
	 * (modes 2 and 3 would wait for the period end on silicon; reloading
	 * at once is what guests programming a fresh rate expect). */
	unsigned m = effective_mode(c);
	if (m == 1 || m == 5) {
		c->started = false;
		return;
	}
	start_counting(c, now);
	if (!c->gate && (m == 0 || m == 4 || m == 2 || m == 3)) {
		c->running = false;
		c->tick_base = 0;
	}
}

static void set_gate(struct pit *p, struct pit_channel *c, bool gate)
{
	uint64_t now = device_now(p->env);
	unsigned m = effective_mode(c);

	if (gate == c->gate)
		return;
	c->gate = gate;
	if (!c->loaded)
		return;
	if (gate) {
		if (m == 1 || m == 5 || m == 2 || m == 3) {
			start_counting(c, now);	/* rising gate (re)triggers */
		} else if (c->started) {
			c->start_ns = now;	/* modes 0/4 resume */
			c->running = true;
		}
	} else if (m != 1 && m != 5 && c->started) {
		c->tick_base = ticks(c, now);	/* low gate stops counting */
		c->running = false;
	}
}

static void control_word(struct pit *p, uint8_t v)
{
	uint64_t now = device_now(p->env);

	if (CW_SC(v) == 3) {
		for (unsigned i = 0; i < 3; i++) {
			struct pit_channel *c = &p->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & RB_NOT_STATUS) && !c->status_latched) {
				c->status = (uint8_t)((output(c, now) ? STATUS_OUT : 0) |
					    (c->loaded ? 0 : STATUS_NULL) |
					    c->rw << 4 | c->mode << 1 | c->bcd);
				c->status_latched = true;
			}
			if (!(v & RB_NOT_COUNT) && !c->latched_bytes) {
				c->latched_count = to_counter_format(c, current_count(c, now));
				c->latched_bytes = c->rw == RW_LOHI ? 2 : 1;
			}
		}
		return;
	}

	struct pit_channel *c = &p->ch[CW_SC(v)];
	if (CW_RW(v) == 0) {
		/* Counter latch: a second latch before the read is ignored. */
		if (!c->latched_bytes) {
			c->latched_count = to_counter_format(c, current_count(c, now));
			c->latched_bytes = c->rw == RW_LOHI ? 2 : 1;
		}
		return;
	}
	c->rw = CW_RW(v);
	c->mode = CW_MODE(v);
	c->bcd = v & CW_BCD;
	c->loaded = false;
	c->started = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->latched_bytes = 0;
	c->status_latched = false;
	c->periods_signalled = 0;
	c->last_edge_ns = 0;
}

static void counter_write(struct pit *p, struct pit_channel *c, uint8_t v)
{
	switch (c->rw) {
	case RW_LSB:
		load_count(p, c, v);
		break;
	case RW_MSB:
		load_count(p, c, (uint16_t)(v << 8));
		break;
	case RW_LOHI:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops the count. */
			if (effective_mode(c) == 0)
				c->started = false;
		} else {
			c->write_msb_next = false;
			load_count(p, c, (uint16_t)(c->write_lsb | v << 8));
		}
		break;
	default:	/* no control word yet */
		break;
	}
}

static uint8_t counter_read(struct pit *p, struct pit_channel *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched_bytes) {
		uint8_t v;
		if (c->rw == RW_MSB)
			v = (uint8_t)(c->latched_count >> 8);
		else if (c->latched_bytes == 2 || c->rw == RW_LSB)
			v = (uint8_t)c->latched_count;
		else
			v = (uint8_t)(c->latched_count >> 8);
		c->latched_bytes--;
		return v;
	}

	uint16_t count = to_counter_format(c, current_count(c, device_now(p->env)));
	switch (c->rw) {
	case RW_LSB:
		return (uint8_t)count;
	case RW_MSB:
		return (uint8_t)(count >> 8);
	case RW_LOHI:
		c->read_msb_next = !c->read_msb_next;
		return c->read_msb_next ? (uint8_t)count : (uint8_t)(count >> 8);
	default:
		return 0;
	}
}

static uint8_t pit_read_byte(void *dev, unsigned offset)
{
	struct pit *p = dev;

	if (offset == PIT_CONTROL)
		return 0xff;	/* the control register is write-only */
	return counter_read(p, &p->ch[offset]);
}

static void pit_write_byte(void *dev, unsigned offset, uint8_t v)
{
	struct pit *p = dev;

	if (offset == PIT_CONTROL)
		control_word(p, v);
	else
		counter_write(p, &p->ch[offset], v);
}

static void pit_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		   bool is_write)
{
	access_bytewise(opaque, (unsigned)(addr - PIT_BASE), data, len, is_write,
			pit_read_byte, pit_write_byte);
}

static void port_b_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		      bool is_write)
{
	struct pit *p = opaque;
	struct pit_channel *c2 = &p->ch[2];

	if (is_write) {
		set_gate(p, c2, data[0] & PORTB_GATE2);
		p->speaker_enable = data[0] & PORTB_SPEAKER;
	} else {
		uint64_t now = device_now(p->env);
		data[0] = (uint8_t)((c2->gate ? PORTB_GATE2 : 0) |
			  (p->speaker_enable ? PORTB_SPEAKER : 0) |
			  ((now / REFRESH_NS) & 1 ? PORTB_REFRESH : 0) |
			  (output(c2, now) ? PORTB_OUT2 : 0));
	}
}

/* Ticks at which channel 0's next IRQ0 edge is due; UINT64_MAX: none. */
static uint64_t next_irq_tick(const struct pit_channel *c)
{
	if (!c->loaded || !c->started || !c->running)
		return UINT64_MAX;
	switch (effective_mode(c)) {
	case 2:
	case 3:
		return (c->periods_signalled + 1) * (uint64_t)c->reload;
	case 0:
	case 4:
		return c->periods_signalled ? UINT64_MAX : c->reload;
	default:
		return UINT64_MAX;
	}
}

/* Channel 0 periods expired by now whose edge is still owed (modes 2
 * and 3; the one-shot modes owe at most their one edge). */
static uint64_t periods_owed(const struct pit_channel *c, uint64_t now)
{
	uint64_t due = next_irq_tick(c);

	if (due == UINT64_MAX || ticks(c, now) < due)
		return 0;
	if (effective_mode(c) < 2)
		return 1;
	return ticks(c, now) / c->reload - c->periods_signalled;
}

/* The least time between two edges: CATCHUP_NS, or half a period if
 * that is shorter, so catching up is always faster than the rate. */
static uint64_t edge_gap_ns(const struct pit_channel *c)
{
	uint64_t half = ticks_to_ns(c->reload) / 2;
	return half < CATCHUP_NS ? half : CATCHUP_NS;
}

static void pit_poll(void *dev, uint64_t now)
{
	struct pit *p = dev;
	struct pit_channel *c = &p->ch[0];
	uint64_t owed = periods_owed(c, now);

	if (!owed)
		return;
	if (owed > MAX_OWED)
		c->periods_signalled += owed - MAX_OWED;
	if (c->last_edge_ns && now < c->last_edge_ns + edge_gap_ns(c))
		return;		/* catching up: not yet */
	c->periods_signalled++;
	c->last_edge_ns = now;
	device_pulse_irq(p->env, p, PIT_IRQ);
}

static uint64_t pit_next_deadline(void *dev)
{
	struct pit *p = dev;
	struct pit_channel *c = &p->ch[0];
	uint64_t due = next_irq_tick(c);

	if (due == UINT64_MAX)
		return UINT64_MAX;
	uint64_t at = c->start_ns;
	if (due > c->tick_base) {
		uint64_t ns = ticks_to_ns(due - c->tick_base);
		at = ns > UINT64_MAX - c->start_ns ? UINT64_MAX : c->start_ns + ns;
	}
	/* behind: the next owed edge once the spacing has passed */
	uint64_t spaced = c->last_edge_ns ? c->last_edge_ns + edge_gap_ns(c) : 0;
	return spaced > at ? spaced : at;
}

/* Channels 0 and 1 have their gates tied high on a PC; channel 2's is
 * port 0x61 bit 0, low at power-on. */
static void pit_reset(void *dev)
{
	struct pit *p = dev;

	memset(p->ch, 0, sizeof(p->ch));
	for (unsigned i = 0; i < 3; i++)
		p->ch[i].gate = i != 2;
	p->speaker_enable = false;
}

static void *pit_create(struct device_env *env, const char *config,
			char *err, size_t errlen)
{
	if (device_config_parse("pit8254", config, NULL, 0, err, errlen))
		return NULL;
	struct pit *p = calloc(1, sizeof(*p));
	if (!p)
		return device_no_memory(err, errlen, "pit8254");
	p->env = env;
	pit_reset(p);
	if (bus_register(env->pio, PIT_BASE, 4, pit_io, p, "pit8254") ||
	    bus_register(env->pio, PORT_B, 1, port_b_io, p, "port61")) {
		bus_unregister_owner(env->pio, p);
		free(p);
		return device_ports_taken(err, errlen, "pit8254", PIT_BASE);
	}
	return p;
}

static void pit_destroy(void *dev)
{
	struct pit *p = dev;

	bus_unregister_owner(p->env->pio, p);
	free(p);
}

static struct device_model pit8254_model = {
	.name = "pit8254",
	.level = DEVICE_LEVEL_BASE,
	.state_version = 1,
	.create = pit_create,
	.reset = pit_reset,
	.save = pit_state_save,
	.load = pit_state_load,
	.poll = pit_poll,
	.next_deadline = pit_next_deadline,
	.destroy = pit_destroy,
};
DEVICE_REGISTER(pit8254_model)

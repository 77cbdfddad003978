/* The GDB remote protocol's framing; see gdb_packet.h. */
#include <string.h>
#include "gdb/gdb_packet.h"

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = RX_IDLE;
	rx->len = 0;
	rx->overflow = false;
	rx->sum = 0;
	rx->sum_hi = 0;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c)
{
	int v;

	switch (rx->state) {
	case RX_IDLE:
		if (c == '$') {
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_NONE;
		}
		return c == '+' ? GDB_RX_ACK : c == '-' ? GDB_RX_NAK :
		       c == 0x03 ? GDB_RX_INTERRUPT : GDB_RX_NONE;
	case RX_DATA:
		if (c == '#') {
			rx->state = RX_SUM_HI;
			return GDB_RX_NONE;
		}
		if (c == '$') {		/* a new packet before the end: restart */
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_NONE;
		}
		rx->sum += c;
		if (rx->len < sizeof(rx->buf))
			rx->buf[rx->len++] = c;
		else
			rx->overflow = true;
		return GDB_RX_NONE;
	case RX_SUM_HI:
		rx->state = RX_SUM_LO;
		rx->sum_hi = hexval(c);
		return GDB_RX_NONE;
	case RX_SUM_LO:
		rx->state = RX_IDLE;
		v = hexval(c);
		if (rx->overflow)
			return GDB_RX_OVERFLOW;
		if (rx->sum_hi < 0 || v < 0 || (uint8_t)(rx->sum_hi << 4 | v) != rx->sum)
			return GDB_RX_BAD_CHECKSUM;
		return GDB_RX_PACKET;
	}
	return GDB_RX_NONE;
}

uint8_t gdb_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

long gdb_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c == '}') {
			if (++i == len)
				return -1;
			c = in[i] ^ 0x20;
		} else if (c == '*') {
			/* the previous byte, count - 29 more times */
			if (o == 0 || ++i == len || in[i] < 29 + 3 || in[i] > 126)
				return -1;
			size_t n = in[i] - 29u;
			if (n > cap - o)
				return -1;
			memset(out + o, out[o - 1], n);
			o += n;
			continue;
		}
		if (o == cap)
			return -1;
		out[o++] = c;
	}
	return (long)o;
}

static bool needs_escape(uint8_t c)
{
	return c == '$' || c == '#' || c == '}' || c == '*';
}

long gdb_frame(const uint8_t *data, size_t len, bool rle, uint8_t *out, size_t cap)
{
	size_t o = 0;

	if (cap < 4)
		return -1;
	out[o++] = '$';
	for (size_t i = 0; i < len;) {
		uint8_t c = data[i];
		size_t run = 1;
		while (rle && i + run < len && data[i + run] == c && run < 98)
			run++;
		if (cap - o < 3 + 3)	/* this byte escaped + '#cc' */
			return -1;
		if (needs_escape(c)) {
			out[o++] = '}';
			out[o++] = c ^ 0x20;
			i++;
			continue;	/* runs of escaped bytes stay plain */
		}
		out[o++] = c;
		i++;
		/* count n - 1 repeats as n - 1 + 29; 6 and 7 would give '#'
		 * and '$', which must not appear (gdb manual, "Overview") */
		size_t rep = run - 1;
		if (rep >= 3) {
			if (rep == 6 || rep == 7)
				rep = 5;
			out[o++] = '*';
			out[o++] = (uint8_t)(rep + 29);
			i += rep;
		}
	}
	uint8_t sum = gdb_checksum(out + 1, o - 1);
	static const char hex[] = "0123456789abcdef";
	out[o++] = '#';
	out[o++] = hex[sum >> 4];
	out[o++] = hex[sum & 15];
	return (long)o;
}

void gdb_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		*out++ = hex[in[i] >> 4];
		*out++ = hex[in[i] & 15];
	}
	*out = '\0';
}

long gdb_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	if (len % 2 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval((uint8_t)in[i]), lo = hexval((uint8_t)in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

bool gdb_hex_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int n = 0, d;

	while ((d = hexval((uint8_t)*p)) >= 0) {
		if (++n > 16)
			return false;
		x = x << 4 | (unsigned)d;
		p++;
	}
	if (!n)
		return false;
	*v = x;
	*s = p;
	return true;
}

/*
 * Byte buffers the firmware-table builders append to: little-endian
 * fields, space-padded strings, and the one checksum rule every MP and
 * ACPI table shares (all bytes, checksum included, sum to 0 mod 256).
 * A buffer that would overflow stops growing and says so (overflow); the
 * builders check it once at the end.
 */
#ifndef HYVM_FW_BUF_H
#define HYVM_FW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FW_BUF_MAX 4096		/* every table hyvm builds is far smaller */

struct fw_buf {
	uint8_t b[FW_BUF_MAX];
	uint32_t len;
	bool overflow;
};

static inline uint8_t *fw_grow(struct fw_buf *f, uint32_t n)
{
	if (f->overflow || n > FW_BUF_MAX - f->len) {
		f->overflow = true;
		return NULL;
	}
	uint8_t *p = f->b + f->len;
	memset(p, 0, n);
	f->len += n;
	return p;
}

static inline void fw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fw_put32(uint8_t *p, uint32_t v)
{
	fw_put16(p, (uint16_t)v);
	fw_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void fw_put64(uint8_t *p, uint64_t v)
{
	fw_put32(p, (uint32_t)v);
	fw_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t fw_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fw_get32(const uint8_t *p)
{
	return fw_get16(p) | (uint32_t)fw_get16(p + 2) << 16;
}

static inline uint64_t fw_get64(const uint8_t *p)
{
	return fw_get32(p) | (uint64_t)fw_get32(p + 4) << 32;
}

static inline void fw_u8(struct fw_buf *f, uint8_t v)
{
	uint8_t *p = fw_grow(f, 1);
	if (p)
		*p = v;
}

static inline void fw_u16(struct fw_buf *f, uint16_t v)
{
	uint8_t *p = fw_grow(f, 2);
	if (p)
		fw_put16(p, v);
}

static inline void fw_u32(struct fw_buf *f, uint32_t v)
{
	uint8_t *p = fw_grow(f, 4);
	if (p)
		fw_put32(p, v);
}

static inline void fw_u64(struct fw_buf *f, uint64_t v)
{
	uint8_t *p = fw_grow(f, 8);
	if (p)
		fw_put64(p, v);
}

static inline void fw_bytes(struct fw_buf *f, const void *src, uint32_t n)
{
	uint8_t *p = fw_grow(f, n);
	if (p)
		memcpy(p, src, n);
}

/* s in a field of width bytes, padded with spaces (MP and ACPI IDs). */
static inline void fw_str(struct fw_buf *f, const char *s, uint32_t width)
{
	uint8_t *p = fw_grow(f, width);
	if (!p)
		return;
	memset(p, ' ', width);
	memcpy(p, s, strnlen(s, width));
}

/* The byte that makes p[0..len) sum to zero when stored in it (its old
 * value is not counted: call it with the checksum byte still 0). */
static inline uint8_t fw_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static inline uint8_t fw_sum(const uint8_t *p, size_t len)
{
	return (uint8_t)-fw_checksum(p, len);
}

#endif

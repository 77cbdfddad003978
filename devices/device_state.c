/* The saved-state format of device_state.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device.h"
#include "devices/device_state.h"

static const uint8_t magic[4] = { 'H', 'Y', 'D', 'S' };

static void put(struct ds_writer *w, const void *p, size_t n)
{
	if (w->failed || n == 0)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *d = realloc(w->data, cap);
		if (!d) {
			w->failed = true;
			return;
		}
		w->data = d;
		w->cap = cap;
	}
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

static void put_le(struct ds_writer *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, bytes);
}

void ds_put_u8(struct ds_writer *w, uint8_t v) { put_le(w, v, 1); }
void ds_put_u16(struct ds_writer *w, uint16_t v) { put_le(w, v, 2); }
void ds_put_u32(struct ds_writer *w, uint32_t v) { put_le(w, v, 4); }
void ds_put_u64(struct ds_writer *w, uint64_t v) { put_le(w, v, 8); }
void ds_put_bool(struct ds_writer *w, bool v) { put_le(w, v ? 1 : 0, 1); }
void ds_put_bytes(struct ds_writer *w, const void *p, size_t n) { put(w, p, n); }

void ds_fail(struct ds_reader *r, const char *what)
{
	if (r->failed)
		return;
	r->failed = true;
	snprintf(r->err, sizeof(r->err), "%s", what);
}

bool ds_done(struct ds_reader *r)
{
	if (!r->failed && r->pos != r->len)
		ds_fail(r, "saved state has bytes the device did not read");
	return !r->failed;
}

static bool take(struct ds_reader *r, void *p, size_t n)
{
	if (r->failed || n > r->len - r->pos) {
		ds_fail(r, "saved state is truncated");
		if (n)
			memset(p, 0, n);
		return false;
	}
	if (n)
		memcpy(p, r->data + r->pos, n);
	r->pos += n;
	return true;
}

static uint64_t get_le(struct ds_reader *r, unsigned bytes)
{
	uint8_t b[8];
	uint64_t v = 0;

	if (!take(r, b, bytes))
		return 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t ds_get_u8(struct ds_reader *r) { return (uint8_t)get_le(r, 1); }
uint16_t ds_get_u16(struct ds_reader *r) { return (uint16_t)get_le(r, 2); }
uint32_t ds_get_u32(struct ds_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t ds_get_u64(struct ds_reader *r) { return get_le(r, 8); }
void ds_get_bytes(struct ds_reader *r, void *p, size_t n) { take(r, p, n); }

bool ds_get_bool(struct ds_reader *r)
{
	uint8_t v = ds_get_u8(r);

	if (v > 1)
		ds_fail(r, "saved state is garbled (a flag is neither 0 nor 1)");
	return v == 1;
}

unsigned ds_get_below(struct ds_reader *r, unsigned limit, const char *what)
{
	uint32_t v = ds_get_u32(r);

	if (v >= limit) {
		char msg[96];
		snprintf(msg, sizeof(msg), "saved state is garbled (%s %u out of range)",
			 what, v);
		ds_fail(r, msg);
		return 0;
	}
	return v;
}

/* FNV-1a, 32 bits: catches flipped and shuffled bytes, not an attacker. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int device_state_save(const struct device_model *m, void *dev,
		      uint8_t **blob, size_t *blob_len, char *err, size_t errlen)
{
	struct ds_writer payload = { 0 }, w = { 0 };
	size_t name_len = strlen(m->name);

	*blob = NULL;
	*blob_len = 0;
	if (!m->save || name_len > 255) {
		snprintf(err, errlen, "device %s cannot save its state", m->name);
		return -1;
	}
	m->save(dev, &payload);
	put(&w, magic, sizeof(magic));
	ds_put_u8(&w, (uint8_t)name_len);
	put(&w, m->name, name_len);
	ds_put_u16(&w, (uint16_t)m->state_version);
	ds_put_u32(&w, (uint32_t)payload.len);
	ds_put_u32(&w, fnv1a(payload.data, payload.len));
	put(&w, payload.data, payload.len);
	free(payload.data);
	if (payload.failed || w.failed) {
		free(w.data);
		snprintf(err, errlen, "device %s: out of memory saving its state", m->name);
		return -1;
	}
	*blob = w.data;
	*blob_len = w.len;
	return 0;
}

int device_state_load(const struct device_model *m, void *dev,
		      const uint8_t *blob, size_t blob_len, char *err, size_t errlen)
{
	static const uint8_t nothing[1];
	struct ds_reader r = { .data = blob ? blob : nothing, .len = blob ? blob_len : 0 };
	uint8_t got_magic[4];
	char name[256];

	if (!m->load) {
		snprintf(err, errlen, "device %s cannot load a saved state", m->name);
		return -1;
	}
	take(&r, got_magic, sizeof(got_magic));
	if (!r.failed && memcmp(got_magic, magic, sizeof(magic)))
		ds_fail(&r, "not a saved device state");
	unsigned name_len = ds_get_u8(&r);
	take(&r, name, name_len);
	name[r.failed ? 0 : name_len] = 0;
	if (!r.failed && strcmp(name, m->name)) {
		snprintf(err, errlen, "device %s: the saved state is of device %s",
			 m->name, name);
		return -1;
	}
	unsigned version = ds_get_u16(&r);
	uint32_t payload_len = ds_get_u32(&r);
	uint32_t sum = ds_get_u32(&r);
	if (!r.failed && (version == 0 || version > m->state_version)) {
		snprintf(err, errlen, "device %s: saved state version %u, this hyvm "
			 "knows versions 1-%u", m->name, version, m->state_version);
		return -1;
	}
	if (!r.failed && payload_len != r.len - r.pos)
		ds_fail(&r, payload_len > r.len - r.pos ? "saved state is truncated"
			: "saved state has bytes past its end");
	if (!r.failed && fnv1a(r.data + r.pos, payload_len) != sum)
		ds_fail(&r, "saved state is garbled (checksum)");
	if (r.failed) {
		snprintf(err, errlen, "device %s: %s", m->name, r.err);
		return -1;
	}
	struct ds_reader payload = { .data = r.data + r.pos, .len = payload_len };
	if (m->load(dev, &payload, version) < 0 || payload.failed ||
	    payload.pos != payload.len) {
		if (!payload.failed)
			ds_fail(&payload, payload.pos != payload.len
				? "saved state has bytes the device did not read"
				: "saved state refused by the device");
		snprintf(err, errlen, "device %s: %s", m->name, payload.err);
		return -1;
	}
	return 0;
}

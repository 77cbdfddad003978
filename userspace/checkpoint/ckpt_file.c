/* The checkpoint container; see ckpt_file.h. Integers little-endian. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint/ckpt_file.h"
#include <hyvm/le.h>

uint64_t ckpt_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void wfail(struct ckpt_writer *w, const char *what)
{
	if (w->failed)
		return;
	w->failed = true;
	snprintf(w->err, sizeof(w->err), "%.180s: %s: %s", w->path, what, strerror(errno));
}

static void wput(struct ckpt_writer *w, const void *p, size_t n)
{
	if (!w->failed && n && fwrite(p, 1, n, w->f) != n)
		wfail(w, "cannot write");
}

int ckpt_writer_open(struct ckpt_writer *w, const char *path, char *err, size_t errlen)
{
	uint8_t zero[CKPT_HEADER_LEN] = { 0 };

	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", path);
	if (!(w->f = fopen(w->tmp, "wbx"))) {
		snprintf(err, errlen, "cannot create %s: %s", w->tmp, strerror(errno));
		return -1;
	}
	wput(w, zero, sizeof(zero));	/* the header comes last */
	return 0;
}

void ckpt_section_begin(struct ckpt_writer *w, uint32_t type)
{
	uint8_t h[CKPT_SECTION_HDR_LEN] = { 0 };

	if (w->failed)
		return;
	w->section_start = ftell(w->f);
	w->section_len = 0;
	w->section_sum = CKPT_FNV_INIT;
	le_put(h, type, 4);
	wput(w, h, sizeof(h));
}

void ckpt_section_data(struct ckpt_writer *w, const void *p, size_t n)
{
	wput(w, p, n);
	w->section_len += n;
	w->section_sum = ckpt_fnv1a(w->section_sum, p, n);
}

void ckpt_section_end(struct ckpt_writer *w)
{
	uint8_t h[16];
	long end;

	if (w->failed)
		return;
	end = ftell(w->f);
	le_put(h, w->section_len, 8);
	le_put(h + 8, w->section_sum, 8);
	if (fseek(w->f, w->section_start + 8, SEEK_SET) < 0 || fwrite(h, 1, 16, w->f) != 16 ||
	    fseek(w->f, end, SEEK_SET) < 0)
		wfail(w, "cannot write");
	w->nr_sections++;
}

void ckpt_section(struct ckpt_writer *w, uint32_t type, const void *p, size_t n)
{
	ckpt_section_begin(w, type);
	ckpt_section_data(w, p, n);
	ckpt_section_end(w);
}

void ckpt_writer_abort(struct ckpt_writer *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	unlink(w->tmp);
}

int ckpt_writer_close(struct ckpt_writer *w, char *err, size_t errlen)
{
	uint8_t h[CKPT_HEADER_LEN] = { 0 };
	long size;

	if (!w->failed) {
		size = ftell(w->f);
		memcpy(h, CKPT_MAGIC, 8);
		le_put(h + 8, CKPT_VERSION, 4);
		le_put(h + 12, CKPT_HEADER_LEN, 4);
		le_put(h + 16, (uint64_t)size, 8);
		le_put(h + 24, w->nr_sections, 4);
		le_put(h + 32, ckpt_fnv1a(CKPT_FNV_INIT, h, 32), 8);
		if (fflush(w->f) || fdatasync(fileno(w->f)) < 0 ||	/* sections before the header */
		    fseek(w->f, 0, SEEK_SET) < 0 || fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
		    fflush(w->f) || fdatasync(fileno(w->f)) < 0)
			wfail(w, "cannot write");
	}
	if (w->failed) {
		snprintf(err, errlen, "%s", w->err);
		ckpt_writer_abort(w);
		return -1;
	}
	fclose(w->f);
	w->f = NULL;
	if (rename(w->tmp, w->path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
		unlink(w->tmp);
		return -1;
	}
	return 0;
}

static int rfail(struct ckpt_reader *r, const char *fmt, const char *a)
{
	snprintf(r->err, sizeof(r->err), fmt, a);
	return -1;
}

int ckpt_reader_open(struct ckpt_reader *r, const char *path, char *err, size_t errlen)
{
	uint8_t h[CKPT_HEADER_LEN];

	memset(r, 0, sizeof(*r));
	if (!(r->f = fopen(path, "rb"))) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	fseek(r->f, 0, SEEK_END);
	long size = ftell(r->f);
	rewind(r->f);
	if (size < (long)CKPT_HEADER_LEN || fread(h, 1, sizeof(h), r->f) != sizeof(h) ||
	    memcmp(h, CKPT_MAGIC, 8)) {
		snprintf(err, errlen, "%s: not a hyvm checkpoint (no %s header)", path, CKPT_MAGIC);
		goto fail;
	}
	if (le_get(h + 8, 4) != CKPT_VERSION) {
		snprintf(err, errlen, "%s: checkpoint format version %u, this hyvm reads version %u",
			 path, (unsigned)le_get(h + 8, 4), CKPT_VERSION);
		goto fail;
	}
	if (le_get(h + 32, 8) != ckpt_fnv1a(CKPT_FNV_INIT, h, 32) ||
	    le_get(h + 12, 4) != CKPT_HEADER_LEN) {
		snprintf(err, errlen, "%s: the checkpoint's header is corrupted (checksum)", path);
		goto fail;
	}
	r->file_size = le_get(h + 16, 8);
	if (r->file_size != (uint64_t)size) {
		snprintf(err, errlen, "%s: the checkpoint is %s: %ld bytes, its header says %llu",
			 path, (uint64_t)size < r->file_size ? "truncated" : "too long", size,
			 (unsigned long long)r->file_size);
		goto fail;
	}
	r->nr_sections = (uint32_t)le_get(h + 24, 4);
	r->next_offset = CKPT_HEADER_LEN;
	return 0;
fail:
	fclose(r->f);
	r->f = NULL;
	return -1;
}

int ckpt_reader_next(struct ckpt_reader *r, struct ckpt_section_info *s)
{
	uint8_t h[CKPT_SECTION_HDR_LEN];

	if (r->next == r->nr_sections)
		return 0;
	long at = r->next_offset;
	if (fseek(r->f, at, SEEK_SET) < 0 || fread(h, 1, sizeof(h), r->f) != sizeof(h))
		return rfail(r, "the checkpoint is truncated in section %s", "header");
	s->type = (uint32_t)le_get(h, 4);
	s->length = le_get(h + 8, 8);
	s->sum = le_get(h + 16, 8);
	s->offset = at + CKPT_SECTION_HDR_LEN;
	if (s->length > r->file_size - (uint64_t)s->offset)
		return rfail(r, "the checkpoint is corrupted: a section runs past the end%s", "");
	r->next_offset = s->offset + (long)s->length;
	r->next++;
	return 1;
}

int ckpt_reader_payload(struct ckpt_reader *r, const struct ckpt_section_info *s, uint8_t **data)
{
	*data = NULL;
	if (s->length > CKPT_MAX_SMALL_SECTION)
		return rfail(r, "the checkpoint is corrupted: a section is too large%s", "");
	uint8_t *d = malloc(s->length ? s->length : 1);
	if (!d)
		return rfail(r, "out of memory%s", "");
	if (fseek(r->f, s->offset, SEEK_SET) < 0 || fread(d, 1, s->length, r->f) != s->length) {
		free(d);
		return rfail(r, "the checkpoint is truncated%s", "");
	}
	if (ckpt_fnv1a(CKPT_FNV_INIT, d, s->length) != s->sum) {
		free(d);
		return rfail(r, "the checkpoint is corrupted: a section's checksum does not match%s",
			     "");
	}
	*data = d;
	return 0;
}

int ckpt_reader_skip(struct ckpt_reader *r, const struct ckpt_section_info *s)
{
	uint8_t buf[65536];
	uint64_t left = s->length, h = CKPT_FNV_INIT;

	if (fseek(r->f, s->offset, SEEK_SET) < 0)
		return rfail(r, "the checkpoint is truncated%s", "");
	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);
		if (fread(buf, 1, n, r->f) != n)
			return rfail(r, "the checkpoint is truncated%s", "");
		h = ckpt_fnv1a(h, buf, n);
		left -= n;
	}
	if (h != s->sum)
		return rfail(r, "the checkpoint is corrupted: a section's checksum does not match%s",
			     "");
	return 0;
}

void ckpt_reader_close(struct ckpt_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}

int ckpt_verify(const char *path, char *err, size_t errlen)
{
	struct ckpt_reader r;
	struct ckpt_section_info s;
	int k;

	if (ckpt_reader_open(&r, path, err, errlen) < 0)
		return -1;
	while ((k = ckpt_reader_next(&r, &s)) > 0)
		if (ckpt_reader_skip(&r, &s) < 0) {
			k = -1;
			break;
		}
	if (k == 0 && r.next_offset != (long)r.file_size)
		k = rfail(&r, "the checkpoint is corrupted: bytes after its last section%s", "");
	if (k < 0)
		snprintf(err, errlen, "%s: %s", path, r.err);
	ckpt_reader_close(&r);
	return k < 0 ? -1 : 0;
}

/* Guest RAM in a checkpoint; see ckpt_ram.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "checkpoint/ckpt_ram.h"

#define ZSTD_LEVEL	1	/* fast: a checkpoint is mostly time to write */

struct run { uint64_t first, pages; };

static bool page_zero(const uint8_t *p)
{
	static const uint8_t zero[CKPT_PAGE];
	return !memcmp(p, zero, CKPT_PAGE);
}

/* Runs of non-zero pages, from the memfd's data extents. */
static struct run *find_runs(int memfd, const uint8_t *base, uint64_t size, uint64_t *nr)
{
	struct run *runs = NULL;
	uint64_t n = 0, cap = 0, pages = size / CKPT_PAGE;
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t data = lseek(memfd, pos, SEEK_DATA);
		if (data < 0)
			break;		/* ENXIO: only a hole is left */
		off_t hole = lseek(memfd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		for (uint64_t pg = (uint64_t)data / CKPT_PAGE;
		     pg < pages && pg * CKPT_PAGE < (uint64_t)hole; pg++) {
			if (page_zero(base + pg * CKPT_PAGE))
				continue;
			if (n && runs[n - 1].first + runs[n - 1].pages == pg) {
				runs[n - 1].pages++;
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				struct run *r = realloc(runs, cap * sizeof(*r));
				if (!r) {
					free(runs);
					return NULL;
				}
				runs = r;
			}
			runs[n++] = (struct run){ pg, 1 };
		}
		pos = hole;
	}
	*nr = n;
	return runs ? runs : calloc(1, sizeof(struct run));
}

static void put64(struct ckpt_writer *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	ckpt_section_data(w, b, 8);
}

static void put32(struct ckpt_writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	ckpt_section_data(w, b, 4);
}

int ckpt_ram_save(struct ckpt_writer *w, int memfd, const uint8_t *base, uint64_t size,
		  bool compress, char *err, size_t errlen)
{
	uint64_t nr;
	struct run *runs = find_runs(memfd, base, size, &nr);
	ZSTD_CCtx *z = NULL;
	size_t out_cap = ZSTD_CStreamOutSize();
	uint8_t *out = NULL;

	if (!runs || (compress && (!(z = ZSTD_createCCtx()) || !(out = malloc(out_cap))))) {
		snprintf(err, errlen, "out of memory saving guest RAM");
		goto fail;
	}
	ckpt_section_begin(w, CKPT_SEC_RAM);
	put32(w, CKPT_PAGE);
	put32(w, compress ? CKPT_RAM_ZSTD : CKPT_RAM_RAW);
	put64(w, size);
	put64(w, nr);
	for (uint64_t i = 0; i < nr; i++) {
		put64(w, runs[i].first);
		put64(w, runs[i].pages);
	}
	if (z) {
		ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, ZSTD_LEVEL);
		ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
	}
	for (uint64_t i = 0; i <= nr; i++) {
		bool last = i == nr;
		ZSTD_inBuffer in = { last ? NULL : base + runs[i].first * CKPT_PAGE,
				     last ? 0 : runs[i].pages * CKPT_PAGE, 0 };
		if (!z) {
			ckpt_section_data(w, in.src, in.size);
			continue;
		}
		size_t left;
		do {
			ZSTD_outBuffer o = { out, out_cap, 0 };
			left = ZSTD_compressStream2(z, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left)) {
				snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
				goto fail;
			}
			ckpt_section_data(w, out, o.pos);
		} while (last ? left != 0 : in.pos < in.size);
	}
	ckpt_section_end(w);
	ZSTD_freeCCtx(z);
	free(out);
	free(runs);
	return 0;
fail:
	ZSTD_freeCCtx(z);
	free(out);
	free(runs);
	return -1;
}

/* Reading: the section's bytes through a checksum, in order. */
struct rd {
	struct ckpt_reader *r;
	uint64_t left, sum;
	bool short_read;
};

static size_t rd_take(struct rd *d, void *p, size_t n)
{
	if (n > d->left)
		n = (size_t)d->left;
	size_t got = fread(p, 1, n, d->r->f);
	if (got != n)
		d->short_read = true;
	d->sum = ckpt_fnv1a(d->sum, p, got);
	d->left -= got;
	return got;
}

static uint64_t rd64(struct rd *d)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	if (rd_take(d, b, 8) != 8)
		d->short_read = true;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

int ckpt_ram_load(struct ckpt_reader *r, const struct ckpt_section_info *s, uint8_t *base,
		  uint64_t size, char *err, size_t errlen)
{
	struct rd d = { r, s->length, CKPT_FNV_INIT, false };
	struct run *runs = NULL;
	ZSTD_DCtx *z = NULL;
	size_t in_cap = ZSTD_DStreamInSize();
	uint8_t *in = NULL;
	int ret = -1;

	if (fseek(r->f, s->offset, SEEK_SET) < 0)
		goto truncated;
	uint64_t hdr = rd64(&d), msize = rd64(&d), nr = rd64(&d);
	uint32_t page = (uint32_t)hdr, comp = (uint32_t)(hdr >> 32);
	if (d.short_read)
		goto truncated;
	if (page != CKPT_PAGE || comp > CKPT_RAM_ZSTD || msize != size ||
	    nr > size / CKPT_PAGE || nr * 16 > d.left) {
		snprintf(err, errlen, "the checkpoint's RAM section does not fit this VM "
			 "(%llu bytes of RAM and ROM, the VM has %llu)",
			 (unsigned long long)msize, (unsigned long long)size);
		goto out;
	}
	if (!(runs = malloc((nr ? nr : 1) * sizeof(*runs))))
		goto oom;
	for (uint64_t i = 0, end = 0; i < nr; i++) {
		runs[i].first = rd64(&d);
		runs[i].pages = rd64(&d);
		/* first is checked alone before it is subtracted: a first page
		 * past the end made the bound wrap and let a run write past
		 * guest RAM (found by tests/fuzz/fuzz_ckpt.c) */
		if (runs[i].first < end || runs[i].pages == 0 ||
		    runs[i].first >= size / CKPT_PAGE ||
		    runs[i].pages > size / CKPT_PAGE - runs[i].first) {
			snprintf(err, errlen, "the checkpoint is corrupted: bad RAM runs");
			goto out;
		}
		end = runs[i].first + runs[i].pages;
	}
	if (comp == CKPT_RAM_RAW) {
		for (uint64_t i = 0; i < nr; i++) {
			size_t n = (size_t)(runs[i].pages * CKPT_PAGE);
			if (rd_take(&d, base + runs[i].first * CKPT_PAGE, n) != n)
				goto truncated;
		}
	} else {
		if (!(z = ZSTD_createDCtx()) || !(in = malloc(in_cap)))
			goto oom;
		ZSTD_inBuffer ib = { in, 0, 0 };
		size_t zr = 1;
		for (uint64_t i = 0; i < nr || zr != 0; ) {
			ZSTD_outBuffer ob = { i < nr ? base + runs[i].first * CKPT_PAGE : NULL,
					      i < nr ? runs[i].pages * CKPT_PAGE : 0, 0 };
			while (ob.pos < ob.size || (i == nr && zr != 0)) {
				if (ib.pos == ib.size) {
					ib.size = rd_take(&d, in, in_cap);
					ib.pos = 0;
					if (ib.size == 0)
						goto corrupt;	/* the frame ends early */
				}
				zr = ZSTD_decompressStream(z, &ob, &ib);
				if (ZSTD_isError(zr))
					goto corrupt;
				if (zr == 0 && ob.pos < ob.size)
					goto corrupt;
			}
			if (i < nr)
				i++;
		}
		if (ib.pos != ib.size)
			goto corrupt;
	}
	if (d.left || d.short_read)
		goto corrupt;
	if (d.sum != s->sum)
		goto corrupt;
	ret = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory loading guest RAM");
	goto out;
truncated:
	snprintf(err, errlen, "the checkpoint is truncated in its RAM section");
	goto out;
corrupt:
	snprintf(err, errlen, "the checkpoint is corrupted: its RAM section does not decode "
		 "or its checksum does not match");
out:
	ZSTD_freeDCtx(z);
	free(in);
	free(runs);
	return ret;
}

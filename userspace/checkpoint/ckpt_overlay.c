/* A snapshot disk's overlay in a checkpoint; see ckpt_overlay.h. */
#include <stdlib.h>
#include <string.h>
#include "block/block_registry.h"
#include "block/overlay.h"
#include "checkpoint/ckpt_overlay.h"

#define MAX_ID 64

static void put_le(struct ckpt_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	ckpt_section_data(w, b, n);
}

static int put_cluster(void *ctx, uint64_t off, const void *data, size_t len)
{
	struct ckpt_writer *w = ctx;

	put_le(w, off, 8);
	put_le(w, len, 4);
	ckpt_section_data(w, data, len);
	return w->failed ? -EIO : 0;
}

int ckpt_overlay_save(struct ckpt_writer *w, const char *id, struct block_dev *bd,
		      char *err, size_t errlen)
{
	ckpt_section_begin(w, CKPT_SEC_OVERLAY);
	put_le(w, strlen(id), 4);
	ckpt_section_data(w, id, strlen(id));
	put_le(w, bd->size, 8);
	put_le(w, block_overlay_cluster_size(bd), 8);
	int r = block_overlay_each_cluster(bd, put_cluster, w);
	ckpt_section_end(w);
	if (r < 0 && !w->failed) {
		snprintf(err, errlen, "cannot checkpoint: disk %s: reading its overlay %s: %s", id,
			 bd->path, strerror(-r));
		return -1;
	}
	return 0;
}

/* The section's bytes in order, through its checksum. */
struct rd {
	FILE *f;
	uint64_t left, sum;
	bool bad;
};

static void take(struct rd *d, void *p, size_t n)
{
	if (d->bad || n > d->left || fread(p, 1, n, d->f) != n) {
		d->bad = true;
		memset(p, 0, n);
		return;
	}
	d->sum = ckpt_fnv1a(d->sum, p, n);
	d->left -= n;
}

static uint64_t take_le(struct rd *d, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;

	take(d, b, n);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

int ckpt_overlay_load(struct ckpt_reader *r, const struct ckpt_section_info *s,
		      char *err, size_t errlen)
{
	struct rd d = { r->f, s->length, CKPT_FNV_INIT, fseek(r->f, s->offset, SEEK_SET) < 0 };
	char id[MAX_ID + 1];
	uint8_t *buf = NULL;
	struct block_dev *bd = NULL;
	int ret = -1, e;

	uint32_t n = (uint32_t)take_le(&d, 4);
	if (d.bad || n > MAX_ID)
		goto corrupt;
	take(&d, id, n);
	id[n] = '\0';
	uint64_t size = take_le(&d, 8), cs = take_le(&d, 8);
	if (d.bad)
		goto corrupt;
	bd = block_registry_find(id);
	if (!bd || !block_is_overlay(bd) || bd->readonly) {
		snprintf(err, errlen, "the checkpoint has the overlay of snapshot disk %s, this VM "
			 "has no writable snapshot disk of that id: was --disk changed?", id);
		return -1;
	}
	if (bd->size != size || block_overlay_cluster_size(bd) != cs) {
		snprintf(err, errlen, "disk %s: the checkpoint's overlay is of a %llu-byte disk "
			 "with %llu-byte clusters, this VM's of %llu and %llu", id,
			 (unsigned long long)size, (unsigned long long)cs,
			 (unsigned long long)bd->size,
			 (unsigned long long)block_overlay_cluster_size(bd));
		return -1;
	}
	if (!(buf = malloc(cs))) {
		snprintf(err, errlen, "disk %s: out of memory", id);
		return -1;
	}
	if ((e = block_overlay_reset(bd)) < 0)
		goto io;
	for (uint64_t end = 0; d.left && !d.bad; ) {
		uint64_t off = take_le(&d, 8);
		uint32_t len = (uint32_t)take_le(&d, 4);
		if (d.bad || off < end || off % cs || len == 0 || len > cs || off > size ||
		    len > size - off || (len < cs && off + len != size))
			goto corrupt;
		take(&d, buf, len);
		if (d.bad)
			goto corrupt;
		struct iovec iov = { buf, len };
		if ((e = bd->ops->pwritev(bd, &iov, 1, off)) < 0)
			goto io;
		end = off + len;
	}
	if (d.bad || d.sum != s->sum)
		goto corrupt;
	if ((e = bd->ops->flush(bd)) < 0)
		goto io;
	ret = 0;
	goto out;
io:
	snprintf(err, errlen, "disk %s: restoring its overlay %s: %s", id, bd->path, strerror(-e));
	goto out;
corrupt:
	snprintf(err, errlen, "the checkpoint is corrupted: an overlay section");
out:
	free(buf);
	return ret;
}

/*
 * The undoable disk: reads come from the overlay where the guest wrote,
 * else from the base; writes only ever go to the overlay. Format and
 * crash rules: overlay_format.h. One lock serializes the requests of a
 * disk (the thread pool may run several): a cluster's copy-on-write and
 * its bit must not interleave with another write to it, nor with a flush
 * that writes the bitmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "files/input_file.h"
#include "block/block_io.h"
#include "block/overlay.h"

#define BITMAP_PAGE 4096

struct block_overlay {
	struct block_dev bd;
	int fd, base_fd;
	struct ovl_info oi;
	uint64_t cs;		/* cluster size */
	uint8_t *bitmap;	/* on disk after the last flush, and since */
	uint8_t *dirty;		/* per bitmap page: bits set since the last flush */
	uint64_t nr_pages;
	uint8_t *bounce;	/* one cluster */
	pthread_mutex_t lock;
};

static struct block_overlay *ovl(struct block_dev *bd)
{
	return (struct block_overlay *)bd;
}

static bool has_cluster(const struct block_overlay *o, uint64_t c)
{
	return o->bitmap[c / 8] & (1u << (c % 8));
}

/* In memory only: the bit reaches the file at the next flush, after the
 * cluster's data is durable. */
static void set_cluster(struct block_overlay *o, uint64_t c)
{
	o->bitmap[c / 8] |= (uint8_t)(1u << (c % 8));
	o->dirty[c / 8 / BITMAP_PAGE] = 1;
}

static uint64_t data_at(const struct block_overlay *o, uint64_t c)
{
	return o->oi.h.data_offset + c * o->cs;
}

/* The disk's bytes of cluster c (the last one may be short). */
static uint64_t cluster_len(const struct block_overlay *o, uint64_t c)
{
	uint64_t start = c * o->cs;

	return o->bd.size - start < o->cs ? o->bd.size - start : o->cs;
}

static int ovl_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct block_overlay *o = ovl(bd);
	uint64_t len = block_iov_bytes(iov, iovcnt), pos = 0;
	int r = block_check_range(bd, off, len);

	if (r)
		return r;
	pthread_mutex_lock(&o->lock);
	while (pos < len && !r) {
		uint64_t at = off + pos, c = at / o->cs, in = at % o->cs;
		size_t n = (size_t)(o->cs - in < len - pos ? o->cs - in : len - pos);
		if (has_cluster(o, c))
			r = block_pread_full(o->fd, o->bounce, n, data_at(o, c) + in);
		else
			r = block_pread_full(o->base_fd, o->bounce, n, at);
		if (!r)
			block_iov_copy(iov, iovcnt, pos, o->bounce, n, true);
		pos += n;
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

/* Writes n bytes of src at offset in of cluster c (src NULL: zeros). A
 * cluster not yet in the overlay is first filled whole from the base, so
 * that once its bit is set every byte of it reads from the overlay. */
static int write_chunk(struct block_overlay *o, uint64_t c, uint64_t in, const uint8_t *src,
		       size_t n)
{
	uint64_t clen = cluster_len(o, c);
	int r;

	if (!src && in == 0 && n == clen) {
		/* a whole cluster of zeros: a hole in the sparse file */
		if (fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)data_at(o, c), (off_t)o->cs) == 0) {
			set_cluster(o, c);
			return 0;
		}
	}
	if (has_cluster(o, c) || (in == 0 && n == clen)) {
		if (!src)
			memset(o->bounce, 0, n);
		r = block_pwrite_full(o->fd, src ? src : o->bounce, n, data_at(o, c) + in);
	} else {
		r = block_pread_full(o->base_fd, o->bounce, clen, c * o->cs);
		if (r)
			return r;
		if (src)
			memcpy(o->bounce + in, src, n);
		else
			memset(o->bounce + in, 0, n);
		r = block_pwrite_full(o->fd, o->bounce, clen, data_at(o, c));
	}
	if (!r)
		set_cluster(o, c);
	return r;
}

static int ovl_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct block_overlay *o = ovl(bd);
	uint64_t len = block_iov_bytes(iov, iovcnt), pos = 0;

	if (bd->readonly)
		return -EROFS;
	int r = block_check_range(bd, off, len);
	if (r)
		return r;
	uint8_t *chunk = malloc(o->cs);
	if (!chunk)
		return -ENOMEM;
	pthread_mutex_lock(&o->lock);
	while (pos < len && !r) {
		uint64_t at = off + pos, c = at / o->cs, in = at % o->cs;
		size_t n = (size_t)(o->cs - in < len - pos ? o->cs - in : len - pos);
		block_iov_copy(iov, iovcnt, pos, chunk, n, false);
		r = write_chunk(o, c, in, chunk, n);
		pos += n;
	}
	pthread_mutex_unlock(&o->lock);
	free(chunk);
	return r;
}

static int ovl_write_zeroes(struct block_dev *bd, uint64_t off, uint64_t len)
{
	struct block_overlay *o = ovl(bd);
	uint64_t pos = 0;

	if (bd->readonly)
		return -EROFS;
	int r = block_check_range(bd, off, len);
	pthread_mutex_lock(&o->lock);
	while (pos < len && !r) {
		uint64_t at = off + pos, c = at / o->cs, in = at % o->cs;
		size_t n = (size_t)(o->cs - in < len - pos ? o->cs - in : len - pos);
		r = write_chunk(o, c, in, NULL, n);
		pos += n;
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

static int ovl_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
	/* a hint we take no action on: the base must keep its bytes, and
	 * dropping overlay clusters would bring the base's back */
	if (bd->readonly)
		return -EROFS;
	return block_check_range(bd, off, len);
}

/* The crash rule of overlay_format.h: data durable, then the bits. */
static int flush_locked(struct block_overlay *o)
{
	bool any = false;

	if (fdatasync(o->fd) < 0)
		return -errno;
	for (uint64_t p = 0; p < o->nr_pages; p++) {
		if (!o->dirty[p])
			continue;
		int r = block_pwrite_full(o->fd, o->bitmap + p * BITMAP_PAGE, BITMAP_PAGE,
					  o->oi.h.bitmap_offset + p * BITMAP_PAGE);
		if (r)
			return r;
		o->dirty[p] = 0;
		any = true;
	}
	if (any && fdatasync(o->fd) < 0)
		return -errno;
	return 0;
}

static int ovl_flush(struct block_dev *bd)
{
	struct block_overlay *o = ovl(bd);

	if (bd->readonly)
		return 0;
	pthread_mutex_lock(&o->lock);
	int r = flush_locked(o);
	pthread_mutex_unlock(&o->lock);
	return r;
}

static void ovl_free(struct block_overlay *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->base_fd >= 0)
		close(o->base_fd);
	free(o->bitmap);
	free(o->dirty);
	free(o->bounce);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static void ovl_close(struct block_dev *bd)
{
	/* a clean shutdown keeps every write, flushed by the guest or not */
	ovl_flush(bd);
	ovl_free(ovl(bd));
}

static const struct block_ops overlay_ops = {
	.preadv = ovl_preadv,
	.pwritev = ovl_pwritev,
	.flush = ovl_flush,
	.discard = ovl_discard,
	.write_zeroes = ovl_write_zeroes,
	.close = ovl_close,
};

bool block_is_overlay(const struct block_dev *bd)
{
	return bd->ops == &overlay_ops;
}

uint64_t block_overlay_cluster_size(const struct block_dev *bd)
{
	return ovl((struct block_dev *)bd)->cs;
}

int block_overlay_each_cluster(struct block_dev *bd,
			       int (*fn)(void *ctx, uint64_t off, const void *data, size_t len),
			       void *ctx)
{
	struct block_overlay *o = ovl(bd);
	int r = 0;

	pthread_mutex_lock(&o->lock);
	for (uint64_t c = 0; c < o->oi.clusters && !r; c++) {
		if (!has_cluster(o, c))
			continue;
		size_t n = (size_t)cluster_len(o, c);
		r = block_pread_full(o->fd, o->bounce, n, data_at(o, c));
		if (!r)
			r = fn(ctx, c * o->cs, o->bounce, n);
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

/* Every bit cleared and written (the crash rule holds: no bit claims
 * data that is not there), then the data area given back to the file
 * system. */
int block_overlay_reset(struct block_dev *bd)
{
	struct block_overlay *o = ovl(bd);
	int r;

	if (bd->readonly)
		return -EROFS;
	pthread_mutex_lock(&o->lock);
	memset(o->bitmap, 0, o->oi.h.bitmap_bytes);
	memset(o->dirty, 1, o->nr_pages);
	r = flush_locked(o);
	if (!r && o->oi.clusters &&
	    fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)data_at(o, 0),
		      (off_t)(o->oi.clusters * o->cs)) < 0 && errno != EOPNOTSUPP)
		r = -errno;
	pthread_mutex_unlock(&o->lock);
	return r;
}

struct block_dev *block_overlay_open(const char *ovl_path, bool readonly,
				     char *err, size_t errlen)
{
	struct block_overlay *o = calloc(1, sizeof(*o));

	if (!o) {
		snprintf(err, errlen, "%s: out of memory", ovl_path);
		return NULL;
	}
	o->base_fd = -1;
	pthread_mutex_init(&o->lock, NULL);
	struct stat st;
	char why[128];
	o->fd = input_file_open(ovl_path, readonly ? O_RDONLY : O_RDWR, INPUT_REGULAR, &st,
				why, sizeof(why));
	if (o->fd < 0) {
		snprintf(err, errlen, "%s: %s", ovl_path, why);
		goto fail;
	}
	if (ovl_lock(o->fd, ovl_path, true, err, errlen) < 0 ||
	    ovl_read(o->fd, ovl_path, &o->oi, err, errlen) < 0)
		goto fail;
	if (o->oi.h.flags & OVL_FLAG_COMMITTING) {
		snprintf(err, errlen, "%s: a commit of this overlay was interrupted; run "
			 "hyvm disk commit %s again", ovl_path, ovl_path);
		goto fail;
	}
	o->base_fd = input_file_open(o->oi.base_path, O_RDONLY, INPUT_REGULAR, &st,
				     why, sizeof(why));
	if (o->base_fd < 0) {
		snprintf(err, errlen, "%s: cannot open its base %s (%s)", ovl_path, o->oi.base_path, why);
		goto fail;
	}
	if (ovl_lock(o->base_fd, o->oi.base_path, false, err, errlen) < 0 ||
	    ovl_check_base(&o->oi, o->base_fd, ovl_path, false, err, errlen) < 0)
		goto fail;
	o->cs = 1ull << o->oi.h.cluster_bits;
	o->nr_pages = o->oi.h.bitmap_bytes / BITMAP_PAGE;
	o->bitmap = malloc(o->oi.h.bitmap_bytes);
	o->dirty = calloc(o->nr_pages, 1);
	o->bounce = malloc(o->cs);
	if (!o->bitmap || !o->dirty || !o->bounce) {
		snprintf(err, errlen, "%s: out of memory", ovl_path);
		goto fail;
	}
	if (block_pread_full(o->fd, o->bitmap, o->oi.h.bitmap_bytes, o->oi.h.bitmap_offset)) {
		snprintf(err, errlen, "%s: cannot read the bitmap", ovl_path);
		goto fail;
	}
	o->bd.ops = &overlay_ops;
	o->bd.size = o->oi.h.base_size;
	o->bd.readonly = readonly;
	snprintf(o->bd.path, sizeof(o->bd.path), "%s", ovl_path);
	return &o->bd;
fail:
	ovl_free(o);
	return NULL;
}

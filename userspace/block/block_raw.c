/*
 * A raw image: the disk's bytes are the file's bytes (or a block
 * device's). FLUSH is fdatasync; DISCARD and WRITE_ZEROES punch holes
 * (fallocate FALLOC_FL_PUNCH_HOLE, which also reads back as zeros), with
 * FALLOC_FL_ZERO_RANGE or written zeros where the file system cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "files/input_file.h"
#include "block/block.h"
#include "block/block_io.h"

struct block_raw {
	struct block_dev bd;
	int fd;
	bool is_blockdev;
};

static struct block_raw *raw(struct block_dev *bd)
{
	return (struct block_raw *)bd;
}

static int raw_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int r = block_check_range(bd, off, block_iov_bytes(iov, iovcnt));

	return r ? r : block_preadv_full(raw(bd)->fd, iov, iovcnt, off);
}

static int raw_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	if (bd->readonly)
		return -EROFS;
	int r = block_check_range(bd, off, block_iov_bytes(iov, iovcnt));
	return r ? r : block_pwritev_full(raw(bd)->fd, iov, iovcnt, off);
}

static int raw_flush(struct block_dev *bd)
{
	if (bd->readonly)
		return 0;
	return fdatasync(raw(bd)->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct block_dev *bd, uint64_t off, uint64_t len)
{
	if (bd->readonly)
		return -EROFS;
	int r = block_check_range(bd, off, len);
	if (r || len == 0 || raw(bd)->is_blockdev)
		return r;
	if (fallocate(raw(bd)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		return -errno;
	return 0;	/* a hint: where holes are not supported, nothing happens */
}

static int write_zero_buffers(int fd, uint64_t off, uint64_t len)
{
	static const char zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int r = block_pwrite_full(fd, zeros, n, off);
		if (r)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static int raw_write_zeroes(struct block_dev *bd, uint64_t off, uint64_t len)
{
	if (bd->readonly)
		return -EROFS;
	int r = block_check_range(bd, off, len), fd = raw(bd)->fd;
	if (r || len == 0)
		return r;
	if (!raw(bd)->is_blockdev) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len) == 0)
			return 0;
		if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len) == 0)
			return 0;
	}
	return write_zero_buffers(fd, off, len);
}

static void raw_close(struct block_dev *bd)
{
	close(raw(bd)->fd);
	free(raw(bd));
}

static const struct block_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
};

struct block_dev *block_raw_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct stat st;
	uint64_t size;
	char why[128];
	int fd = input_file_open(path, readonly ? O_RDONLY : O_RDWR, INPUT_BLOCKDEV, &st,
				 why, sizeof(why));

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			snprintf(err, errlen, "%s: cannot read the device's size: %s", path,
				 strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "%s: not a regular file or block device", path);
		goto fail;
	}
	if (size == 0) {
		snprintf(err, errlen, "%s: the image is empty", path);
		goto fail;
	}
	struct block_raw *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	r->bd.ops = &raw_ops;
	r->bd.size = size;
	r->bd.readonly = readonly;
	snprintf(r->bd.path, sizeof(r->bd.path), "%s", path);
	r->fd = fd;
	r->is_blockdev = S_ISBLK(st.st_mode);
	return &r->bd;
fail:
	close(fd);
	return NULL;
}

/*
 * A disk image as the block devices see it: a size in bytes and six
 * operations on byte ranges. Two kinds stand behind it: a raw image file
 * (block_raw.c) and the undoable overlay over a read-only base
 * (block_overlay.c, the format in overlay_format.h). The virtio-blk
 * request logic checks sectors and lengths before it calls here; these
 * functions check ranges again and refuse anything past the end.
 *
 * Calls may come from several threads at once (block_aio.c's workers):
 * every implementation is thread-safe. Writes that completed before a
 * flush began are durable when the flush returns (fdatasync).
 * Errors are negative errno values.
 */
#ifndef HYVM_BLOCK_H
#define HYVM_BLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct block_dev;

struct block_ops {
	int (*preadv)(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*pwritev)(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*flush)(struct block_dev *bd);
	/* May do nothing: the contents of a discarded range are undefined
	 * (virtio 1.2, 5.2.6.2: DISCARD is a hint). */
	int (*discard)(struct block_dev *bd, uint64_t off, uint64_t len);
	/* The range reads as zeros afterwards. */
	int (*write_zeroes)(struct block_dev *bd, uint64_t off, uint64_t len);
	void (*close)(struct block_dev *bd);
};

struct block_dev {
	const struct block_ops *ops;
	uint64_t size;		/* bytes the guest sees */
	bool readonly;		/* writes, discards and zeroing fail with -EROFS */
	char path[256];		/* for messages */
};

/* How to open: a raw image file, read-only or not, or an overlay. */
struct block_open_opts {
	bool readonly;
	/* snapshot: writes go to the overlay file at overlay_path (created
	 * when missing, from base identity; reused when it matches the
	 * base); NULL path: overlay_default_path(). The base is opened
	 * read-only and never written. */
	bool snapshot;
	const char *overlay_path;
};

/* Opens path (a regular file or block device); NULL with one line in err
 * ("DISK: why"). */
struct block_dev *block_open(const char *path, const struct block_open_opts *opts,
			     char *err, size_t errlen);
void block_close(struct block_dev *bd);

/* Raw image files, for block_open and the overlay's tests. */
struct block_dev *block_raw_open(const char *path, bool readonly, char *err, size_t errlen);

/* Range check shared by the implementations: 0, or -EIO when
 * [off, off + len) is not inside the disk. */
static inline int block_check_range(const struct block_dev *bd, uint64_t off, uint64_t len)
{
	return off <= bd->size && len <= bd->size - off ? 0 : -EIO;
}

/* The bytes an iovec array holds. */
static inline uint64_t block_iov_bytes(const struct iovec *iov, int iovcnt)
{
	uint64_t n = 0;

	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

#endif

/* Positional I/O that finishes; see block_io.h. */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "block/block_io.h"

int block_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { buf, len };

	return block_preadv_full(fd, &iov, 1, off);
}

int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { (void *)buf, len };

	return block_pwritev_full(fd, &iov, 1, off);
}

/* The kernel takes at most IOV_MAX entries and may stop anywhere: work
 * on a copy that is advanced past what was done. */
static int full_io(int fd, const struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	struct iovec small[16], *v = small;
	int n = iovcnt, r = 0;

	if (iovcnt > 16 && !(v = malloc(sizeof(*v) * (size_t)iovcnt)))
		return -ENOMEM;
	memcpy(v, iov, sizeof(*v) * (size_t)iovcnt);
	struct iovec *cur = v;
	while (n > 0) {
		if (cur->iov_len == 0) {
			cur++;
			n--;
			continue;
		}
		int cnt = n < IOV_MAX ? n : IOV_MAX;
		ssize_t done = write ? pwritev(fd, cur, cnt, (off_t)off)
				     : preadv(fd, cur, cnt, (off_t)off);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (done == 0) {	/* end of file inside the disk */
			r = -EIO;
			break;
		}
		off += (uint64_t)done;
		while (done > 0 && n > 0) {
			size_t step = (size_t)done < cur->iov_len ? (size_t)done : cur->iov_len;
			cur->iov_base = (char *)cur->iov_base + step;
			cur->iov_len -= step;
			done -= (ssize_t)step;
			if (cur->iov_len == 0) {
				cur++;
				n--;
			}
		}
	}
	if (v != small)
		free(v);
	return r;
}

int block_preadv_full(int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return full_io(fd, iov, iovcnt, off, false);
}

int block_pwritev_full(int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return full_io(fd, iov, iovcnt, off, true);
}

int block_iov_copy(const struct iovec *iov, int iovcnt, uint64_t off, void *buf,
		   size_t len, bool to_iov)
{
	uint8_t *b = buf;

	for (int k = 0; k < iovcnt && len; k++) {
		if (off >= iov[k].iov_len) {
			off -= iov[k].iov_len;
			continue;
		}
		size_t chunk = iov[k].iov_len - (size_t)off;
		if (chunk > len)
			chunk = len;
		if (to_iov)
			memcpy((uint8_t *)iov[k].iov_base + off, b, chunk);
		else
			memcpy(b, (uint8_t *)iov[k].iov_base + off, chunk);
		b += chunk;
		len -= chunk;
		off = 0;
	}
	return len ? -1 : 0;
}

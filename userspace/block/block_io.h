/*
 * Positional reads and writes that finish: the kernel may move fewer
 * bytes than asked (a signal, a large request); these loop until all is
 * done or an error. 0 or a negative errno; reading past the end of the
 * file is -EIO (an image shrank under us).
 */
#ifndef HYVM_BLOCK_IO_H
#define HYVM_BLOCK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

int block_pread_full(int fd, void *buf, size_t len, uint64_t off);
int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
int block_preadv_full(int fd, const struct iovec *iov, int iovcnt, uint64_t off);
int block_pwritev_full(int fd, const struct iovec *iov, int iovcnt, uint64_t off);

/* Copies len bytes between buf and the iovec array's bytes from offset
 * off (to_iov: into the array); 0, or -1 when the array is too short. */
int block_iov_copy(const struct iovec *iov, int iovcnt, uint64_t off, void *buf,
		   size_t len, bool to_iov);

#endif

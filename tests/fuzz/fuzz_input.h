/*
 * What the harnesses share: reading the fuzzer's input as a stream of
 * little-endian fields (zeros once it runs out), and a memfd standing in
 * for a file the loaders open by path.
 */
#ifndef HYVM_FUZZ_INPUT_H
#define HYVM_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline int fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

/* data as the contents of a file at path (a memfd, /proc/self/fd/N);
 * path has room for 32 bytes. 0 or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path)
{
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("fuzz-input", 0)) < 0)
		return -1;
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return -1;
	snprintf(path, 32, "/proc/self/fd/%d", fd);
	return 0;
}

#endif

/*
 * What every guest loader does the same way: an error line that names the
 * file, and reading a whole image (kernel, module, initrd) into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/loader.h"
#include "files/input_file.h"

int loader_vfail(char *err, size_t errlen, const char *path, const char *fmt, va_list ap)
{
	int n = snprintf(err, errlen, "%s: ", path);

	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	return -1;
}

static int file_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vfail(err, errlen, path, fmt, ap);
	va_end(ap);
	return -1;
}

int loader_read_file(const char *errpath, const char *path, uint64_t limit,
		     loader_head_check check, void *ctx,
		     uint8_t **data, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	char why[128];
	int fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));

	*data = NULL;
	if (fd < 0)
		return file_fail(err, errlen, errpath, "%s", why);
	/* The format's header first, from the first LOADER_HEAD_BYTES only:
	 * a file that is not what it claims is refused before a byte more of
	 * it is read (a 900 MiB sparse file is not read whole to find that
	 * out). */
	if (check) {
		uint8_t head[LOADER_HEAD_BYTES];
		ssize_t n;

		do
			n = pread(fd, head, sizeof(head), 0);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			close(fd);
			return file_fail(err, errlen, errpath, "read failed: %s", strerror(errno));
		}
		if (check(ctx, head, n, (uint64_t)st.st_size) < 0) {
			close(fd);
			return -1;
		}
	}
	if ((uint64_t)st.st_size > limit) {
		close(fd);
		return file_fail(err, errlen, errpath,
				 "file is %lld bytes, larger than guest RAM or 1 GiB",
				 (long long)st.st_size);
	}
	*size = st.st_size;
	*data = malloc(*size ? *size : 1);
	if (!*data) {
		close(fd);
		return file_fail(err, errlen, errpath, "out of memory reading the file");
	}
	for (size_t done = 0; done < *size;) {
		ssize_t r = read(fd, *data + done, *size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			free(*data);
			*data = NULL;
			return file_fail(err, errlen, errpath, "read failed: %s",
					 r ? strerror(errno) : "file shrank");
		}
		done += r;
	}
	close(fd);
	return 0;
}

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
		     uint8_t **data, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	if (fd < 0)
		return file_fail(err, errlen, errpath, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return file_fail(err, errlen, errpath, "not a regular file");
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

/*
 * input_file_open(): O_NONBLOCK so that open() of a FIFO with no writer
 * returns at once (open(2): a FIFO opened O_RDONLY blocks until a writer
 * appears), then fstat() on the fd, not stat() on the path, so the type
 * checked is the type of the file actually opened; O_NONBLOCK is cleared
 * again because regular files and block devices ignore it anyway and the
 * block layer's preadv must not see EAGAIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "files/input_file.h"

int input_file_open(const char *path, int flags, enum input_kind kind, struct stat *st,
		    char *why, size_t whylen)
{
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode) && !(kind == INPUT_BLOCKDEV && S_ISBLK(st->st_mode))) {
		snprintf(why, whylen, "%s", kind == INPUT_BLOCKDEV
			 ? "not a regular file or block device" : "not a regular file");
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

#ifndef HYVM_INPUT_FILE_H
#define HYVM_INPUT_FILE_H
/*
 * Opening a file the user named (guest, --module, --kernel, --initrd,
 * --rom, disks, overlays, symbol files) without ever blocking on it: a
 * FIFO or a character device given as a path would otherwise hang open()
 * or read() forever.
 */
#include <stdbool.h>
#include <sys/stat.h>

/* Which file types the caller accepts besides regular files. */
enum input_kind {
	INPUT_REGULAR = 0,	/* regular files only */
	INPUT_BLOCKDEV = 1,	/* regular files and block devices (disks) */
};

/* Opens path with flags (O_RDONLY or O_RDWR; O_CLOEXEC is added) without
 * blocking, checks its type with fstat and hands back a blocking fd and its
 * stat in *st. Returns the fd, or -1 with the reason in why ("cannot open:
 * No such file or directory", "not a regular file", "not a regular file
 * or block device"), without the path. */
int input_file_open(const char *path, int flags, enum input_kind kind, struct stat *st,
		    char *why, size_t whylen);

#endif

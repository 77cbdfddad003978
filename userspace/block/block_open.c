/* block_open: a raw image, or its undoable overlay (block.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "files/input_file.h"
#include "block/overlay.h"

/* An existing overlay must belong to this base, not to another one. */
static int check_overlay_base(const char *ovl_path, const char *base, char *err, size_t errlen)
{
	struct ovl_info oi;
	struct stat sa, sb;
	struct stat st;
	char why[128];
	int fd = input_file_open(ovl_path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", ovl_path, why);
		return -1;
	}
	int r = ovl_read(fd, ovl_path, &oi, err, errlen);
	close(fd);
	if (r < 0)
		return -1;
	if (stat(oi.base_path, &sa) == 0 && stat(base, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
		return 0;
	snprintf(err, errlen, "%s: this overlay belongs to %s, not to %s", ovl_path,
		 oi.base_path, base);
	return -1;
}

struct block_dev *block_open(const char *path, const struct block_open_opts *opts,
			     char *err, size_t errlen)
{
	char ovl_path[PATH_MAX];

	if (!opts->snapshot)
		return block_raw_open(path, opts->readonly, err, errlen);
	if (opts->overlay_path)
		snprintf(ovl_path, sizeof(ovl_path), "%s", opts->overlay_path);
	else
		overlay_default_path(path, ovl_path, sizeof(ovl_path));
	if (access(ovl_path, F_OK) < 0) {
		if (ovl_create(ovl_path, path, err, errlen) < 0)
			return NULL;
	} else if (check_overlay_base(ovl_path, path, err, errlen) < 0) {
		return NULL;
	}
	return block_overlay_open(ovl_path, opts->readonly, err, errlen);
}

void block_close(struct block_dev *bd)
{
	if (bd)
		bd->ops->close(bd);
}

/*
 * What `hyvm disk` does with an overlay: commit (merge into the base,
 * then delete), discard (delete) and info. The crash rule of commit is in
 * overlay_format.h: flag, copy, fdatasync the base, delete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "files/input_file.h"
#include "block/block_io.h"
#include "block/overlay.h"

/* Opens, locks and reads an overlay for a tool; the fd or -1. */
static int open_overlay(const char *path, int mode, struct ovl_info *oi, char *err, size_t errlen)
{
	struct stat st;
	char why[128];
	int fd = input_file_open(path, mode, INPUT_REGULAR, &st, why, sizeof(why));

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (ovl_lock(fd, path, true, err, errlen) < 0 || ovl_read(fd, path, oi, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint64_t count_clusters(const uint8_t *bitmap, uint64_t clusters)
{
	uint64_t n = 0;

	for (uint64_t c = 0; c < clusters; c++)
		n += (bitmap[c / 8] >> (c % 8)) & 1;
	return n;
}

static uint8_t *read_bitmap(int fd, const struct ovl_info *oi)
{
	uint8_t *bm = malloc(oi->h.bitmap_bytes);

	if (bm && block_pread_full(fd, bm, oi->h.bitmap_bytes, oi->h.bitmap_offset)) {
		free(bm);
		return NULL;
	}
	return bm;
}

int overlay_commit(const char *ovl_path, char *msg, size_t msglen, char *err, size_t errlen)
{
	struct ovl_info oi;
	uint8_t *bm = NULL, *buf = NULL;
	int bfd = -1, r = -1;
	int fd = open_overlay(ovl_path, O_RDWR, &oi, err, errlen);

	if (fd < 0)
		return -1;
	bool resumed = oi.h.flags & OVL_FLAG_COMMITTING;
	struct stat bst;
	char why[128];
	bfd = input_file_open(oi.base_path, O_RDWR, INPUT_REGULAR, &bst, why, sizeof(why));
	if (bfd < 0) {
		snprintf(err, errlen, "%s: cannot open its base %s (%s)", ovl_path, oi.base_path, why);
		goto out;
	}
	if (ovl_lock(bfd, oi.base_path, true, err, errlen) < 0 ||
	    ovl_check_base(&oi, bfd, ovl_path, resumed, err, errlen) < 0)
		goto out;
	uint64_t cs = 1ull << oi.h.cluster_bits;
	bm = read_bitmap(fd, &oi);
	buf = malloc(cs);
	if (!bm || !buf) {
		snprintf(err, errlen, "%s: cannot read the bitmap", ovl_path);
		goto out;
	}
	/* from here on the base changes: mark the overlay first, so a crash
	 * leaves one that commit finishes and a VM refuses */
	oi.h.flags |= OVL_FLAG_COMMITTING;
	if (ovl_write_header(fd, &oi.h) < 0) {
		snprintf(err, errlen, "%s: cannot mark the commit: %s", ovl_path, strerror(errno));
		goto out;
	}
	r = -2;		/* failures from here on leave a marked overlay */
	uint64_t copied = 0;
	for (uint64_t c = 0; c < oi.clusters; c++) {
		if (!((bm[c / 8] >> (c % 8)) & 1))
			continue;
		uint64_t at = c * cs, n = oi.h.base_size - at < cs ? oi.h.base_size - at : cs;
		int e = block_pread_full(fd, buf, n, oi.h.data_offset + at);
		if (!e)
			e = block_pwrite_full(bfd, buf, n, at);
		if (e) {
			snprintf(err, errlen, "%s: commit stopped at cluster %llu: %s; the overlay "
				 "is kept, run the commit again", ovl_path, (unsigned long long)c,
				 strerror(-e));
			goto out;
		}
		copied++;
	}
	if (fdatasync(bfd) < 0) {
		snprintf(err, errlen, "%s: cannot sync %s: %s; the overlay is kept", ovl_path,
			 oi.base_path, strerror(errno));
		goto out;
	}
	/* the base has every cluster for good: the overlay may go */
	if (unlink(ovl_path) < 0) {
		snprintf(err, errlen, "%s: committed, but cannot delete it: %s", ovl_path,
			 strerror(errno));
		goto out;
	}
	ovl_sync_dir(ovl_path);
	snprintf(msg, msglen, "committed %llu cluster%s (%llu KiB) into %s%s",
		 (unsigned long long)copied, copied == 1 ? "" : "s",
		 (unsigned long long)(copied * cs >> 10), oi.base_path,
		 resumed ? " (an interrupted commit, finished)" : "");
	r = 0;
out:
	free(bm);
	free(buf);
	if (bfd >= 0)
		close(bfd);
	close(fd);
	return r;
}

int overlay_discard(const char *ovl_path, char *err, size_t errlen)
{
	struct ovl_info oi;
	/* only ever delete what is an overlay, and not one a VM uses */
	int fd = open_overlay(ovl_path, O_RDONLY, &oi, err, errlen);

	if (fd < 0)
		return -1;
	if (unlink(ovl_path) < 0) {
		snprintf(err, errlen, "%s: cannot delete: %s", ovl_path, strerror(errno));
		close(fd);
		return -1;
	}
	ovl_sync_dir(ovl_path);
	close(fd);
	return 0;
}

int overlay_info(const char *ovl_path, FILE *out, char *err, size_t errlen)
{
	struct ovl_info oi;
	char base_err[512];
	int fd = open_overlay(ovl_path, O_RDONLY, &oi, err, errlen);

	if (fd < 0)
		return -1;
	uint8_t *bm = read_bitmap(fd, &oi);
	if (!bm) {
		snprintf(err, errlen, "%s: cannot read the bitmap", ovl_path);
		close(fd);
		return -1;
	}
	uint64_t cs = 1ull << oi.h.cluster_bits, used = count_clusters(bm, oi.clusters);
	const char *state = "matches";
	struct stat bst;
	char why[128];
	int bfd = input_file_open(oi.base_path, O_RDONLY, INPUT_REGULAR, &bst, why, sizeof(why));
	if (bfd < 0)
		state = "missing";
	else if (ovl_check_base(&oi, bfd, ovl_path, false, base_err, sizeof(base_err)) < 0)
		state = "changed since the overlay was made";
	fprintf(out, "overlay: %s\nformat: version %u\nbase: %s (%s)\nsize: %llu bytes\n"
		"cluster: %llu bytes\nclusters written: %llu of %llu (%llu KiB)\n", ovl_path,
		oi.h.version, oi.base_path, state, (unsigned long long)oi.h.base_size,
		(unsigned long long)cs, (unsigned long long)used,
		(unsigned long long)oi.clusters, (unsigned long long)(used * cs >> 10));
	if (oi.h.flags & OVL_FLAG_COMMITTING)
		fprintf(out, "state: a commit was interrupted; run hyvm disk commit again\n");
	if (bfd >= 0)
		close(bfd);
	free(bm);
	close(fd);
	return 0;
}

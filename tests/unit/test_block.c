/*
 * The block layer on real files in a temporary directory: raw images and
 * the undoable overlay (read-through, copy-on-write, flush order, zeroes,
 * commit, discard, a changed base, damaged headers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "block/block.h"
#include "block/block_io.h"
#include "block/overlay.h"

#define KiB 1024ull
#define CS (1ull << OVL_CLUSTER_BITS)
#define BASE_SIZE (10 * CS + 3 * 512)	/* the last cluster is short */

static char dir[64], base[128], ovlp[128], err[1024];
static uint8_t *pattern;	/* the base's bytes */

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(block_pwrite_full(fd, buf, len, 0) == 0);
	close(fd);
}

static bool file_equals(const char *path, const void *buf, size_t len)
{
	struct stat st;
	uint8_t *got = malloc(len);
	int fd = open(path, O_RDONLY);
	bool same = fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == len &&
		    block_pread_full(fd, got, len, 0) == 0 && memcmp(got, buf, len) == 0;

	if (fd >= 0)
		close(fd);
	free(got);
	return same;
}

static int setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyvm-block-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(base, sizeof(base), "%s/base.img", dir);
	snprintf(ovlp, sizeof(ovlp), "%s/base.img.overlay", dir);
	pattern = malloc(BASE_SIZE);
	for (uint64_t i = 0; i < BASE_SIZE; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 4096);
	return pattern ? 0 : -1;
}

static int teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(pattern);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh base and no overlay. */
static void fresh(void)
{
	unlink(ovlp);
	write_file(base, pattern, BASE_SIZE);
}

static struct block_dev *open_snapshot(void)
{
	struct block_open_opts o = { .snapshot = true };
	struct block_dev *bd = block_open(base, &o, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL(bd);
	if (!bd)
		printf("\n    open: %s\n", err);
	return bd;
}

static int bread(struct block_dev *bd, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { buf, len };

	return bd->ops->preadv(bd, &iov, 1, off);
}

static int bwrite(struct block_dev *bd, const void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { (void *)buf, len };

	return bd->ops->pwritev(bd, &iov, 1, off);
}

static bool one_line(void)
{
	return err[0] && !strchr(err, '\n');
}

static void test_raw(void)
{
	struct block_dev *bd;
	uint8_t buf[4096], zeros[4096] = { 0 };

	fresh();
	bd = block_raw_open(base, false, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(bd);
	CU_ASSERT_EQUAL(bd->size, BASE_SIZE);
	CU_ASSERT_EQUAL(bread(bd, buf, 4096, 8192), 0);
	CU_ASSERT_EQUAL(memcmp(buf, pattern + 8192, 4096), 0);
	memset(buf, 0xab, sizeof(buf));
	/* scattered over two iovecs */
	struct iovec two[2] = { { buf, 100 }, { buf + 100, 412 } };
	CU_ASSERT_EQUAL(bd->ops->pwritev(bd, two, 2, 512), 0);
	CU_ASSERT_EQUAL(bd->ops->flush(bd), 0);
	CU_ASSERT_EQUAL(bread(bd, buf, 512, 512), 0);
	CU_ASSERT_EQUAL(buf[0], 0xab);
	CU_ASSERT_EQUAL(buf[511], 0xab);
	/* out of range, also by wrapping */
	CU_ASSERT_EQUAL(bread(bd, buf, 512, BASE_SIZE - 511), -EIO);
	CU_ASSERT_EQUAL(bwrite(bd, buf, 512, UINT64_MAX - 100), -EIO);
	CU_ASSERT_EQUAL(bd->ops->write_zeroes(bd, BASE_SIZE, 1), -EIO);
	CU_ASSERT_EQUAL(bd->ops->write_zeroes(bd, 4096, 8192), 0);
	CU_ASSERT_EQUAL(bread(bd, buf, 4096, 8192), 0);
	CU_ASSERT_EQUAL(memcmp(buf, zeros, 4096), 0);
	CU_ASSERT_EQUAL(bd->ops->discard(bd, 0, 4096), 0);
	CU_ASSERT_EQUAL(bd->ops->discard(bd, 0, BASE_SIZE + 1), -EIO);
	block_close(bd);

	bd = block_raw_open(base, true, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(bd);
	CU_ASSERT_EQUAL(bwrite(bd, buf, 512, 0), -EROFS);
	CU_ASSERT_EQUAL(bd->ops->write_zeroes(bd, 0, 512), -EROFS);
	CU_ASSERT_EQUAL(bd->ops->discard(bd, 0, 512), -EROFS);
	CU_ASSERT_EQUAL(bd->ops->flush(bd), 0);
	block_close(bd);

	char path[160];
	snprintf(path, sizeof(path), "%s/empty.img", dir);
	write_file(path, "", 0);
	CU_ASSERT_PTR_NULL(block_raw_open(path, false, err, sizeof(err)));
	CU_ASSERT(strstr(err, "empty") && one_line());
	CU_ASSERT_PTR_NULL(block_raw_open(dir, true, err, sizeof(err)));
	CU_ASSERT(strstr(err, "not a regular file") && one_line());
	snprintf(path, sizeof(path), "%s/none.img", dir);
	CU_ASSERT_PTR_NULL(block_raw_open(path, true, err, sizeof(err)));
	CU_ASSERT(strstr(err, "No such file") && one_line());
}

static void test_overlay_read_through_and_write(void)
{
	uint8_t *buf = malloc(BASE_SIZE), *want = malloc(BASE_SIZE);

	fresh();
	struct block_dev *bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	CU_ASSERT_EQUAL(bd->size, BASE_SIZE);
	CU_ASSERT_EQUAL(bread(bd, buf, BASE_SIZE, 0), 0);
	CU_ASSERT_EQUAL(memcmp(buf, pattern, BASE_SIZE), 0);

	/* partial, across a cluster boundary, into the short last cluster */
	memcpy(want, pattern, BASE_SIZE);
	memset(want + CS - 100, 0x11, 300);
	memset(want + 10 * CS + 512, 0x22, 1024);
	memset(want + 4 * CS, 0x33, CS);	/* one whole cluster */
	CU_ASSERT_EQUAL(bwrite(bd, want + CS - 100, 300, CS - 100), 0);
	CU_ASSERT_EQUAL(bwrite(bd, want + 10 * CS + 512, 1024, 10 * CS + 512), 0);
	CU_ASSERT_EQUAL(bwrite(bd, want + 4 * CS, CS, 4 * CS), 0);
	CU_ASSERT_EQUAL(bwrite(bd, want, 1, BASE_SIZE), -EIO);
	CU_ASSERT_EQUAL(bread(bd, buf, BASE_SIZE, 0), 0);
	CU_ASSERT_EQUAL(memcmp(buf, want, BASE_SIZE), 0);
	CU_ASSERT(file_equals(base, pattern, BASE_SIZE));	/* the base never changes */

	/* the bits are on disk only after a flush (overlay_format.h) */
	int fd = open(ovlp, O_RDONLY);
	uint8_t bm = 0xff;
	CU_ASSERT_EQUAL(block_pread_full(fd, &bm, 1, OVL_BITMAP_OFFSET), 0);
	CU_ASSERT_EQUAL(bm, 0);
	CU_ASSERT_EQUAL(bd->ops->flush(bd), 0);
	CU_ASSERT_EQUAL(block_pread_full(fd, &bm, 1, OVL_BITMAP_OFFSET), 0);
	CU_ASSERT_EQUAL(bm, (1 << 0) | (1 << 1) | (1 << 4));
	CU_ASSERT_EQUAL(block_pread_full(fd, &bm, 1, OVL_BITMAP_OFFSET + 1), 0);
	CU_ASSERT_EQUAL(bm, 1 << 2);	/* cluster 10 */
	close(fd);

	/* reopened: the same disk */
	block_close(bd);
	bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	CU_ASSERT_EQUAL(bread(bd, buf, BASE_SIZE, 0), 0);
	CU_ASSERT_EQUAL(memcmp(buf, want, BASE_SIZE), 0);
	block_close(bd);
	CU_ASSERT(file_equals(base, pattern, BASE_SIZE));
	free(buf);
	free(want);
}

static void test_overlay_zeroes_and_discard(void)
{
	uint8_t *buf = malloc(3 * CS), zeros[4096] = { 0 };

	fresh();
	struct block_dev *bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	CU_ASSERT_EQUAL(bd->ops->write_zeroes(bd, CS / 2, 2 * CS), 0);	/* half, whole, half */
	CU_ASSERT_EQUAL(bread(bd, buf, 3 * CS, 0), 0);
	CU_ASSERT_EQUAL(memcmp(buf, pattern, CS / 2), 0);
	for (uint64_t i = CS / 2; i < CS / 2 + 2 * CS; i += 4096)
		CU_ASSERT_EQUAL(memcmp(buf + i, zeros, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(buf + CS / 2 + 2 * CS, pattern + CS / 2 + 2 * CS, CS / 2), 0);
	/* discard is a hint: nothing changes, the base least of all */
	CU_ASSERT_EQUAL(bd->ops->discard(bd, 0, CS), 0);
	CU_ASSERT_EQUAL(bd->ops->discard(bd, 0, BASE_SIZE + 1), -EIO);
	block_close(bd);
	CU_ASSERT(file_equals(base, pattern, BASE_SIZE));

	struct block_open_opts ro = { .snapshot = true, .readonly = true };
	bd = block_open(base, &ro, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(bd);
	CU_ASSERT_EQUAL(bwrite(bd, buf, 512, 0), -EROFS);
	CU_ASSERT_EQUAL(bd->ops->write_zeroes(bd, 0, 512), -EROFS);
	CU_ASSERT_EQUAL(bread(bd, buf, 512, CS), 0);
	CU_ASSERT_EQUAL(memcmp(buf, zeros, 512), 0);
	block_close(bd);
	free(buf);
}

static void test_commit_and_discard(void)
{
	uint8_t *want = malloc(BASE_SIZE);
	char msg[512];

	fresh();
	memcpy(want, pattern, BASE_SIZE);
	struct block_dev *bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	memset(want + 3 * CS + 7, 0x44, 5000);
	memset(want + 10 * CS, 0x55, BASE_SIZE - 10 * CS);	/* the short cluster */
	CU_ASSERT_EQUAL(bwrite(bd, want + 3 * CS + 7, 5000, 3 * CS + 7), 0);
	CU_ASSERT_EQUAL(bwrite(bd, want + 10 * CS, BASE_SIZE - 10 * CS, 10 * CS), 0);
	/* in use: the tools keep off */
	CU_ASSERT_EQUAL(overlay_commit(ovlp, msg, sizeof(msg), err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "in use") && one_line());
	CU_ASSERT_EQUAL(overlay_discard(ovlp, err, sizeof(err)), -1);
	block_close(bd);

	CU_ASSERT_EQUAL(overlay_commit(ovlp, msg, sizeof(msg), err, sizeof(err)), 0);
	CU_ASSERT(strstr(msg, "committed 2 clusters") != NULL);
	CU_ASSERT(file_equals(base, want, BASE_SIZE));	/* same size, new bytes */
	CU_ASSERT_EQUAL(access(ovlp, F_OK), -1);

	/* discard: the base as it was, the overlay gone */
	bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	CU_ASSERT_EQUAL(bwrite(bd, pattern, 4096, 0), 0);
	block_close(bd);
	CU_ASSERT_EQUAL(overlay_discard(ovlp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(access(ovlp, F_OK), -1);
	CU_ASSERT(file_equals(base, want, BASE_SIZE));
	/* discard deletes only overlays */
	CU_ASSERT_EQUAL(overlay_discard(base, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "not a hyvm overlay") && one_line());
	CU_ASSERT(file_equals(base, want, BASE_SIZE));
	free(want);
}

static void touch_base(long sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, base, ts, 0), 0);
}

static void test_changed_base_refused(void)
{
	char msg[512];
	struct block_open_opts o = { .snapshot = true };

	fresh();
	struct block_dev *bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	CU_ASSERT_EQUAL(bwrite(bd, pattern, 512, 0), 0);
	block_close(bd);
	touch_base(1000000);
	CU_ASSERT_PTR_NULL(block_open(base, &o, err, sizeof(err)));
	CU_ASSERT(strstr(err, "changed since the overlay was made (it was modified)") && one_line());
	CU_ASSERT_EQUAL(overlay_commit(ovlp, msg, sizeof(msg), err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "changed since") != NULL);
	CU_ASSERT(file_equals(base, pattern, BASE_SIZE));
	/* a base of another size */
	fresh();
	bd = open_snapshot();
	block_close(bd);
	write_file(base, pattern, BASE_SIZE - 512);
	CU_ASSERT_PTR_NULL(block_open(base, &o, err, sizeof(err)));
	CU_ASSERT(strstr(err, "its size differs") && one_line());
	/* an overlay of another base */
	fresh();
	char other[160];
	snprintf(other, sizeof(other), "%s/other.img", dir);
	write_file(other, pattern, 4096);
	struct block_open_opts oo = { .snapshot = true, .overlay_path = ovlp };
	bd = open_snapshot();
	block_close(bd);
	CU_ASSERT_PTR_NULL(block_open(other, &oo, err, sizeof(err)));
	CU_ASSERT(strstr(err, "belongs to") && one_line());
}

static void test_interrupted_commit(void)
{
	struct ovl_info oi;
	char msg[512];

	fresh();
	struct block_dev *bd = open_snapshot();
	CU_ASSERT_FATAL(bd != NULL);
	uint8_t x[512];
	memset(x, 0x66, sizeof(x));
	CU_ASSERT_EQUAL(bwrite(bd, x, 512, 2 * CS), 0);
	block_close(bd);
	/* as if a commit had marked it and written part of the base */
	int fd = open(ovlp, O_RDWR);
	CU_ASSERT_EQUAL_FATAL(ovl_read(fd, ovlp, &oi, err, sizeof(err)), 0);
	oi.h.flags |= OVL_FLAG_COMMITTING;
	CU_ASSERT_EQUAL(ovl_write_header(fd, &oi.h), 0);
	close(fd);
	touch_base(2000000);
	struct block_open_opts o = { .snapshot = true };
	CU_ASSERT_PTR_NULL(block_open(base, &o, err, sizeof(err)));
	CU_ASSERT(strstr(err, "interrupted") && one_line());
	CU_ASSERT_EQUAL(overlay_commit(ovlp, msg, sizeof(msg), err, sizeof(err)), 0);
	CU_ASSERT(strstr(msg, "finished") != NULL);
	uint8_t *want = malloc(BASE_SIZE);
	memcpy(want, pattern, BASE_SIZE);
	memset(want + 2 * CS, 0x66, 512);
	CU_ASSERT(file_equals(base, want, BASE_SIZE));
	free(want);
}

/* Rewrites the header through f, then expects open and the tools to
 * refuse with fragment. raw_byte >= 0: flip that byte instead (no CRC). */
static void expect_bad_header(void (*f)(struct ovl_header *), int raw_byte, const char *fragment)
{
	struct ovl_info oi;
	char msg[512];

	fresh();
	struct block_dev *bd = open_snapshot();
	block_close(bd);
	int fd = open(ovlp, O_RDWR);
	CU_ASSERT_EQUAL_FATAL(ovl_read(fd, ovlp, &oi, err, sizeof(err)), 0);
	if (f) {
		f(&oi.h);
		CU_ASSERT_EQUAL(ovl_write_header(fd, &oi.h), 0);
	} else {
		uint8_t b;
		block_pread_full(fd, &b, 1, (uint64_t)raw_byte);
		b ^= 0x40;
		block_pwrite_full(fd, &b, 1, (uint64_t)raw_byte);
	}
	close(fd);
	CU_ASSERT_PTR_NULL(block_overlay_open(ovlp, false, err, sizeof(err)));
	if (!strstr(err, fragment))
		printf("\n    wanted '%s', got '%s'\n", fragment, err);
	CU_ASSERT(strstr(err, fragment) && one_line());
	CU_ASSERT_EQUAL(overlay_commit(ovlp, msg, sizeof(msg), err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, fragment) != NULL);
	CU_ASSERT_EQUAL(overlay_info(ovlp, stdout, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(overlay_discard(ovlp, err, sizeof(err)), -1);
	CU_ASSERT(file_equals(base, pattern, BASE_SIZE));
}

static void bump_version(struct ovl_header *h) { h->version = 2; }
static void bad_cluster(struct ovl_header *h) { h->cluster_bits = 40; }
static void bad_layout(struct ovl_header *h) { h->bitmap_bytes += 4096; }
static void bad_flags(struct ovl_header *h) { h->flags = 0x80; }
static void bad_path_len(struct ovl_header *h) { h->base_path_len = 5000; }
static void zero_size(struct ovl_header *h) { h->base_size = 0; }
static void huge_size(struct ovl_header *h) { h->base_size = UINT64_MAX; }

static void test_bad_headers(void)
{
	expect_bad_header(NULL, 0, "no HYVMOVL magic");
	expect_bad_header(bump_version, -1, "overlay format version 2; this hyvm reads version 1");
	expect_bad_header(NULL, 30, "corrupt (checksum mismatch)");
	expect_bad_header(NULL, OVL_PATH_OFFSET + 3, "corrupt (base path checksum)");
	expect_bad_header(bad_cluster, -1, "corrupt (cluster size)");
	expect_bad_header(bad_layout, -1, "corrupt (layout)");
	expect_bad_header(bad_flags, -1, "corrupt (unknown flags)");
	expect_bad_header(bad_path_len, -1, "corrupt (base path length)");
	expect_bad_header(zero_size, -1, "corrupt (base size)");
	expect_bad_header(huge_size, -1, "corrupt (base size)");

	/* a truncated overlay */
	fresh();
	block_close(open_snapshot());
	CU_ASSERT_EQUAL(truncate(ovlp, 8192), 0);
	CU_ASSERT_PTR_NULL(block_overlay_open(ovlp, false, err, sizeof(err)));
	CU_ASSERT(strstr(err, "shorter than its bitmap") && one_line());
	CU_ASSERT_EQUAL(truncate(ovlp, 100), 0);
	CU_ASSERT_PTR_NULL(block_overlay_open(ovlp, false, err, sizeof(err)));
	CU_ASSERT(strstr(err, "shorter than its header") && one_line());
	/* something else entirely */
	CU_ASSERT_PTR_NULL(block_overlay_open(dir, false, err, sizeof(err)));
	CU_ASSERT(one_line());
	unlink(ovlp);
}

UNIT_SUITE(block, setup, teardown,
	   UNIT_TEST(test_raw),
	   UNIT_TEST(test_overlay_read_through_and_write),
	   UNIT_TEST(test_overlay_zeroes_and_discard),
	   UNIT_TEST(test_commit_and_discard),
	   UNIT_TEST(test_changed_base_refused),
	   UNIT_TEST(test_interrupted_commit),
	   UNIT_TEST(test_bad_headers))

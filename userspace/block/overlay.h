/*
 * The undoable overlay (format and crash rules: overlay_format.h): the
 * header's checks shared by the VM's block device (block_overlay.c) and
 * the `hyvm disk` tools (overlay_tool.c).
 */
#ifndef HYVM_OVERLAY_H
#define HYVM_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "block/block.h"
#include "block/overlay_format.h"

/* A validated header with its base path. */
struct ovl_info {
	struct ovl_header h;
	char base_path[OVL_PATH_MAX + 1];
	uint64_t clusters;
};

uint32_t ovl_crc32(const void *buf, size_t len);
/* Reads and checks fd's header (magic, version, CRCs, layout against the
 * base size); 0, or -1 with one line in err naming path. */
int ovl_read(int fd, const char *path, struct ovl_info *oi, char *err, size_t errlen);
/* Writes sector 0 (with a fresh CRC) and fdatasyncs. */
int ovl_write_header(int fd, struct ovl_header *h);
/* Whether base_fd is the base the overlay was made from: 0, or -1 with
 * one line in err. Size and inode always; the mtime too unless
 * ignore_mtime (an interrupted commit changed it). */
int ovl_check_base(const struct ovl_info *oi, int base_fd, const char *ovl_path,
		   bool ignore_mtime, char *err, size_t errlen);
/* Creates a new, empty overlay at ovl_path over base_path (O_EXCL). */
int ovl_create(const char *ovl_path, const char *base_path, char *err, size_t errlen);
/* fsync of path's directory: a created or deleted name is durable. */
void ovl_sync_dir(const char *path);
/* flock(LOCK_NB) with a message naming who holds it. */
int ovl_lock(int fd, const char *path, bool exclusive, char *err, size_t errlen);

/* The VM's view: reads from the overlay where written, else the base. */
struct block_dev *block_overlay_open(const char *ovl_path, bool readonly,
				     char *err, size_t errlen);

/* For checkpoints (checkpoint/ckpt_disk.c): whether bd is an overlay; its
 * cluster size; each written cluster in ascending order, read whole
 * (the last one may be short) and given to fn (a non-zero return stops
 * the walk and is returned); and a reset to empty (every cluster reads
 * from the base again), flushed. Errors: negative errno. */
bool block_is_overlay(const struct block_dev *bd);
uint64_t block_overlay_cluster_size(const struct block_dev *bd);
int block_overlay_each_cluster(struct block_dev *bd,
			       int (*fn)(void *ctx, uint64_t off, const void *data, size_t len),
			       void *ctx);
int block_overlay_reset(struct block_dev *bd);

/* hyvm disk: merge into the base and delete; delete; describe. 0, or -1
 * with one line in err (refused: nothing changed); commit returns -2
 * when it failed after it began changing the base (run it again). commit
 * says what it did in msg. */
int overlay_commit(const char *ovl_path, char *msg, size_t msglen, char *err, size_t errlen);
int overlay_discard(const char *ovl_path, char *err, size_t errlen);
int overlay_info(const char *ovl_path, FILE *out, char *err, size_t errlen);

/* BASE.overlay, where `--disk BASE,snapshot` keeps its overlay unless
 * told otherwise. */
void overlay_default_path(const char *base, char *out, size_t outlen);

#endif

/*
 * The undoable disk's overlay file: what `--disk FILE,snapshot` writes
 * instead of FILE, and what `hyvm disk commit|discard|info` work on.
 *
 * Layout (all integers little-endian):
 *
 *   0     sector 0, the header proper (struct ovl_header, 512 bytes, one
 *         sector so that a header update is one atomic sector write)
 *   512   the base image's absolute path, base_path_len bytes, no NUL
 *         (at most OVL_PATH_MAX), checked by path_crc
 *   4096  the bitmap: bit (i % 8) of byte i / 8 set = cluster i of the
 *         disk is in the overlay; bitmap_bytes = ceil(clusters / 8)
 *         rounded up to 4096
 *   data_offset (= 4096 + bitmap_bytes rounded up to a cluster)
 *         cluster i at data_offset + i * cluster_size, for every cluster
 *         of the disk; the file is sparse, so only written clusters take
 *         space. The last cluster may run past the base's size: those
 *         bytes are never read.
 *
 * The base's identity, checked at every open: its size, its mtime in
 * nanoseconds and its inode number when the overlay was made. A base
 * that differs was changed behind the overlay's back (its clusters would
 * mix two disks) and is refused with one line.
 *
 * Crash safety (SIGKILL or power loss at any moment):
 *  - the base is opened read-only and never written, except by commit;
 *  - a cluster's data is written (whole: the base's bytes around a
 *    partial write are copied in first) before its bitmap bit exists on
 *    disk: bits live in memory until a FLUSH, which is fdatasync (data
 *    durable), then the bitmap sectors, then fdatasync again. So the
 *    bitmap on disk only names durable clusters, and every write the
 *    guest flushed is readable after a crash. Writes after the last flush
 *    may be lost, as on a real disk without its cache flushed.
 *  - commit first sets OVL_FLAG_COMMITTING in the header (fdatasync),
 *    copies every cluster the bitmap names into the base, fdatasyncs the
 *    base and only then deletes the overlay. A commit interrupted at any
 *    point is simply run again: it copies the same clusters (the base's
 *    mtime changed meanwhile, so with the flag only its size and inode
 *    are checked). A VM refuses an overlay with the flag set.
 *
 * Locks: a VM holds an exclusive flock on the overlay and a shared one
 * on the base; commit an exclusive one on both, discard on the overlay.
 */
#ifndef HYVM_OVERLAY_FORMAT_H
#define HYVM_OVERLAY_FORMAT_H

#include <stdint.h>

#define OVL_MAGIC		"HYVMOVL\x1a"	/* 8 bytes */
#define OVL_VERSION		1
#define OVL_HEADER_BYTES	512
#define OVL_PATH_OFFSET		512
#define OVL_PATH_MAX		(4096 - OVL_PATH_OFFSET)
#define OVL_BITMAP_OFFSET	4096
#define OVL_CLUSTER_BITS	16		/* 64 KiB clusters, as qcow2's default */
#define OVL_CLUSTER_BITS_MIN	12
#define OVL_CLUSTER_BITS_MAX	21
#define OVL_FLAG_COMMITTING	1u
#define OVL_MAX_BASE_SIZE	(1ull << 50)	/* 1 PiB: keeps the arithmetic far from overflow */

struct ovl_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;		/* OVL_HEADER_BYTES */
	uint32_t cluster_bits;
	uint32_t flags;			/* OVL_FLAG_* */
	uint64_t base_size;		/* the disk's size, bytes */
	uint64_t base_mtime_ns;
	uint64_t base_ino;
	uint64_t bitmap_offset;		/* OVL_BITMAP_OFFSET */
	uint64_t bitmap_bytes;
	uint64_t data_offset;
	uint32_t base_path_len;
	uint32_t path_crc;		/* CRC-32 of the path bytes */
	uint8_t reserved[OVL_HEADER_BYTES - 80 - 4];
	uint32_t header_crc;		/* CRC-32 (IEEE) of the 508 bytes before it */
};

_Static_assert(sizeof(struct ovl_header) == OVL_HEADER_BYTES, "one sector");

#endif

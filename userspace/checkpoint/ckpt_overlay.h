/*
 * A snapshot disk's overlay copied into the checkpoint (OVERLAY section,
 * docs/checkpoint-format.md): the guest's writes since the base live
 * only in the overlay, so the checkpoint carries them and a restore puts
 * the overlay back to exactly that, whatever happened to the overlay
 * file since (the VM ran on, or the file was deleted). The base's
 * identity is checked by the overlay itself when the restore opens it
 * (size, inode, mtime: block/overlay.h). Payload:
 *   u32 + bytes drive id | u64 disk size | u64 cluster size
 *   | clusters to the end: u64 byte offset, u32 length, the bytes
 * Clusters ascend and do not overlap; each is whole (the disk's last one
 * may be short).
 */
#ifndef HYVM_CKPT_OVERLAY_H
#define HYVM_CKPT_OVERLAY_H

#include <stddef.h>
#include "checkpoint/ckpt_file.h"

struct block_dev;

/* The OVERLAY section of drive id (a writable overlay), after a flush. */
int ckpt_overlay_save(struct ckpt_writer *w, const char *id, struct block_dev *bd,
		      char *err, size_t errlen);
/* Resets the VM's overlay of the section's drive and writes the
 * section's clusters into it, flushed: 0, or -1 with one line. */
int ckpt_overlay_load(struct ckpt_reader *r, const struct ckpt_section_info *s,
		      char *err, size_t errlen);

#endif

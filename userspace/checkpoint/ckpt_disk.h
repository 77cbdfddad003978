/*
 * The disks in a checkpoint. A plain disk's bytes stay in its file: the
 * save flushes every disk (after virtio-blk drained its requests) and
 * records each one's identity: drive id, the file hyvm writes, its size,
 * mtime in ns and inode. A restore opens the disks from the same command
 * line and refuses one whose file changed since, since the guest's
 * filesystem in RAM would not match it. A writable snapshot disk's
 * overlay is copied into the checkpoint instead (ckpt_overlay.h), so a
 * save never loses the guest's writes to it.
 */
#ifndef HYVM_CKPT_DISK_H
#define HYVM_CKPT_DISK_H

#include <stddef.h>
#include <stdint.h>
#include "checkpoint/ckpt_file.h"

struct vm;

int ckpt_disks_save(struct ckpt_writer *w, struct vm *vm, char *err, size_t errlen);
/* One DISK section's payload against the VM's disks: 0, or -1 + err. */
int ckpt_disk_check(struct vm *vm, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif

/*
 * hyvm run's disks: --disk FILE[,KEY=VAL...] and QEMU's
 * --drive file=FILE,if=virtio[,KEY=VAL...]. Each opens an image (raw,
 * read-only, or undoable through an overlay) under a drive id and adds
 * a virtio-blk device that uses it. Keys: format=raw, readonly[=on|off],
 * snapshot[=on|off], overlay=PATH (where snapshot's writes go),
 * cache=writeback, id=ID, if=virtio.
 */
#ifndef HYVM_RUN_DISKS_H
#define HYVM_RUN_DISKS_H

#include <stdbool.h>
#include <stddef.h>
#include "vmm/machine.h"

#define RUN_MAX_DISKS 8

/* Checks spec's syntax and keeps it (qemu_style: --drive's file=).
 * 0, or -1 with one line in err. */
int run_disks_add(const char *spec, bool qemu_style, char *err, size_t errlen);
/* Opens every disk, registers it (block_registry.h) and appends a
 * virtio-blk device per disk to devs (*nr of max used). 0, or -1 with
 * one line in err. */
int run_disks_open(struct machine_device *devs, unsigned *nr, unsigned max,
		   char *err, size_t errlen);
/* Closes them (after the VM is gone). */
void run_disks_close(void);

#endif

/*
 * The disks hyvm run opened, by QEMU's drive id: --disk opens an image
 * (errors are the user's, reported before the VM exists) and names it;
 * the virtio-blk device model finds it by its drive= key. The registry
 * owns the disks from then on.
 */
#ifndef HYVM_BLOCK_REGISTRY_H
#define HYVM_BLOCK_REGISTRY_H

#include <stddef.h>
#include "block/block.h"

#define BLOCK_ID_MAX 32

/* 0, or -1 with one line in err (id taken, too long). */
int block_registry_add(const char *id, struct block_dev *bd, char *err, size_t errlen);
struct block_dev *block_registry_find(const char *id);
/* Closes the disk registered as id and forgets it (tests, which open
 * disks of their own; the devices using it must be gone); 0 or -1 when
 * no disk has that id. */
int block_registry_remove(const char *id);
/* Closes every registered disk (the end of hyvm run). */
void block_registry_close_all(void);

#endif

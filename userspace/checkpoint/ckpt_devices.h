/*
 * Every device's saved state for a checkpoint, taken as one moment of the
 * machine: each model's quiesce first, then each save.
 */
#ifndef HYVM_CKPT_DEVICES_H
#define HYVM_CKPT_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include "vmm/machine.h"

/* blob[i] (malloc'd, blob_len[i] bytes) for devs[i], i < n. Every model's
 * quiesce runs before any save, so an interrupt a device raises while it
 * finishes its work in flight is in the interrupt controllers' saved
 * state whatever the devices' order. 0, or -1 with one line in err; the
 * caller frees blob[] either way (it starts all NULL). */
int ckpt_devices_save(const struct device_instance *devs, unsigned n, uint8_t **blob,
		      size_t *blob_len, char *err, size_t errlen);

#endif

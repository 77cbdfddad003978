/*
 * The devices' part of a checkpoint (ckpt_devices.h).
 *
 * Why quiesce comes first: the machine's order saves the LAPIC and the
 * IOAPIC before virtio-blk, and virtio-blk's save finished the requests
 * in flight and signalled them (an MSI-X message into the LAPIC's IRR)
 * after the LAPIC's state was taken. The checkpoint then held a used ring
 * with the completion but no interrupt for it, and Linux restored from it
 * waited for that interrupt forever (issue 14: tests/linux/ckpt-disk.sh
 * hung in about half the runs, every restore of such a file alike).
 */
#include <stdio.h>
#include "checkpoint/ckpt_devices.h"
#include "devices/device.h"
#include "devices/device_state.h"

int ckpt_devices_save(const struct device_instance *devs, unsigned n, uint8_t **blob,
		      size_t *blob_len, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++)
		if (devs[i].model->quiesce)
			devs[i].model->quiesce(devs[i].state);
	for (unsigned i = 0; i < n; i++)
		if (device_state_save(devs[i].model, devs[i].state, &blob[i], &blob_len[i],
				      err, errlen) < 0) {
			snprintf(err, errlen, "cannot checkpoint: device %s has no saved state yet",
				 devs[i].model->name);
			return -1;
		}
	return 0;
}

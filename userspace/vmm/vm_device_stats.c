/*
 * The devices' own counters (device_model.counters: a virtio device's
 * refusals of its driver) into the statistics file, where hyvm top shows
 * them: at most every STATS_PUBLISH_NS from the run loop, and once more
 * when the run ends. Each instance is named by its model and its index
 * among the instances of that model ("virtio-blk0", "virtio-net0").
 */
#include <stdio.h>
#include <string.h>
#include "stats/stats.h"
#include "vmm/vm_internal.h"

void vm_publish_device_counters(struct vm *vm, bool now)
{
	struct stats_device_counter out[STATS_MAX_DEVICE_COUNTERS];
	unsigned n = 0;
	uint64_t t;

	if (!vm->stats)
		return;
	t = stats_now_ns();
	if (!now && t < vm->next_device_stats_ns)
		return;
	vm->next_device_stats_ns = t + STATS_PUBLISH_NS;
	for (unsigned i = 0; i < vm->nr_devices && n < STATS_MAX_DEVICE_COUNTERS; i++) {
		const struct device_model *m = vm->devices[i].model;
		struct device_counter c[8];
		unsigned index = 0, k;

		if (!m->counters)
			continue;
		for (unsigned j = 0; j < i; j++)
			index += vm->devices[j].model == m;
		k = m->counters(vm->devices[i].state, c, 8);
		for (unsigned j = 0; j < k && n < STATS_MAX_DEVICE_COUNTERS; j++, n++) {
			snprintf(out[n].device, sizeof(out[n].device), "%s%u", m->name, index);
			snprintf(out[n].name, sizeof(out[n].name), "%s", c[j].name);
			out[n].value = c[j].value;
		}
	}
	stats_publish_devices(vm->stats, out, n);
}

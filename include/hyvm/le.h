/*
 * Little-endian fields of N bytes (N <= 8) in byte buffers: the x86
 * guest's own byte order, used wherever hyvm reads or writes a structure
 * it shares with the guest or a file (fw_cfg items, ACPI tables, virtio
 * configuration, checkpoints), so no code depends on the host's order or
 * on unaligned access.
 */
#ifndef HYVM_LE_H
#define HYVM_LE_H

#include <stdint.h>

static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif

/*
 * Small helpers the device models share: the clock, IRQ lines that may not
 * be wired yet, BCD, and byte-at-a-time dispatch for 8-bit ISA devices.
 * Private to devices/.
 */
#ifndef HYVM_DEVICE_UTIL_H
#define HYVM_DEVICE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "devices/device.h"
#include "devices/device_config.h"
#include "devices/device_state.h"

static inline uint64_t device_now(const struct device_env *env)
{
	if (env->now_ns)
		return env->now_ns(env->clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The device (source, its state) drives interrupt line gsi to level; a
 * line several devices share is the wired-OR of their levels. */
static inline void device_set_irq(const struct device_env *env,
				  const void *source, unsigned gsi, bool level)
{
	if (env->irq)
		irq_router_set(env->irq, source, gsi, level);
}

/* An edge for an edge-triggered controller input. */
static inline void device_pulse_irq(const struct device_env *env,
				    const void *source, unsigned gsi)
{
	device_set_irq(env, source, gsi, true);
	device_set_irq(env, source, gsi, false);
}

static inline void device_request_stop(const struct device_env *env,
				       int reason, int status)
{
	if (env->request_stop)
		env->request_stop(env->stop_ctx, reason, status);
}

static inline void device_set_a20(const struct device_env *env, bool enabled)
{
	if (env->set_a20)
		env->set_a20(env->a20_ctx, enabled);
}

/* The create error when a range is taken (another instance is there). */
static inline void *device_ports_taken(char *err, size_t errlen,
				       const char *model, unsigned base)
{
	snprintf(err, errlen, "device %s: ports at 0x%x are taken", model, base);
	return NULL;
}

static inline void *device_no_memory(char *err, size_t errlen, const char *model)
{
	snprintf(err, errlen, "device %s: out of memory", model);
	return NULL;
}

static inline uint8_t bin_to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static inline unsigned bcd_to_bin(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Little-endian value of an access of len bytes (len <= 8). */
static inline uint64_t access_value(const uint8_t *data, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

/* An 8-bit ISA device sees a wider IN/OUT as consecutive byte cycles. */
typedef uint8_t (*byte_read_fn)(void *dev, unsigned offset);
typedef void (*byte_write_fn)(void *dev, unsigned offset, uint8_t value);

static inline void access_bytewise(void *dev, unsigned offset, uint8_t *data,
				   unsigned len, bool is_write,
				   byte_read_fn rd, byte_write_fn wr)
{
	for (unsigned i = 0; i < len; i++) {
		if (is_write)
			wr(dev, offset + i, data[i]);
		else
			data[i] = rd(dev, offset + i);
	}
}

#endif

/*
 * What a device model sees of the machine, and how it plugs in.
 * Devices register their port/MMIO ranges on the buses and raise IRQ lines;
 * they never see an engine or a vCPU. Each device file registers itself
 * with DEVICE_REGISTER, so the machine never lists devices by hand.
 */
#ifndef HYVM_DEVICE_H
#define HYVM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "vmm/bus.h"
#include "vmm/irq_router.h"

struct device_env {
	struct bus *pio;
	struct bus *mmio;
	/* The interrupt lines (GSIs): devices drive them, interrupt
	 * controllers listen on them and answer the VMM per vCPU. */
	struct irq_router *irq;
	/* Monotonic nanoseconds; tests substitute a fake clock. */
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
	/* Wall-clock time for the RTC; NULL means the host's CLOCK_REALTIME.
	 * Tests set it to step across second boundaries deterministically. */
	struct timespec (*wall_time)(void *ctx);
	/* Ask the VMM to stop the guest: debug-exit, reset, power-off. */
	void (*request_stop)(void *ctx, int reason, int status);
	void *stop_ctx;
	uint64_t ram_size;
	int input_fd;		/* UART input (-1: none) */
	int output_fd;		/* UART output */
};

enum stop_reason {
	STOP_DEBUG_EXIT,	/* status = (value << 1) | 1 */
	STOP_RESET,		/* i8042 0xFE, port 0x92 bit 0 */
	STOP_POWEROFF,
};

/* Init levels, kvmtool-style: core first (interrupt controller), then the
 * rest, which may raise IRQs from their init. */
enum device_level { DEVICE_LEVEL_CORE, DEVICE_LEVEL_BASE, DEVICE_LEVEL_DEV };

struct device_model {
	const char *name;
	enum device_level level;
	/* Registers ranges; returns the device state or NULL on failure. */
	void *(*create)(struct device_env *env);
	/* Called by the VMM between guest runs: timers, pending input. */
	void (*poll)(void *dev, uint64_t now_ns);
	/* Next time poll has work (UINT64_MAX: none). */
	uint64_t (*next_deadline)(void *dev);
	void (*destroy)(void *dev);
	struct device_model *next;
};

void device_model_register(struct device_model *m);
/* All registered models, sorted by level. */
struct device_model *device_models(void);

#define DEVICE_REGISTER(model)						\
	__attribute__((constructor)) static void register_##model(void)	\
	{ device_model_register(&(model)); }

#endif

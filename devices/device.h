/*
 * What a device model sees of the machine, and how it plugs in.
 * Devices register their port/MMIO ranges on the buses and raise IRQ lines;
 * they never see an engine or a vCPU. Each device file registers itself
 * with DEVICE_REGISTER, so the machine never lists devices by hand.
 */
#ifndef HYVM_DEVICE_H
#define HYVM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "vmm/bus.h"
#include "vmm/irq_router.h"
#include "vmm/dma_mem.h"

struct pci_bus;

struct device_env {
	struct bus *pio;
	struct bus *mmio;
	/* Bus 0's 32 slots (devices/pci/pci.h): a PCI function registers
	 * here from its create; NULL on a machine without PCI. */
	struct pci_bus *pci;
	/* The interrupt lines (GSIs): devices drive them, interrupt
	 * controllers listen on them and answer the VMM per vCPU. */
	struct irq_router *irq;
	/* Monotonic nanoseconds; tests substitute a fake clock. */
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
	/* The MSRs that belong to devices (engine_msr_to_vmm, engines/
	 * engine.h): each MSR is 8 bytes of this bus at DEVICE_MSR_ADDR(vcpu,
	 * index), which a device registers with length DEVICE_MSR_LEN; an
	 * access is all 8, the value little-endian; the VMM raises #GP(0)
	 * for one nobody claims. NULL: none routed. */
	struct bus *msr;
	/* A value of vCPU vcpu's TSC as a time of now_ns (the VMM knows the
	 * TSC's rate and the guest's offset; SDM Vol. 3B, 18.17): valid
	 * while the device answers an MSR access of that vCPU. A value in
	 * the past gives a time at or before now; never 0. */
	uint64_t (*tsc_to_ns)(void *ctx, unsigned vcpu, uint64_t tsc);
	void *tsc_ctx;
	/* Wall-clock time for the RTC; NULL means the host's CLOCK_REALTIME.
	 * Tests set it to step across second boundaries deterministically. */
	struct timespec (*wall_time)(void *ctx);
	/* Ask the VMM to stop the guest: debug-exit, reset, power-off. */
	void (*request_stop)(void *ctx, int reason, int status);
	void *stop_ctx;
	/* The A20 gate line to the CPU (PC AT: the 8042's output port bit 1;
	 * PS/2: system control port A, 0x92, bit 1). Like QEMU's a20_out,
	 * one line that the last writer sets; the device does not know what
	 * masks address bit 20. NULL: nobody listens (unit tests may). */
	void (*set_a20)(void *ctx, bool enabled);
	void *a20_ctx;
	uint64_t ram_size;
	/* Guest RAM for DMA (descriptors, rings, buffers): bounds-checked,
	 * see vmm/dma_mem.h. */
	struct dma_mem mem;
	/* Call ready(opaque) on the vCPU thread, between guest runs, while
	 * fd is readable; a guest halted in HLT wakes for it too
	 * (vmm/fd_watch.h). 0, or -1 (too many, or watched already).
	 * NULL where no VMM loop runs (unit tests): a device then looks
	 * at its fd in its poll op. */
	int (*watch_fd)(void *ctx, int fd, void (*ready)(void *opaque), void *opaque);
	void (*unwatch_fd)(void *ctx, int fd);
	void *watch_ctx;
	int input_fd;		/* UART input (-1: none) */
	int output_fd;		/* UART output */
};

#define DEVICE_MSR_LEN	8
#define DEVICE_MSR_ADDR(vcpu, index) \
	((((uint64_t)(vcpu) << 32) | (uint32_t)(index)) * DEVICE_MSR_LEN)

enum stop_reason {
	STOP_DEBUG_EXIT,	/* status = (value << 1) | 1 */
	STOP_RESET,		/* i8042 0xFE, port 0x92 bit 0 */
	STOP_POWEROFF,
};

/* Init levels as kvmtool has them: core first (the interrupt controller),
 * then base (timers), PCI, plain devices, virtio, firmware tables, late.
 * A device may raise an interrupt line from its create, so its controller
 * must exist by then. */
enum device_level {
	DEVICE_LEVEL_CORE, DEVICE_LEVEL_BASE, DEVICE_LEVEL_PCI, DEVICE_LEVEL_DEV,
	DEVICE_LEVEL_VIRTIO, DEVICE_LEVEL_FIRMWARE, DEVICE_LEVEL_LATE,
	DEVICE_LEVEL_COUNT
};

struct ds_writer;
struct ds_reader;

/* One counter of device_model.counters: a name that lives as long as
 * the model, and its value now. */
struct device_counter {
	const char *name;
	uint64_t value;
};

/* A device model; the machine description creates instances of it, each
 * with its own configuration string. */
struct device_model {
	const char *name;
	enum device_level level;
	unsigned state_version;	/* of what save writes (device_state.h) */
	/* create refuses the defaults: an instance must name what it uses
	 * (virtio-blk: drive=ID, a disk hyvm run opened). Tests that create
	 * every model give such a model a configuration of their machine's
	 * instead of skipping it (tests/unit/fake_device_env.h). */
	bool needs_config;
	/* config: NULL or "" (the defaults), or "key=value,..." as the model
	 * documents. Registers ranges; returns the instance, or NULL with one
	 * line in err (bad configuration, ports taken, no memory). */
	void *(*create)(struct device_env *env, const char *config,
			char *err, size_t errlen);
	/* Back to the power-on state, keeping the configuration. */
	void (*reset)(void *dev);
	/* Writes the guest-visible state; load reads what a save of any
	 * version up to state_version wrote, into a copy it keeps only when
	 * the reader is good at the end (ds_done). */
	void (*save)(void *dev, struct ds_writer *w);
	/* Optional: finishes the work in flight, raising its interrupts as it
	 * would have, so that save has nothing half-done to write. A
	 * checkpoint quiesces every device before it saves any
	 * (checkpoint/ckpt_devices.c): an interrupt raised here must reach
	 * the controllers' saved state, and they are saved first. */
	void (*quiesce)(void *dev);
	int (*load)(void *dev, struct ds_reader *r, unsigned version);
	/* Called by the VMM between guest runs: timers, pending input. */
	void (*poll)(void *dev, uint64_t now_ns);
	/* Optional: the machine's power button was pressed (QMP
	 * system_powerdown); the ACPI PM block's is its only user. */
	void (*power_button)(void *dev);
	/* Next time poll has work (UINT64_MAX: none). */
	uint64_t (*next_deadline)(void *dev);
	/* Optional: one line (no newline) of the state that decides the
	 * guest's interrupts and timers at now_ns, for the report of a
	 * stopped guest (vmm/vm_report.h: where a stalled guest was). */
	void (*describe)(void *dev, uint64_t now_ns, char *buf, size_t len);
	/* Optional: the model's own counters (e.g. a virtio device's
	 * refusals of its driver), up to max into out; how many. The VMM
	 * publishes them in the statistics file (stats.h). */
	unsigned (*counters)(void *dev, struct device_counter *out, unsigned max);
	void (*destroy)(void *dev);
	struct device_model *next;
};

void device_model_register(struct device_model *m);
/* All registered models, sorted by level. */
struct device_model *device_models(void);
struct device_model *device_model_find(const char *name);

#define DEVICE_REGISTER(model)						\
	__attribute__((constructor)) static void register_##model(void)	\
	{ device_model_register(&(model)); }

#endif

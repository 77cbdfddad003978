/*
 * A fake machine for device-model tests: both buses, a PCI bus, a clock the test
 * advances by hand, a real interrupt router with a recorder listening on
 * every line, a stop recorder and pipes standing in
 * for the UART's stdin/stdout, guest RAM for DMA (fake_guest_ram.h, the
 * PC memory map of ram_size, env.mem), the VMM's real fd watching
 * (vmm/fd_watch.h: env.watch_fd; fake_poll_all and fake_wait_fds run the
 * callbacks, as the run loop does between guest runs) and, for models
 * that need a configuration (device_model.needs_config), what it names:
 * a disk for virtio-blk (fake_disk.h). Devices are created by name from the real
 * registry, so the tests also exercise DEVICE_REGISTER.
 */
#ifndef HYVM_FAKE_DEVICE_ENV_H
#define HYVM_FAKE_DEVICE_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/device.h"
#include "vmm/fd_watch.h"
#include "fake_disk.h"
#include "fake_guest_ram.h"

#define FAKE_MAX_DEVICES 32

struct fake_env {
	struct device_env env;
	struct bus pio, mmio;
	struct bus msr;			/* env.msr: DEVICE_MSR_ADDR(vcpu, index) */
	struct irq_router irq;
	struct pci_bus *pci;		/* no memory map: BARs anywhere free */
	struct fake_guest_ram ram;	/* env.mem: at least 2 MiB (the PC map's least) */
	struct fd_watch_set watch;	/* env.watch_fd's */
	struct fake_disk disk;		/* opened on first need: fake_default_config */
	uint64_t now;
	bool line[IRQ_ROUTER_LINES];	 /* current level of each line */
	unsigned rising[IRQ_ROUTER_LINES]; /* rising edges seen per line */
	unsigned nr_stops;
	int stop_reason, stop_status;
	unsigned nr_a20;	/* reports on the A20 line */
	bool a20;		/* its last level */
	int input_wr;		/* test writes here; the UART reads env.input_fd */
	int output_rd;		/* test reads what the UART wrote to env.output_fd */
	struct { const struct device_model *model; void *dev; }
		created[FAKE_MAX_DEVICES];
	unsigned nr_created;
	char err[256];		/* the last create's error */
};

/* Sets up *f (pipes included); returns 0 or -1. */
int fake_env_init(struct fake_env *f, uint64_t ram_size);
void fake_env_fini(struct fake_env *f);
/* Creates the registered model called name; NULL if missing or failed. */
void *fake_create(struct fake_env *f, const char *name);
/* The same with a configuration string; a refusal leaves err set. */
void *fake_create_config(struct fake_env *f, const char *name, const char *config);
/* What the "every model" tests create a model with: NULL (the defaults)
 * unless it needs a configuration, then one naming this machine's
 * resources ("drive=ID" of f->disk for virtio-blk). A model that needs
 * one and has none here gets NULL with f->err saying so, and
 * fake_create_default fails: such a model is never silently skipped. */
const char *fake_default_config(struct fake_env *f, const struct device_model *m);
void *fake_create_default(struct fake_env *f, const char *name);
/* Runs the callbacks of watched fds that are readable, waiting up to
 * timeout_ms for one; returns poll's count. */
int fake_wait_fds(struct fake_env *f, int timeout_ms);
const struct device_model *fake_model(const char *name);
/* Runs every created device's poll at the current fake time, and the
 * callbacks of readable watched fds (without waiting). */
void fake_poll_all(struct fake_env *f);

/* A test's own drive of line gsi (as one source, the test). */
void fake_set_irq(struct fake_env *f, unsigned gsi, bool level);
/* Programs the 8259 pair as Linux does: vectors 0x20 and 0x28, 8086
 * mode, the slave on IR2, every input unmasked. */
void fake_pic_init(struct fake_env *f);
/* What the VMM asks vCPU 0's interrupt controller. */
bool fake_has_interrupt(struct fake_env *f);
int fake_acknowledge(struct fake_env *f);

/* vCPU 0's TSC: FAKE_TSC_PER_NS ticks a fake nanosecond, 0 at time 0
 * (env.tsc_to_ns is its inverse). */
#define FAKE_TSC_PER_NS 2
uint64_t fake_tsc(const struct fake_env *f);
/* vCPU 0's device MSR index as the VMM would access it (env.msr); false:
 * no device claimed it (the VMM's #GP). */
bool fake_msr_read(struct fake_env *f, uint32_t index, uint64_t *val);
bool fake_msr_write(struct fake_env *f, uint32_t index, uint64_t val);

uint8_t pio_in8(struct fake_env *f, uint16_t port);
uint16_t pio_in16(struct fake_env *f, uint16_t port);
void pio_out8(struct fake_env *f, uint16_t port, uint8_t v);
void pio_out16(struct fake_env *f, uint16_t port, uint16_t v);
void pio_out32(struct fake_env *f, uint16_t port, uint32_t v);
/* 32-bit MMIO accesses, as a guest's mov to a device page; and any size. */
uint32_t mmio_read32(struct fake_env *f, uint64_t addr);
void mmio_write32(struct fake_env *f, uint64_t addr, uint32_t v);
uint64_t mmio_read(struct fake_env *f, uint64_t addr, unsigned len);
void mmio_write(struct fake_env *f, uint64_t addr, uint64_t v, unsigned len);
/* Non-blocking read of what the UART wrote; returns bytes read. */
int fake_read_output(struct fake_env *f, char *buf, int max);

#endif

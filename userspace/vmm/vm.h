/* A virtual machine: its memory map (vmm/memory_map.h) with all RAM and
 * ROM in one memfd, mapped once, the port and MMIO buses with the PC
 * devices on them, and one vCPU on some engine. */
#ifndef HYVM_VM_H
#define HYVM_VM_H

#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "vmm/bus.h"
#include "vmm/fd_watch.h"
#include "vmm/guest_tsc.h"
#include "vmm/vm_pause.h"
#include "vmm/vm_report.h"
#include "devices/device.h"
#include "vmm/machine.h"
#include "engines/engine.h"
#include "boot/loader.h"
#include "vmm/vm_pause.h"

#define VM_MAX_DEVICES 32

struct stats_writer;

enum vm_outcome_kind {
	VM_DEBUG_EXIT,		/* status from isa-debug-exit */
	VM_POWEROFF,
	VM_RESET,
	VM_TRIPLE_FAULT,
	VM_HALTED,		/* HLT with interrupts disabled: nothing can wake it */
	VM_INTERRUPTED,		/* SIGINT/SIGTERM/SIGHUP to hyvm */
	VM_ENGINE_ERROR,
	VM_QUIT,		/* the user's quit key on the console */
	VM_KILLED,		/* the debugger's kill (gdb's k) */
};

/* A stop the VMM itself asks for, beside the devices' enum stop_reason. */
#define VM_STOP_CONSOLE_QUIT	0x100
#define VM_STOP_DEBUGGER_KILL	0x101	/* gdb's k */
#define VM_STOP_CONTROL_QUIT	0x102	/* QMP quit, or a checkpoint with --quit */

/* Optional input between the host and the devices (console/console_tty.c
 * fills it when stdin is a terminal): pump runs between guest runs and
 * returns true to end the run (VM_QUIT); while the guest halts, the VMM
 * also wakes when watch_fd is readable. pump NULL: none. */
struct vm_input_hook {
	bool (*pump)(void *ctx);
	void *ctx;
	int watch_fd;
};

struct vm_outcome {
	enum vm_outcome_kind kind;
	int status;		/* process exit status hyvm should use */
	uint64_t rip;
	char msg[256];
};

struct vm {
	const struct engine_ops *engine;
	struct engine_vm *evm;
	struct engine_vcpu *vcpu;

	int memfd;
	struct memory_map map;
	uint8_t *backing;		/* the memfd, memory_map.memfd_size bytes */
	struct guest_ram ram;		/* low RAM, for the loaders */
	uint64_t rom_writes_dropped;
	bool a20_ignored_noted;		/* said once that the engine has no A20 gate */
	bool a20_pending, a20_wanted;	/* a change of the A20 line not yet given to the engine */

	struct bus pio, mmio;
	struct bus msr;			/* devices' MSRs (vm_msr.c) */
	struct guest_tsc_clock guest_tsc;	/* for their TSC values */
	bool tsc_deadline_listed;	/* the CPU model has IA32_TSC_DEADLINE */
	struct pci_bus *pci;		/* devices/pci/pci.h */
	struct device_env env;
	struct device_instance devices[VM_MAX_DEVICES];
	unsigned nr_devices;
	struct irq_router irq;	/* interrupt lines and per-vCPU controllers */

	volatile sig_atomic_t stop_requested;
	int stop_reason, stop_status;
	timer_t tick_timer;
	bool tick_timer_armed;
	struct sigaction saved_term[3];	/* SIGINT, SIGTERM, SIGHUP outside vm_run */
	struct vm_input_hook input_hook;
	struct fd_watch_set fd_watch;	/* devices' fds (env.watch_fd) */
	struct vm_pause pause;		/* vmm/vm_pause.h */

	uint64_t exits[EXIT_KIND_COUNT];
	uint64_t io_fast;		/* of exits[EXIT_IO]: served by io_fast_path */
	struct engine_io_fast io_fast_path;	/* engine_ops.set_io_fast */
	uint64_t irqs_injected;
	struct vm_watch watch;		/* the stop report's history (vm_report.h) */
	bool trace_exits;
	struct stats_writer *stats;	/* live statistics (stats.h); NULL: none */
	uint64_t next_device_stats_ns;	/* vm_device_stats.c */
	const char *cpu_model;		/* cpu/cpu_model.h name; NULL: "host" */
};

/* RAM and devices: machine_pc's, then extra[0..nr_extra) (hyvm run
 * --device MODEL,config; NULL/0: none); no engine yet, so a bad guest
 * image can be refused before anything runs. -1, or MACHINE_BAD_EXTRA
 * when an extra device is refused (bad input), with one line in err. */
int vm_init(struct vm *vm, const struct memory_map *map,
	    const struct machine_device *extra, unsigned nr_extra,
	    int input_fd, int output_fd, char *err, size_t errlen);
/* Creates the engine VM, maps every backed slot of the memory map on it
 * (ROM read-only), creates the vCPU and loads st into it. */
int vm_attach_engine(struct vm *vm, const struct engine_ops *engine,
		     const struct hyvm_cpu_state *st, char *err, size_t errlen);
struct cpu_model;
/* The CPU model this VM gets on engine (cpu/cpu_model.h), as
 * vm_attach_engine gives it: a checkpoint compares it with its own. */
int vm_cpu_model(const struct vm *vm, const struct engine_ops *engine,
		 struct cpu_model *model, char *err, size_t errlen);
/* Runs until the guest stops; fills out. */
void vm_run(struct vm *vm, struct vm_outcome *out);
/* After a VM_RESET outcome: the machine back to power-on so the caller can
 * load the guest and vm_attach_engine again. The engine's VM and vCPU are
 * destroyed (bt's translations and shadow tables, every engine's MSRs and
 * pending events go with them), RAM reads as zeros again (ROM keeps its
 * bytes), every device model's reset op runs (the RTC's CMOS RAM
 * survives, as on a PC). */
void vm_reset(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif

/*
 * The VM's life around the run loop (vm.c): guest RAM in a memfd, the
 * buses, the interrupt router and the machine's devices (vm_init), the
 * engine and its CPU model (vm_attach_engine), a reset that every engine
 * shares (a fresh engine VM), and the teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "vmm/vm.h"
#include "vmm/vm_internal.h"
#include "vmm/vm_msr.h"
#include "devices/pci/pci.h"
#include "cpu/cpu_model.h"

uint64_t vm_monotonic_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void vm_request_stop(void *ctx, int reason, int status)
{
	struct vm *vm = ctx;

	if (vm->stop_requested)
		return;		/* the first stop wins */
	vm->stop_reason = reason;
	vm->stop_status = status;
	vm->stop_requested = 1;
}

/* A device's DMA wrote guest RAM (vmm/dma_mem.h): the engine drops
 * what it derived from those bytes. Before an engine is attached (the
 * loaders) there is nothing to drop. */
static void vm_ram_written(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;

	if (vm->evm && vm->engine->ram_written)
		vm->engine->ram_written(vm->evm, gpa, len);
}

/* The devices' A20 line (port 0x92, the i8042) to the engine's gate. A
 * device drives it from a port access, which the engine's I/O fast path
 * (engine_io_fast) makes inside vcpu_run, where bt cannot drop the
 * translations it is running: so the change waits for the next exit
 * (io_fast asks for one), and apply_a20 hands it over between runs. */
static void vm_set_a20(void *ctx, bool enabled)
{
	struct vm *vm = ctx;

	vm->a20_wanted = enabled;
	vm->a20_pending = true;
}

static int vm_watch_fd(void *ctx, int fd, void (*ready)(void *opaque), void *opaque)
{
	return fd_watch_add(&((struct vm *)ctx)->fd_watch, fd, ready, opaque);
}

static void vm_unwatch_fd(void *ctx, int fd)
{
	fd_watch_remove(&((struct vm *)ctx)->fd_watch, fd);
}

int vm_init(struct vm *vm, const struct memory_map *map,
	    const struct machine_device *extra, unsigned nr_extra,
	    int input_fd, int output_fd, char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	vm->map = *map;
	vm->memfd = memfd_create("hyvm-ram", MFD_CLOEXEC);
	if (vm->memfd < 0 || ftruncate(vm->memfd, map->memfd_size) < 0) {
		snprintf(err, errlen, "cannot create %llu MiB of guest RAM: %s",
			 (unsigned long long)(map->memfd_size >> 20), strerror(errno));
		if (vm->memfd >= 0)
			close(vm->memfd);
		return -1;
	}
	vm->backing = mmap(NULL, map->memfd_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_NORESERVE, vm->memfd, 0);
	if (vm->backing == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest RAM: %s", strerror(errno));
		close(vm->memfd);
		return -1;
	}
	/* low RAM sits at memfd offset == gpa (memory_map_build_pc) */
	vm->ram = (struct guest_ram){ vm->backing, map->ram_below_4g, &vm->map };
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	bus_init(&vm->msr, "msr");
	guest_tsc_init(&vm->guest_tsc);
	irq_router_init(&vm->irq);
	vm->pci = pci_bus_create(&vm->pio, &vm->mmio, &vm->irq, &vm->map);
	if (!vm->pci) {
		snprintf(err, errlen, "cannot create the PCI bus: out of memory");
		vm_destroy(vm);
		return -1;
	}
	vm->env = (struct device_env){
		.pio = &vm->pio, .mmio = &vm->mmio, .pci = vm->pci, .irq = &vm->irq,
		.now_ns = vm_monotonic_ns, .clock_ctx = vm,
		.msr = &vm->msr, .tsc_to_ns = vm_msr_tsc_to_ns, .tsc_ctx = vm,
		.request_stop = vm_request_stop, .stop_ctx = vm,
		.set_a20 = vm_set_a20, .a20_ctx = vm,
		.ram_size = map->ram_below_4g + map->ram_above_4g,
		.mem = { &vm->map, vm->backing, vm_ram_written, vm },
		.watch_fd = vm_watch_fd, .unwatch_fd = vm_unwatch_fd, .watch_ctx = vm,
		.input_fd = input_fd, .output_fd = output_fd,
	};
	int r = machine_create_devices_with(&machine_pc, extra, nr_extra, &vm->env,
					    vm->devices, VM_MAX_DEVICES, &vm->nr_devices,
					    err, errlen);
	if (r < 0) {
		vm_destroy(vm);
		return r;
	}
	if (!irq_router_has_controller(&vm->irq, BOOT_VCPU)) {
		snprintf(err, errlen, "no interrupt controller for vCPU %u among the devices",
			 BOOT_VCPU);
		vm_destroy(vm);
		return -1;
	}
	return 0;
}

/* One CPU model per VM, built from the host and the engine, given to the
 * engine before the first state (cpu/cpu_model.h). */
int vm_cpu_model(const struct vm *vm, const struct engine_ops *engine,
		 struct cpu_model *model, char *err, size_t errlen)
{
	const char *name = vm->cpu_model ? vm->cpu_model : CPU_MODEL_DEFAULT;
	struct engine_caps caps;
	struct cpu_model_limits lim;

	engine->probe(&caps);
	lim.long_mode = !caps.cannot[NEED_LONG_MODE];
	/* The local APICs are the router's message sinks (devices/apic/). */
	lim.local_apic = irq_router_nr_sinks(&vm->irq) > 0;
	/* TSC-deadline mode: a device has IA32_TSC_DEADLINE and the engine
	 * brings the guest's accesses of it here (vm_msr.c) */
	lim.tsc_deadline = lim.local_apic && caps.msr_exits &&
			   bus_find(&vm->msr, DEVICE_MSR_ADDR(BOOT_VCPU, MSR_IA32_TSC_DEADLINE));
	lim.tsc_adjust = !caps.cannot[NEED_TSC_ADJUST];
	return cpu_model_build(name, &lim, model, err, errlen);
}

static int vm_apply_cpu_model(struct vm *vm, char *err, size_t errlen)
{
	struct cpu_model model;

	if (vm_cpu_model(vm, vm->engine, &model, err, errlen) < 0)
		return -1;
	vm_msr_set_model(vm, &model.cpuid);
	return vm->engine->set_cpuid(vm->vcpu, &model.cpuid, err, errlen);
}

int vm_attach_engine(struct vm *vm, const struct engine_ops *engine,
		     const struct hyvm_cpu_state *st, char *err, size_t errlen)
{
	struct mem_slot slots[MEMMAP_MAX_REGIONS];
	unsigned nr = memory_map_slots(&vm->map, slots, MEMMAP_MAX_REGIONS);

	vm->engine = engine;
	if (engine->vm_create(&vm->evm, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < nr; i++)
		if (engine->map_ram(vm->evm, slots[i].gpa, vm->backing + slots[i].memfd_offset,
				    slots[i].size, vm->memfd, (off_t)slots[i].memfd_offset,
				    slots[i].readonly ? ENGINE_MAP_READONLY : 0, err, errlen) < 0)
			return -1;
	if (engine->vcpu_create(vm->evm, 0, &vm->vcpu, err, errlen) < 0)
		return -1;
	if (vm_apply_cpu_model(vm, err, errlen) < 0)
		return -1;
	return engine->set_state(vm->vcpu, st, err, errlen);
}

static void engine_release(struct vm *vm)
{
	if (vm->vcpu)
		vm->engine->vcpu_destroy(vm->vcpu);
	if (vm->evm)
		vm->engine->vm_destroy(vm->evm);
	vm->vcpu = NULL;
	vm->evm = NULL;
}

void vm_reset(struct vm *vm)
{
	/* A fresh engine VM is the one reset every engine has: no engine
	 * needs a reset op of its own, and nothing (a translation, a shadow
	 * page, an MSR, a pinned page) outlives the old boot. */
	engine_release(vm);
	/* Zero RAM by dropping its pages (the memfd reads zeros after a
	 * punched hole), so a large --mem costs nothing to clear; the engine
	 * that pinned or mapped them is gone already. ROM is left alone. */
	for (unsigned i = 0; i < vm->map.nr; i++) {
		const struct mem_region *r = &vm->map.r[i];
		if (r->kind != MEM_RAM)
			continue;
		if (fallocate(vm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)r->memfd_offset, (off_t)r->size) < 0)
			memset(vm->backing + r->memfd_offset, 0, r->size);
	}
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].model->reset)
			vm->devices[i].model->reset(vm->devices[i].state);
	vm->stop_requested = 0;
	vm->stop_reason = vm->stop_status = 0;
	vm->pause.resume_in_hlt = false;
}

void vm_destroy(struct vm *vm)
{
	engine_release(vm);
	machine_destroy_devices(vm->devices, vm->nr_devices);
	vm->nr_devices = 0;
	pci_bus_destroy(vm->pci);
	vm->pci = NULL;
	if (vm->backing && vm->backing != MAP_FAILED)
		munmap(vm->backing, vm->map.memfd_size);
	vm->backing = NULL;
	vm->ram.base = NULL;
	if (vm->memfd >= 0)
		close(vm->memfd);
	vm->memfd = -1;
}

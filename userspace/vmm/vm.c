/*
 * The VMM loop: run the vCPU, answer the exits on the buses, poll the
 * devices' timers and input between runs, and deliver the vCPU's interrupt
 * controller's vectors when the engine says the guest can take one.
 * Everything here is engine- and device-agnostic; the VM's creation,
 * engine attachment, reset and teardown are in vm_lifecycle.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "stats/stats.h"
#include "vmm/vm.h"
#include "vmm/vm_internal.h"
#include "vmm/vm_msr.h"

/* A 1 ms tick wakes the vCPU so device timers and input are polled even
 * while the guest never exits. */
#define TICK_NS		1000000ull
#define HALT_SLEEP_MS	10

static struct vm *signal_vm;	/* the VM the signal handlers kick */

static void on_tick(int sig)
{
	struct vm *vm = signal_vm;

	if (vm && vm->vcpu)
		vm->engine->kick(vm->vcpu);
}

static void on_terminate(int sig)
{
	struct vm *vm = signal_vm;

	if (!vm)
		_exit(128 + sig);
	vm->stop_reason = -sig;
	vm->stop_requested = 1;
	if (vm->vcpu)
		vm->engine->kick(vm->vcpu);
}

/* Between runs. An engine without a gate keeps A20 on, which a guest that
 * wraps at 1 MiB on purpose would notice: said once on stderr. */
static void apply_a20(struct vm *vm)
{
	if (!vm->a20_pending || !vm->vcpu)
		return;		/* before the engine: A20 is on at vcpu_create */
	vm->a20_pending = false;
	if (vm->engine->set_a20) {
		vm->engine->set_a20(vm->vcpu, vm->a20_wanted);
	} else if (!vm->a20_wanted && !vm->a20_ignored_noted) {
		vm->a20_ignored_noted = true;
		fprintf(stderr, "hyvm: the guest turned A20 off; engine %s has no A20 gate, "
			"so addresses above 1 MiB do not wrap (bt has one)\n", vm->engine->name);
	}
}

/* A guest write to ROM: engines hand it back as MMIO (kvm's read-only
 * slots, bt's read-only mappings); the ROM keeps its bytes. */
static bool rom_write(struct vm *vm, const struct vcpu_exit *exit)
{
	const struct mem_region *r = memory_map_find(&vm->map, exit->mmio.gpa);

	if (!exit->mmio.write || !r || r->kind != MEM_ROM)
		return false;
	vm->rom_writes_dropped++;
	return true;
}

/* Stopped cleanly while the guest runs; outside vm_run whoever had them
 * before (console_tty.c's terminal restore) has them back. */
static const int term_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void start_signals(struct vm *vm)
{
	struct sigaction sa = { 0 };
	struct sigevent sev = { 0 };

	signal_vm = vm;
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_terminate;
	/* even when ignored: a non-interactive shell starts background jobs
	 * with SIGINT ignored, and tests/linux/boot.sh stops hyvm with it */
	for (int i = 0; i < 3; i++)
		sigaction(term_signals[i], &sa, &vm->saved_term[i]);

	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->tick_timer) == 0) {
		struct itimerspec its = {
			.it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS },
		};
		timer_settime(vm->tick_timer, 0, &its, NULL);
		vm->tick_timer_armed = true;
	}
}

static void stop_signals(struct vm *vm)
{
	if (vm->tick_timer_armed)
		timer_delete(vm->tick_timer);
	vm->tick_timer_armed = false;
	signal(SIGALRM, SIG_IGN);
	for (int i = 0; i < 3; i++)
		sigaction(term_signals[i], &vm->saved_term[i], NULL);
	signal_vm = NULL;
}

static uint64_t poll_devices(struct vm *vm)
{
	uint64_t now = vm_monotonic_ns(vm), next = UINT64_MAX;

	/* input first, so the UART's poll below already sees it */
	if (vm->input_hook.pump && vm->input_hook.pump(vm->input_hook.ctx))
		vm_request_stop(vm, VM_STOP_CONSOLE_QUIT, 0);
	/* devices' fds (finished disk requests): their callbacks complete
	 * them here, before the polls below look for interrupts */
	fd_watch_poll(&vm->fd_watch, NULL, 0, 0);

	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct device_model *m = vm->devices[i].model;
		if (m->poll)
			m->poll(vm->devices[i].state, now);
		if (m->next_deadline) {
			uint64_t d = m->next_deadline(vm->devices[i].state);
			if (d < next)
				next = d;
		}
	}
	return next;
}

static void handle_io(struct vm *vm, struct vcpu_exit *exit)
{
	for (uint32_t i = 0; i < exit->io.count; i++)
		bus_access(&vm->pio, exit->io.port, exit->io.data + i * exit->io.size,
			   exit->io.size, exit->io.write);
}

/* A guest polling a port waits for what the device polls bring (a timer's
 * interrupt, console input): every IO_FAST_POLL_EVERY accesses served
 * without an exit, one exit lets them run, as every access's exit did
 * before. The 1 ms tick bounds the wait in time as well. */
#define IO_FAST_POLL_EVERY	256

/* One fast access in IO_FAST_TIME_EVERY is timed (two clock reads, about
 * as much as the access itself) and stands for the others in the I/O
 * category's VMM time; the first one is, so even a few are seen. One in
 * 16 was a tenth of an inline IN's CPU time (docs/perf/bt-exits.md,
 * 2026-12-04); one in 256, as often as the device polls, is ~1%. */
#define IO_FAST_TIME_EVERY	256

/* engine_io_fast.io: a port access the engine finishes without an exit
 * (engine.h). Counted as an I/O exit at its site (stats.h), timed by
 * sample. The vCPU stops when the VMM has something to do: an
 * interrupt to inject (or a window to ask for), a stop, a pause, the
 * device polls above. */
static bool io_fast(void *ctx, uint64_t rip, uint16_t port, uint8_t size, bool write,
		    uint8_t *data)
{
	struct vm *vm = ctx;

	if (vm->stats && vm->io_fast % IO_FAST_TIME_EVERY == 0) {
		uint64_t t0 = stats_now_ns();
		bus_access(&vm->pio, port, data, size, write);
		stats_count_fast_exit(vm->stats, EXIT_IO, rip, stats_now_ns() - t0,
				      IO_FAST_TIME_EVERY);
	} else {
		bus_access(&vm->pio, port, data, size, write);
		stats_count_fast_exit(vm->stats, EXIT_IO, rip, 0, 0);
	}
	vm->exits[EXIT_IO]++;
	vm->io_fast++;
	if (vm->io_fast % IO_FAST_POLL_EVERY == 0)
		return false;
	return !vm->stop_requested && !vm_pause_wanted(vm) && !vm->a20_pending &&
	       !irq_router_has_interrupt(&vm->irq, BOOT_VCPU);
}

/* The guest waits in HLT for an interrupt: sleep until a device has one. */
static bool wait_for_interrupt(struct vm *vm)
{
	/* Input the UART cannot take (its FIFO is full) stays readable: stop
	 * watching it then, or this loop would spin. */
	bool watch_input = vm->env.input_fd >= 0 || vm->input_hook.pump;

	vm_watch_halted(vm, true);
	while (!vm->stop_requested && !vm_pause_any(vm)) {
		uint64_t next = poll_devices(vm);
		if (irq_router_has_interrupt(&vm->irq, BOOT_VCPU)) {
			vm_watch_halted(vm, false);
			return true;
		}
		vm_watch_halted(vm, true);	/* rolls the report's marks */
		uint64_t now = vm_monotonic_ns(vm);
		int ms = HALT_SLEEP_MS;
		if (next != UINT64_MAX)
			ms = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
		if (ms > HALT_SLEEP_MS)
			ms = HALT_SLEEP_MS;
		/* the UART's fd and, with a console hook, the terminal (-1
		 * entries are skipped by poll); the devices' watched fds too */
		struct pollfd pfd[2] = {
			{ .fd = vm->env.input_fd, .events = POLLIN },
			{ .fd = vm->input_hook.pump ? vm->input_hook.watch_fd : -1,
			  .events = POLLIN },
		};
		if (fd_watch_poll(&vm->fd_watch, pfd, watch_input ? 2 : 0, ms) > 0 &&
		    ((pfd[0].revents | pfd[1].revents) & (POLLIN | POLLHUP)))
			watch_input = false;	/* the next poll_devices takes it */
	}
	return false;
}

static void outcome(struct vm_outcome *out, enum vm_outcome_kind kind, int status,
		    const char *msg)
{
	out->kind = kind;
	out->status = status;
	snprintf(out->msg, sizeof(out->msg), "%s", msg);
}

static bool finish_stop(struct vm *vm, struct vm_outcome *out)
{
	if (!vm->stop_requested)
		return false;
	if (vm->stop_reason < 0) {
		outcome(out, VM_INTERRUPTED, 128 - vm->stop_reason, "hyvm was interrupted");
		return true;
	}
	switch (vm->stop_reason) {
	case STOP_DEBUG_EXIT:
		outcome(out, VM_DEBUG_EXIT, vm->stop_status & 0xff, "");
		break;
	case STOP_POWEROFF:
		outcome(out, VM_POWEROFF, 0, "guest powered off");
		break;
	case VM_STOP_CONSOLE_QUIT:
		outcome(out, VM_QUIT, 0, "quit from the console");
		break;
	case VM_STOP_DEBUGGER_KILL:
		outcome(out, VM_KILLED, 0, "killed by the debugger");
		break;
	case VM_STOP_CONTROL_QUIT:
		outcome(out, VM_QUIT, 0, "quit from the control socket");
		break;
	default:
		outcome(out, VM_RESET, 0, "guest requested a reset");
		break;
	}
	return true;
}

/* HYVM_TRACE_EXITS=1: one stderr line per exit, with the guest's RIP. */
static void trace_exit(struct vm *vm, const struct vcpu_exit *exit)
{
	struct hyvm_cpu_state st;

	if (vm->engine->get_state(vm->vcpu, &st) < 0)
		st.rip = ~0ull;
	fprintf(stderr, "exit %-10s raw=%u rip=0x%llx cs=0x%x cr0=0x%llx",
		exit_kind_name(exit->kind), exit->raw_reason, (unsigned long long)st.rip,
		st.seg[HYVM_CS].selector, (unsigned long long)st.cr0);
	if (exit->kind == EXIT_IO)
		fprintf(stderr, " port=0x%x size=%u %s count=%u", exit->io.port, exit->io.size,
			exit->io.write ? "out" : "in", exit->io.count);
	fprintf(stderr, " irq-window=%d\n", exit->irq_window_open);
}

void vm_run(struct vm *vm, struct vm_outcome *out)
{
	struct vcpu_exit exit = { 0 };
	bool window_requested = false;

	memset(out, 0, sizeof(*out));
	vm->trace_exits = getenv("HYVM_TRACE_EXITS") != NULL;
	start_signals(vm);
	/* HYVM_TRACE_EXITS wants every port access as an exit */
	vm->io_fast_path = (struct engine_io_fast){ .io = io_fast, .ctx = vm };
	if (vm->engine->set_io_fast)
		vm->engine->set_io_fast(vm->vcpu, vm->trace_exits ? NULL : &vm->io_fast_path);
	vm_pause_debug_point(vm, NULL);	/* --gdb-wait: before the first instruction */
	vm_watch_start(vm);
	for (;;) {
		if (finish_stop(vm, out))
			break;
		if (vm_pause_wanted(vm)) {
			/* at a clean point hold the vCPU; else a kicked run
			 * completes the last exit first (vm_pause.h) */
			if (vm_pause_clean_exit(&exit)) {
				vm_pause_hold(vm);
				continue;
			}
			vm->engine->kick(vm->vcpu);
		} else if (vm->pause.resume_in_hlt) {
			/* held (or checkpointed) while waiting in HLT: wait on */
			if (!wait_for_interrupt(vm))
				continue;
			vm->pause.resume_in_hlt = false;
		}
		poll_devices(vm);
		vm_publish_device_counters(vm, false);
		apply_a20(vm);
		if (irq_router_has_interrupt(&vm->irq, BOOT_VCPU)) {
			if (exit.irq_window_open) {
				int v = irq_router_acknowledge(&vm->irq, BOOT_VCPU);
				if (vm->engine->inject_irq(vm->vcpu, (uint8_t)v) < 0)
					vm_watch_irq_refused(vm, (uint8_t)v);
				else
					vm->irqs_injected++;
				exit.irq_window_open = false;
			} else if (!window_requested) {
				vm->engine->request_irq_window(vm->vcpu, true);
				window_requested = true;
			}
		} else if (window_requested) {
			vm->engine->request_irq_window(vm->vcpu, false);
			window_requested = false;
		}

		stats_before_run(vm->stats);
		int r = vm->engine->vcpu_run(vm->vcpu, &exit);
		stats_after_run(vm->stats, &exit);
		vm->exits[exit.kind]++;
		vm_watch_exit(vm, &exit);
		if (vm->trace_exits)
			trace_exit(vm, &exit);
		out->rip = exit.rip;
		if (r < 0 || exit.kind == EXIT_ERROR) {
			outcome(out, VM_ENGINE_ERROR, 4, exit.error.msg);
			break;
		}
		if (exit.kind == EXIT_MODE_UNSUPPORTED) {
			/* a plain engine cannot hand the vCPU on: a clear stop */
			char msg[sizeof(out->msg)];
			snprintf(msg, sizeof(msg), "engine %s cannot run %s; try --engine hybrid or kvm",
				 vm->engine->name, exit.error.msg);
			outcome(out, VM_ENGINE_ERROR, 4, msg);
			break;
		}
		switch (exit.kind) {
		case EXIT_IO:
			handle_io(vm, &exit);
			break;
		case EXIT_MMIO:
			if (rom_write(vm, &exit))
				break;
			bus_access(&vm->mmio, exit.mmio.gpa, exit.mmio.data, exit.mmio.size,
				   exit.mmio.write);
			break;
		case EXIT_MSR:
			vm_msr_exit(vm, &exit);
			break;
		case EXIT_IRQ_WINDOW:
			window_requested = false;
			vm->engine->request_irq_window(vm->vcpu, false);
			break;
		case EXIT_HLT:
			if (!exit.irq_window_open) {
				outcome(out, VM_HALTED, 0,
					"guest halted with interrupts disabled");
				goto done;
			}
			if (!wait_for_interrupt(vm) && vm_pause_any(vm))
				vm->pause.resume_in_hlt = true;
			break;
		case EXIT_SHUTDOWN:
			outcome(out, VM_TRIPLE_FAULT, 3, exit.error.msg);
			if (exit.error.last_vector != 0xff)
				snprintf(out->msg + strlen(out->msg),
					 sizeof(out->msg) - strlen(out->msg),
					 ", last exception vector %u", exit.error.last_vector);
			else
				snprintf(out->msg + strlen(out->msg),
					 sizeof(out->msg) - strlen(out->msg),
					 ", last exception not reported by the engine");
			goto done;
		default:
			break;
		}
		vm_pause_debug_point(vm, &exit);
	}
done:
	vm_publish_device_counters(vm, true);
	stop_signals(vm);
	if (vm->engine->set_io_fast)
		vm->engine->set_io_fast(vm->vcpu, NULL);
	if (out->kind == VM_INTERRUPTED)
		vm_report_stop(vm, stderr);
	if (out->kind == VM_TRIPLE_FAULT || out->kind == VM_ENGINE_ERROR) {
		struct hyvm_cpu_state st;
		if (vm->engine->get_state(vm->vcpu, &st) == 0)
			out->rip = st.rip;
	}
}


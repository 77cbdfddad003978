/*
 * The /dev/hyvm client behind the svm and vmx engines (engine_hyvm.h).
 * hyvm.ko runs the guest and handles CPUID, MSRs and nested page faults
 * on RAM itself; port I/O, MMIO, HLT, interrupt windows and triple faults
 * come back as the exit record in the vCPU's shared page (struct
 * hyvm_run), which this file translates to struct vcpu_exit. An MMIO
 * access or a string port instruction is finished here by the instruction
 * emulator, one bus access per exit, and the guest state written back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "engines/hyvm/engine_hyvm.h"

#define HYVM_DEVICE "/dev/hyvm"

static int open_device(char *why, size_t whylen)
{
	int fd = open(HYVM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, whylen, "%s: %s%s", HYVM_DEVICE, strerror(errno),
			 errno == ENOENT ? " (hyvm.ko not loaded)" :
			 errno == EACCES ? " (join group kvm: 60-hyvm.rules gives it the device)" : "");
		return -1;
	}
	int ver = ioctl(fd, HYVM_GET_API_VERSION, 0);
	if (ver != HYVM_API_VERSION) {
		snprintf(why, whylen, "%s speaks hyvm API %d, this hyvm needs %d",
			 HYVM_DEVICE, ver, HYVM_API_VERSION);
		close(fd);
		return -1;
	}
	return fd;
}

static int get_caps(struct hyvm_capabilities *hc, char *why, size_t whylen)
{
	int fd = open_device(why, whylen);

	if (fd < 0)
		return -1;
	if (ioctl(fd, HYVM_GET_CAPABILITIES, hc) < 0) {
		snprintf(why, whylen, "HYVM_GET_CAPABILITIES: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	hc->missing[sizeof(hc->missing) - 1] = 0;
	return 0;
}

void hyvm_engine_probe(const struct hyvm_vendor *v, struct engine_caps *caps)
{
	/* hyvm.ko drives one vendor, so at most one engine is present and
	 * fills this. */
	static char real_why[160];
	struct hyvm_capabilities hc;

	memset(caps, 0, sizeof(*caps));
	if (get_caps(&hc, caps->absent_why, sizeof(caps->absent_why)))
		return;
	if (!(hc.flags & v->cap_flag)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why), "hyvm.ko: %s%s%s",
			 v->no_cpu, hc.missing[0] ? ": " : "", hc.missing);
		return;
	}
	if (v->usable && !v->usable(&hc, caps))
		return;
	if (!(hc.flags & HYVM_CAP_RUNNABLE)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "hyvm.ko cannot run guests here: %s", hc.missing);
		return;
	}
	caps->present = true;
	caps->hardware_assist = true;
	/* engine.h set_a20: VT-x and AMD-V have no A20 masking */
	caps->cannot[NEED_A20] = "hyvm.ko has no A20 gate (addresses above 1 MiB never wrap)";
	caps->cannot[NEED_TSC_ADJUST] = "hyvm.ko has no IA32_TSC_ADJUST";
	/* both backends hand IA32_TSC_DEADLINE over (HYVM_EXIT_MSR, API 5;
	 * kmod/hyvm_exit.c hyvm_msr_exit) */
	caps->msr_exits = true;
	host_fp_faults_limit(caps);
	v->describe(&hc, caps);
	if (!(hc.guest_modes & HYVM_MODE_REAL)) {
		snprintf(real_why, sizeof(real_why), "%s (hyvm.ko: %s)",
			 v->real_mode_why, hc.missing);
		caps->cannot[NEED_REAL_MODE] = real_why;
	}
}

static int sys_err(const struct engine_vm *vm, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", vm->vendor->name, what, strerror(errno));
	return -1;
}

int hyvm_engine_vm_create(const struct hyvm_vendor *v, struct engine_vm **out,
			  char *err, size_t errlen)
{
	struct engine_vm *vm = calloc(1, sizeof(*vm));

	if (!vm) {
		snprintf(err, errlen, "%s: allocating VM: %s", v->name, strerror(errno));
		return -1;
	}
	vm->vendor = v;
	if (get_caps(&vm->caps, err, errlen))
		goto free;
	vm->dev_fd = open_device(err, errlen);
	if (vm->dev_fd < 0)
		goto free;
	vm->vm_fd = ioctl(vm->dev_fd, HYVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		if (errno == EBUSY && v->busy_why)
			snprintf(err, errlen, "%s: HYVM_CREATE_VM: %s", v->name, v->busy_why);
		else
			sys_err(vm, err, errlen, "HYVM_CREATE_VM");
		close(vm->dev_fd);
		goto free;
	}
	*out = vm;
	return 0;
free:
	free(vm);
	return -1;
}

/* hyvm.ko pins the pages of the VMM's own mapping of the RAM memfd. A
 * ROM slot is HYVM_MEM_READONLY (API 3): the guest reads and runs it in
 * hardware, a write comes back as an MMIO exit; the emulator sees it
 * read-only too, so an emulated write to it goes to the bus (where the
 * VMM drops it) rather than into the ROM's bytes. */
int hyvm_engine_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
			int memfd, off_t offset, unsigned flags, char *err, size_t errlen)
{
	bool rom = flags & ENGINE_MAP_READONLY;
	struct hyvm_ram_map m = {
		.user_addr = (uintptr_t)host, .gpa = gpa, .size = size,
		.flags = rom ? HYVM_MEM_READONLY : 0,
	};

	(void)memfd;
	(void)offset;
	if (ioctl(vm->vm_fd, HYVM_MAP_RAM, &m) < 0)
		return sys_err(vm, err, errlen, rom ? "HYVM_MAP_RAM (read-only)" : "HYVM_MAP_RAM");
	if ((rom ? guest_mem_add_rom : guest_mem_add)(&vm->mem, gpa, host, size) < 0) {
		snprintf(err, errlen, "%s: too many RAM slots", vm->vendor->name);
		return -1;
	}
	return 0;
}

int hyvm_engine_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **out,
			    char *err, size_t errlen)
{
	struct engine_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return sys_err(vm, err, errlen, "allocating vCPU");
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->vm_fd, HYVM_CREATE_VCPU, index);
	if (vcpu->fd < 0) {
		sys_err(vm, err, errlen, "HYVM_CREATE_VCPU");
		free(vcpu);
		return -1;
	}
	vcpu->run = mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		sys_err(vm, err, errlen, "mapping the vCPU run page");
		close(vcpu->fd);
		free(vcpu);
		return -1;
	}
	*out = vcpu;
	return 0;
}

static int exit_error(struct vcpu_exit *exit, const char *fmt, const char *name,
		      const char *what)
{
	exit->kind = EXIT_ERROR;
	snprintf(exit->error.msg, sizeof(exit->error.msg), fmt, name, what);
	return -1;
}

/*
 * The emulator's next step as an exit: 1 when it needs the VMM (exit is
 * filled), 0 when the instruction is done and its state is back in the
 * module, -1 on failure (exit is an error).
 */
static int emul_step(struct engine_vcpu *vcpu, enum emul_status s, struct vcpu_exit *exit)
{
	const char *name = vcpu->vm->vendor->name;
	struct emul *e = &vcpu->emul;

	vcpu->emulating = s == EMUL_ACCESS;
	switch (s) {
	case EMUL_ACCESS:
		/* No injection until the instruction is done: set_state would
		 * overwrite it. The VMM asks for a window instead. */
		exit->irq_window_open = false;
		emul_access_exit(e, exit);
		return 1;
	case EMUL_DONE:
		vcpu->emulated++;
		e->st.tsc = 0;		/* 0: leave the TSC running, not rewound */
		if (ioctl(vcpu->fd, HYVM_SET_STATE, &e->st) < 0) {
			char what[96];

			snprintf(what, sizeof(what), "rip %#llx: %s",
				 (unsigned long long)e->st.rip, strerror(errno));
			return exit_error(exit, "%s: HYVM_SET_STATE after emulating at %s",
					  name, what);
		}
		return 0;
	default:
		return exit_error(exit, "%s: %.180s", name, e->err);
	}
}

/* An exit the module hands back for the instruction at RIP to be done
 * here: MMIO, or a string port instruction. */
static int emul_start(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	struct hyvm_cpu_state st;
	const struct hyvm_run *run = vcpu->run;
	bool mmio = run->exit_kind == HYVM_EXIT_MMIO;

	if (ioctl(vcpu->fd, HYVM_GET_STATE, &st) < 0)
		return exit_error(exit, "%s: HYVM_GET_STATE: %s", vcpu->vm->vendor->name,
				  strerror(errno));
	/* insn_len 0: the hardware did not fetch it (no decode assists, or
	 * VMX, whose EPT violations carry no instruction bytes). */
	return emul_step(vcpu, emul_begin(&vcpu->emul, &st, &vcpu->vm->mem,
					  mmio && run->mmio.insn_len ? run->mmio.insn : NULL,
					  mmio ? run->mmio.insn_len : 0), exit);
}

/* The VMM's answer to the last EXIT_MSR, which hyvm.ko completes (or
 * turns into #GP) as the next HYVM_RUN enters. */
static void msr_complete(struct engine_vcpu *vcpu)
{
	if (!vcpu->msr_pending)
		return;
	vcpu->msr_pending = false;
	vcpu->run->msr.error = vcpu->msr_access.gp;
	if (!vcpu->msr_access.write)
		vcpu->run->msr.data = vcpu->msr_access.gp ? 0 : vcpu->msr_access.data;
}

/* A plain exit of the module as the engine interface's exit. */
static void translate(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	const struct hyvm_vendor *v = vcpu->vm->vendor;
	const struct hyvm_run *run = vcpu->run;

	switch (run->exit_kind) {
	case HYVM_EXIT_IO:
		exit->kind = EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.write = run->io.write;
		exit->io.count = run->io.count;
		exit->io.data = vcpu->run->io_data;
		if (run->io.count * run->io.size > HYVM_IO_DATA_MAX || !run->io.count) {
			exit->kind = EXIT_ERROR;
			snprintf(exit->error.msg, sizeof(exit->error.msg),
				 "%s: I/O exit with %u x %u bytes", v->name,
				 run->io.count, run->io.size);
		}
		break;
	case HYVM_EXIT_HLT:
		exit->kind = EXIT_HLT;
		break;
	case HYVM_EXIT_MSR:
		vcpu->msr_pending = true;
		vcpu->msr_access = (struct engine_msr){
			.index = run->msr.index, .write = run->msr.write,
			.data = run->msr.write ? run->msr.data : 0, .tsc = run->msr.tsc,
		};
		exit->kind = EXIT_MSR;
		exit->msr = &vcpu->msr_access;
		break;
	case HYVM_EXIT_IRQ_WINDOW:
		exit->kind = EXIT_IRQ_WINDOW;
		break;
	case HYVM_EXIT_INTR:
		exit->kind = EXIT_KICKED;
		break;
	case HYVM_EXIT_SHUTDOWN:
		exit->kind = EXIT_SHUTDOWN;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "%s", v->shutdown_msg);
		break;
	case HYVM_EXIT_FAIL:
		exit->kind = EXIT_ERROR;
		v->fail_message(exit, run);
		break;
	case HYVM_EXIT_DEBUG:
		hyvm_engine_debug_exit(vcpu, exit);
		break;
	case HYVM_EXIT_MODE:
		/* The state is complete (the CR0 write done, RIP past it):
		 * another engine can continue (engine.h). */
		exit->kind = EXIT_MODE_UNSUPPORTED;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "%s at rip %#llx (%s)",
			 run->raw_reason & 0x80000000u ?
			 "a state its VM entry refuses (real-mode segments?)" : "real mode",
			 (unsigned long long)run->rip, v->real_mode_why);
		break;
	default:
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "%s: unknown exit kind %u from hyvm.ko", v->name, run->exit_kind);
	}
}

int hyvm_engine_vcpu_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	struct hyvm_run *run = vcpu->run;
	int r;

	memset(exit, 0, sizeof(*exit));
	exit->error.last_vector = 0xff;
	if (vcpu->emulating) {
		/* The VMM answered the last access: go on without entering. */
		exit->raw_reason = run->raw_reason;
		exit->rip = run->rip;
		r = emul_step(vcpu, emul_resume(&vcpu->emul), exit);
		if (r == 0 && hyvm_engine_step_after_emulation(vcpu, exit, vcpu->emul.st.rip))
			r = 1;
		if (r != 0) {
			vcpu->stats.exits[exit->kind]++;
			return r < 0 ? -1 : 0;
		}
		memset(exit, 0, sizeof(*exit));
		exit->error.last_vector = 0xff;
	}
	msr_complete(vcpu);
again:
	vcpu->stats.runs++;
	r = ioctl(vcpu->fd, HYVM_RUN, 0);
	run->immediate_exit = 0;
	if (r < 0) {
		if (errno == EINTR) {
			exit->kind = EXIT_KICKED;
			vcpu->stats.exits[EXIT_KICKED]++;
			return 0;
		}
		return exit_error(exit, "%s: HYVM_RUN: %s", vcpu->vm->vendor->name,
				  strerror(errno));
	}
	exit->raw_reason = run->raw_reason;
	exit->rip = run->rip;
	exit->irq_window_open = run->irq_window_open;
	if (run->ctl_valid) {
		exit->ctl_valid = true;
		exit->cr0 = run->cr0;
		exit->cr4 = run->cr4;
		exit->efer = run->efer;
	}
	if (run->exit_kind == HYVM_EXIT_MMIO ||
	    (run->exit_kind == HYVM_EXIT_IO && (run->io.flags & HYVM_IO_STRING))) {
		r = emul_start(vcpu, exit);
		if (r == 0 && hyvm_engine_step_after_emulation(vcpu, exit, vcpu->emul.st.rip))
			r = 1;
		else if (r == 0)
			goto again;	/* done without the VMM (a #PF, REP count 0) */
	} else {
		translate(vcpu, exit);
		r = exit->kind == EXIT_ERROR ? -1 : 0;
	}
	vcpu->stats.exits[exit->kind]++;
	return r < 0 ? -1 : 0;
}

int hyvm_engine_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	return ioctl(vcpu->fd, HYVM_GET_STATE, st) < 0 ? -1 : 0;
}

/* Real-mode state without hardware for it is refused here, with the
 * reason, rather than by a failed entry later. */
int hyvm_engine_set_state(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			  char *err, size_t errlen)
{
	const struct engine_vm *vm = vcpu->vm;

	if (!(st->cr0 & 1) && !(vm->caps.guest_modes & HYVM_MODE_REAL)) {
		snprintf(err, errlen, "%s: real-mode state refused: %s (hyvm.ko: %s); "
			 "use the bt engine", vm->vendor->name, vm->vendor->real_mode_why,
			 vm->caps.missing);
		return -1;
	}
	if (ioctl(vcpu->fd, HYVM_SET_STATE, st) < 0)
		return sys_err(vm, err, errlen, "HYVM_SET_STATE");
	return 0;
}

/* The engine op set_cpuid: the CPU model's table, answered by hyvm.ko
 * from now on (HYVM_SET_CPUID, API version 2); it also decides which
 * MSRs the guest has. */
int hyvm_engine_set_cpuid(struct engine_vcpu *vcpu, const struct hyvm_cpuid_table *t,
			  char *err, size_t errlen)
{
	if (ioctl(vcpu->fd, HYVM_SET_CPUID, t) < 0)
		return sys_err(vcpu->vm, err, errlen, "HYVM_SET_CPUID");
	return 0;
}

int hyvm_engine_inject_irq(struct engine_vcpu *vcpu, uint8_t vector)
{
	return ioctl(vcpu->fd, HYVM_INJECT_IRQ, (unsigned long)vector) < 0 ? -1 : 0;
}

void hyvm_engine_request_irq_window(struct engine_vcpu *vcpu, bool on)
{
	(void)ioctl(vcpu->fd, HYVM_SET_IRQ_WINDOW, (unsigned long)on);
}

/* Async-signal-safe: the module checks immediate_exit before each entry,
 * and a signal makes a running guest exit (the IPI is an interrupt exit). */
void hyvm_engine_kick(struct engine_vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
}

void hyvm_engine_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st)
{
	const struct hyvm_run *run = vcpu->run;
	unsigned n = 0;

	*st = vcpu->stats;
	st->counter[n].name = "hardware entries";
	st->counter[n++].value = run->entries;
	st->counter[n].name = "exits handled in kernel";
	st->counter[n++].value = run->handled_in_kernel;
	st->counter[n].name = "instructions emulated (mmio, ins/outs)";
	st->counter[n++].value = vcpu->emulated;
	st->nr_counters = n;
	vcpu->vm->vendor->counters(run, st);
}

void hyvm_engine_vcpu_destroy(struct engine_vcpu *vcpu)
{
	munmap(vcpu->run, HYVM_RUN_SIZE);
	close(vcpu->fd);
	free(vcpu);
}

void hyvm_engine_vm_destroy(struct engine_vm *vm)
{
	close(vm->vm_fd);
	close(vm->dev_fd);
	free(vm);
}

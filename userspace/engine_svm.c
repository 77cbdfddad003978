/*
 * The svm engine: AMD-V through hyvm.ko (/dev/hyvm). The module runs the
 * guest and handles CPUID, MSRs and nested page faults on RAM itself; port
 * I/O, MMIO, HLT, interrupt windows and triple faults come back here as
 * the exit record in the vCPU's shared page (struct hyvm_run), which this
 * file translates to struct vcpu_exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <hyvm/ioctl.h>
#include "engine.h"
#include "mmio_emulate.h"

#define HYVM_DEVICE "/dev/hyvm"

/* SVM exit codes worth naming in statistics (AMD APM Vol. 2, App. C). */
static const struct { unsigned index; const char *name; } svm_counters[] = {
	{ 0x60, "svm intr" }, { 0x61, "svm nmi" }, { 0x64, "svm vintr" },
	{ 0x72, "svm cpuid" }, { 0x78, "svm hlt" }, { 0x7b, "svm ioio" },
	{ 0x7c, "svm msr" }, { 0x7f, "svm shutdown" },
	{ HYVM_COUNTER_NPF, "svm npf" }, { HYVM_COUNTER_OTHER, "svm other" },
};

struct engine_vm {
	int dev_fd, vm_fd;
	struct guest_mem mem;		/* for the instruction emulator */
};

struct engine_vcpu {
	int fd;
	struct hyvm_run *run;
	struct engine_vm *vm;
	struct engine_stats stats;
	/* An MMIO or INS/OUTS instruction being finished in user space
	 * (mmio_emulate.c); the guest runs again when it is done. */
	bool emulating;
	uint64_t emulated;		/* instructions, for the console */
	struct emul emul;
};

static int open_device(char *why, size_t whylen)
{
	int fd = open(HYVM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, whylen, "%s: %s%s", HYVM_DEVICE, strerror(errno),
			 errno == ENOENT ? " (hyvm.ko not loaded)" : "");
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

static void svm_probe(struct engine_caps *caps)
{
	struct hyvm_capabilities hc;
	int fd;

	memset(caps, 0, sizeof(*caps));
	fd = open_device(caps->absent_why, sizeof(caps->absent_why));
	if (fd < 0)
		return;
	if (ioctl(fd, HYVM_GET_CAPABILITIES, &hc) < 0) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "HYVM_GET_CAPABILITIES: %s", strerror(errno));
		close(fd);
		return;
	}
	close(fd);
	hc.missing[sizeof(hc.missing) - 1] = 0;
	if (!(hc.flags & HYVM_CAP_SVM)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "hyvm.ko: this CPU has no AMD-V (SVM)%s%s",
			 hc.missing[0] ? ": " : "", hc.missing);
		return;
	}
	if (!(hc.flags & HYVM_CAP_RUNNABLE)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "hyvm.ko cannot run guests here: %s", hc.missing);
		return;
	}
	caps->present = true;
	caps->hardware_assist = true;
	snprintf(caps->description, sizeof(caps->description),
		 "hyvm.ko AMD-V (NPT, %u ASIDs%s)", hc.nr_asids,
		 hc.flags & HYVM_CAP_NRIPS ? ", next-RIP save" : "");
	if (!(hc.guest_modes & HYVM_MODE_REAL))
		caps->cannot[NEED_REAL_MODE] = "hyvm.ko cannot run real mode on this CPU";
}

static int svm_err(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "svm: %s: %s", what, strerror(errno));
	return -1;
}

static int svm_vm_create(struct engine_vm **out, char *err, size_t errlen)
{
	struct engine_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return svm_err(err, errlen, "allocating VM");
	vm->dev_fd = open_device(err, errlen);
	if (vm->dev_fd < 0) {
		free(vm);
		return -1;
	}
	vm->vm_fd = ioctl(vm->dev_fd, HYVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		svm_err(err, errlen, "HYVM_CREATE_VM");
		close(vm->dev_fd);
		free(vm);
		return -1;
	}
	*out = vm;
	return 0;
}

/* hyvm.ko pins the pages of the VMM's own mapping of the RAM memfd. */
static int svm_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
		       int memfd, off_t offset, char *err, size_t errlen)
{
	struct hyvm_ram_map m = {
		.user_addr = (uintptr_t)host, .gpa = gpa, .size = size,
	};

	if (ioctl(vm->vm_fd, HYVM_MAP_RAM, &m) < 0)
		return svm_err(err, errlen, "HYVM_MAP_RAM");
	if (guest_mem_add(&vm->mem, gpa, host, size) < 0) {
		snprintf(err, errlen, "svm: too many RAM slots");
		return -1;
	}
	return 0;
}

static int svm_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **out,
			   char *err, size_t errlen)
{
	struct engine_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return svm_err(err, errlen, "allocating vCPU");
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->vm_fd, HYVM_CREATE_VCPU, index);
	if (vcpu->fd < 0) {
		svm_err(err, errlen, "HYVM_CREATE_VCPU");
		free(vcpu);
		return -1;
	}
	vcpu->run = mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		svm_err(err, errlen, "mapping the vCPU run page");
		close(vcpu->fd);
		free(vcpu);
		return -1;
	}
	*out = vcpu;
	return 0;
}

static void fail_message(struct vcpu_exit *exit, const struct hyvm_run *run)
{
	unsigned long long code = run->fail.hw_reason;

	if ((uint32_t)code == 0xffffffffu)
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: VMRUN refused the guest state (VMEXIT_INVALID)");
	else
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: unhandled exit %#llx (info1 %#llx, info2 %#llx)", code,
			 (unsigned long long)run->fail.info1, (unsigned long long)run->fail.info2);
	/* APM 15.7.2: EXITINTINFO, valid bit 31, exception type 3 */
	if ((run->fail.exit_int_info & 0x80000000u) &&
	    ((run->fail.exit_int_info >> 8) & 7) == 3)
		exit->error.last_vector = run->fail.exit_int_info & 0xff;
}

/*
 * The emulator's next step as an exit: 1 when it needs the VMM (exit is
 * filled), 0 when the instruction is done and its state is back in the
 * module, -1 on failure (exit is an error).
 */
static int emul_step(struct engine_vcpu *vcpu, enum emul_status s, struct vcpu_exit *exit)
{
	struct emul *e = &vcpu->emul;
	char err[128];

	vcpu->emulating = s == EMUL_ACCESS;
	switch (s) {
	case EMUL_ACCESS:
		/* No injection until the instruction is done: set_state would
		 * overwrite it. The VMM asks for a window instead. */
		exit->irq_window_open = false;
		if (e->acc.pio) {
			exit->kind = EXIT_IO;
			exit->io.port = e->acc.addr;
			exit->io.size = e->acc.size;
			exit->io.write = e->acc.write;
			exit->io.count = e->acc.count;
			exit->io.data = e->acc.data;
		} else {
			exit->kind = EXIT_MMIO;
			exit->mmio.gpa = e->acc.addr;
			exit->mmio.size = e->acc.size;
			exit->mmio.write = e->acc.write;
			exit->mmio.data = e->acc.data;
		}
		return 1;
	case EMUL_DONE:
		vcpu->emulated++;
		e->st.tsc = 0;		/* 0: leave the TSC running, not rewound */
		if (ioctl(vcpu->fd, HYVM_SET_STATE, &e->st) < 0) {
			snprintf(err, sizeof(err), "%s", strerror(errno));
			snprintf(exit->error.msg, sizeof(exit->error.msg),
				 "svm: HYVM_SET_STATE after emulating at rip %#llx: %s",
				 (unsigned long long)e->st.rip, err);
			break;
		}
		return 0;
	default:
		snprintf(exit->error.msg, sizeof(exit->error.msg), "svm: %.180s", e->err);
		break;
	}
	exit->kind = EXIT_ERROR;
	return -1;
}

/* An exit the module hands back for the instruction at RIP to be done
 * here: MMIO, or a string port instruction. */
static int emul_start(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	struct hyvm_cpu_state st;
	const struct hyvm_run *run = vcpu->run;
	bool mmio = run->exit_kind == HYVM_EXIT_MMIO;

	if (ioctl(vcpu->fd, HYVM_GET_STATE, &st) < 0) {
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: HYVM_GET_STATE: %s", strerror(errno));
		return -1;
	}
	return emul_step(vcpu, emul_begin(&vcpu->emul, &st, &vcpu->vm->mem,
					  mmio ? run->mmio.insn : NULL,
					  mmio ? run->mmio.insn_len : 0), exit);
}

static int svm_vcpu_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
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
		if (r != 0) {
			vcpu->stats.exits[exit->kind]++;
			return r < 0 ? -1 : 0;
		}
		memset(exit, 0, sizeof(*exit));
		exit->error.last_vector = 0xff;
	}
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
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "HYVM_RUN: %s", strerror(errno));
		return -1;
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
		if (r == 0)
			goto again;	/* done without the VMM (a #PF, REP count 0) */
		vcpu->stats.exits[exit->kind]++;
		return r < 0 ? -1 : 0;
	}
	switch (run->exit_kind) {
	case HYVM_EXIT_IO:
		exit->kind = EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.write = run->io.write;
		exit->io.count = run->io.count;
		exit->io.data = run->io_data;
		if (run->io.count * run->io.size > HYVM_IO_DATA_MAX || !run->io.count) {
			exit->kind = EXIT_ERROR;
			snprintf(exit->error.msg, sizeof(exit->error.msg),
				 "svm: I/O exit with %u x %u bytes", run->io.count, run->io.size);
		}
		break;
	case HYVM_EXIT_HLT:
		exit->kind = EXIT_HLT;
		break;
	case HYVM_EXIT_IRQ_WINDOW:
		exit->kind = EXIT_IRQ_WINDOW;
		break;
	case HYVM_EXIT_INTR:
		exit->kind = EXIT_KICKED;
		break;
	case HYVM_EXIT_SHUTDOWN:
		exit->kind = EXIT_SHUTDOWN;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "triple fault (SVM shutdown intercept)");
		break;
	case HYVM_EXIT_FAIL:
		exit->kind = EXIT_ERROR;
		fail_message(exit, run);
		break;
	default:
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "svm: unknown exit kind %u from hyvm.ko", run->exit_kind);
	}
	vcpu->stats.exits[exit->kind]++;
	return exit->kind == EXIT_ERROR ? -1 : 0;
}

static int svm_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	return ioctl(vcpu->fd, HYVM_GET_STATE, st) < 0 ? -1 : 0;
}

static int svm_set_state(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			 char *err, size_t errlen)
{
	if (ioctl(vcpu->fd, HYVM_SET_STATE, st) < 0)
		return svm_err(err, errlen, "HYVM_SET_STATE");
	return 0;
}

static int svm_inject_irq(struct engine_vcpu *vcpu, uint8_t vector)
{
	return ioctl(vcpu->fd, HYVM_INJECT_IRQ, (unsigned long)vector) < 0 ? -1 : 0;
}

static void svm_request_irq_window(struct engine_vcpu *vcpu, bool on)
{
	(void)ioctl(vcpu->fd, HYVM_SET_IRQ_WINDOW, (unsigned long)on);
}

/* Async-signal-safe: the module checks immediate_exit before each entry,
 * and a signal makes a running guest exit (the IPI is an INTR intercept). */
static void svm_kick(struct engine_vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
}

static void svm_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st)
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
	for (unsigned i = 0; i < sizeof(svm_counters) / sizeof(svm_counters[0]); i++) {
		st->counter[n].name = svm_counters[i].name;
		st->counter[n++].value = run->exit_count[svm_counters[i].index];
	}
	st->nr_counters = n;
}

static void svm_vcpu_destroy(struct engine_vcpu *vcpu)
{
	munmap(vcpu->run, HYVM_RUN_SIZE);
	close(vcpu->fd);
	free(vcpu);
}

static void svm_vm_destroy(struct engine_vm *vm)
{
	close(vm->vm_fd);
	close(vm->dev_fd);
	free(vm);
}

const struct engine_ops svm_engine_ops = {
	.name = "svm",
	.probe = svm_probe,
	.vm_create = svm_vm_create,
	.map_ram = svm_map_ram,
	.vcpu_create = svm_vcpu_create,
	.vcpu_run = svm_vcpu_run,
	.get_state = svm_get_state,
	.set_state = svm_set_state,
	.inject_irq = svm_inject_irq,
	.request_irq_window = svm_request_irq_window,
	.kick = svm_kick,
	.read_stats = svm_read_stats,
	.vcpu_destroy = svm_vcpu_destroy,
	.vm_destroy = svm_vm_destroy,
};
ENGINE_REGISTER(svm_engine_ops, 20)

/*
 * The vmx engine: Intel VT-x through hyvm.ko (/dev/hyvm). The module runs
 * the guest and handles CPUID, MSRs, CR/DR accesses and EPT violations on
 * RAM itself; port I/O, MMIO, HLT, interrupt windows and triple faults
 * come back here as the exit record in the vCPU's shared page (struct
 * hyvm_run), which this file translates to struct vcpu_exit.
 *
 * What the CPU lacks is said, never worked around: without EPT the engine
 * is absent, without unrestricted guest it cannot run real mode (the
 * hybrid layer or bt can).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <hyvm/exit_category.h>
#include <hyvm/ioctl.h>
#include "engine.h"

#define HYVM_DEVICE "/dev/hyvm"

struct engine_vm {
	int dev_fd, vm_fd;
	unsigned guest_modes;		/* HYVM_MODE_* the module can run */
	char missing[96];
};

struct engine_vcpu {
	int fd;
	struct hyvm_run *run;
	struct engine_vm *vm;
	struct engine_stats stats;
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

static void vmx_probe(struct engine_caps *caps)
{
	static char real_why[160];
	struct hyvm_capabilities hc;

	memset(caps, 0, sizeof(*caps));
	if (get_caps(&hc, caps->absent_why, sizeof(caps->absent_why)))
		return;
	if (!(hc.flags & HYVM_CAP_VMX)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "hyvm.ko: this CPU has no Intel VT-x (VMX)%s%s",
			 hc.missing[0] ? ": " : "", hc.missing);
		return;
	}
	if (!(hc.flags & HYVM_CAP_NESTED_PAGING)) {
		snprintf(caps->absent_why, sizeof(caps->absent_why),
			 "VT-x without EPT: the vmx engine needs EPT (no shadow paging); "
			 "use the bt engine (%s)", hc.missing);
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
		 "hyvm.ko Intel VT-x (EPT%s%s)",
		 hc.flags & HYVM_CAP_TAGGED_TLB ? ", VPID" : "",
		 hc.flags & HYVM_CAP_UNRESTRICTED ? ", unrestricted guest" : "");
	if (!(hc.guest_modes & HYVM_MODE_REAL)) {
		snprintf(real_why, sizeof(real_why),
			 "real mode needs VT-x unrestricted guest (hyvm.ko: %s)", hc.missing);
		caps->cannot[NEED_REAL_MODE] = real_why;
	}
}

static int vmx_err(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "vmx: %s: %s", what, strerror(errno));
	return -1;
}

static int vmx_vm_create(struct engine_vm **out, char *err, size_t errlen)
{
	struct engine_vm *vm = calloc(1, sizeof(*vm));
	struct hyvm_capabilities hc;

	if (!vm)
		return vmx_err(err, errlen, "allocating VM");
	if (get_caps(&hc, err, errlen)) {
		free(vm);
		return -1;
	}
	vm->guest_modes = hc.guest_modes;
	memcpy(vm->missing, hc.missing, sizeof(vm->missing));
	vm->dev_fd = open_device(err, errlen);
	if (vm->dev_fd < 0) {
		free(vm);
		return -1;
	}
	vm->vm_fd = ioctl(vm->dev_fd, HYVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		if (errno == EBUSY)
			snprintf(err, errlen, "vmx: HYVM_CREATE_VM: VT-x is in use by another "
				 "hypervisor (kvm_intel with a VM running?)");
		else
			vmx_err(err, errlen, "HYVM_CREATE_VM");
		close(vm->dev_fd);
		free(vm);
		return -1;
	}
	*out = vm;
	return 0;
}

/* hyvm.ko pins the pages of the VMM's own mapping of the RAM memfd. */
static int vmx_map_ram(struct engine_vm *vm, uint64_t gpa, void *host, uint64_t size,
		       int memfd, off_t offset, char *err, size_t errlen)
{
	struct hyvm_ram_map m = {
		.user_addr = (uintptr_t)host, .gpa = gpa, .size = size,
	};

	if (ioctl(vm->vm_fd, HYVM_MAP_RAM, &m) < 0)
		return vmx_err(err, errlen, "HYVM_MAP_RAM");
	return 0;
}

static int vmx_vcpu_create(struct engine_vm *vm, int index, struct engine_vcpu **out,
			   char *err, size_t errlen)
{
	struct engine_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return vmx_err(err, errlen, "allocating vCPU");
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->vm_fd, HYVM_CREATE_VCPU, index);
	if (vcpu->fd < 0) {
		vmx_err(err, errlen, "HYVM_CREATE_VCPU");
		free(vcpu);
		return -1;
	}
	vcpu->run = mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vmx_err(err, errlen, "mapping the vCPU run page");
		close(vcpu->fd);
		free(vcpu);
		return -1;
	}
	*out = vcpu;
	return 0;
}

/* SDM Vol. 3C, 30.4: VM-instruction error numbers worth a word. */
static const char *insn_error(unsigned e)
{
	switch (e) {
	case 7:  return "invalid control fields";
	case 8:  return "invalid host-state fields";
	case 26: return "events blocked by MOV SS";
	default: return "see Intel SDM 30.4";
	}
}

static void fail_message(struct vcpu_exit *exit, const struct hyvm_run *run)
{
	unsigned long long code = run->fail.hw_reason;
	unsigned reason = code & 0xffff;
	char *m = exit->error.msg;
	size_t n = sizeof(exit->error.msg);

	if (code >> 32)
		snprintf(m, n, "vmx: VMLAUNCH/VMRESUME failed: VM-instruction error %llu (%s)",
			 code & 0xffffffffULL, insn_error(code & 0xffffffffULL));
	else if (code & 0x80000000ULL)
		snprintf(m, n, "vmx: VM entry refused the guest state (exit reason %u%s, "
			 "qualification %#llx)", reason,
			 reason == 33 ? ": invalid guest state" : reason == 34 ? ": MSR loading" : "",
			 (unsigned long long)run->fail.info1);
	else if (reason == 28)
		snprintf(m, n, "vmx: the guest left protected mode at rip %#llx: real mode needs "
			 "VT-x unrestricted guest, which hyvm.ko does not have here",
			 (unsigned long long)run->rip);
	else if (reason == 30 && (run->fail.info1 & 16))
		snprintf(m, n, "vmx: string port I/O (INS/OUTS) on port %#llx is not supported yet",
			 (unsigned long long)(run->fail.info1 >> 16));
	else
		snprintf(m, n, "vmx: unhandled exit reason %u (qualification %#llx, gpa %#llx)",
			 reason, (unsigned long long)run->fail.info1,
			 (unsigned long long)run->fail.info2);
	/* SDM 24.9.3: IDT-vectoring information, valid bit 31, type 3 */
	if ((run->fail.exit_int_info & 0x80000000u) &&
	    ((run->fail.exit_int_info >> 8) & 7) == 3)
		exit->error.last_vector = run->fail.exit_int_info & 0xff;
}

static int vmx_vcpu_run(struct engine_vcpu *vcpu, struct vcpu_exit *exit)
{
	struct hyvm_run *run = vcpu->run;
	int r;

	memset(exit, 0, sizeof(*exit));
	exit->error.last_vector = 0xff;
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
		snprintf(exit->error.msg, sizeof(exit->error.msg), "vmx: HYVM_RUN: %s",
			 strerror(errno));
		return -1;
	}
	exit->raw_reason = run->raw_reason;
	exit->rip = run->rip;
	exit->irq_window_open = run->irq_window_open;
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
				 "vmx: I/O exit with %u x %u bytes", run->io.count, run->io.size);
		}
		break;
	case HYVM_EXIT_MMIO:
		/* An EPT violation gives the address, not the access size or
		 * data: that needs an instruction emulator hyvm lacks. */
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "vmx: %s of guest-physical %#llx outside RAM (MMIO) at rip %#llx: "
			 "MMIO emulation is not implemented for the vmx engine",
			 run->mmio.write ? "write" : "read",
			 (unsigned long long)run->mmio.gpa, (unsigned long long)run->rip);
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
		snprintf(exit->error.msg, sizeof(exit->error.msg), "triple fault (VMX exit reason 2)");
		break;
	case HYVM_EXIT_FAIL:
		exit->kind = EXIT_ERROR;
		fail_message(exit, run);
		break;
	default:
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg),
			 "vmx: unknown exit kind %u from hyvm.ko", run->exit_kind);
	}
	vcpu->stats.exits[exit->kind]++;
	return exit->kind == EXIT_ERROR ? -1 : 0;
}

static int vmx_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	return ioctl(vcpu->fd, HYVM_GET_STATE, st) < 0 ? -1 : 0;
}

static int vmx_set_state(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			 char *err, size_t errlen)
{
	if (!(st->cr0 & 1) && !(vcpu->vm->guest_modes & HYVM_MODE_REAL)) {
		snprintf(err, errlen, "vmx: real-mode state refused: real mode needs VT-x "
			 "unrestricted guest (hyvm.ko: %s); use the bt engine", vcpu->vm->missing);
		return -1;
	}
	if (ioctl(vcpu->fd, HYVM_SET_STATE, st) < 0)
		return vmx_err(err, errlen, "HYVM_SET_STATE");
	return 0;
}

static int vmx_inject_irq(struct engine_vcpu *vcpu, uint8_t vector)
{
	return ioctl(vcpu->fd, HYVM_INJECT_IRQ, (unsigned long)vector) < 0 ? -1 : 0;
}

static void vmx_request_irq_window(struct engine_vcpu *vcpu, bool on)
{
	(void)ioctl(vcpu->fd, HYVM_SET_IRQ_WINDOW, (unsigned long)on);
}

/* Async-signal-safe: the module checks immediate_exit before each entry,
 * and a signal makes a running guest exit (the IPI is an external
 * interrupt exit). */
static void vmx_kick(struct engine_vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
}

/* Counters by the shared exit categories (include/hyvm/exit_category.h). */
static void vmx_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st)
{
	static const char *const names[HYVM_CAT_COUNT] = {
		"vmx io", "vmx mmio", "vmx cpuid", "vmx msr", "vmx cr access", "vmx hlt",
		"vmx exception", "vmx external interrupt", "vmx interrupt window",
		"vmx nested page fault", "vmx shutdown", "vmx other",
	};
	const struct hyvm_run *run = vcpu->run;
	uint64_t cat[HYVM_CAT_COUNT] = { 0 };
	unsigned n = 0;

	*st = vcpu->stats;
	for (unsigned i = 0; i < HYVM_NR_COUNTERS; i++)
		cat[hyvm_vmx_exit_class(i).cat] += run->exit_count[i];
	st->counter[n].name = "hardware entries";
	st->counter[n++].value = run->entries;
	st->counter[n].name = "exits handled in kernel";
	st->counter[n++].value = run->handled_in_kernel;
	for (unsigned c = 0; c < HYVM_CAT_COUNT; c++) {
		if (c == HYVM_CAT_MMIO)
			continue;	/* an exit kind, not a raw reason */
		st->counter[n].name = names[c];
		st->counter[n++].value = cat[c];
	}
	st->nr_counters = n;
}

/* Intel SDM Vol. 3D, Appendix C: basic exit reasons. */
static const char *vmx_raw_reason_name(uint32_t raw)
{
	static const char *const names[] = {
		[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
		[7] = "INTERRUPT_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID",
		[12] = "HLT", [13] = "INVD", [15] = "RDPMC", [18] = "VMCALL",
		[28] = "CR_ACCESS", [29] = "DR_ACCESS", [30] = "IO_INSTRUCTION",
		[31] = "MSR_READ", [32] = "MSR_WRITE", [33] = "INVALID_GUEST_STATE",
		[36] = "MWAIT", [39] = "MONITOR", [40] = "PAUSE", [48] = "EPT_VIOLATION",
		[49] = "EPT_MISCONFIG", [52] = "PREEMPTION_TIMER", [54] = "WBINVD",
		[55] = "XSETBV",
	};
	raw &= 0xffff;
	return raw < sizeof(names) / sizeof(names[0]) ? names[raw] : NULL;
}

static void vmx_vcpu_destroy(struct engine_vcpu *vcpu)
{
	munmap(vcpu->run, HYVM_RUN_SIZE);
	close(vcpu->fd);
	free(vcpu);
}

static void vmx_vm_destroy(struct engine_vm *vm)
{
	close(vm->vm_fd);
	close(vm->dev_fd);
	free(vm);
}

const struct engine_ops vmx_engine_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.vm_create = vmx_vm_create,
	.map_ram = vmx_map_ram,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_run = vmx_vcpu_run,
	.get_state = vmx_get_state,
	.set_state = vmx_set_state,
	.inject_irq = vmx_inject_irq,
	.request_irq_window = vmx_request_irq_window,
	.kick = vmx_kick,
	.read_stats = vmx_read_stats,
	.raw_reason_name = vmx_raw_reason_name,
	.vcpu_destroy = vmx_vcpu_destroy,
	.vm_destroy = vmx_vm_destroy,
};
ENGINE_REGISTER(vmx_engine_ops, 21)

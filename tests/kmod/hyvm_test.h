/*
 * Helpers shared by the programs that drive /dev/hyvm inside the emulated
 * host: PASS/FAIL lines, and a VM with RAM and one vCPU in real mode.
 */
#ifndef HYVM_KMOD_TEST_H
#define HYVM_KMOD_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <hyvm/ioctl.h>

static int test_failures;

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test_failures++;
}

/* The ioctl fails with exactly this errno. */
static void check_errno(long ret, int want, const char *name)
{
	int err = errno;

	check(ret == -1 && err == want, name, "returned %ld errno %d (%s), wanted errno %d (%s)",
	      ret, ret == -1 ? err : 0, ret == -1 ? strerror(err) : "-",
	      want, strerror(want));
}

/* Raw exit counter indexes of this CPU's backend (VMX or SVM). */
struct exit_index {
	unsigned cpuid, npf, intr;
};

static inline int is_vmx(void)
{
	struct hyvm_capabilities caps;
	int fd = open("/dev/hyvm", O_RDWR | O_CLOEXEC), vmx = 0;

	if (fd >= 0 && ioctl(fd, HYVM_GET_CAPABILITIES, &caps) == 0)
		vmx = !!(caps.flags & HYVM_CAP_VMX);
	if (fd >= 0)
		close(fd);
	return vmx;
}

static inline struct exit_index exit_index(void)
{
	/* VMX basic exit reasons 10, 48, 1; SVM exit codes 0x72, NPF, 0x60 */
	return is_vmx() ? (struct exit_index){ 10, 48, 1 } :
			  (struct exit_index){ 0x72, HYVM_COUNTER_NPF, 0x60 };
}

struct test_vm {
	int dev, vm, vcpu;
	unsigned char *ram;
	size_t ram_size;
	struct hyvm_run *run;
};

static int open_dev(void)
{
	int fd = open("/dev/hyvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("FAIL open: /dev/hyvm: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/* A VM with ram_size bytes at guest-physical 0 and vCPU 0. */
static int test_vm_create(struct test_vm *t, size_t ram_size)
{
	struct hyvm_ram_map m = { 0 };

	memset(t, 0, sizeof(*t));
	t->dev = open_dev();
	t->vm = ioctl(t->dev, HYVM_CREATE_VM, 0);
	if (t->vm < 0)
		return -1;
	t->ram_size = ram_size;
	t->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->ram == MAP_FAILED)
		return -1;
	m.user_addr = (unsigned long)t->ram;
	m.size = ram_size;
	if (ioctl(t->vm, HYVM_MAP_RAM, &m))
		return -1;
	t->vcpu = ioctl(t->vm, HYVM_CREATE_VCPU, 0);
	if (t->vcpu < 0)
		return -1;
	t->run = mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->vcpu, 0);
	return t->run == MAP_FAILED ? -1 : 0;
}

static void test_vm_destroy(struct test_vm *t)
{
	if (t->run && t->run != MAP_FAILED)
		munmap(t->run, HYVM_RUN_SIZE);
	if (t->ram && t->ram != MAP_FAILED)
		munmap(t->ram, t->ram_size);
	if (t->vcpu > 0)
		close(t->vcpu);
	if (t->vm > 0)
		close(t->vm);
	if (t->dev > 0)
		close(t->dev);
}

static void set_seg(struct hyvm_segment *s, unsigned short sel, unsigned long base,
		    unsigned limit, unsigned attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/* Real mode at 0000:ip with ds = ds_sel, copied code at ip. */
static void real_mode_state(struct hyvm_cpu_state *st, unsigned ip, unsigned short ds_sel)
{
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < HYVM_NR_SEGS; i++)
		set_seg(&st->seg[i], 0, 0, 0xffff, 0x93);
	set_seg(&st->seg[HYVM_CS], 0, 0, 0xffff, 0x9b);
	set_seg(&st->seg[HYVM_DS], ds_sel, (unsigned long)ds_sel << 4, 0xffff, 0x93);
	set_seg(&st->seg[HYVM_LDTR], 0, 0, 0xffff, 0x82);
	set_seg(&st->seg[HYVM_TR], 0, 0, 0xffff, 0x8b);
	st->idtr.limit = 0x3ff;
	st->gdtr.limit = 0xffff;
	st->rip = ip;
	st->rflags = 2;
	st->cr0 = 0x60000010;
	st->dr6 = 0xffff0ff0;
	st->dr7 = 0x400;
	st->pat = 0x0007040600070406ULL;
	st->gpr[HYVM_RSP] = 0x8000;
	*(unsigned short *)&st->fxsave[0] = 0x37f;
	*(unsigned *)&st->fxsave[24] = 0x1f80;
}

#endif

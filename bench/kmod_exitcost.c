/*
 * Exit cost of hyvm.ko against KVM, in the same (emulated) host: the same
 * real-mode loops run on /dev/hyvm and on /dev/kvm, timed from user space.
 *   io:      N x OUT to port 0x80, each a round trip to user space
 *   cpuid:   N x CPUID, each handled in the kernel
 *   compute: a loop with no exits, the baseline
 * Inside an emulator the absolute numbers mean nothing; the ratio between
 * the two hypervisors in the same emulated host is the result.
 *
 *   kmod_exitcost [N]                  both, in one go (hyvm.ko and kvm
 *                                      loaded together: svm)
 *   kmod_exitcost --hyvm FILE [N]      hyvm.ko alone, results saved in FILE
 *   kmod_exitcost --kvm FILE [N]       KVM alone, compared with FILE
 * The two-step form is for vmx, where hyvm.ko refuses VMXON while kvm_intel
 * holds VT-x: run --hyvm, unload hyvm.ko, load kvm_intel, run --kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <hyvm/ioctl.h>

#define RAM_SIZE (64 * 1024)
#define CODE 0x1000

/* mov esi,N ; body ; dec esi ; jnz body ; hlt  (16-bit code; CPUID clobbers ECX) */
static size_t make_loop(unsigned char *p, unsigned n, const unsigned char *body, size_t len)
{
	size_t i = 0;

	p[i++] = 0x66; p[i++] = 0xbe;
	memcpy(p + i, &n, 4); i += 4;
	memcpy(p + i, body, len); i += len;
	p[i++] = 0x66; p[i++] = 0x4e;			/* dec esi */
	p[i++] = 0x75; p[i++] = (unsigned char)-(len + 4);	/* jnz body */
	p[i++] = 0xf4;
	return i;
}

static const unsigned char io_body[] = { 0xe6, 0x80 };			/* out 0x80,al */
static const unsigned char cpuid_body[] = { 0x66, 0x31, 0xc0, 0x0f, 0xa2 };	/* xor eax,eax; cpuid */
static const unsigned char nop_body[] = { 0x90 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- hyvm.ko ---- */
static double run_hyvm(const unsigned char *code, size_t len, unsigned long *exits)
{
	int dev = open("/dev/hyvm", O_RDWR), vm, vcpu, i;
	unsigned char *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hyvm_ram_map m = { .user_addr = (unsigned long)ram, .size = RAM_SIZE };
	struct hyvm_cpu_state st;
	struct hyvm_capabilities caps;
	struct hyvm_run *run;
	double t0, t;

	if (dev < 0)
		return -1;
	vm = ioctl(dev, HYVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, HYVM_MAP_RAM, &m))
		return -1;
	vcpu = ioctl(vm, HYVM_CREATE_VCPU, 0);
	run = mmap(NULL, HYVM_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED)
		return -1;
	memcpy(ram + CODE, code, len);
	ioctl(vcpu, HYVM_GET_STATE, &st);
	for (i = 0; i < HYVM_NR_SEGS; i++)
		if (i != HYVM_LDTR && i != HYVM_TR) {
			st.seg[i].base = 0;
			st.seg[i].selector = 0;
		}
	st.rip = CODE;
	if (ioctl(vcpu, HYVM_SET_STATE, &st))
		return -1;
	*exits = 0;
	t0 = now();
	for (;;) {
		if (ioctl(vcpu, HYVM_RUN, 0))
			return -1;
		if (run->exit_kind == HYVM_EXIT_HLT)
			break;
		if (run->exit_kind != HYVM_EXIT_IO && run->exit_kind != HYVM_EXIT_INTR)
			return -1;
		(*exits)++;
	}
	t = now() - t0;
	/* CPUIDs handled in the kernel: VMX basic reason 10, SVM exit 0x72 */
	*exits += run->exit_count[ioctl(dev, HYVM_GET_CAPABILITIES, &caps) == 0 &&
				  (caps.flags & HYVM_CAP_VMX) ? 10 : 0x72];
	munmap(run, HYVM_RUN_SIZE);
	close(vcpu);
	close(vm);
	close(dev);
	munmap(ram, RAM_SIZE);
	return t;
}

/* ---- KVM ---- */
static double run_kvm(const unsigned char *code, size_t len, unsigned long *exits)
{
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu, size;
	unsigned char *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {
		.memory_size = RAM_SIZE, .userspace_addr = (unsigned long)ram,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE, .rflags = 2 };
	struct kvm_run *run;
	double t0, t;

	if (kvm < 0)
		return -1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		return -1;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED)
		return -1;
	memcpy(ram + CODE, code, len);
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	ioctl(vcpu, KVM_SET_REGS, &regs);
	*exits = 0;
	t0 = now();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) && errno != EINTR)
			return -1;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_INTR)
			return -1;
		(*exits)++;
	}
	t = now() - t0;
	munmap(run, size);
	close(vcpu);
	close(vm);
	close(kvm);
	munmap(ram, RAM_SIZE);
	return t;
}

#define NLOOPS 3
static const struct {
	const char *name;
	const unsigned char *body;
	size_t len;
	unsigned mul;
} loops[NLOOPS] = {
	{ "io", io_body, sizeof(io_body), 1 },
	{ "cpuid", cpuid_body, sizeof(cpuid_body), 1 },
	{ "compute", nop_body, sizeof(nop_body), 200 },
};

struct result {
	double t;		/* seconds, < 0 if the run failed */
	unsigned long exits;
};

static void header(unsigned n, const char *what)
{
	printf("BENCH exit cost (%s), %u iterations (compute: x200), microseconds per "
	       "iteration; io and cpuid: one exit per iteration\n", what, n);
	printf("BENCH emulated-host time: the absolute numbers mean nothing, only the "
	       "hyvm/kvm ratio in the same host does\n");
}

static void compare(unsigned n, const struct result *h, const struct result *k)
{
	for (unsigned i = 0; i < NLOOPS; i++) {
		double iters = (double)n * loops[i].mul;

		if (h[i].t < 0 || k[i].t < 0) {
			printf("BENCH %-8s failed (hyvm %s, kvm %s)\n", loops[i].name,
			       h[i].t < 0 ? "failed" : "ok", k[i].t < 0 ? "failed" : "ok");
			continue;
		}
		printf("BENCH %-8s hyvm.ko %8.3f us  kvm %8.3f us  hyvm/kvm %.2f  (exits hyvm %lu kvm %lu)\n",
		       loops[i].name, h[i].t * 1e6 / iters, k[i].t * 1e6 / iters,
		       h[i].t / k[i].t, h[i].exits, k[i].exits);
	}
}

static int failed;

static void run_all(unsigned n, int kvm, struct result *r)
{
	unsigned char code[64];

	for (unsigned i = 0; i < NLOOPS; i++) {
		size_t len = make_loop(code, n * loops[i].mul, loops[i].body, loops[i].len);

		errno = 0;
		r[i].exits = 0;
		r[i].t = kvm ? run_kvm(code, len, &r[i].exits) : run_hyvm(code, len, &r[i].exits);
		if (r[i].t < 0 && ++failed)
			printf("BENCH %-8s on %s failed: %s\n", loops[i].name,
			       kvm ? "kvm" : "hyvm.ko", strerror(errno));
	}
}

int main(int argc, char **argv)
{
	const char *hyvm_file = NULL, *kvm_file = NULL;
	struct result h[NLOOPS], k[NLOOPS];
	unsigned n = 5000, i;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--hyvm") && i + 1 < (unsigned)argc)
			hyvm_file = argv[++i];
		else if (!strcmp(argv[i], "--kvm") && i + 1 < (unsigned)argc)
			kvm_file = argv[++i];
		else if (argv[i][0] >= '0' && argv[i][0] <= '9')
			n = strtoul(argv[i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--hyvm FILE | --kvm FILE] [N]\n", argv[0]);
			return 2;
		}
	}
	if (hyvm_file && kvm_file) {
		fprintf(stderr, "%s: --hyvm and --kvm are two separate runs\n", argv[0]);
		return 2;
	}

	if (hyvm_file) {	/* step 1: hyvm.ko alone, saved for step 2 */
		run_all(n, 0, h);
		f = fopen(hyvm_file, "w");
		if (!f) {
			perror(hyvm_file);
			return 1;
		}
		fprintf(f, "%u\n", n);
		for (i = 0; i < NLOOPS; i++) {
			fprintf(f, "%s %.9f %lu\n", loops[i].name, h[i].t, h[i].exits);
			if (h[i].t >= 0)
				printf("BENCH %-8s hyvm.ko %8.3f us  (exits %lu)\n", loops[i].name,
				       h[i].t * 1e6 / ((double)n * loops[i].mul), h[i].exits);
		}
		fclose(f);
		return failed != 0;
	}
	if (kvm_file) {		/* step 2: KVM, compared with step 1 */
		unsigned saved;
		char name[16];

		f = fopen(kvm_file, "r");
		if (!f || fscanf(f, "%u", &saved) != 1) {
			fprintf(stderr, "%s: cannot read the hyvm.ko results\n", kvm_file);
			return 1;
		}
		n = saved;
		for (i = 0; i < NLOOPS; i++)
			if (fscanf(f, "%15s %lf %lu", name, &h[i].t, &h[i].exits) != 3 ||
			    strcmp(name, loops[i].name)) {
				fprintf(stderr, "%s: malformed hyvm.ko results\n", kvm_file);
				return 1;
			}
		fclose(f);
		header(n, "hyvm.ko then KVM, one after the other");
		run_all(n, 1, k);
		compare(n, h, k);
		return failed != 0;
	}
	header(n, "hyvm.ko and KVM");
	run_all(n, 0, h);
	run_all(n, 1, k);
	compare(n, h, k);
	return failed != 0;
}

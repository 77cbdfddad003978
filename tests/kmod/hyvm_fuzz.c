/*
 * A randomized ioctl fuzzer for hyvm.ko (issue 15, item 3): hyvm_abuse.c's
 * hostile calls as random sequences from several threads at once. Every
 * ioctl of /dev/hyvm, the VM and the vCPU fds (include/hyvm/ioctl.h) with
 * random and boundary arguments (unaligned, wrapping, kernel and
 * unmapped addresses, slot overlaps, every vCPU index, CPU states and
 * CPUID tables mutated from valid ones), on fds that other threads close
 * meanwhile (a vCPU inside HYVM_RUN included), guest RAM mapped into VMs
 * and munmapped by the process while their vCPUs run, the run page
 * mmapped, scribbled on, mapped as another VM's guest RAM and unmapped,
 * guest code rewritten while it runs. A kicker
 * thread signals the workers every few milliseconds so that HYVM_RUN
 * returns.
 *
 * What it checks itself: every failing call returns one of the errnos
 * the ABI uses (anything else is a FAIL with the call), and afterwards a
 * fresh VM still runs a guest to HLT. What the harness checks after it
 * (tests/kmod/run-svm.sh, run-vmx.sh): no Oops, WARNING or BUG in dmesg,
 * kmemleak if the kernel has it, and rmmod (no reference leaked).
 *
 *   hyvm_fuzz [--seconds N] [--threads N] [--seed N] [--ops MASK]
 *
 * --ops narrows a finding down: the OPS_* kinds of hostility below (all
 * by default).
 *
 * Defaults: 20 s, 4 worker threads, the seed from the clock; the seed is
 * printed first. Thread i draws from seed + i: a failing run is repeated
 * with its seed (thread interleavings differ, the calls do not).
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include "hyvm_test.h"
#include "hyvm_fuzz_stats.h"

#define PAGE		4096UL
#define NR_FDS		48
#define NR_REGIONS	12
#define NR_RUNMAPS	8
#define MAX_THREADS	16

static volatile int stop;
/* --ops: which kinds of hostility (all by default), to narrow a finding */
#define OPS_STATE	1	/* CPU states mutated (else a valid real-mode one) */
#define OPS_CODE	2	/* random guest code (else the snippets only) */
#define OPS_EVENTS	4	/* HYVM_INJECT_IRQ, HYVM_SET_IRQ_WINDOW */
#define OPS_RUNPAGE	8	/* a run page as guest RAM */
#define OPS_CPUID	16	/* HYVM_SET_CPUID */
#define OPS_DEBUG	32	/* HYVM_SET_GUEST_DEBUG */
static unsigned ops = ~0u;
/* --trace: each mutated state a vCPU accepted, and each HYVM_RUN of a
 * vCPU that has one, on stdout before the call (the last lines before a
 * hang name its state) */
static int trace;
static __thread char state_desc[256];
static unsigned char mutated[4096];	/* by fd: its last accepted state was mutated */
static int on_svm;			/* hyvm.ko's backend is svm (random_state) */

/* fd numbers of each kind; -1 free. A number may be stale (another
 * thread closed it, and it may since name another object): that is the
 * point, the module must cope with any fd. 0-2 are never in a pool. */
static struct {
	pthread_mutex_t lock;
	int dev[NR_FDS], vm[NR_FDS], vcpu[NR_FDS];
} fds = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Guest RAM candidates and run-page mappings; touched only under lock,
 * since another thread may munmap them. */
static struct {
	pthread_mutex_t lock;
	unsigned char *addr[NR_REGIONS];
	size_t size[NR_REGIONS];
	int prot[NR_REGIONS];
	void *run[NR_RUNMAPS];
} mem = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* A 64-bit value near a boundary the module checks, or random. */
static uint64_t boundary(uint64_t *s)
{
	static const uint64_t v[] = {
		0, 1, PAGE - 1, PAGE, PAGE + 1, 0xa0000, 0xfffff000, 0x100000000ULL,
		HYVM_MAX_GPA - PAGE, HYVM_MAX_GPA, HYVM_MAX_GPA + PAGE, 1ULL << 47,
		0xffff888000000000ULL, -PAGE, ~0ULL, 0x7fffffffffffULL & ~(PAGE - 1),
	};
	uint64_t x = rnd(s);

	return x & 1 ? v[(x >> 1) % (sizeof(v) / sizeof(v[0]))] : rnd(s);
}

static void pool_put(int *pool, int fd)
{
	if (fd < 3)
		return;
	pthread_mutex_lock(&fds.lock);
	for (int i = 0; i < NR_FDS; i++)
		if (pool[i] < 0) {
			pool[i] = fd;
			fd = -1;
			break;
		}
	pthread_mutex_unlock(&fds.lock);
	if (fd >= 0)
		close(fd);	/* pool full */
}

static int pool_pick(int *pool, uint64_t *s)
{
	int fd;

	pthread_mutex_lock(&fds.lock);
	fd = pool[below(s, NR_FDS)];
	for (int tries = 0; fd < 0 && tries < 8; tries++)	/* mostly a live one */
		fd = pool[below(s, NR_FDS)];
	pthread_mutex_unlock(&fds.lock);
	return fd;
}

/* Removes a random fd from a random pool and closes it. */
static void pool_close(uint64_t *s)
{
	int *pools[] = { fds.dev, fds.vm, fds.vcpu }, *pool = pools[below(s, 3)], fd;
	unsigned i = below(s, NR_FDS);

	pthread_mutex_lock(&fds.lock);
	fd = pool[i];
	pool[i] = -1;
	pthread_mutex_unlock(&fds.lock);
	if (fd >= 3)
		close(fd);
}

/* Guest code for a region: loops, HLT, port and MMIO accesses, or noise. */
static void fill_code(unsigned char *p, size_t n, uint64_t *s)
{
	static const unsigned char snippets[][8] = {
		{ 0xeb, 0xfe },				/* jmp $ */
		{ 0xf4 },				/* hlt */
		{ 0xe6, 0x80, 0xeb, 0xfc },		/* out 0x80,al; jmp back */
		{ 0xa1, 0x00, 0xf0, 0xeb, 0xfb },	/* mov ax,[0xf000]; jmp back */
		{ 0x0f, 0xa2, 0xeb, 0xfc },		/* cpuid; jmp back */
		{ 0xcd, 0x03 },				/* int3 */
		{ 0x0f, 0x0b },				/* ud2 */
		{ 0x0f, 0x01, 0xd8 },			/* vmrun */
	};
	size_t at = 0x1000 < n ? 0x1000 : 0;

	if ((ops & OPS_CODE) && below(s, 4) == 0) {
		for (size_t i = 0; i < 256 && at + i < n; i++)
			p[at + i] = rnd(s);
	} else {
		memcpy(p + at, snippets[below(s, 8)], at + 8 <= n ? 8 : n - at);
	}
	if (trace > 1 && at + 8 <= n)
		printf("TRACE2 code %p+%#zx: %02x %02x %02x %02x %02x %02x %02x %02x\n", (void *)p,
		       at, p[at], p[at + 1], p[at + 2], p[at + 3], p[at + 4], p[at + 5],
		       p[at + 6], p[at + 7]);
}

static void op_map_region(uint64_t *s)
{
	unsigned i = below(s, NR_REGIONS);
	size_t size = (1 + below(s, 64)) * PAGE;
	int prot = below(s, 5) ? PROT_READ | PROT_WRITE : below(s, 2) ? PROT_READ : PROT_NONE;
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);

	if (p == MAP_FAILED)
		return;
	fill_code(p, size, s);
	mprotect(p, size, prot);
	pthread_mutex_lock(&mem.lock);
	if (mem.addr[i])
		munmap(mem.addr[i], mem.size[i]);	/* maybe pinned by a VM: fine */
	mem.addr[i] = p;
	mem.size[i] = size;
	mem.prot[i] = prot;
	if (trace > 1)
		printf("TRACE2 region %u %p size %#zx prot %d\n", i, (void *)p, size, prot);
	pthread_mutex_unlock(&mem.lock);
}

static void op_rewrite_code(uint64_t *s)
{
	unsigned i = below(s, NR_REGIONS);

	pthread_mutex_lock(&mem.lock);
	if (mem.addr[i] && mem.prot[i] == (PROT_READ | PROT_WRITE))
		fill_code(mem.addr[i], mem.size[i], s);
	pthread_mutex_unlock(&mem.lock);
}

static void op_map_ram(uint64_t *s)
{
	struct hyvm_ram_map m = { 0 };
	unsigned i = below(s, NR_REGIONS), how = below(s, 8);
	int vm = pool_pick(fds.vm, s);

	pthread_mutex_lock(&mem.lock);
	m.user_addr = (unsigned long)mem.addr[i];
	m.size = mem.size[i];
	if (how == 6 && (ops & OPS_RUNPAGE) && mem.run[i % NR_RUNMAPS]) {	/* a vCPU's run page as guest RAM */
		m.user_addr = (unsigned long)mem.run[i % NR_RUNMAPS];
		m.size = HYVM_RUN_SIZE;
	}
	pthread_mutex_unlock(&mem.lock);
	m.gpa = below(s, 3) ? 0 : below(s, 2) ? below(s, 256) * PAGE : boundary(s);
	if (how == 0)
		m.user_addr = boundary(s);
	if (how == 1)
		m.size = boundary(s);
	if (how == 2)
		m.flags = below(s, 2) ? HYVM_MEM_READONLY : rnd(s);
	if (how == 3)
		m.pad = rnd(s);
	if (how == 4)
		m.user_addr += below(s, 2) ? 1 : PAGE * below(s, 8);
	long r = ioctl(vm, HYVM_MAP_RAM, how == 5 ? (void *)boundary(s) : &m);
	result("HYVM_MAP_RAM", r, errno);
	if (trace > 1 && r == 0)
		printf("TRACE2 map vm fd %d gpa %#llx size %#llx flags %#x region %u how %u\n", vm,
		       (unsigned long long)m.gpa, (unsigned long long)m.size, m.flags, i, how);
}

static void random_state(struct hyvm_cpu_state *st, uint64_t *s)
{
	unsigned n = ops & OPS_STATE ? below(s, 4) : 0;

	real_mode_state(st, 0x1000, 0);
	if (below(s, 6) == 0) {		/* protected, flat */
		st->cr0 |= 1;
		st->seg[HYVM_CS].attrib = 0xc09b;
		st->seg[HYVM_CS].limit = 0xffffffff;
	}
	state_desc[0] = '\0';
	for (unsigned i = 0; i < n; i++) {	/* a few fields or bytes anything */
		uint64_t v = boundary(s);
		unsigned what = below(s, 10), at = below(s, sizeof(*st));
		size_t l = strlen(state_desc);
		snprintf(state_desc + l, sizeof(state_desc) - l, " %u:%#llx@%u", what,
			 (unsigned long long)v, at);
		switch (what) {
		case 0: st->cr0 = v; break;
		case 1: st->cr4 = v; break;
		case 2: st->efer = v; break;
		case 3: st->rflags = v; break;
		case 4: st->seg[below(s, HYVM_NR_SEGS)].attrib = v; break;
		case 5: st->event.type = v; st->event.vector = rnd(s); break;
		case 6: st->interruptibility = v; break;
		case 7: st->cr3 = v; break;
		case 8: st->dr7 = v; break;
		default: ((unsigned char *)st)[at] = v; break;
		}
	}
	/*
	 * Not on svm: EFER.LME with CR0.PG and CR4.PAE clear. Valid (a CPU
	 * enters long mode from there), but QEMU 7.2's TCG, our emulated AMD
	 * host, loses the host's CR0 at the next #VMEXIT from it and the host
	 * CPU stops (docs/SECURITY.md: the RCU stall); hyvm.ko cannot keep a
	 * guest out of it without emulating MOV CR0 and MOV CR4. make
	 * test-kmod-svm's 45 s of --ops 1 ended in that stall once.
	 */
	if (on_svm && (st->efer & 0x100) && !(st->cr0 & 0x80000000ULL) && !(st->cr4 & 0x20))
		st->efer &= ~0x100ULL;
}

/* --trace 2: a state HYVM_SET_STATE accepted, every field that decides
 * how the guest starts */
static void trace_state(int fd, const struct hyvm_cpu_state *st)
{
	printf("TRACE2 state fd %d rip %#llx rsp %#llx cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx"
	       " rflags %#llx dr7 %#llx cr8 %llu event %u/%u/%u intr %#x halted %u"
	       " gdtr %#llx/%#x idtr %#llx/%#x", fd, (unsigned long long)st->rip,
	       (unsigned long long)st->gpr[HYVM_RSP], (unsigned long long)st->cr0,
	       (unsigned long long)st->cr3, (unsigned long long)st->cr4,
	       (unsigned long long)st->efer, (unsigned long long)st->rflags,
	       (unsigned long long)st->dr7, (unsigned long long)st->cr8, st->event.type,
	       st->event.vector, st->event.has_error_code, st->interruptibility, st->halted,
	       (unsigned long long)st->gdtr.base, st->gdtr.limit,
	       (unsigned long long)st->idtr.base, st->idtr.limit);
	for (int i = 0; i < HYVM_NR_SEGS; i++)
		printf(" s%d %#x/%#llx/%#x/%#x", i, st->seg[i].selector,
		       (unsigned long long)st->seg[i].base, st->seg[i].limit, st->seg[i].attrib);
	printf("\n");
}

static void random_cpuid(struct hyvm_cpuid_table *t, uint64_t *s)
{
	memset(t, 0, sizeof(*t));
	t->nent = 1 + below(s, 8);
	t->entries[0].eax = 0xd;
	for (unsigned i = 1; i < t->nent; i++) {
		t->entries[i].function = below(s, 2) ? below(s, 0x20) : 0x80000000 + below(s, 9);
		t->entries[i].eax = rnd(s);
		t->entries[i].ecx = rnd(s);
		t->entries[i].edx = rnd(s);
	}
	if (below(s, 4) == 0)
		((unsigned char *)t)[below(s, 8 + t->nent * sizeof(t->entries[0]))] = rnd(s);
	if (below(s, 8) == 0)
		t->nent = boundary(s);
}

static void op_vcpu(uint64_t *s)
{
	static __thread struct hyvm_cpu_state st;
	static __thread struct hyvm_cpuid_table cpuid;
	int vcpu = pool_pick(fds.vcpu, s);
	void *bad = below(s, 8) ? NULL : (void *)boundary(s);

	switch (below(s, 9)) {
	case 0:
	case 1: {
		if ((trace && vcpu >= 0 && vcpu < 4096 && mutated[vcpu]) || trace > 1)
			printf("TRACE run fd %d\n", vcpu);
		long r = ioctl(vcpu, HYVM_RUN, below(s, 16) ? 0 : rnd(s));
		int err = errno;
		/* how it ended: the run page, if the fd still names a vCPU */
		struct hyvm_run *run = r ? MAP_FAILED : mmap(NULL, HYVM_RUN_SIZE, PROT_READ,
							     MAP_SHARED, vcpu, 0);
		pthread_mutex_lock(&stats.lock);
		stats.runs++;
		stats.runs_entered += r == 0;
		if (run != MAP_FAILED)
			stats.run_kinds[run->exit_kind & 15]++;
		else if (r == 0)
			stats.run_unread++;
		pthread_mutex_unlock(&stats.lock);
		if (run != MAP_FAILED)
			munmap(run, HYVM_RUN_SIZE);
		result("HYVM_RUN", r, err);
		break;
	}
	case 2:
	{
		random_state(&st, s);
		long r = ioctl(vcpu, HYVM_SET_STATE, bad ? bad : &st);
		result("HYVM_SET_STATE", r, errno);
		if (!bad && state_desc[0]) {
			pthread_mutex_lock(&stats.lock);
			stats.states_mutated++;
			stats.states_mutated_ok += r == 0;
			pthread_mutex_unlock(&stats.lock);
		}
		if (r == 0 && vcpu >= 0 && vcpu < 4096) {
			mutated[vcpu] = state_desc[0] != 0;
			if (trace > 1)
				trace_state(vcpu, &st);
			if (trace && state_desc[0])
				printf("TRACE state fd %d cr0 %#llx cr4 %#llx efer %#llx rflags %#llx"
				       " mutations%s\n", vcpu, (unsigned long long)st.cr0,
				       (unsigned long long)st.cr4, (unsigned long long)st.efer,
				       (unsigned long long)st.rflags, state_desc);
		}
		break;
	}
	case 3:
		CALL("HYVM_GET_STATE", ioctl(vcpu, HYVM_GET_STATE, bad ? bad : &st));
		break;
	case 4:
		if (!(ops & OPS_CPUID))
			break;
		random_cpuid(&cpuid, s);
		CALL("HYVM_SET_CPUID", ioctl(vcpu, HYVM_SET_CPUID, bad ? bad : &cpuid));
		break;
	case 5:
		if (!(ops & OPS_EVENTS))
			break;
		CALL("HYVM_INJECT_IRQ", ioctl(vcpu, HYVM_INJECT_IRQ,
					      below(s, 4) ? below(s, 256) : boundary(s)));
		break;
	case 6:
		if (!(ops & OPS_EVENTS))
			break;
		CALL("HYVM_SET_IRQ_WINDOW", ioctl(vcpu, HYVM_SET_IRQ_WINDOW,
						  below(s, 4) ? below(s, 2) : boundary(s)));
		break;
	case 7: {		/* mostly plausible settings, some boundary values */
		static __thread struct hyvm_guest_debug dbg;
		if (!(ops & OPS_DEBUG))
			break;
		dbg.flags = below(s, 8) ? below(s, 4) : boundary(s);
		dbg.pad = below(s, 16) ? 0 : boundary(s);
		for (int i = 0; i < 4; i++)
			dbg.dr[i] = below(s, 2) ? below(s, 1u << 20) : boundary(s);
		dbg.dr7 = below(s, 2) ? rnd(s) & 0xffff00ffULL : boundary(s);
		CALL("HYVM_SET_GUEST_DEBUG", ioctl(vcpu, HYVM_SET_GUEST_DEBUG, bad ? bad : &dbg));
		break;
	}
	default: {		/* the run page: map, look, scribble, unmap */
		unsigned i = below(s, NR_RUNMAPS);
		size_t len = below(s, 8) ? HYVM_RUN_SIZE : below(s, 3) * PAGE;
		off_t off = below(s, 8) ? 0 : (off_t)(below(s, 3) * PAGE);
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, off);
		result("mmap vcpu", p == MAP_FAILED ? -1 : 0, errno);
		pthread_mutex_lock(&mem.lock);
		if (mem.run[i]) {
			struct hyvm_run *run = mem.run[i];
			pthread_mutex_lock(&stats.lock);
			stats.exits[run->exit_kind & 15]++;
			pthread_mutex_unlock(&stats.lock);
			memset((char *)run + below(s, HYVM_RUN_SIZE - 8), (int)rnd(s), 8);
			run->immediate_exit = below(s, 2);
			munmap(mem.run[i], HYVM_RUN_SIZE);
			mem.run[i] = NULL;
		}
		if (p != MAP_FAILED && len == HYVM_RUN_SIZE)
			mem.run[i] = p;
		else if (p != MAP_FAILED)
			munmap(p, len);
		pthread_mutex_unlock(&mem.lock);
		break;
	}
	}
}

static void op_fds(uint64_t *s)
{
	int fd;

	switch (below(s, 10)) {
	case 0:
		fd = open("/dev/hyvm", O_RDWR | O_CLOEXEC);
		result("open /dev/hyvm", fd, errno);
		pool_put(fds.dev, fd);
		break;
	case 1:
	case 2:
		fd = ioctl(pool_pick(fds.dev, s), HYVM_CREATE_VM, below(s, 8) ? 0 : boundary(s));
		result("HYVM_CREATE_VM", fd, errno);
		pool_put(fds.vm, fd);
		break;
	case 3:
	case 4:
		fd = ioctl(pool_pick(fds.vm, s), HYVM_CREATE_VCPU,
			   below(s, 4) ? below(s, 2) : below(s, 2) ? below(s, HYVM_MAX_VCPUS + 2)
								    : boundary(s));
		result("HYVM_CREATE_VCPU", fd, errno);
		if (trace > 1 && fd >= 0)
			printf("TRACE2 vcpu fd %d\n", fd);
		pool_put(fds.vcpu, fd);
		break;
	case 5: {
		struct hyvm_capabilities caps;
		fd = pool_pick(fds.dev, s);
		CALL("HYVM_GET_API_VERSION", ioctl(fd, HYVM_GET_API_VERSION, rnd(s)));
		CALL("HYVM_GET_CAPABILITIES", ioctl(fd, HYVM_GET_CAPABILITIES,
						    below(s, 2) ? &caps : (void *)boundary(s)));
		break;
	}
	case 6: {		/* any command number of ours (and a few others) on any fd */
		int *pools[] = { fds.dev, fds.vm, fds.vcpu };
		unsigned long cmd = below(s, 2) ? _IOC(below(s, 4), HYVM_IOCTL_TYPE, below(s, 0x30),
						       below(s, 2) ? below(s, 4096) : 0)
						: (unsigned long)rnd(s);
		CALL("ioctl any", ioctl(pool_pick(pools[below(s, 3)], s), cmd, boundary(s)));
		break;
	}
	default:
		pool_close(s);
		break;
	}
}

static void *worker(void *arg)
{
	uint64_t s = seed + (uintptr_t)arg * 0x9e3779b97f4a7c15ULL;

	if (!s)
		s = 1;
	while (!stop) {
		switch (below(&s, 16)) {
		case 0: op_map_region(&s); break;
		case 1: op_rewrite_code(&s); break;
		case 2: case 3: op_map_ram(&s); break;
		case 4: case 5: case 6: op_fds(&s); break;
		default: op_vcpu(&s); break;
		}
	}
	return NULL;
}

static void on_kick(int sig)
{
}

/* A SIGBUS or SIGSEGV says where and what, then ends the run as the
 * default action would (without locks: the mapping tables are read racily,
 * good enough to name the kind of page). */
static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	char line[200];
	const char *what = "no mapping of ours";
	uintptr_t a = (uintptr_t)si->si_addr;

	for (int i = 0; i < NR_REGIONS; i++)
		if (mem.addr[i] && a - (uintptr_t)mem.addr[i] < mem.size[i])
			what = "a guest RAM region";
	for (int i = 0; i < NR_RUNMAPS; i++)
		if (mem.run[i] && a - (uintptr_t)mem.run[i] < HYVM_RUN_SIZE)
			what = "a run page";
	int n = snprintf(line, sizeof(line), "FAIL hyvm_fuzz-signal: %s at %p code %d (%s), seed %llu\n",
			 sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si->si_addr, si->si_code, what, seed);
	if (write(1, line, n) < 0) { /* nothing more to say */ }
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A VM made after the storm still runs a guest to HLT. */
static void sane_after(void)
{
	struct test_vm t;
	struct hyvm_cpu_state st;

	if (test_vm_create(&t, 16 * PAGE))
		return check(0, "hyvm_fuzz-sane-after", "VM setup: %s", strerror(errno));
	t.ram[0x1000] = 0xf4;
	real_mode_state(&st, 0x1000, 0);
	check_errno(ioctl(t.vcpu, HYVM_RUN, 1), EINVAL, "hyvm_fuzz-run-arg-after");
	check(ioctl(t.vcpu, HYVM_SET_STATE, &st) == 0 && ioctl(t.vcpu, HYVM_RUN, 0) == 0 &&
	      t.run->exit_kind == HYVM_EXIT_HLT, "hyvm_fuzz-sane-after",
	      "exit kind %u raw %#x", t.run->exit_kind, t.run->raw_reason);
	test_vm_destroy(&t);
}

int main(int argc, char **argv)
{
	unsigned seconds = 20, nthreads = 4;
	pthread_t th[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_kick };	/* no SA_RESTART: RUN returns */
	struct timespec t0, now, tick = { 0, 5 * 1000 * 1000 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	seed = (unsigned long long)t0.tv_nsec ^ (unsigned long long)t0.tv_sec << 20;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		unsigned long long v = i + 1 < argc ? strtoull(argv[i + 1], &end, 0) : 0;
		if (!end || *end || (strcmp(argv[i], "--seconds") && strcmp(argv[i], "--threads") &&
				     strcmp(argv[i], "--seed") && strcmp(argv[i], "--ops") &&
				     strcmp(argv[i], "--trace"))) {
			fprintf(stderr, "usage: hyvm_fuzz [--seconds N] [--threads N] [--seed N] "
				"[--ops MASK] [--trace 0|1|2]\n");
			return 2;
		}
		if (!strcmp(argv[i], "--seconds"))
			seconds = v;
		else if (!strcmp(argv[i], "--trace"))
			trace = v;
		else if (!strcmp(argv[i], "--ops"))
			ops = v;
		else if (!strcmp(argv[i], "--threads"))
			nthreads = v < 1 ? 1 : v > MAX_THREADS ? MAX_THREADS : v;
		else
			seed = v;
		i++;
	}
	printf("SEED hyvm_fuzz %llu (%u threads, %u s, ops %#x)\n", seed, nthreads, seconds, ops);
	on_svm = !is_vmx();
	memset(fds.dev, -1, sizeof(fds.dev));
	memset(fds.vm, -1, sizeof(fds.vm));
	memset(fds.vcpu, -1, sizeof(fds.vcpu));
	sigaction(SIGUSR1, &sa, NULL);
	struct sigaction fault = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	sigaction(SIGBUS, &fault, NULL);
	sigaction(SIGSEGV, &fault, NULL);
	close(open_dev());	/* FAIL and exit 1 without the module */
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	do {			/* kick every worker out of HYVM_RUN now and then */
		nanosleep(&tick, NULL);
		for (unsigned i = 0; i < nthreads; i++)
			pthread_kill(th[i], SIGUSR1);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < (time_t)seconds);
	stop = 1;
	for (unsigned i = 0; i < nthreads; i++) {
		struct timespec ts;
		/* keep kicking until this one is out */
		while (clock_gettime(CLOCK_REALTIME, &ts), ts.tv_nsec += 20 * 1000 * 1000,
		       ts.tv_sec += ts.tv_nsec / 1000000000, ts.tv_nsec %= 1000000000,
		       pthread_timedjoin_np(th[i], NULL, &ts))
			pthread_kill(th[i], SIGUSR1);
	}
	for (int i = 0; i < NR_FDS; i++) {
		int *pools[] = { fds.vcpu, fds.vm, fds.dev };
		for (int k = 0; k < 3; k++)
			if (pools[k][i] >= 3)
				close(pools[k][i]);
	}
	for (int i = 0; i < NR_REGIONS; i++)
		if (mem.addr[i])
			munmap(mem.addr[i], mem.size[i]);
	for (int i = 0; i < NR_RUNMAPS; i++)
		if (mem.run[i])
			munmap(mem.run[i], HYVM_RUN_SIZE);
	clock_gettime(CLOCK_MONOTONIC, &now);
	stats_report(now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9);
	check(stats.unexpected == 0 && stats.runs_entered > 0, "hyvm_fuzz",
	      "%lu calls with an errno outside the ABI's, %lu HYVM_RUN that ran the guest (seed %llu)",
	      stats.unexpected, stats.runs_entered, seed);
	sane_after();
	return test_failures ? 1 : 0;
}

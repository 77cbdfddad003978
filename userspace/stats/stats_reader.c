/*
 * The reader side of the statistics file (hyvm top, hyvm ps) and the names
 * both sides share. A reader maps the file read-only and checks, before it
 * trusts a byte, that it is a hyvm stats file of this very layout and that
 * the VMM that writes it is still alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "files/input_file.h"
#include "stats/stats.h"

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *guest_mode_name(enum guest_mode m)
{
	static const char *const names[MODE_COUNT] = {
		"unknown", "real", "protected", "paged", "pae", "long",
	};
	return m < MODE_COUNT ? names[m] : "unknown";
}

enum guest_mode guest_mode_of(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & 1))
		return MODE_REAL;
	if (efer & (1ull << 10))	/* EFER.LMA */
		return MODE_LONG;
	if (!(cr0 & (1ull << 31)))
		return MODE_PROTECTED;
	return cr4 & (1ull << 5) ? MODE_PAE : MODE_PAGED;
}

const char *exit_kind_name(enum exit_kind k)
{
	static const char *const names[EXIT_KIND_COUNT] = {
		"none", "io", "mmio", "hlt", "irq-window", "kicked", "shutdown", "error",
		"mode-unsupported", "debug", "msr",
	};
	return k < EXIT_KIND_COUNT ? names[k] : "unknown";
}

const char *stats_dir(void)
{
	const char *d = getenv("HYVM_STATS_DIR");
	return d && *d ? d : "/dev/shm";
}

void stats_path_for(pid_t pid, char *path, size_t len)
{
	snprintf(path, len, "%s/hyvm-%d.stats", stats_dir(), (int)pid);
}

/* Field 22 of /proc/PID/stat, after the parenthesised command name. */
uint64_t stats_pid_start(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* state is field 3; starttime is field 22 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

bool stats_writer_alive(const struct stats_file *f)
{
	if (f->pid <= 0 || (kill(f->pid, 0) < 0 && errno != EPERM))
		return false;
	return stats_pid_start(f->pid) == f->pid_start;
}

int stats_open_path(const char *path, struct stats_map *m, char *err, size_t errlen)
{
	int r = stats_inspect(path, m, err, errlen);

	if (r == STATS_STALE)
		stats_close(m);
	return r == STATS_OK ? 0 : -1;
}

enum stats_problem stats_inspect(const char *path, struct stats_map *m, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	char why[128];
	/* Anyone may put a FIFO named hyvm-PID.stats in /dev/shm: never block. */
	fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &sb, why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return STATS_UNREADABLE;
	}
	if ((size_t)sb.st_size < offsetof(struct stats_file, guest)) {
		snprintf(err, errlen, "%s is not a hyvm stats file (too short)", path);
		close(fd);
		return STATS_NOT_OURS;
	}
	m->len = sb.st_size;
	m->f = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m->f == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
		m->f = NULL;
		return STATS_UNREADABLE;
	}
	const struct stats_file *f = m->f;
	const char *problem = NULL;
	enum stats_problem r = STATS_OK;
	char buf[160];
	if (f->magic != STATS_MAGIC) {
		problem = "is not a hyvm stats file (bad magic)";
		r = STATS_NOT_OURS;
	} else if (f->version == STATS_VERSION && f->size == sizeof(struct stats_file) &&
		   m->len < sizeof(struct stats_file)) {
		snprintf(buf, sizeof(buf), "is truncated: %zu bytes, a version %u stats file has %zu",
			 m->len, STATS_VERSION, sizeof(struct stats_file));
		problem = buf;
		r = STATS_NOT_OURS;
	} else if (f->version != STATS_VERSION || f->size != sizeof(struct stats_file) ||
		   m->len < sizeof(struct stats_file)) {
		snprintf(buf, sizeof(buf), "has stats format version %u (%u bytes); this hyvm "
			 "reads version %u (%zu bytes): use the hyvm that runs the VM",
			 f->version, f->size, STATS_VERSION, sizeof(struct stats_file));
		problem = buf;
		r = STATS_VERSION_MISMATCH;
	} else if (!stats_writer_alive(f)) {
		snprintf(buf, sizeof(buf), "is stale: process %d that wrote it is gone "
			 "(hyvm ps --prune removes it)", f->pid);
		problem = buf;
		r = STATS_STALE;
	}
	if (problem)
		snprintf(err, errlen, "%s %s", path, problem);
	if (r != STATS_OK && r != STATS_STALE)
		stats_close(m);
	else
		m->pid = f->pid;
	return r;
}

int stats_open(pid_t pid, struct stats_map *m, char *err, size_t errlen)
{
	char path[256];

	stats_path_for(pid, path, sizeof(path));
	if (access(path, F_OK) < 0) {
		memset(m, 0, sizeof(*m));
		if (kill(pid, 0) == 0 || errno == EPERM)
			snprintf(err, errlen, "process %d is not a running hyvm VM (no %s)",
				 (int)pid, path);
		else
			snprintf(err, errlen, "no such VM: no process %d (hyvm ps lists the VMs)",
				 (int)pid);
		return -1;
	}
	return stats_open_path(path, m, err, errlen);
}

void stats_close(struct stats_map *m)
{
	if (m->f)
		munmap((void *)m->f, m->len);
	m->f = NULL;
}

/* A name from the file as the reader shows it: NUL-terminated inside its
 * field and printable ASCII only (the writer only ever writes such names;
 * anything else is a damaged or forged file, and raw bytes must not reach
 * a terminal or the JSON report). */
static void sanitize_name(char *s, size_t size)
{
	s[size - 1] = 0;
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

const char *stats_shown(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	for (; s[i] && i + 1 < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = 0;
	return buf;
}

#define SANITIZE(field) sanitize_name((field), sizeof(field))

/* Copies a sequence-guarded region until the writer was not inside it. */
static void copy_guarded(const uint64_t *seq, void *dst, const void *src, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		uint64_t before = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		memcpy(dst, src, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(before & 1) && __atomic_load_n(seq, __ATOMIC_RELAXED) == before)
			return;
	}
}

void stats_snapshot(const struct stats_map *m, struct stats_file *out)
{
	const struct stats_file *f = m->f;

	/* Counters are single 64-bit words written whole: a plain copy reads
	 * each one untorn, and small skew between them is fine for display. */
	memcpy(out, f, sizeof(*out));
	for (int i = 0; i < STATS_MAX_VCPUS; i++) {
		const struct stats_vcpu *s = &f->vcpu[i];
		struct stats_vcpu *d = &out->vcpu[i];
		copy_guarded(&s->switch_seq, &d->nr_switches, &s->nr_switches,
			     offsetof(struct stats_vcpu, counter_seq) -
			     offsetof(struct stats_vcpu, nr_switches));
		copy_guarded(&s->counter_seq, &d->nr_counters, &s->nr_counters,
			     sizeof(*s) - offsetof(struct stats_vcpu, nr_counters));
		if (d->nr_raw > STATS_MAX_RAW)
			d->nr_raw = STATS_MAX_RAW;
		if (d->nr_counters > STATS_MAX_COUNTERS)
			d->nr_counters = STATS_MAX_COUNTERS;
	}
	copy_guarded(&f->device_seq, &out->nr_device_counters, &f->nr_device_counters,
		     sizeof(*f) - offsetof(struct stats_file, nr_device_counters));
	if (out->nr_device_counters > STATS_MAX_DEVICE_COUNTERS)
		out->nr_device_counters = STATS_MAX_DEVICE_COUNTERS;
	for (int j = 0; j < STATS_MAX_DEVICE_COUNTERS; j++) {
		SANITIZE(out->device_counters[j].device);
		SANITIZE(out->device_counters[j].name);
	}
	if (out->nr_vcpus > STATS_MAX_VCPUS)
		out->nr_vcpus = STATS_MAX_VCPUS;
	if (out->nr_kinds > STATS_MAX_KINDS)
		out->nr_kinds = STATS_MAX_KINDS;
	/* The guest's path may be any bytes a file name may have (it is opened
	 * for symbols): terminated here, escaped where it is shown. */
	out->guest[sizeof(out->guest) - 1] = 0;
	for (int k = 0; k < STATS_MAX_KINDS; k++)
		SANITIZE(out->kind_names[k]);
	for (int i = 0; i < STATS_MAX_VCPUS; i++) {
		struct stats_vcpu *d = &out->vcpu[i];
		SANITIZE(d->engine);
		for (int j = 0; j < STATS_MAX_RAW; j++)
			SANITIZE(d->raw[j].name);
		for (int j = 0; j < STATS_SWITCH_RING; j++)
			SANITIZE(d->switches[j].why);
		for (int j = 0; j < STATS_MAX_COUNTERS; j++)
			SANITIZE(d->counters[j].name);
	}
}

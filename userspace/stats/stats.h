/*
 * Live VM statistics in a shared-memory file, one per VM, named by the VMM's
 * pid (default /dev/shm/hyvm-PID.stats). The VMM is the only writer: every
 * field has one writer thread, so the exit path updates counters with plain
 * relaxed loads and stores (no locked instructions) and readers (hyvm top,
 * hyvm ps) map the file read-only and never write. Fields that are not plain
 * counters (mode switches, engine counters) are guarded by a sequence count.
 *
 * The layout is versioned: a reader refuses a file whose magic, version or
 * size differs from its own, with a message instead of garbage.
 */
#ifndef HYVM_STATS_H
#define HYVM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "engines/engine.h"

#define STATS_MAGIC		0x5441545356594848ull	/* "HHYVSTAT" */
#define STATS_VERSION		2	/* 2: device counters */
#define STATS_MAX_VCPUS		4
#define STATS_MAX_KINDS		16
#define STATS_MAX_RAW		48
#define STATS_TOP_RIPS		32
#define STATS_MAX_COUNTERS	64
#define STATS_SWITCH_RING	16
#define STATS_MAX_DEVICE_COUNTERS 32
#define STATS_PUBLISH_NS	100000000ull	/* mode and engine counters: every 100 ms */
#define STATS_MODE_HLT_NS	1000000ull	/* a HLT re-reads the mode at most every 1 ms */

enum stats_vm_state { STATS_STARTING, STATS_RUNNING, STATS_ENDED };

/* Guest CPU mode as sampled from CR0/CR4/EFER. */
enum guest_mode {
	MODE_UNKNOWN, MODE_REAL, MODE_PROTECTED, MODE_PAGED, MODE_PAE, MODE_LONG,
	MODE_COUNT
};

struct stats_counter {
	uint64_t count;
	uint64_t total_ns;	/* time in the VMM answering these exits */
	uint64_t max_ns;
};

struct stats_raw_slot {
	uint32_t raw;
	uint32_t kind;
	char name[32];		/* engine's name for raw, set before the slot is counted */
	struct stats_counter c;
};

/* Keyed by address and exit kind. Space-saving top-N: an address that is not in a full table evicts the
 * least counted one and inherits its count (so counts are upper bounds,
 * exact while the table never filled: see rip_evictions). */
struct stats_rip_slot {
	uint64_t rip;
	uint64_t count;
	uint32_t kind;
	uint32_t raw;
};

struct stats_mode_switch {
	uint64_t t_ns;		/* CLOCK_MONOTONIC */
	uint8_t from, to;	/* enum guest_mode */
	char why[46];
};

struct stats_engine_counter {
	char name[40];
	uint64_t value;
};

/* A device model's own counter (device_model.counters), e.g. a virtio
 * device's refusals of its driver: "virtio-net0" "needs_reset". */
struct stats_device_counter {
	char device[24];
	char name[24];
	uint64_t value;
};

struct stats_vcpu {
	char engine[16];
	uint32_t mode;		/* enum guest_mode */
	uint32_t nr_raw;
	uint64_t cr0, cr4, efer;
	uint64_t runs;
	uint64_t guest_ns;	/* inside the engine's vcpu_run */
	uint64_t vmm_ns;	/* between runs: devices, interrupts, HLT sleeps */
	struct stats_counter kind[STATS_MAX_KINDS];
	struct stats_raw_slot raw[STATS_MAX_RAW];
	uint64_t raw_overflow;	/* exits whose raw reason found no slot */

	uint64_t rip_samples, rip_unknown, rip_evictions;
	struct stats_rip_slot rips[STATS_TOP_RIPS];

	uint64_t switch_seq;	/* odd while the ring is written */
	uint64_t nr_switches;
	struct stats_mode_switch switches[STATS_SWITCH_RING];

	uint64_t counter_seq;	/* odd while counters are written */
	uint32_t nr_counters;
	uint32_t pad;
	struct stats_engine_counter counters[STATS_MAX_COUNTERS];
};

struct stats_file {
	uint64_t magic;
	uint32_t version;
	uint32_t size;		/* sizeof(struct stats_file) of the writer */
	int32_t pid;
	uint32_t state;		/* enum stats_vm_state */
	uint64_t pid_start;	/* /proc/PID/stat starttime: a reused pid is not this VM */
	uint64_t start_ns, end_ns, heartbeat_ns;	/* CLOCK_MONOTONIC */
	int32_t exit_status;
	uint32_t nr_vcpus;
	uint32_t nr_kinds;
	uint32_t pad;
	char guest[256];	/* path a reader can open for symbols */
	char kind_names[STATS_MAX_KINDS][16];
	struct stats_vcpu vcpu[STATS_MAX_VCPUS];
	uint64_t device_seq;	/* odd while device counters are written */
	uint32_t nr_device_counters;
	uint32_t pad2;
	struct stats_device_counter device_counters[STATS_MAX_DEVICE_COUNTERS];
};

/* Single-writer counter updates: untorn for readers, no lock prefix. */
#define STATS_LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STATS_STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define STATS_ADD(x, v)		STATS_STORE(x, STATS_LOAD(x) + (v))

static inline void stats_counter_add(struct stats_counter *c, uint64_t ns)
{
	STATS_ADD(c->total_ns, ns);
	if (ns > STATS_LOAD(c->max_ns))
		STATS_STORE(c->max_ns, ns);
}

uint64_t stats_now_ns(void);
const char *guest_mode_name(enum guest_mode m);
enum guest_mode guest_mode_of(uint64_t cr0, uint64_t cr4, uint64_t efer);
const char *exit_kind_name(enum exit_kind k);

/* --- writer (the VMM) --- */
struct stats_writer;

/* Creates the file (atomically: written under a temporary name, then
 * renamed). NULL + err on failure. */
struct stats_writer *stats_writer_create(const char *guest_path, char *err, size_t errlen);
const char *stats_writer_path(const struct stats_writer *w);
struct stats_file *stats_writer_file(struct stats_writer *w);
void stats_writer_attach(struct stats_writer *w, int index, const struct engine_ops *engine,
			 struct engine_vcpu *vcpu);
/* The exit path: before and after each vcpu_run. NULL w: no-op. */
void stats_before_run(struct stats_writer *w);
void stats_after_run(struct stats_writer *w, const struct vcpu_exit *exit);
/* An exit an engine's fast path served without returning from vcpu_run
 * (engine_io_fast): counted in its kind and at its site (rip), as any
 * exit, so hyvm top's profile keeps it. The fast path exists to skip
 * clock reads, so the caller times only a sample: weight 0 for an
 * untimed one; a timed one's ns stands for weight accesses (VMM time of
 * its kind, max_ns its own). NULL w: no-op. */
void stats_count_fast_exit(struct stats_writer *w, enum exit_kind kind, uint64_t rip,
			   uint64_t ns, unsigned weight);
/* For engines or the hybrid layer: a switch they make themselves, recorded
 * in the same ring as guest mode switches (from/to are then what the caller
 * means, e.g. the mode at the time, and why names the move: "kvm -> bt:
 * real mode"). The hybrid layer is to call it when it moves a vCPU between
 * engines; it must run on the vCPU's thread, as the exit path does. */
void stats_note_switch(struct stats_writer *w, int index, enum guest_mode from,
		       enum guest_mode to, const char *why);
/* The VMM's device counters, all of them at once (at most
 * STATS_MAX_DEVICE_COUNTERS; the rest are left out). NULL w: no-op. */
void stats_publish_devices(struct stats_writer *w, const struct stats_device_counter *c,
			   unsigned n);
/* Marks the VM ended; the file stays until stats_writer_destroy. */
void stats_writer_end(struct stats_writer *w, int exit_status);
/* Unlinks the file and frees w. */
void stats_writer_destroy(struct stats_writer *w);

/* hyvm run: create and attach (announce: print the path; required: a
 * failure is an error, else a warning), then end, write the JSON profile to
 * profile_path if non-NULL, and remove the file. -1: failed. */
int stats_run_start(struct stats_writer **w, const char *guest, bool announce,
		    bool required, const struct engine_ops *engine, struct engine_vcpu *vcpu);
int stats_run_finish(struct stats_writer *w, int exit_status, const char *profile_path);

/* --- readers --- */
struct stats_map {
	const struct stats_file *f;
	size_t len;
	pid_t pid;
	char path[256];
};

const char *stats_dir(void);
void stats_path_for(pid_t pid, char *path, size_t len);
/* 0, or -1 and one line in err: no such VM, stale file, version mismatch. */
int stats_open(pid_t pid, struct stats_map *m, char *err, size_t errlen);
int stats_open_path(const char *path, struct stats_map *m, char *err, size_t errlen);
enum stats_problem {
	STATS_OK, STATS_UNREADABLE, STATS_NOT_OURS, STATS_VERSION_MISMATCH, STATS_STALE,
};
/* Like stats_open_path, but says what is wrong and keeps a stale file
 * mapped (hyvm ps lists it). */
enum stats_problem stats_inspect(const char *path, struct stats_map *m, char *err,
				 size_t errlen);
void stats_close(struct stats_map *m);
/* Consistent enough copy for display: counters untorn, rings retried. */
void stats_snapshot(const struct stats_map *m, struct stats_file *out);
/* Is the writer still alive (pid exists and started when the file says)? */
bool stats_writer_alive(const struct stats_file *f);
/* s for a terminal: control bytes (a forged file's escape sequences) shown
 * as '?', into buf of n bytes; returns buf. */
const char *stats_shown(const char *s, char *buf, size_t n);
uint64_t stats_pid_start(pid_t pid);

#endif

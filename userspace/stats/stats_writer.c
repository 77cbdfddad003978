/*
 * The VMM side of the statistics file: created when the VM starts, counted
 * into on every exit, and every STATS_PUBLISH_NS enriched with what is too
 * costly per exit (guest mode from get_state, the engine's own counters).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "stats/stats.h"
#include "top/top_report.h"

struct writer_vcpu {
	const struct engine_ops *engine;
	struct engine_vcpu *vcpu;
	struct stats_vcpu *s;
	uint64_t t_enter, t_exit;
	/* The exit whose VMM time is still being spent (set at exit, closed
	 * on the next entry). */
	struct stats_counter *pending_kind, *pending_raw;
	uint32_t last_raw, last_rip;
	uint64_t next_publish;
	uint64_t last_mode_ns;	/* when the mode was last read */
	bool mode_known;
};

struct stats_writer {
	struct stats_file *f;
	int fd;
	char path[256];
	struct writer_vcpu v[STATS_MAX_VCPUS];
};

static void set_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

struct stats_writer *stats_writer_create(const char *guest_path, char *err, size_t errlen)
{
	struct stats_writer *w = calloc(1, sizeof(*w));
	char tmp[300];
	pid_t pid = getpid();

	if (!w) {
		snprintf(err, errlen, "stats: out of memory");
		return NULL;
	}
	stats_path_for(pid, w->path, sizeof(w->path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	unlink(tmp);
	w->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0 || ftruncate(w->fd, sizeof(struct stats_file)) < 0) {
		snprintf(err, errlen, "cannot create the stats file %s: %s", tmp, strerror(errno));
		goto fail;
	}
	w->f = mmap(NULL, sizeof(struct stats_file), PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (w->f == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the stats file %s: %s", tmp, strerror(errno));
		w->f = NULL;
		goto fail;
	}
	struct stats_file *f = w->f;
	f->magic = STATS_MAGIC;
	f->version = STATS_VERSION;
	f->size = sizeof(*f);
	f->pid = pid;
	f->pid_start = stats_pid_start(pid);
	f->start_ns = f->heartbeat_ns = stats_now_ns();
	f->state = STATS_STARTING;
	f->nr_kinds = EXIT_KIND_COUNT;
	for (int k = 0; k < EXIT_KIND_COUNT && k < STATS_MAX_KINDS; k++)
		set_name(f->kind_names[k], sizeof(f->kind_names[k]), exit_kind_name(k));
	/* The demo guest is a memfd of ours: readers reach it through our pid. */
	if (guest_path && !strncmp(guest_path, "/proc/self/", 11))
		snprintf(f->guest, sizeof(f->guest), "/proc/%d/%s", (int)pid, guest_path + 11);
	else if (!guest_path || !realpath(guest_path, f->guest))
		set_name(f->guest, sizeof(f->guest), guest_path);
	if (rename(tmp, w->path) < 0) {
		snprintf(err, errlen, "cannot publish the stats file %s: %s", w->path,
			 strerror(errno));
		unlink(tmp);
		goto fail;
	}
	return w;
fail:
	if (w->f)
		munmap(w->f, sizeof(struct stats_file));
	if (w->fd >= 0)
		close(w->fd);
	free(w);
	return NULL;
}

const char *stats_writer_path(const struct stats_writer *w)
{
	return w->path;
}

struct stats_file *stats_writer_file(struct stats_writer *w)
{
	return w->f;
}

void stats_writer_attach(struct stats_writer *w, int index, const struct engine_ops *engine,
			 struct engine_vcpu *vcpu)
{
	if (!w || index < 0 || index >= STATS_MAX_VCPUS)
		return;
	struct writer_vcpu *v = &w->v[index];
	v->engine = engine;
	v->vcpu = vcpu;
	v->s = &w->f->vcpu[index];
	set_name(v->s->engine, sizeof(v->s->engine), engine->name);
	if ((uint32_t)index >= w->f->nr_vcpus)
		STATS_STORE(w->f->nr_vcpus, index + 1);
	STATS_STORE(w->f->state, STATS_RUNNING);
}

static void record_switch(struct stats_vcpu *s, uint64_t now, enum guest_mode from,
			  enum guest_mode to, const char *why)
{
	struct stats_mode_switch *e = &s->switches[s->nr_switches % STATS_SWITCH_RING];

	STATS_STORE(s->switch_seq, s->switch_seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->t_ns = now;
	e->from = from;
	e->to = to;
	set_name(e->why, sizeof(e->why), why);
	STATS_STORE(s->nr_switches, s->nr_switches + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(s->switch_seq, s->switch_seq + 1);
}

void stats_note_switch(struct stats_writer *w, int index, enum guest_mode from,
		       enum guest_mode to, const char *why)
{
	if (w && index >= 0 && index < STATS_MAX_VCPUS && w->v[index].s)
		record_switch(w->v[index].s, stats_now_ns(), from, to, why);
}

/* Names the control bits that changed, so a switch says why it happened. */
static void describe_change(char *why, size_t len, const struct stats_vcpu *s,
			    uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	static const struct { int reg; uint64_t bit; const char *name; } bits[] = {
		{ 0, 1ull << 0, "CR0.PE" }, { 0, 1ull << 31, "CR0.PG" },
		{ 1, 1ull << 5, "CR4.PAE" }, { 2, 1ull << 10, "EFER.LMA" },
	};
	const uint64_t was[3] = { s->cr0, s->cr4, s->efer }, now[3] = { cr0, cr4, efer };
	size_t n = 0;

	why[0] = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint64_t b = bits[i].bit;
		if ((was[bits[i].reg] ^ now[bits[i].reg]) & b && n < len)
			n += snprintf(why + n, len - n, "%s%s=%d", n ? " " : "", bits[i].name,
				      (now[bits[i].reg] & b) != 0);
	}
}

/* The mode bits of CR0, CR4 and EFER: what guest_mode_of looks at. */
#define CR0_MODE_BITS	((1ull << 0) | (1ull << 31))
#define CR4_MODE_BITS	(1ull << 5)
#define EFER_MODE_BITS	(1ull << 10)

/* Records the control registers seen at now; a different mode is a
 * switch, named by the bits that changed and where they were seen. */
static void note_mode(struct writer_vcpu *v, uint64_t now, uint64_t cr0, uint64_t cr4,
		      uint64_t efer, const char *seen_at)
{
	enum guest_mode m = guest_mode_of(cr0, cr4, efer);

	if (v->mode_known && m != v->s->mode) {
		char why[46];
		describe_change(why, sizeof(why), v->s, cr0, cr4, efer);
		size_t n = strlen(why);
		snprintf(why + n, sizeof(why) - n, " at %s", seen_at);
		record_switch(v->s, now, v->s->mode, m, why);
	}
	v->mode_known = true;
	v->last_mode_ns = now;
	STATS_STORE(v->s->cr0, cr0);
	STATS_STORE(v->s->cr4, cr4);
	STATS_STORE(v->s->efer, efer);
	STATS_STORE(v->s->mode, m);
}

/* Asks the engine (a get_state: microseconds on kvm, so never per exit). */
static void sample_mode(struct writer_vcpu *v, uint64_t now, const char *seen_at)
{
	struct hyvm_cpu_state st;

	if (v->engine->get_state && v->engine->get_state(v->vcpu, &st) == 0)
		note_mode(v, now, st.cr0, st.cr4, st.efer, seen_at);
}

static void publish_engine_counters(struct writer_vcpu *v)
{
	struct engine_stats es;
	struct stats_vcpu *s = v->s;
	unsigned n = 0;

	if (!v->engine->read_stats)
		return;
	memset(&es, 0, sizeof(es));
	v->engine->read_stats(v->vcpu, &es);
	STATS_STORE(s->counter_seq, s->counter_seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (unsigned i = 0; i < es.nr_counters && i < sizeof(es.counter) / sizeof(es.counter[0]) && n < STATS_MAX_COUNTERS; i++, n++) {
		set_name(s->counters[n].name, sizeof(s->counters[n].name), es.counter[i].name);
		s->counters[n].value = es.counter[i].value;
	}
	s->nr_counters = n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(s->counter_seq, s->counter_seq + 1);
}

void stats_publish_devices(struct stats_writer *w, const struct stats_device_counter *c,
			   unsigned n)
{
	struct stats_file *f;

	if (!w)
		return;
	f = w->f;
	if (n > STATS_MAX_DEVICE_COUNTERS)
		n = STATS_MAX_DEVICE_COUNTERS;
	STATS_STORE(f->device_seq, f->device_seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++) {
		set_name(f->device_counters[i].device, sizeof(f->device_counters[i].device),
			 c[i].device);
		set_name(f->device_counters[i].name, sizeof(f->device_counters[i].name), c[i].name);
		f->device_counters[i].value = c[i].value;
	}
	f->nr_device_counters = n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STATS_STORE(f->device_seq, f->device_seq + 1);
}

static void publish(struct stats_writer *w, struct writer_vcpu *v, uint64_t now,
		    const char *seen_at)
{
	sample_mode(v, now, seen_at);
	publish_engine_counters(v);
	STATS_STORE(w->f->heartbeat_ns, now);
	v->next_publish = now + STATS_PUBLISH_NS;
}

/* Close the VMM time of the exit answered since the last run. */
static void close_pending(struct writer_vcpu *v, uint64_t now)
{
	if (!v->pending_kind)
		return;
	uint64_t ns = now - v->t_exit;
	stats_counter_add(v->pending_kind, ns);
	if (v->pending_raw)
		stats_counter_add(v->pending_raw, ns);
	STATS_ADD(v->s->vmm_ns, ns);
	v->pending_kind = v->pending_raw = NULL;
}

void stats_before_run(struct stats_writer *w)
{
	if (!w)
		return;
	struct writer_vcpu *v = &w->v[0];
	uint64_t now = stats_now_ns();

	close_pending(v, now);
	v->t_enter = now;
}

static struct stats_raw_slot *raw_slot(struct writer_vcpu *v, const struct vcpu_exit *exit)
{
	struct stats_vcpu *s = v->s;
	uint32_t n = s->nr_raw;

	if (v->last_raw < n && s->raw[v->last_raw].raw == exit->raw_reason &&
	    s->raw[v->last_raw].kind == (uint32_t)exit->kind)
		return &s->raw[v->last_raw];
	for (uint32_t i = 0; i < n; i++)
		if (s->raw[i].raw == exit->raw_reason && s->raw[i].kind == (uint32_t)exit->kind) {
			v->last_raw = i;
			return &s->raw[i];
		}
	if (n == STATS_MAX_RAW)
		return NULL;
	struct stats_raw_slot *slot = &s->raw[n];
	const char *name = v->engine->raw_reason_name ?
		v->engine->raw_reason_name(exit->raw_reason) : NULL;
	slot->raw = exit->raw_reason;
	slot->kind = exit->kind;
	if (name)
		set_name(slot->name, sizeof(slot->name), name);
	else
		snprintf(slot->name, sizeof(slot->name), "%s#%u", v->engine->name,
			 exit->raw_reason);
	/* The slot is complete before a reader can count it. */
	__atomic_store_n(&s->nr_raw, n + 1, __ATOMIC_RELEASE);
	v->last_raw = n;
	return slot;
}

static void count_rip(struct writer_vcpu *v, uint32_t kind, uint32_t raw, uint64_t rip)
{
	struct stats_vcpu *s = v->s;
	struct stats_rip_slot *r = &s->rips[v->last_rip];
	uint32_t min = 0;

	if (!rip) {
		STATS_ADD(s->rip_unknown, 1);
		return;
	}
	STATS_ADD(s->rip_samples, 1);
	if (r->rip == rip && r->kind == kind && r->count) {
		STATS_ADD(r->count, 1);
		return;
	}
	for (uint32_t i = 0; i < STATS_TOP_RIPS; i++) {
		r = &s->rips[i];
		if (r->count == 0 || (r->rip == rip && r->kind == kind)) {
			if (r->count == 0) {
				STATS_STORE(r->kind, kind);
				STATS_STORE(r->raw, raw);
				STATS_STORE(r->rip, rip);
			}
			STATS_ADD(r->count, 1);
			v->last_rip = i;
			return;
		}
		if (r->count < s->rips[min].count)
			min = i;
	}
	r = &s->rips[min];
	STATS_ADD(s->rip_evictions, 1);
	STATS_STORE(r->rip, rip);
	STATS_STORE(r->kind, kind);
	STATS_STORE(r->raw, raw);
	STATS_ADD(r->count, 1);
	v->last_rip = min;
}

void stats_count_fast_exit(struct stats_writer *w, enum exit_kind kind, uint64_t rip,
			   uint64_t ns, unsigned weight)
{
	if (!w)
		return;
	struct writer_vcpu *v = &w->v[0];
	struct stats_counter *c = &v->s->kind[kind < STATS_MAX_KINDS ? kind : EXIT_ERROR];

	STATS_ADD(c->count, 1);
	count_rip(v, kind, 0, rip);
	if (!weight)
		return;
	/* a timed sample stands for the weight - 1 untimed ones around it */
	STATS_ADD(c->total_ns, ns * weight);
	if (ns > STATS_LOAD(c->max_ns))
		STATS_STORE(c->max_ns, ns);
	STATS_ADD(v->s->vmm_ns, ns * weight);
}

void stats_after_run(struct stats_writer *w, const struct vcpu_exit *exit)
{
	if (!w)
		return;
	struct writer_vcpu *v = &w->v[0];
	struct stats_vcpu *s = v->s;
	uint64_t now = stats_now_ns();
	unsigned kind = exit->kind < STATS_MAX_KINDS ? exit->kind : EXIT_ERROR;

	STATS_ADD(s->guest_ns, now - v->t_enter);
	STATS_ADD(s->runs, 1);
	v->t_exit = now;
	v->pending_kind = &s->kind[kind];
	STATS_ADD(s->kind[kind].count, 1);
	struct stats_raw_slot *raw = raw_slot(v, exit);
	if (raw) {
		STATS_ADD(raw->c.count, 1);
		v->pending_raw = &raw->c;
	} else {
		STATS_ADD(s->raw_overflow, 1);
	}
	/* A kick is the VMM's timer, not something the guest code did. */
	if (exit->kind != EXIT_KICKED)
		count_rip(v, exit->kind, exit->raw_reason, exit->rip);
	/* The engine told us CR0/CR4/EFER: a switch is seen at its first exit.
	 * Three compares per exit, no call unless a mode bit changed. */
	if (exit->ctl_valid && (((exit->cr0 ^ s->cr0) & CR0_MODE_BITS) ||
				((exit->cr4 ^ s->cr4) & CR4_MODE_BITS) ||
				((exit->efer ^ s->efer) & EFER_MODE_BITS) || !v->mode_known))
		note_mode(v, now, exit->cr0, exit->cr4, exit->efer, exit_kind_name(kind));
	if (now >= v->next_publish) {
		publish(w, v, now, "100ms sample");
	} else if ((kind == EXIT_HLT || kind == EXIT_SHUTDOWN || kind == EXIT_ERROR) &&
		   !exit->ctl_valid && now - v->last_mode_ns >= STATS_MODE_HLT_NS) {
		/* The VMM sleeps or stops after these anyway: a get_state here
		 * costs the guest nothing and catches the switch a guest made
		 * before idling. Spaced, so a 1 kHz HLT loop is not 1000 reads. */
		sample_mode(v, now, exit_kind_name(kind));
	}
}

void stats_writer_end(struct stats_writer *w, int exit_status)
{
	if (!w)
		return;
	uint64_t now = stats_now_ns();

	for (int i = 0; i < STATS_MAX_VCPUS; i++)
		if (w->v[i].s) {
			close_pending(&w->v[i], now);
			publish(w, &w->v[i], now, "end");
		}
	STATS_STORE(w->f->exit_status, exit_status);
	STATS_STORE(w->f->end_ns, now);
	__atomic_store_n(&w->f->state, STATS_ENDED, __ATOMIC_RELEASE);
}

void stats_writer_destroy(struct stats_writer *w)
{
	if (!w)
		return;
	unlink(w->path);
	munmap(w->f, sizeof(struct stats_file));
	close(w->fd);
	free(w);
}

/* hyvm run's use: always publish (so hyvm ps/top see every VM), but only
 * an explicit --stats or --stats-out makes a failure to do so fatal. */
int stats_run_start(struct stats_writer **out, const char *guest, bool announce,
		    bool required, const struct engine_ops *engine, struct engine_vcpu *vcpu)
{
	char err[400];

	*out = stats_writer_create(guest, err, sizeof(err));
	if (!*out) {
		fprintf(stderr, "hyvm run: %s%s\n", err, required ? "" : " (running without stats)");
		return required ? -1 : 0;
	}
	stats_writer_attach(*out, 0, engine, vcpu);
	if (announce)
		fprintf(stderr, "hyvm: stats %s (hyvm top %d)\n", stats_writer_path(*out),
			(int)getpid());
	return 0;
}

int stats_run_finish(struct stats_writer *w, int exit_status, const char *profile_path)
{
	char err[400];
	int r = 0;

	if (!w)
		return profile_path ? -1 : 0;
	stats_writer_end(w, exit_status);
	if (profile_path && top_write_profile(profile_path, w->f, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: --stats-out: %s\n", err);
		r = -1;
	}
	stats_writer_destroy(w);
	return r;
}

/* The stats file: what the exit path records, what a reader accepts, and
 * what recording an exit costs. A fake engine stands in for kvm. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "stats/stats.h"
#include "top/top_report.h"

static char dir[] = "/tmp/hyvm-stats-test-XXXXXX";
static struct hyvm_cpu_state fake_state;
static int get_state_calls;

static int fake_get_state(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st)
{
	get_state_calls++;
	*st = fake_state;
	return 0;
}

static void fake_read_stats(struct engine_vcpu *vcpu, struct engine_stats *st)
{
	st->nr_counters = 2;
	st->counter[0].name = "fake.blocks";
	st->counter[0].value = 42;
	st->counter[1].name = "fake.callouts";
	st->counter[1].value = 7;
}

static const char *fake_reason_name(uint32_t raw)
{
	return raw == 2 ? "FAKE_IO" : NULL;
}

static const struct engine_ops fake_engine = {
	.name = "fake",
	.get_state = fake_get_state,
	.read_stats = fake_read_stats,
	.raw_reason_name = fake_reason_name,
};

static int setup(void)
{
	if (!mkdtemp(dir))
		return -1;
	setenv("HYVM_STATS_DIR", dir, 1);
	return 0;
}

static int teardown(void)
{
	rmdir(dir);
	unsetenv("HYVM_STATS_DIR");
	return 0;
}

static struct stats_writer *new_writer(void)
{
	char err[256];
	struct stats_writer *w = stats_writer_create("/nonexistent/guest.elf", err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	memset(&fake_state, 0, sizeof(fake_state));
	fake_state.cr0 = 1;	/* protected */
	stats_writer_attach(w, 0, &fake_engine, NULL);
	return w;
}

static void one_exit(struct stats_writer *w, enum exit_kind kind, uint32_t raw, uint64_t rip)
{
	struct vcpu_exit e = { .kind = kind, .raw_reason = raw, .rip = rip };

	stats_before_run(w);
	stats_after_run(w, &e);
}

static void test_counts_by_kind_and_raw(void)
{
	struct stats_writer *w = new_writer();
	const struct stats_vcpu *s = &stats_writer_file(w)->vcpu[0];

	for (int i = 0; i < 100; i++)
		one_exit(w, EXIT_IO, 2, 0x1000);
	for (int i = 0; i < 30; i++)
		one_exit(w, EXIT_MMIO, 6, 0x2000);
	one_exit(w, EXIT_KICKED, 10, 0x1000);
	one_exit(w, EXIT_HLT, 5, 0x3000);
	stats_before_run(w);	/* closes the HLT's VMM time */

	CU_ASSERT_EQUAL(s->kind[EXIT_IO].count, 100);
	CU_ASSERT_EQUAL(s->kind[EXIT_MMIO].count, 30);
	CU_ASSERT_EQUAL(s->kind[EXIT_KICKED].count, 1);
	CU_ASSERT_EQUAL(s->kind[EXIT_HLT].count, 1);
	CU_ASSERT_EQUAL(s->runs, 132);
	CU_ASSERT_EQUAL(s->nr_raw, 4);
	CU_ASSERT_STRING_EQUAL(s->raw[0].name, "FAKE_IO");
	CU_ASSERT_EQUAL(s->raw[0].c.count, 100);
	/* No name from the engine: its name and the number. */
	CU_ASSERT_STRING_EQUAL(s->raw[1].name, "fake#6");
	CU_ASSERT_EQUAL(s->raw[1].c.count, 30);
	/* Every exit's VMM time is counted: total >= max > 0. */
	CU_ASSERT(s->kind[EXIT_IO].total_ns >= s->kind[EXIT_IO].max_ns);
	CU_ASSERT(s->kind[EXIT_HLT].total_ns > 0);
	CU_ASSERT_EQUAL(s->raw[0].c.total_ns, s->kind[EXIT_IO].total_ns);
	CU_ASSERT_STRING_EQUAL(s->engine, "fake");
	CU_ASSERT_EQUAL(s->mode, MODE_PROTECTED);
	CU_ASSERT_EQUAL(s->nr_counters, 2);
	CU_ASSERT_STRING_EQUAL(s->counters[0].name, "fake.blocks");
	CU_ASSERT_EQUAL(s->counters[0].value, 42);
	stats_writer_destroy(w);
}

static void test_rips_top_n(void)
{
	struct stats_writer *w = new_writer();
	const struct stats_vcpu *s = &stats_writer_file(w)->vcpu[0];

	for (int i = 0; i < 50; i++)
		one_exit(w, EXIT_IO, 2, 0x1000);
	for (int i = 0; i < 20; i++)
		one_exit(w, EXIT_IO, 2, 0x1004);
	one_exit(w, EXIT_KICKED, 10, 0x1000);	/* the VMM's timer: not a guest site */
	one_exit(w, EXIT_IO, 2, 0);		/* engine gave no address */
	CU_ASSERT_EQUAL(s->rip_samples, 70);
	CU_ASSERT_EQUAL(s->rip_unknown, 1);
	CU_ASSERT_EQUAL(s->rips[0].rip, 0x1000);
	CU_ASSERT_EQUAL(s->rips[0].count, 50);
	CU_ASSERT_EQUAL(s->rips[1].rip, 0x1004);
	CU_ASSERT_EQUAL(s->rips[1].count, 20);
	CU_ASSERT_EQUAL(s->rip_evictions, 0);
	/* More sites than slots: the least counted makes room, and says so. */
	for (uint64_t a = 0; a < STATS_TOP_RIPS; a++)
		one_exit(w, EXIT_IO, 2, 0x8000 + a);
	CU_ASSERT_EQUAL(s->rip_evictions, 2);
	CU_ASSERT_EQUAL(s->rips[0].count, 50);	/* the heavy hitter survives */
	stats_writer_destroy(w);
}

static void test_mode_switch_and_end(void)
{
	struct stats_writer *w = new_writer();
	struct stats_file *f = stats_writer_file(w);

	one_exit(w, EXIT_IO, 2, 0x1000);	/* first exit publishes the mode */
	CU_ASSERT_EQUAL(f->vcpu[0].mode, MODE_PROTECTED);
	fake_state.cr0 |= 1u << 31;
	fake_state.cr4 |= 1u << 5;
	stats_writer_end(w, 7);			/* ending publishes once more */
	CU_ASSERT_EQUAL(f->vcpu[0].mode, MODE_PAE);
	CU_ASSERT_EQUAL(f->vcpu[0].nr_switches, 1);
	CU_ASSERT_EQUAL(f->vcpu[0].switches[0].from, MODE_PROTECTED);
	CU_ASSERT_EQUAL(f->vcpu[0].switches[0].to, MODE_PAE);
	CU_ASSERT_STRING_EQUAL(f->vcpu[0].switches[0].why, "CR0.PG=1 CR4.PAE=1 at end");
	CU_ASSERT_EQUAL(f->state, STATS_ENDED);
	CU_ASSERT_EQUAL(f->exit_status, 7);
	CU_ASSERT(f->end_ns >= f->start_ns);
	stats_writer_destroy(w);
}

/* An engine that reports CR0/CR4/EFER with the exit: the switch is recorded
 * at that very exit, named by the bits and the exit, with no get_state. */
static void test_mode_seen_at_exit(void)
{
	struct stats_writer *w = new_writer();
	const struct stats_vcpu *s = &stats_writer_file(w)->vcpu[0];
	struct vcpu_exit e = { .kind = EXIT_IO, .raw_reason = 2, .rip = 0x1000,
			       .ctl_valid = true, .cr0 = 1 };

	one_exit(w, EXIT_IO, 2, 0x1000);	/* the first exit reads the mode */
	int calls = get_state_calls;
	e.cr0 = 0x80000011;			/* PG (and ET, which is no mode bit) */
	stats_before_run(w);
	stats_after_run(w, &e);
	CU_ASSERT_EQUAL(s->mode, MODE_PAGED);
	CU_ASSERT_EQUAL_FATAL(s->nr_switches, 1);
	CU_ASSERT_EQUAL(s->switches[0].from, MODE_PROTECTED);
	CU_ASSERT_EQUAL(s->switches[0].to, MODE_PAGED);
	CU_ASSERT_STRING_EQUAL(s->switches[0].why, "CR0.PG=1 at io");
	CU_ASSERT(s->switches[0].t_ns >= stats_writer_file(w)->start_ns);
	/* Same mode bits again, other bits changed: no switch. */
	e.cr0 = 0x80000033;
	stats_before_run(w);
	stats_after_run(w, &e);
	/* Long mode in one step: all the bits that changed are named. */
	e.cr4 = 0x20;
	e.efer = 0x500;
	e.kind = EXIT_MMIO;
	stats_before_run(w);
	stats_after_run(w, &e);
	CU_ASSERT_EQUAL(s->nr_switches, 2);
	CU_ASSERT_EQUAL(s->switches[1].to, MODE_LONG);
	CU_ASSERT_STRING_EQUAL(s->switches[1].why, "CR4.PAE=1 EFER.LMA=1 at mmio");
	CU_ASSERT_EQUAL(get_state_calls, calls);
	stats_writer_destroy(w);
}

/* An engine that does not report them: a HLT reads the mode at once (the
 * VMM sleeps after it anyway), but at most every STATS_MODE_HLT_NS. */
static void test_mode_sampled_at_hlt(void)
{
	struct stats_writer *w = new_writer();
	const struct stats_vcpu *s = &stats_writer_file(w)->vcpu[0];

	one_exit(w, EXIT_IO, 2, 0x1000);
	fake_state.cr0 = 0;			/* back to real mode */
	one_exit(w, EXIT_IO, 2, 0x1000);	/* an I/O exit does not look */
	CU_ASSERT_EQUAL(s->nr_switches, 0);
	struct timespec ms = { 0, 2000000 };
	nanosleep(&ms, NULL);			/* past the spacing of HLT reads */
	one_exit(w, EXIT_HLT, 5, 0x1008);
	CU_ASSERT_EQUAL(s->mode, MODE_REAL);
	CU_ASSERT_EQUAL_FATAL(s->nr_switches, 1);
	CU_ASSERT_STRING_EQUAL(s->switches[0].why, "CR0.PE=0 at hlt");
	/* A tight HLT loop does not turn into a get_state per exit. */
	int calls = get_state_calls;
	for (int i = 0; i < 1000; i++)
		one_exit(w, EXIT_HLT, 5, 0x1008);
	CU_ASSERT(get_state_calls - calls < 100);
	stats_writer_destroy(w);
}

static void test_guest_modes(void)
{
	CU_ASSERT_EQUAL(guest_mode_of(0, 0, 0), MODE_REAL);
	CU_ASSERT_EQUAL(guest_mode_of(1, 0, 0), MODE_PROTECTED);
	CU_ASSERT_EQUAL(guest_mode_of(0x80000001, 0, 0), MODE_PAGED);
	CU_ASSERT_EQUAL(guest_mode_of(0x80000001, 0x20, 0), MODE_PAE);
	CU_ASSERT_EQUAL(guest_mode_of(0x80000001, 0x20, 0x500), MODE_LONG);
	CU_ASSERT_STRING_EQUAL(guest_mode_name(MODE_LONG), "long");
}

static void test_reader_accepts_and_refuses(void)
{
	struct stats_writer *w = new_writer();
	struct stats_map m;
	static struct stats_file snap;
	char err[400], path[300];

	one_exit(w, EXIT_IO, 2, 0x1000);
	CU_ASSERT_EQUAL_FATAL(stats_open(getpid(), &m, err, sizeof(err)), 0);
	stats_snapshot(&m, &snap);
	CU_ASSERT_EQUAL(snap.vcpu[0].kind[EXIT_IO].count, 1);
	CU_ASSERT_STRING_EQUAL(snap.kind_names[EXIT_IO], "io");
	CU_ASSERT_STRING_EQUAL(snap.guest, "/nonexistent/guest.elf");
	/* The writer's counters are live in the reader's map. */
	one_exit(w, EXIT_IO, 2, 0x1000);
	CU_ASSERT_EQUAL(m.f->vcpu[0].kind[EXIT_IO].count, 2);
	stats_close(&m);
	stats_writer_destroy(w);
	CU_ASSERT_EQUAL(stats_open(getpid(), &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not a running hyvm VM"));

	/* Written by a process that is gone: stale. */
	pid_t child = fork();
	if (child == 0) {
		struct stats_writer *cw = stats_writer_create("g", err, sizeof(err));
		_exit(cw ? 0 : 1);	/* exits without removing its file */
	}
	int st;
	waitpid(child, &st, 0);
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
	CU_ASSERT_EQUAL(stats_open(child, &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is stale"));
	stats_path_for(child, path, sizeof(path));
	CU_ASSERT_EQUAL(stats_inspect(path, &m, err, sizeof(err)), STATS_STALE);
	stats_close(&m);

	/* Another layout version: refused by its number. */
	struct stats_writer *w2 = new_writer();
	struct stats_file *f = stats_writer_file(w2);
	f->version = STATS_VERSION + 1;
	CU_ASSERT_EQUAL(stats_open(getpid(), &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stats format version"));
	f->version = STATS_VERSION;
	f->magic = 0;
	CU_ASSERT_EQUAL(stats_open(getpid(), &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a hyvm stats file"));
	stats_writer_destroy(w2);
	unlink(path);
}

/* A forged or damaged file: names without their NUL, raw 0xff and escape
 * bytes, a truncated file. The reader terminates and sanitizes every name,
 * the JSON report stays ASCII with every byte escaped, and a truncated
 * file is reported with its real and expected sizes. */
static void test_reader_forged_file(void)
{
	struct stats_writer *w = new_writer();
	struct stats_file *f = stats_writer_file(w);
	static struct stats_file snap;
	static struct top_view view;
	struct stats_map m;
	char err[400], path[300], *json = NULL;
	size_t json_len = 0;

	one_exit(w, EXIT_IO, 2, 0x1000);
	memset(f->vcpu[0].engine, 'E', sizeof(f->vcpu[0].engine));	/* no NUL */
	memset(f->vcpu[0].counters[0].name, 0xff, sizeof(f->vcpu[0].counters[0].name));
	memcpy(f->kind_names[EXIT_IO], "i\x1b[2Jo", 7);
	memcpy(f->guest, "/g\xff\x1b", 5);
	CU_ASSERT_EQUAL_FATAL(stats_open(getpid(), &m, err, sizeof(err)), 0);
	stats_snapshot(&m, &snap);
	CU_ASSERT_EQUAL(strlen(snap.vcpu[0].engine), sizeof(snap.vcpu[0].engine) - 1);
	CU_ASSERT_EQUAL(snap.vcpu[0].counters[0].name[0], '?');
	CU_ASSERT_STRING_EQUAL(snap.kind_names[EXIT_IO], "i?[2Jo");
	top_view_init(&view, &snap, stats_now_ns());
	FILE *out = open_memstream(&json, &json_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	top_report_json(out, &view, NULL);
	fclose(out);
	bool ascii = json_len > 0;
	for (size_t i = 0; i < json_len; i++)
		if ((unsigned char)json[i] < 0x20 && json[i] != '\n')
			ascii = false;
		else if ((unsigned char)json[i] >= 0x7f)
			ascii = false;
	CU_ASSERT(ascii);
	/* json-c escapes the control byte; a byte above 0x7f, which is no
	 * UTF-8 of its own, is shown as '?' (top_json.c), as stats_shown does */
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"/g?\\u001b\""));
	free(json);
	char shown[16];
	CU_ASSERT_STRING_EQUAL(stats_shown("a\x1b]0;x\x07", shown, sizeof(shown)), "a?]0;x?");
	stats_close(&m);

	/* Cut short: its real size and the size it should have. */
	stats_path_for(getpid(), path, sizeof(path));
	CU_ASSERT_EQUAL_FATAL(truncate(path, sizeof(struct stats_file) - 100), 0);
	CU_ASSERT_EQUAL(stats_open(getpid(), &m, err, sizeof(err)), -1);
	char want[200];
	snprintf(want, sizeof(want), "is truncated: %zu bytes, a version %u stats file has %zu",
		 sizeof(struct stats_file) - 100, STATS_VERSION, sizeof(struct stats_file));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	stats_writer_destroy(w);
}

/* The devices' counters: published all at once, read back, shown by the
 * text report and the JSON; a forged count is clamped, forged names shown
 * with '?'. */
static void test_device_counters(void)
{
	struct stats_writer *w = new_writer();
	struct stats_file *f = stats_writer_file(w);
	static struct stats_file snap;
	static struct top_view view;
	const struct stats_device_counter c[2] = {
		{ "virtio-net0", "needs_reset", 3 }, { "virtio-net0", "bad_queue_writes", 7 },
	};
	struct stats_map m;
	char err[400], *text = NULL;
	size_t len = 0;

	stats_publish_devices(w, c, 2);
	CU_ASSERT_EQUAL_FATAL(stats_open(getpid(), &m, err, sizeof(err)), 0);
	stats_snapshot(&m, &snap);
	CU_ASSERT_EQUAL(snap.nr_device_counters, 2);
	CU_ASSERT_STRING_EQUAL(snap.device_counters[1].name, "bad_queue_writes");
	CU_ASSERT_EQUAL(snap.device_counters[1].value, 7);
	top_view_init(&view, &snap, stats_now_ns());
	FILE *out = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	top_report_text(out, &view, NULL);
	top_report_json(out, &view, NULL);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "Device counters"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"virtio-net0.needs_reset\":3"));
	free(text);
	f->nr_device_counters = 1000;
	memcpy(f->device_counters[0].device, "v\x1b[2J", 6);
	stats_snapshot(&m, &snap);
	CU_ASSERT_EQUAL(snap.nr_device_counters, STATS_MAX_DEVICE_COUNTERS);
	CU_ASSERT_STRING_EQUAL(snap.device_counters[0].device, "v?[2J");
	stats_close(&m);
	stats_writer_destroy(w);
}

/* The exit path's cost: what stats_before_run + stats_after_run add to an
 * exit (two vDSO clock reads and single-writer counter updates). Printed,
 * and bounded far above the expected ~0.05 us so only a gross regression
 * (a syscall, a lock) fails it. */
static void test_cost_per_exit(void)
{
	struct stats_writer *w = new_writer();
	const int n = 1000000;
	struct vcpu_exit e = { .kind = EXIT_IO, .raw_reason = 2, .rip = 0x1000 };

	uint64_t t0 = stats_now_ns();
	for (int i = 0; i < n; i++) {
		e.rip = 0x1000 + (i & 3);	/* a few exit sites, as a loop has */
		stats_before_run(w);
		stats_after_run(w, &e);
	}
	double ns = (double)(stats_now_ns() - t0) / n;
	printf("\n    recording one exit: %.1f ns (%d exits, %d mode samples) ", ns, n,
	       get_state_calls);
	CU_ASSERT(ns < 2000);
	/* The same with CR0/CR4/EFER in every exit (no mode change). */
	e.ctl_valid = true;
	e.cr0 = 1;
	t0 = stats_now_ns();
	for (int i = 0; i < n; i++) {
		e.rip = 0x1000 + (i & 3);
		stats_before_run(w);
		stats_after_run(w, &e);
	}
	ns = (double)(stats_now_ns() - t0) / n;
	printf("\n    recording one exit with control registers: %.1f ns ", ns);
	CU_ASSERT(ns < 2000);
	stats_writer_destroy(w);
}

UNIT_SUITE(stats, setup, teardown,
	   UNIT_TEST(test_counts_by_kind_and_raw),
	   UNIT_TEST(test_rips_top_n),
	   UNIT_TEST(test_mode_switch_and_end),
	   UNIT_TEST(test_mode_seen_at_exit),
	   UNIT_TEST(test_mode_sampled_at_hlt),
	   UNIT_TEST(test_guest_modes),
	   UNIT_TEST(test_reader_accepts_and_refuses),
	   UNIT_TEST(test_reader_forged_file),
	   UNIT_TEST(test_device_counters),
	   UNIT_TEST(test_cost_per_exit))

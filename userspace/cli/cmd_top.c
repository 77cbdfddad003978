/*
 * hyvm top: live VM-exit profiles of a running VM, from its stats file.
 * Interactive (ncurses, top_screen.c) or --batch text/JSON for scripts,
 * the way kvm_stat has its -1/-l modes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/commands.h"
#include "stats/stats.h"
#include "top/symbols.h"
#include "top/top.h"
#include "top/top_report.h"
#include "top/top_vms.h"

#define USAGE "usage: hyvm top [-b|--batch [-j|--json] [-n|--count COUNT]] [-d|--delay SECONDS] [PID]   " \
	"(no PID: every running VM)"

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hyvm top: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (%s)\n", USAGE);
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct top_args *a)
{
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' }, { "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' }, { "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { 0 }
	};
	int c;
	char *end;

	a->count = 1;
	a->interval = 1.0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+bjn:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->batch = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'n':
			errno = 0;
			a->count = strtol(optarg, &end, 10);
			if (errno || *end || a->count < 1 || a->count > 1000000)
				return usage_error("-n takes a count from 1, not '%s'", optarg);
			break;
		case 'd':
			errno = 0;
			a->interval = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(a->interval >= 0.05 && a->interval <= 3600))
				return usage_error("-d takes seconds from 0.05 to 3600, not '%s'", optarg);
			break;
		case 'h':
			printf("%s\n", USAGE);
			return -1;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (a->json && !a->batch)
		return usage_error("%s", "--json needs --batch");
	if (optind < argc) {
		errno = 0;
		long pid = strtol(argv[optind], &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x7fffffff)
			return usage_error("'%s' is not a process id", argv[optind]);
		a->pid = (pid_t)pid;
		optind++;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

struct symtab *top_load_symbols(const struct stats_file *f)
{
	char err[400];

	return symtab_load(f->guest, err, sizeof(err));
}

/* Sleeps up to seconds, waking early once every running VM has ended: its
 * last sample is then due at once. */
static void wait_interval(const struct top_vms *s, double seconds)
{
	uint64_t until = stats_now_ns() + (uint64_t)(seconds * 1e9);

	for (;;) {
		bool live = false;
		for (int i = 0; i < s->n && !live; i++)
			live = s->vm[i].state == TOP_VM_RUNNING &&
			       __atomic_load_n(&s->vm[i].map.f->state, __ATOMIC_ACQUIRE) != STATS_ENDED;
		uint64_t now = stats_now_ns();
		if (!live || now >= until)
			break;
		uint64_t step = until - now < 50000000ull ? until - now : 50000000ull;
		struct timespec ts = { 0, (long)step };
		nanosleep(&ts, NULL);
	}
}

/* One sample of every VM that ran during it: a VM that ended is printed
 * once more (its final counts), then no longer; one that died is named on
 * stderr. Returns 1 if a VM died, else 0. */
static int report_sample(const struct top_args *a, struct top_vms *s)
{
	int status = 0;

	for (int i = 0; i < s->n; i++) {
		struct top_vm *vm = &s->vm[i];
		if (vm->reported)
			continue;
		if (vm->state == TOP_VM_GONE) {
			fprintf(stderr, "hyvm top: VM %d died without ending its stats\n", vm->pid);
			vm->reported = true;
			status = 1;
			continue;
		}
		if (a->json)
			top_report_json(stdout, vm->view, vm->syms);
		else
			top_report_text(stdout, vm->view, vm->syms);
		vm->reported = vm->state == TOP_VM_ENDED;
	}
	fflush(stdout);
	return status;
}

/* COUNT samples, one report per VM per sample (JSON: one object a line, the
 * same object a single PID gets). Stops early once no VM runs. */
static int run_batch(const struct top_args *a, struct top_vms *s)
{
	int status = 0;

	for (long i = 0; i < a->count; i++) {
		wait_interval(s, a->interval);
		top_vms_sample(s, stats_now_ns());
		status |= report_sample(a, s);
		/* VMs that started during this interval: counted from now on. */
		top_vms_scan(s);
		if (!top_vms_running(s))
			break;
	}
	return status;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { 0 };
	struct top_vms *s = calloc(1, sizeof(*s));
	char err[400];
	int r;

	if (!s) {
		fprintf(stderr, "hyvm top: out of memory\n");
		return 1;
	}
	if ((r = parse_args(argc, argv, &a)) != 0) {
		free(s);
		return r < 0 ? 0 : r;
	}
	snprintf(err, sizeof(err), "out of memory");
	if (a.pid ? top_vms_open_pid(s, a.pid, err, sizeof(err)) < 0 : top_vms_open_all(s) < 0) {
		fprintf(stderr, "hyvm top: %s\n", err);
		free(s);
		return 1;
	}
	if (!s->n) {
		fprintf(stderr, "hyvm top: no running VM (start one with hyvm run; hyvm ps lists "
				"them)\n");
		r = 1;
	} else {
		r = a.batch ? run_batch(&a, s) : top_screen_run(&a, s);
	}
	top_vms_close(s);
	free(s);
	return r;
}

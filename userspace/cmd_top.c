/*
 * hyvm top: live VM-exit profiles of a running VM, from its stats file.
 * Interactive (ncurses, top_screen.c) or --batch text/JSON for scripts,
 * the way kvm_stat has its -1/-l modes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "stats.h"
#include "symbols.h"
#include "top.h"
#include "top_report.h"

#define USAGE "usage: hyvm top [--batch [--json] [-n COUNT]] [-d SECONDS] [PID]"

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

/* No PID: the one running VM, if there is exactly one. */
static int find_only_vm(pid_t *pid)
{
	DIR *d = opendir(stats_dir());
	char pids[200] = "";
	int found = 0;

	for (struct dirent *e; d && (e = readdir(d));) {
		int p;
		char tail[16], path[512], err[400];
		struct stats_map m;
		if (sscanf(e->d_name, "hyvm-%d.%15s", &p, tail) != 2 || strcmp(tail, "stats"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", stats_dir(), e->d_name);
		if (stats_open_path(path, &m, err, sizeof(err)) < 0)
			continue;
		stats_close(&m);
		*pid = p;
		found++;
		snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), " %d", p);
	}
	if (d)
		closedir(d);
	if (found == 1)
		return 0;
	if (!found)
		fprintf(stderr, "hyvm top: no running VM (start one with hyvm run; hyvm ps lists "
				"them)\n");
	else
		fprintf(stderr, "hyvm top: %d VMs are running (pids%s): name one\n", found, pids);
	return 1;
}

struct symtab *top_load_symbols(const struct stats_file *f)
{
	char err[400];

	return symtab_load(f->guest, err, sizeof(err));
}

/* Sleeps up to seconds, waking early if the VM ends. */
static void wait_interval(const struct stats_map *m, double seconds)
{
	uint64_t until = stats_now_ns() + (uint64_t)(seconds * 1e9);

	while (__atomic_load_n(&m->f->state, __ATOMIC_ACQUIRE) != STATS_ENDED) {
		uint64_t now = stats_now_ns();
		if (now >= until)
			break;
		uint64_t step = until - now < 50000000ull ? until - now : 50000000ull;
		struct timespec ts = { 0, (long)step };
		nanosleep(&ts, NULL);
	}
}

static int run_batch(const struct top_args *a, struct stats_map *m)
{
	struct top_view *v = calloc(1, sizeof(*v));
	struct stats_file *snap = malloc(sizeof(*snap));
	struct symtab *syms;
	int status = 0;

	if (!v || !snap) {
		fprintf(stderr, "hyvm top: out of memory\n");
		free(v);
		free(snap);
		return 1;
	}
	stats_snapshot(m, snap);
	top_view_init(v, snap, stats_now_ns());
	syms = top_load_symbols(snap);
	for (long i = 0; i < a->count; i++) {
		wait_interval(m, a->interval);
		stats_snapshot(m, snap);
		top_view_sample(v, snap, stats_now_ns());
		if (snap->state != STATS_ENDED && !stats_writer_alive(snap)) {
			fprintf(stderr, "hyvm top: VM %d died without ending its stats\n", snap->pid);
			status = 1;
			break;
		}
		if (a->json)
			top_report_json(stdout, v, syms);
		else
			top_report_text(stdout, v, syms);
		fflush(stdout);
		if (snap->state == STATS_ENDED)
			break;	/* nothing more will change */
	}
	symtab_free(syms);
	free(snap);
	free(v);
	return status;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { 0 };
	struct stats_map m;
	char err[400];
	int r;

	if ((r = parse_args(argc, argv, &a)) != 0)
		return r < 0 ? 0 : r;
	if (!a.pid && find_only_vm(&a.pid) != 0)
		return 1;
	if (stats_open(a.pid, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm top: %s\n", err);
		return 1;
	}
	r = a.batch ? run_batch(&a, &m) : top_screen_run(&a, &m);
	stats_close(&m);
	return r;
}

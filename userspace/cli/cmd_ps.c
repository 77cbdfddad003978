/*
 * hyvm ps: the VMs of this machine, from their stats files. A file whose
 * VMM died without removing it is listed as stale; --prune removes those.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "control/control_socket.h"
#include "stats/stats.h"

static int usage_error(const char *what)
{
	fprintf(stderr, "hyvm ps: %s (usage: hyvm ps [--prune])\n", what);
	return EXIT_USAGE;
}

static bool is_stats_name(const char *name)
{
	size_t n = strlen(name);
	return !strncmp(name, "hyvm-", 5) && n > 11 && !strcmp(name + n - 6, ".stats");
}

static void print_vm(const struct stats_map *m, const char *state, const char *path)
{
	static struct stats_file snap;
	const struct stats_file *f = &snap;
	char guest[sizeof(snap.guest)], shown_path[512];

	stats_snapshot(m, &snap);	/* its strings terminated and printable */
	uint64_t exits = 0, end = f->state == STATS_ENDED ? f->end_ns : stats_now_ns();
	const struct stats_vcpu *v = &f->vcpu[0];

	for (int k = 0; k < STATS_MAX_KINDS; k++)
		exits += v->kind[k].count;
	if (!strcmp(state, "stale"))
		end = f->heartbeat_ns;
	char ctl[108];
	bool has_ctl = control_default_path(f->pid, ctl, sizeof(ctl)) == 0 && !access(ctl, F_OK);
	printf("%7d  %-8s %-6s %-9s %9.1f %12llu  %s  %s%s%s\n", f->pid, state, v->engine,
	       guest_mode_name(v->mode), (double)(end - f->start_ns) / 1e9,
	       (unsigned long long)exits, stats_shown(f->guest, guest, sizeof(guest)),
	       stats_shown(path, shown_path, sizeof(shown_path)), has_ctl ? "  control " : "",
	       has_ctl ? ctl : "");
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prune", no_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 }
	};
	bool prune = false;
	int c, listed = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ph", opts, NULL)) != -1) {
		if (c == 'p')
			prune = true;
		else if (c == 'h') {
			printf("usage: hyvm ps [-p|--prune]   (stats files in %s; HYVM_STATS_DIR "
			       "overrides)\n", stats_dir());
			return 0;
		} else
			return usage_error("unknown option");
	}
	if (optind < argc)
		return usage_error("unexpected argument");

	DIR *d = opendir(stats_dir());
	if (!d) {
		fprintf(stderr, "hyvm ps: cannot read %s: %m\n", stats_dir());
		return 1;
	}
	printf("%7s  %-8s %-6s %-9s %9s %12s  %s  %s\n", "PID", "STATE", "ENGINE", "MODE",
	       "UPTIME(s)", "EXITS", "GUEST", "STATS");
	for (struct dirent *e; (e = readdir(d));) {
		char path[512], err[400];
		struct stats_map m;

		if (!is_stats_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", stats_dir(), e->d_name);
		switch (stats_inspect(path, &m, err, sizeof(err))) {
		case STATS_OK:
			print_vm(&m, m.f->state == STATS_ENDED ? "ending" : "running", path);
			stats_close(&m);
			break;
		case STATS_STALE: {
			char ctl[108];
			/* a VM killed by SIGKILL leaves its control socket too */
			if (prune && control_default_path(m.f->pid, ctl, sizeof(ctl)) == 0 &&
			    unlink(ctl) == 0)
				printf("         removed %s\n", ctl);
			print_vm(&m, "stale", path);
			stats_close(&m);
			if (prune && unlink(path) == 0)
				printf("         removed %s\n", path);
			else if (prune)
				fprintf(stderr, "hyvm ps: cannot remove %s: %m\n", path);
			break;
		}
		default:
			fprintf(stderr, "hyvm ps: %s\n", err);
			continue;
		}
		listed++;
	}
	closedir(d);
	if (!listed)
		printf("(no VMs)\n");
	return 0;
}

/*
 * hyvm restore FILE [--engine E] [--control PATH|none]: continues a
 * checkpoint as hyvm run --incoming file:FILE with the command line the
 * checkpoint recorded (the same guest, memory, devices and disks), on
 * the engine it ran on or on E: every engine reads the same hyvm_cpu_state.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint/checkpoint.h"
#include "cli/commands.h"

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "hyvm restore: ");
	fprintf(stderr, what, arg);
	fprintf(stderr, " (usage: hyvm restore FILE [--engine E] [--control PATH|none])\n");
	return EXIT_USAGE;
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "control", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *engine = NULL, *control = NULL;
	struct ckpt_meta m;
	char err[600], incoming[4200];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine = optarg;
			break;
		case 'Q':
			control = optarg;
			break;
		case 'h':
			printf("usage: hyvm restore FILE [-e|--engine E] [--control PATH|none]\n"
			       "Continues the checkpoint FILE (hyvm ctl PID save FILE) with the command line\n"
			       "it was saved from, on its engine or on E.\n");
			return 0;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", optind < argc ? "one checkpoint FILE only" : "a checkpoint FILE is needed");
	if (checkpoint_read_meta(argv[optind], &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm restore: %s\n", err);
		return EXIT_USAGE;
	}
	snprintf(incoming, sizeof(incoming), "file:%s", argv[optind]);
	char **run = calloc((size_t)m.argc + 8, sizeof(char *));
	int n = 0;
	if (!run) {
		checkpoint_meta_free(&m);
		return 1;
	}
	run[n++] = "run";
	run[n++] = "--incoming";
	run[n++] = incoming;
	run[n++] = "--engine";
	run[n++] = (char *)(engine ? engine : m.engine);
	if (control) {
		run[n++] = "--control";
		run[n++] = (char *)control;
	}
	for (int i = 1; i < m.argc; i++)	/* the recorded argv[0] is "run" */
		run[n++] = m.argv[i];
	int r = cmd_run(n, run);
	free(run);
	checkpoint_meta_free(&m);
	return r;
}

/* hyvm: the command table. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "run a guest: hyvm run [--engine E] [--mem MiB] [--append S] [--disk F]... [GUEST]" },
	{ "engines", cmd_engines, "list the engines and whether this machine has them: hyvm engines [-v]" },
	{ "ps", cmd_ps, "list the running VMs (their stats files): hyvm ps [--prune]" },
	{ "top", cmd_top, "live exit profile of a VM: hyvm top [--batch [--json] [-n N]] [-d S] [PID]" },
	{ "ctl", cmd_ctl, "a QMP command to a running VM: hyvm ctl PID|PATH COMMAND [KEY=VALUE]... (save FILE [--quit])" },
	{ "restore", cmd_restore, "continue a checkpoint: hyvm restore FILE [--engine E]" },
	{ "disk", cmd_disk, "undoable disks' overlays: hyvm disk commit|discard|info OVERLAY" },
	{ "bench", cmd_bench, "nanobenchmarks on every engine, natively and in QEMU: hyvm bench [--engines LIST] [--iterations N] [--csv F] [--chart F.svg]" },
};

static void usage(FILE *f)
{
	fprintf(f, "hyvm %s: a hybrid x86 hypervisor\n"
		"usage: hyvm COMMAND [OPTIONS]   hyvm help COMMAND   hyvm --help   hyvm --version\n",
		HYVM_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  hyvm %-8s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") && argc == 3) {
		/* hyvm help COMMAND: the command's own --help */
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[2], commands[i].name)) {
				char *args[] = { argv[2], "--help", NULL };
				return commands[i].fn(2, args);
			}
		fprintf(stderr, "hyvm help: unknown command '%s' (try hyvm --help)\n", argv[2]);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hyvm %s\n", HYVM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hyvm: unknown command '%s' (try hyvm --help)\n", argv[1]);
	return EXIT_USAGE;
}

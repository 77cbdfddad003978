/*
 * hyvm bench: the nanobenchmarks of Adams & Agesen 2006 on every engine
 * this machine has, natively and in QEMU (TCG, and KVM where it works), in
 * one run: a table of cycles per operation, a CSV and an SVG chart.
 *
 * One guest (bench/nano/nano.c) serves every column; its command line
 * selects the benchmarks an engine can run (from the engine's probe), so
 * kvm_pvm still gives the figures it can. Each run is a child process
 * (`hyvm run` or QEMU): a crash or hang costs one column. Nothing here
 * asserts anything about the figures.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nanobench/bench.h"
#include "cli/commands.h"

#define DEFAULT_ITERATIONS 10000
#define RUN_TIMEOUT_S 600
#define QEMU_ARGS "-m", "128", "-display", "none", "-monitor", "none", "-serial", "stdio", \
		  "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"

struct bench_args {
	const char *engines;	/* comma list, or NULL: every present engine */
	unsigned iterations;
	const char *csv, *chart, *guest;
	bool no_qemu;
};

static int usage(const char *what)
{
	fprintf(stderr, "hyvm bench: %s (usage: hyvm bench [--engines LIST] [--iterations N] "
			"[--csv FILE] [--chart FILE.svg] [--guest ELF] [--no-qemu])\n", what);
	return EXIT_USAGE;
}

static bool in_list(const char *list, const char *name)
{
	size_t k = strlen(name);
	for (const char *p = list; p && *p;) {
		if (!strncmp(p, name, k) && (p[k] == ',' || !p[k]))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

/* The guest beside the hyvm binary: $(O)/bench/nano/nano.elf in the build
 * tree, PREFIX/lib/hyvm/nano.elf where make install put it. */
static int default_guest(char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *dir = dirname(exe);
	snprintf(path, len, "%s/bench/nano/nano.elf", dir);
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(path, len, "%s/../lib/hyvm/nano.elf", dir);
	return access(path, R_OK);
}

/* "iters=N only=a,b" for the benchmarks whose needs caps meets (all if
 * caps is NULL); fills selected and marks the rest skip. */
static void select_for(const struct engine_caps *caps, unsigned iterations, char *cmdline, size_t len,
		       bool selected[NANO_COUNT], struct bench_column *col)
{
	int at = snprintf(cmdline, len, "iters=%u only=", iterations);
	bool first = true;
	for (int i = 0; i < NANO_COUNT; i++) {
		int need = nano_info[i].need;
		selected[i] = !caps || need < 0 || !caps->cannot[need];
		if (!selected[i]) {
			col->cell[i].state = CELL_SKIP;
			continue;
		}
		at += snprintf(cmdline + at, len - at, "%s%s", first ? "" : ",", nano_info[i].name);
		first = false;
	}
}

static struct bench_column *new_column(struct bench_table *t, const char *name)
{
	struct bench_column *col = &t->col[t->nr_cols++];
	memset(col, 0, sizeof(*col));
	snprintf(col->name, sizeof(col->name), "%s", name);
	return col;
}

static void run_engine(struct bench_table *t, const struct engine_ops *e, const struct bench_args *a)
{
	struct engine_caps caps;
	char cmdline[256];
	bool selected[NANO_COUNT];
	struct bench_column *col = new_column(t, e->name);

	memset(&caps, 0, sizeof(caps));
	e->probe(&caps);
	if (!caps.present) {
		for (int i = 0; i < NANO_COUNT; i++)
			col->cell[i].state = CELL_ABSENT;
		snprintf(col->note, sizeof(col->note), "absent: %s", caps.absent_why);
		return;
	}
	select_for(&caps, a->iterations, cmdline, sizeof(cmdline), selected, col);
	fprintf(stderr, "hyvm bench: %s ...\n", e->name);
	char *argv[] = { "/proc/self/exe", "run", "--engine", (char *)e->name,
			 "--cmdline", cmdline, (char *)a->guest, NULL };
	if (bench_run_guest(argv, RUN_TIMEOUT_S, selected, col) < 0)
		return;
	if (!strcmp(e->name, "kvm") && !caps.hardware_assist)
		snprintf(col->note, sizeof(col->note), "%s: NOT hardware assist; 32-bit guest code "
			 "is emulated instruction by instruction", caps.description);
	else
		snprintf(col->note, sizeof(col->note), "hyvm run --engine %s: %s", e->name, caps.description);
}

static void run_qemu(struct bench_table *t, const struct bench_args *a, bool kvm,
		     const struct engine_caps *kvm_caps)
{
	const char *prog = kvm ? "qemu-system-x86_64" : "qemu-system-i386";
	struct bench_column *col = new_column(t, kvm ? "qemu-kvm" : "qemu-tcg");
	char cmdline[256];
	bool selected[NANO_COUNT];

	char which[64];
	snprintf(which, sizeof(which), "command -v %s >/dev/null 2>&1", prog);
	bool have = system(which) == 0;
	if (!have || (kvm && (!kvm_caps || !kvm_caps->present))) {
		for (int i = 0; i < NANO_COUNT; i++)
			col->cell[i].state = CELL_ABSENT;
		snprintf(col->note, sizeof(col->note), "absent: %s", !have ? prog : "no usable /dev/kvm");
		return;
	}
	/* QEMU's KVM is the same /dev/kvm as the kvm engine, with the same limits. */
	select_for(kvm ? kvm_caps : NULL, a->iterations, cmdline, sizeof(cmdline), selected, col);
	fprintf(stderr, "hyvm bench: %s ...\n", col->name);
	char *tcg[] = { (char *)prog, "-accel", "tcg", QEMU_ARGS, "-kernel", (char *)a->guest,
			"-append", cmdline, NULL };
	char *hw[] = { (char *)prog, "-accel", "kvm", "-cpu", "qemu64", QEMU_ARGS, "-kernel",
		       (char *)a->guest, "-append", cmdline, NULL };
	if (bench_run_guest(kvm ? hw : tcg, RUN_TIMEOUT_S, selected, col) < 0)
		return;
	if (!kvm)
		snprintf(col->note, sizeof(col->note), "QEMU software emulation (TCG), %s", prog);
	else
		snprintf(col->note, sizeof(col->note), "QEMU -accel kvm -cpu qemu64 on %s%s", kvm_caps->description,
			 kvm_caps->hardware_assist ? "" : ": NOT hardware assist");
}

static int parse_args(int argc, char **argv, struct bench_args *a)
{
	static const struct option opts[] = {
		{ "engines", required_argument, NULL, 'e' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "csv", required_argument, NULL, 'c' },
		{ "chart", required_argument, NULL, 's' },
		{ "guest", required_argument, NULL, 'g' },
		{ "no-qemu", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	a->iterations = DEFAULT_ITERATIONS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+e:n:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'e': a->engines = optarg; break;
		case 'c': a->csv = optarg; break;
		case 's': a->chart = optarg; break;
		case 'g': a->guest = optarg; break;
		case 'Q': a->no_qemu = true; break;
		case 'h':
			printf("usage: hyvm bench [-e|--engines LIST] [-n|--iterations N] [--csv FILE] "
			       "[--chart FILE.svg] [--guest ELF] [--no-qemu]\n"
			       "  the nanobenchmarks on every engine here (or LIST), natively and in QEMU;\n"
			       "  the guest is bench/nano/nano.elf beside hyvm or ../lib/hyvm/nano.elf\n");
			return -1;
		case 'n': {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || v < 2 || v > 100000000)
				return usage("--iterations takes a number from 2 to 100000000");
			a->iterations = (unsigned)v;
			break;
		}
		default:
			return usage("unknown option or missing argument");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_args a = { 0 };
	static struct bench_table t;
	char guest[PATH_MAX] = "", extra[512] = "";

	int r = parse_args(argc, argv, &a);
	if (r)
		return r < 0 ? 0 : EXIT_USAGE;
	if (!a.guest) {
		if (default_guest(guest, sizeof(guest)) < 0) {
			fprintf(stderr, "hyvm bench: no guest beside hyvm (%s); build it with make or pass --guest\n",
				guest);
			return EXIT_USAGE;
		}
		a.guest = guest;
	} else if (access(a.guest, R_OK) < 0) {
		fprintf(stderr, "hyvm bench: %s: %s\n", a.guest, strerror(errno));
		return EXIT_USAGE;
	}
	for (const char *p = a.engines; p && *p;) {
		char name[32];
		size_t k = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)k, p);
		if (!engine_find(name) && strcmp(name, "qemu-tcg") && strcmp(name, "qemu-kvm")) {
			fprintf(stderr, "hyvm bench: unknown engine '%s'\n", name);
			return EXIT_USAGE;
		}
		p += k + (p[k] == ',');
	}

	memset(&t, 0, sizeof(t));
	t.iterations = a.iterations;
	bench_native(a.iterations, new_column(&t, "native"), extra, sizeof(extra));

	struct engine_caps kvm_caps = { 0 };
	const struct engine_ops *kvm = engine_find("kvm");
	if (kvm)
		kvm->probe(&kvm_caps);
	for (const struct engine_ops *const *e = engine_list(); *e && t.nr_cols < BENCH_MAX_COLS - 2; e++) {
		if (a.engines && !in_list(a.engines, (*e)->name))
			continue;
		if (!a.engines) {	/* by default only the engines this machine has */
			struct engine_caps caps = { 0 };
			(*e)->probe(&caps);
			if (!caps.present)
				continue;
		}
		run_engine(&t, *e, &a);
	}
	if (!a.no_qemu && (!a.engines || in_list(a.engines, "qemu-tcg")))
		run_qemu(&t, &a, false, NULL);
	if (!a.no_qemu && (!a.engines || in_list(a.engines, "qemu-kvm")))
		run_qemu(&t, &a, true, kvm ? &kvm_caps : NULL);

	printf("\n");
	bench_print_table(stdout, &t);
	printf("%s", extra);
	bench_print_paper(stdout);
	int status = 0;
	if (a.csv && bench_write_csv(a.csv, &t) == 0)
		printf("\nCSV: %s\n", a.csv);
	else if (a.csv)
		status = 1;
	if (a.chart && bench_write_svg(a.chart, &t) == 0)
		printf("chart: %s\n", a.chart);
	else if (a.chart)
		status = 1;
	return status;
}

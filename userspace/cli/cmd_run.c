/*
 * hyvm run: load a Multiboot kernel or a Linux bzImage and run it to its end. Everything that
 * can be refused (flags, files, the engine, the image) is refused before the
 * guest runs, with one line on stderr and exit status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>
#include "cli/commands.h"
#include "engines/engine.h"
#include "boot/loader.h"
#include "cpu/cpu_model.h"
#include "boot/rom_image.h"
#include "stats/stats.h"
#include "vmm/vm.h"

#define DEFAULT_MEM_MIB	128
#define MIN_MEM_MIB	2
/* Above 3.5 GiB the rest goes above 4 GiB (vmm/memory_map.h); 60 GiB
 * stays below the 64 GiB guest-physical space every engine can map. */
#define MAX_MEM_MIB	61440

/* The demo guest is linked into the binary (see the Makefile). */
extern const char _binary_demo_elf_start[], _binary_demo_elf_end[];

struct run_args {
	const char *engine;
	const char *cpu;
	uint64_t mem_mib;
	const char *cmdline;
	const char *guest;
	bool stats, no_stats;
	const char *stats_out;
	const char *rom;	/* FILE[@GPA] */
	struct boot_entry boot;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hyvm run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (usage: hyvm run [--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL] [--mem MiB] "
			"[--cmdline|--append STR] [--module FILE]... [--initrd FILE] [--rom FILE[@ADDR]] [--kernel GUEST | GUEST])\n");
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "append", required_argument, NULL, 'p' },
		{ "module", required_argument, NULL, 'M' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "stats", no_argument, NULL, 'S' },
		{ "stats-out", required_argument, NULL, 'O' },
		{ "no-stats", no_argument, NULL, 'N' },
		{ "rom", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	a->engine = getenv("HYVM_ENGINE") ? getenv("HYVM_ENGINE") : "auto";
	a->mem_mib = DEFAULT_MEM_MIB;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+e:m:c:M:k:i:p:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'e':
			a->engine = optarg;
			break;
		case 'C':
			if (!strcmp(optarg, "help")) {
				for (const char *const *n = cpu_model_names(); *n; n++)
					printf("%-10s %s\n", *n, cpu_model_describe(*n));
				exit(0);
			}
			if (!cpu_model_exists(optarg))
				return usage_error("unknown CPU model '%s' (--cpu help lists them)", optarg);
			a->cpu = optarg;
			break;
		case 'm':
			errno = 0;
			a->mem_mib = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-')
				return usage_error("--mem takes a size in MiB, not '%s'", optarg);
			if (a->mem_mib < MIN_MEM_MIB || a->mem_mib > MAX_MEM_MIB) {
				fprintf(stderr, "hyvm run: --mem %s is out of range: %d to %d MiB\n",
					optarg, MIN_MEM_MIB, MAX_MEM_MIB);
				return EXIT_USAGE;
			}
			break;
		case 'c':
		case 'p':
			a->cmdline = optarg;
			break;
		case 'k':
			if (a->guest)
				return usage_error("one --kernel only, '%s' is a second", optarg);
			a->guest = optarg;
			break;
		case 'i':
			if (a->boot.initrd)
				return usage_error("one --initrd only, '%s' is a second", optarg);
			a->boot.initrd = optarg;
			break;
		case 'M':
			if (a->boot.nr_modules == LOADER_MAX_MODULES)
				return usage_error("at most 16 modules, '%s' is one too many", optarg);
			a->boot.modules[a->boot.nr_modules++] = optarg;
			break;
		case 'S':
			a->stats = true;
			break;
		case 'O':
			a->stats_out = optarg;
			break;
		case 'N':
			a->no_stats = true;
			break;
		case 'R':
			if (a->rom)
				return usage_error("one --rom only, '%s' is a second", optarg);
			a->rom = optarg;
			break;
		case 'h':
			printf("usage: hyvm run [--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL|help] "
			       "[--mem MiB] [--cmdline|--append STR] [--module FILE]... [--initrd FILE] [--rom FILE[@ADDR]] "
			       "[--stats] [--stats-out FILE] [--no-stats] [--kernel GUEST | GUEST]\n"
			       "GUEST: a Multiboot v1 kernel or a Linux bzImage (boot protocol 2.06+), told apart by its header\n");
			exit(0);
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (a->no_stats && (a->stats || a->stats_out))
		return usage_error("%s", "--no-stats contradicts --stats and --stats-out");
	if (optind < argc && !a->guest)
		a->guest = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The bundled demo reaches the loader as a file, like any guest. */
static int demo_guest_path(char *path, size_t len)
{
	int fd = memfd_create("hyvm-demo.elf", 0);
	size_t size = _binary_demo_elf_end - _binary_demo_elf_start;

	if (fd < 0 || write(fd, _binary_demo_elf_start, size) != (ssize_t)size)
		return -1;
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return 0;
}

/* Explicit engine: it must exist and be present. auto: chosen after the
 * guest's needs are known. */
static int resolve_engine(const char *name, const struct engine_ops **out)
{
	struct engine_caps caps;
	char names[128] = "";

	*out = NULL;
	if (!strcmp(name, "auto"))
		return 0;
	*out = engine_find(name);
	if (!*out) {
		for (const struct engine_ops *const *e = engine_list(); *e; e++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s",
				 (*e)->name);
		fprintf(stderr, "hyvm run: unknown engine '%s' (engines: auto%s)\n", name, names);
		return EXIT_USAGE;
	}
	(*out)->probe(&caps);
	if (!caps.present) {
		fprintf(stderr, "hyvm run: engine %s is not present: %s\n", name, caps.absent_why);
		return EXIT_USAGE;
	}
	return 0;
}

static int check_needs(const struct engine_ops *e, const struct guest_image *img)
{
	struct engine_caps caps;

	e->probe(&caps);
	if (img->needs[NEED_HIGH_RAM] && caps.cannot[NEED_HIGH_RAM]) {
		fprintf(stderr, "SKIP: engine %s cannot reach RAM above 4 GiB (--mem %llu or more): %s\n",
			e->name, (unsigned long long)(MEMMAP_LOWMEM_SPLIT >> 20),
			caps.cannot[NEED_HIGH_RAM]);
		return EXIT_SKIP;
	}
	for (int n = 0; n < NEED_COUNT; n++)
		if (img->needs[n] && caps.cannot[n]) {
			fprintf(stderr, "SKIP: engine %s cannot run this guest (needs %s): %s\n",
				e->name, guest_need_name(n), caps.cannot[n]);
			return EXIT_SKIP;
		}
	return 0;
}

/* Whether the VM's CPU will run long mode (the engine does and the model,
 * as vm.c builds it, lists it): a 64-bit Linux kernel gets the 64-bit
 * entry then, and is refused (exit 2) without. */
static void boot_long_mode(const struct engine_ops *e, const char *cpu, struct boot_entry *b,
			   bool *engine_lm, bool *model_lm)
{
	struct engine_caps caps;
	struct cpu_model_limits lim;

	e->probe(&caps);
	*engine_lm = lim.long_mode = !caps.cannot[NEED_LONG_MODE];
	*model_lm = cpu_model_long_mode(cpu ? cpu : CPU_MODEL_DEFAULT, &lim, &b->gbpages);
	b->long_mode = *engine_lm && *model_lm;
}

static struct termios saved_tty;
static bool tty_changed;

/* Guest serial input is character at a time; ^C still stops hyvm. */
static void tty_raw_input(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		tty_changed = true;
}

static void tty_restore(void)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_changed = false;
}

static int report(const struct vm *vm, const struct vm_outcome *out)
{
	const char *ename = vm->engine->name;

	switch (out->kind) {
	case VM_TRIPLE_FAULT:
		fprintf(stderr, "hyvm: triple fault on engine %s at rip=0x%llx: %s\n", ename,
			(unsigned long long)out->rip, out->msg);
		break;
	case VM_ENGINE_ERROR:
		fprintf(stderr, "hyvm: engine %s failed at rip=0x%llx: %s\n", ename,
			(unsigned long long)out->rip, out->msg);
		break;
	case VM_HALTED:
	case VM_RESET:
	case VM_INTERRUPTED:
		fprintf(stderr, "hyvm: %s (engine %s)\n", out->msg, ename);
		break;
	default:
		break;
	}
	return out->status;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	const struct engine_ops *engine;
	struct guest_image img;
	struct hyvm_cpu_state st;
	struct vm vm;
	struct vm_outcome out;
	struct memory_map map;
	struct rom_image rom = { 0 };
	char err[512], demo_path[64], loader_name[64];
	int r;

	if ((r = parse_args(argc, argv, &a)) != 0)
		return r;
	if ((r = resolve_engine(a.engine, &engine)) != 0)
		return r;
	if (!a.guest) {
		if (demo_guest_path(demo_path, sizeof(demo_path)) < 0) {
			fprintf(stderr, "hyvm run: cannot stage the demo guest: %s\n", strerror(errno));
			return 1;
		}
		a.guest = demo_path;
	}
	if (memory_map_build_pc(&map, a.mem_mib << 20, err, sizeof(err)) < 0 ||
	    (a.rom && rom_image_load(a.rom, &map, &rom, err, sizeof(err)) < 0)) {
		fprintf(stderr, "hyvm run: %s\n", err);
		return EXIT_USAGE;
	}
	if (vm_init(&vm, &map, STDIN_FILENO, STDOUT_FILENO, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: %s\n", err);
		rom_image_free(&rom);
		return 1;
	}
	if (rom.bytes)
		memcpy(vm.backing + rom.memfd_offset, rom.bytes, rom.size);
	rom_image_free(&rom);
	a.boot.cmdline = a.cmdline;
	bool is_linux = linux_is_bzimage(a.guest);
	if (!is_linux && a.boot.initrd) {
		fprintf(stderr, "hyvm run: %s: --initrd is for Linux bzImages, and this is not one "
			"(a Multiboot kernel takes --module)\n", a.guest);
		vm_destroy(&vm);
		return EXIT_USAGE;
	}
	for (int pass = 0; pass < 2; pass++) {
		snprintf(loader_name, sizeof(loader_name), "hyvm %s engine=%s", HYVM_VERSION,
			 engine ? engine->name : "auto");
		a.boot.loader_name = loader_name;
		bool engine_lm = false, model_lm = false;
		if (engine)
			boot_long_mode(engine, a.cpu, &a.boot, &engine_lm, &model_lm);
		if ((is_linux ? linux_load(a.guest, &a.boot, &vm.ram, &img, err, sizeof(err))
			      : multiboot_load(a.guest, &a.boot, &vm.ram, &img, err, sizeof(err))) < 0) {
			fprintf(stderr, "hyvm run: %s\n", err);
			vm_destroy(&vm);
			return EXIT_USAGE;
		}
		img.needs[NEED_HIGH_RAM] = map.ram_above_4g != 0;
		if (engine && is_linux && linux_check_long_mode(a.guest, &img, engine->name, engine_lm,
							   a.cpu, model_lm, err, sizeof(err)) < 0) {
			fprintf(stderr, "hyvm run: %s\n", err);
			vm_destroy(&vm);
			return EXIT_USAGE;
		}
		if (engine)
			break;
		/* auto: the guest's needs choose the engine; load again so the
		 * boot information names it (and a 64-bit kernel gets its entry). */
		engine = engine_pick_auto(img.needs, err, sizeof(err));
		if (!engine && is_linux && img.kernel64) {
			linux_check_long_mode(a.guest, &img, NULL, false, a.cpu, false, err, sizeof(err));
			fprintf(stderr, "hyvm run: %s\n", err);
			vm_destroy(&vm);
			return EXIT_USAGE;
		}
		if (!engine) {
			fprintf(stderr, "SKIP: no engine here can run this guest: %s\n", err);
			vm_destroy(&vm);
			return EXIT_SKIP;
		}
	}
	if ((r = check_needs(engine, &img)) != 0) {
		vm_destroy(&vm);
		return r;
	}
	if (is_linux)
		linux_entry_state(&img, &st);
	else
		multiboot_entry_state(&img, &st);
	vm.cpu_model = a.cpu;
	if (vm_attach_engine(&vm, engine, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: engine %s: %s\n", engine->name, err);
		vm_destroy(&vm);
		return EXIT_USAGE;
	}
	if (!a.no_stats && stats_run_start(&vm.stats, a.guest, a.stats, a.stats || a.stats_out,
					   engine, vm.vcpu) < 0) {
		vm_destroy(&vm);
		return EXIT_USAGE;
	}
	if (vm.stats && engine->attach_stats)
		engine->attach_stats(vm.vcpu, vm.stats, 0);
	fflush(stdout);
	/* A reader that goes away (hyvm run | head) must not kill the VMM
	 * mid-exit; the UART sees EPIPE and drops output instead. */
	signal(SIGPIPE, SIG_IGN);
	tty_raw_input();
	vm_run(&vm, &out);
	tty_restore();
	r = report(&vm, &out);
	if (stats_run_finish(vm.stats, r, a.stats_out) < 0 && r == 0)
		r = 1;
	vm_destroy(&vm);
	return r;
}

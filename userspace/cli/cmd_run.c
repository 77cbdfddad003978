/*
 * hyvm run: load a Multiboot kernel or a Linux bzImage and run it to its end. Everything that
 * can be refused (flags, files, the engine, the image) is refused before the
 * guest runs, with one line on stderr and exit status 2. A guest's reset
 * boots the same image again (the loader reruns on a reset machine) unless
 * --no-reboot, as QEMU; the terminal is its serial console
 * (console/console_tty.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli/commands.h"
#include "console/console_tty.h"
#include "engines/engine.h"
#include "boot/loader.h"
#include "cpu/cpu_model.h"
#include "boot/rom_image.h"
#include "firmware/fw_tables.h"
#include "cli/run_disks.h"
#include "net/net_backend.h"
#include "stats/stats.h"
#include "vmm/vm.h"

#define DEFAULT_MEM_MIB	128
#define MIN_MEM_MIB	2
/* Above 3.5 GiB the rest goes above 4 GiB (vmm/memory_map.h); 60 GiB
 * stays below the 64 GiB guest-physical space every engine can map. */
#define MAX_MEM_MIB	61440
/* --device instances beyond the pc machine's own (VM_MAX_DEVICES bounds
 * them all). */
#define MAX_EXTRA_DEVICES 16

/* The demo guest is linked into the binary (see the Makefile). */
extern const char _binary_demo_elf_start[], _binary_demo_elf_end[];

struct run_args {
	const char *engine;
	const char *cpu;
	uint64_t mem_mib;
	const char *cmdline;
	const char *guest;
	bool stats, no_stats;
	bool no_acpi;		/* MP table only, as QEMU's -no-acpi */
	const char *stats_out;
	const char *rom;	/* FILE[@GPA] */
	struct boot_entry boot;
	bool no_reboot;
	int escape;		/* console escape key, CONSOLE_ESCAPE_NONE: off */
	bool is_linux;
	struct net_config net;	/* --net or --netdev; kind NET_NONE without one */
	bool net_given;
	bool net_nic;		/* --net: a virtio-net card on it too (QEMU's -nic) */
	/* --device MODEL[,key=val...]: the model name and its configuration,
	 * split at the first comma (QEMU's -device spelling). */
	struct machine_device devices[MAX_EXTRA_DEVICES];
	unsigned nr_devices;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hyvm run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (usage: hyvm run [--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL] [--mem MiB] "
			"[--cmdline|--append STR] [--module FILE]... [--initrd FILE] [--rom FILE[@ADDR]] [--no-acpi] [--no-reboot] [--escape KEY] [--net|--netdev user[,...]|tap,ifname=NAME|none] [--device MODEL[,KEY=VAL...]]... [--disk FILE[,OPTS]]... [--kernel GUEST | GUEST])\n");
	return EXIT_USAGE;
}

/* One --device: the model must exist now; its configuration is checked
 * by the model's create in vm_init. */
static int add_device(struct run_args *a, char *spec)
{
	if (!strcmp(spec, "help")) {
		for (const struct device_model *m = device_models(); m; m = m->next)
			printf("%s\n", m->name);
		exit(0);
	}
	if (a->nr_devices == MAX_EXTRA_DEVICES) {
		usage_error("at most 16 --device options, '%s' is one too many", spec);
		return -1;
	}
	char *comma = strchr(spec, ',');
	if (comma)
		*comma = '\0';
	if (!device_model_find(spec)) {
		fprintf(stderr, "hyvm run: --device: unknown device model '%s' "
			"(--device help lists them)\n", spec);
		return -1;
	}
	a->devices[a->nr_devices++] = (struct machine_device){ spec, comma ? comma + 1 : NULL };
	return 0;
}

/* --net's card: virtio-net on the backend just made, as QEMU's -nic. */
static int add_nic(struct run_args *a, const struct net_backend *be, char *err, size_t errlen)
{
	static char config[48];

	if (a->nr_devices == MAX_EXTRA_DEVICES) {
		snprintf(err, errlen, "too many devices with --net's network card");
		return -1;
	}
	snprintf(config, sizeof(config), "netdev=%s", be->id);
	a->devices[a->nr_devices++] = (struct machine_device){ "virtio-net", config };
	return 0;
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
		{ "no-reboot", no_argument, NULL, 'B' },
		{ "escape", required_argument, NULL, 'E' },
		{ "no-acpi", no_argument, NULL, 'A' },
		{ "net", required_argument, NULL, 'n' },
		{ "netdev", required_argument, NULL, 'n' + 0x100 },	/* backend only */
		{ "device", required_argument, NULL, 'D' },
		{ "disk", required_argument, NULL, 'k' + 0x100 },
		{ "drive", required_argument, NULL, 'd' + 0x100 },	/* QEMU's -drive */
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	a->engine = getenv("HYVM_ENGINE") ? getenv("HYVM_ENGINE") : "auto";
	a->mem_mib = DEFAULT_MEM_MIB;
	a->escape = CONSOLE_ESCAPE_DEFAULT;
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
		case 'B':
			a->no_reboot = true;
			break;
		case 'E':
			if (console_escape_parse(optarg, &a->escape) < 0)
				return usage_error("--escape takes ^X, C-x, a code 1-31 or none, not '%s'",
						   optarg);
			break;
		case 'A':
			a->no_acpi = true;
			break;
		case 'n':
		case 'n' + 0x100: {
			char err[300];
			if (a->net_given)
				return usage_error("one --net only (one --net or --netdev: one network "
						   "backend), '%s' is a second", optarg);
			if (net_config_parse(optarg, &a->net, err, sizeof(err)) < 0) {
				fprintf(stderr, "hyvm run: %s\n", err);
				return EXIT_USAGE;
			}
			a->net_given = true;
			a->net_nic = c == 'n';
			break;
		}
		case 'D':
			if (add_device(a, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'k' + 0x100:
		case 'd' + 0x100: {
			char err[300];
			if (run_disks_add(optarg, c == 'd' + 0x100, err, sizeof(err)) < 0) {
				fprintf(stderr, "hyvm run: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		}
		case 'h':
			printf("usage: hyvm run [-e|--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL|help] "
			       "[-m|--mem MiB] [-c|--cmdline|-p|--append STR] [-M|--module FILE]... [-i|--initrd FILE] "
			       "[--rom FILE[@ADDR]] [--no-acpi] [--stats] [--stats-out FILE] [--no-stats] [--no-reboot] "
			       "[--escape KEY] [--net|--netdev SPEC] [--device MODEL[,KEY=VAL...]]... "
			       "[--disk FILE[,OPTS]]... [--drive file=FILE[,OPTS]]... [-k|--kernel GUEST | GUEST]\n"
			       "HYVM_ENGINE in the environment is the default --engine. Every run publishes a live\n"
			       "statistics file for hyvm ps and hyvm top (in HYVM_STATS_DIR if set); --stats names it\n"
			       "on stderr, --stats-out FILE writes the final exit profile to FILE, --no-stats\n"
			       "publishes none.\n"
			       "GUEST: a Multiboot v1 kernel or a Linux bzImage (boot protocol 2.06+), told apart by its header\n"
			       "The BIOS area holds an MP table and ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT)\n"
			       "describing the machine; --no-acpi leaves the ACPI tables out (the MP table stays), as QEMU's\n"
			       "-no-acpi. A --rom BIOS brings its own tables instead.\n"
			       "--device MODEL[,KEY=VAL...] adds an instance of a device model with its configuration\n"
			       "after the pc machine's own (QEMU's -device spelling); --device help lists the models.\n"
			       "--disk FILE[,readonly][,snapshot][,overlay=PATH][,id=ID][,format=raw][,cache=writeback]\n"
			       "  adds a virtio-blk disk (QEMU's --drive file=FILE,if=virtio,... too); snapshot sends\n"
			       "  writes to an overlay (FILE.overlay) that hyvm disk commit|discard merges or drops\n"
			       "\n"
			       "The guest's COM1 is stdin/stdout. When stdin is a terminal it is put in raw mode\n"
			       "(Ctrl-C goes to the guest) and restored on every exit; keys, as QEMU's:\n"
			       "  Ctrl-A x        quit hyvm (exit status 0)\n"
			       "  Ctrl-A h        print the keys\n"
			       "  Ctrl-A Ctrl-A   send Ctrl-A to the guest\n"
			       "  --escape KEY    another escape key (^T, C-t, or a code 1-31 as QEMU's -echr);\n"
			       "                  none: no escape, Ctrl-C stops hyvm\n"
			       "A pipe or /dev/null on stdin is the guest's input as it is.\n"
			       "\n"
			       "A guest's reset (i8042 0xfe, port 0x92 bit 0) boots the same image again: devices\n"
			       "at power-on (CMOS RAM kept), RAM cleared and loaded again, the CPU at the entry\n"
			       "state; each reboot prints \"hyvm: guest reset, rebooting\" on stderr.\n"
			       "  --no-reboot     a reset ends hyvm instead, exit status 0\n"
			       "A triple fault always ends hyvm (status 3). Exit statuses: 0 powered off, reset\n"
			       "with --no-reboot, halted, or quit; (v<<1)|1 isa-debug-exit; 2 bad input;\n"
			       "3 triple fault; 4 engine failure; 77 the engine cannot run the guest.\n"
			       "\n"
			       "--net SPEC: a network backend and a virtio-net card on it (QEMU's -nic);\n"
			       "--netdev SPEC: the backend only, for --device virtio-net,netdev=ID[,mac=MAC]\n"
			       "(the id is SPEC's id=, default net0); SPEC in QEMU's -netdev spelling:\n"
			       "  user[,net=ADDR[/MASK]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR][,restrict=on|off]\n"
			       "      [,ipv6=on|off][,hostname=NAME][,hostfwd=[tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT]...\n"
			       "      libslirp's user-mode network, no root needed: 10.0.2.0/24, gateway (the host's\n"
			       "      loopback) 10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15\n"
			       "  tap,ifname=NAME   a host tap interface (root or CAP_NET_ADMIN)\n"
			       "  none              no network (the default)\n"
			       "The card's MAC is 52:54:00:12:34:56, as QEMU's first NIC.\n");
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
	struct cpu_model_limits lim = { 0 };	/* long mode is all that matters here */

	e->probe(&caps);
	*engine_lm = lim.long_mode = !caps.cannot[NEED_LONG_MODE];
	*model_lm = cpu_model_long_mode(cpu ? cpu : CPU_MODEL_DEFAULT, &lim, &b->gbpages);
	b->long_mode = *engine_lm && *model_lm;
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
	case VM_QUIT:
		fprintf(stderr, "hyvm: %s (engine %s)\n", out->msg, ename);
		break;
	default:
		break;
	}
	return out->status;
}

/* The loader into the VM's RAM; with engine auto, the guest's needs pick
 * the engine and the guest is loaded again so the boot information names
 * it. At the start and after each reset. 0, or an exit status. */
static int load_guest(struct vm *vm, struct run_args *a, const struct engine_ops **engine,
		      struct guest_image *img, struct hyvm_cpu_state *st)
{
	char err[512], loader_name[64];

	for (int pass = 0; pass < 2; pass++) {
		snprintf(loader_name, sizeof(loader_name), "hyvm %s engine=%s", HYVM_VERSION,
			 *engine ? (*engine)->name : "auto");
		a->boot.loader_name = loader_name;
		bool engine_lm = false, model_lm = false;
		if (*engine)
			boot_long_mode(*engine, a->cpu, &a->boot, &engine_lm, &model_lm);
		if ((a->is_linux ? linux_load(a->guest, &a->boot, &vm->ram, img, err, sizeof(err))
				 : multiboot_load(a->guest, &a->boot, &vm->ram, img, err, sizeof(err))) < 0) {
			fprintf(stderr, "hyvm run: %s\n", err);
			return EXIT_USAGE;
		}
		img->needs[NEED_HIGH_RAM] = vm->map.ram_above_4g != 0;
		if (*engine && a->is_linux &&
		    linux_check_long_mode(a->guest, img, (*engine)->name, engine_lm, a->cpu, model_lm,
					  err, sizeof(err)) < 0) {
			fprintf(stderr, "hyvm run: %s\n", err);
			return EXIT_USAGE;
		}
		if (*engine)
			break;
		/* auto: the guest's needs choose the engine; load again so the
		 * boot information names it (and a 64-bit kernel gets its entry) */
		*engine = engine_pick_auto(img->needs, err, sizeof(err));
		if (!*engine && a->is_linux && img->kernel64) {
			linux_check_long_mode(a->guest, img, NULL, false, a->cpu, false, err, sizeof(err));
			fprintf(stderr, "hyvm run: %s\n", err);
			return EXIT_USAGE;
		}
		if (!*engine) {
			fprintf(stderr, "SKIP: no engine here can run this guest: %s\n", err);
			return EXIT_SKIP;
		}
	}
	/* after every load: a reboot clears RAM, the tables with it */
	if (fw_tables_install(&vm->map, vm->ram.base, a->cpu, !a->no_acpi, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: firmware tables: %s\n", err);
		return EXIT_USAGE;
	}
	if (a->is_linux)
		linux_entry_state(img, st);
	else
		multiboot_entry_state(img, st);
	return 0;
}

static int attach(struct vm *vm, const struct engine_ops *engine, const struct hyvm_cpu_state *st)
{
	char err[512];

	if (vm_attach_engine(vm, engine, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: engine %s: %s\n", engine->name, err);
		return -1;
	}
	return 0;
}

/* A reset without --no-reboot: the machine at power-on, the same image
 * loaded again, a fresh vCPU at the loader's entry state; the statistics
 * go on in the same file. One stderr line per reboot, so a guest that
 * resets in a loop is seen. 0, or the exit status. */
static int reboot(struct vm *vm, struct run_args *a, const struct engine_ops *engine)
{
	struct guest_image img;
	struct hyvm_cpu_state st;
	int r;

	fprintf(stderr, "hyvm: guest reset, rebooting\n");
	vm_reset(vm);
	if ((r = load_guest(vm, a, &engine, &img, &st)) != 0 || attach(vm, engine, &st) < 0) {
		fprintf(stderr, "hyvm: the reboot failed (engine %s)\n", engine->name);
		return 1;
	}
	if (vm->stats) {
		stats_writer_attach(vm->stats, 0, engine, vm->vcpu);
		if (engine->attach_stats)
			engine->attach_stats(vm->vcpu, vm->stats, 0);
	}
	return 0;
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
	struct console_tty con;
	struct net_backend *net = NULL;
	char err[512], demo_path[64];
	int r, input_fd;

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
	if (a.net.kind != NET_NONE) {
		if (!(net = net_backend_create(&a.net, err, sizeof(err)))) {
			fprintf(stderr, "hyvm run: %s\n", err);
			rom_image_free(&rom);
			return EXIT_USAGE;
		}
		if (a.net_nic && add_nic(&a, net, err, sizeof(err)) < 0) {
			fprintf(stderr, "hyvm run: %s\n", err);
			rom_image_free(&rom);
			net_backend_destroy(net);
			return EXIT_USAGE;
		}
	}
	if (run_disks_open(a.devices, &a.nr_devices, MAX_EXTRA_DEVICES, err, sizeof(err)) < 0) {
		fprintf(stderr, "hyvm run: %s\n", err);
		rom_image_free(&rom);
		run_disks_close();
		net_backend_destroy(net);
		return EXIT_USAGE;
	}
	/* before the engine exists: bt's fault handlers chain to the
	 * console's terminal restore */
	input_fd = console_tty_open(&con, STDIN_FILENO, STDOUT_FILENO, a.escape);
	if ((r = vm_init(&vm, &map, a.devices, a.nr_devices, input_fd, STDOUT_FILENO,
			 err, sizeof(err))) < 0) {
		fprintf(stderr, "hyvm run: %s\n", err);
		rom_image_free(&rom);
		console_tty_close(&con);
		net_backend_destroy(net);
		run_disks_close();
		return r == MACHINE_BAD_EXTRA ? EXIT_USAGE : 1;
	}
	if (net && !net->nic)	/* said, not hidden: hostfwd ports listen for nothing */
		fprintf(stderr, "hyvm run: --netdev id=%s: no network card uses it (--device "
			"virtio-net,netdev=%s adds one): the guest sees no network\n", net->id, net->id);
	if (console_tty_watch_fd(&con) >= 0)
		vm.input_hook = (struct vm_input_hook){
			console_tty_pump, &con, console_tty_watch_fd(&con),
		};
	if (rom.bytes)
		memcpy(vm.backing + rom.memfd_offset, rom.bytes, rom.size);
	rom_image_free(&rom);
	a.boot.cmdline = a.cmdline;
	a.is_linux = linux_is_bzimage(a.guest);
	if (!a.is_linux && a.boot.initrd) {
		fprintf(stderr, "hyvm run: %s: --initrd is for Linux bzImages, and this is not one "
			"(a Multiboot kernel takes --module)\n", a.guest);
		r = EXIT_USAGE;
		goto out;
	}
	if ((r = load_guest(&vm, &a, &engine, &img, &st)) != 0 ||
	    (r = check_needs(engine, &img)) != 0)
		goto out;
	vm.cpu_model = a.cpu;
	if (attach(&vm, engine, &st) < 0) {
		r = EXIT_USAGE;
		goto out;
	}
	if (!a.no_stats && stats_run_start(&vm.stats, a.guest, a.stats, a.stats || a.stats_out,
					   engine, vm.vcpu) < 0) {
		r = EXIT_USAGE;
		goto out;
	}
	if (vm.stats && engine->attach_stats)
		engine->attach_stats(vm.vcpu, vm.stats, 0);
	fflush(stdout);
	/* A reader that goes away (hyvm run | head) must not kill the VMM
	 * mid-exit; the UART sees EPIPE and drops output instead. */
	signal(SIGPIPE, SIG_IGN);
	console_tty_raw(&con);
	for (;;) {
		vm_run(&vm, &out);
		if (out.kind != VM_RESET || a.no_reboot)
			break;
		if ((r = reboot(&vm, &a, engine)) != 0)
			break;
	}
	console_tty_restore();
	if (r == 0)
		r = report(&vm, &out);
	if (stats_run_finish(vm.stats, r, a.stats_out) < 0 && r == 0)
		r = 1;
out:
	vm_destroy(&vm);
	console_tty_close(&con);
	net_backend_destroy(net);
	run_disks_close();
	return r;
}

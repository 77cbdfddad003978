/* hyvm run's command line; see run_args.h. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli/commands.h"
#include "cli/run_args.h"
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

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hyvm run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (usage: hyvm run [--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL] [--mem MiB] "
			"[--cmdline|--append STR] [--module FILE]... [--initrd FILE] [--rom FILE[@ADDR]] [--bios [FILE]] [--no-acpi] [--no-reboot] [--escape KEY] [--net|--netdev user[,...]|tap,ifname=NAME|none] [--device MODEL[,KEY=VAL...]]... [--disk FILE[,OPTS]]... [--gdb tcp:[HOST]:PORT [--gdb-wait]] [--control PATH|none] [--incoming file:FILE] [--kernel GUEST | GUEST])\n");
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
	/* a copy: argv stays whole for the checkpoint's command line, which
	 * a restore parses again (it lives as long as the run) */
	if (!(spec = strdup(spec))) {
		fprintf(stderr, "hyvm run: out of memory\n");
		return -1;
	}
	char *comma = strchr(spec, ',');
	if (comma)
		*comma = '\0';
	if (!device_model_find(spec)) {
		fprintf(stderr, "hyvm run: --device: unknown device model '%s' "
			"(--device help lists them)\n", spec);
		free(spec);
		return -1;
	}
	a->devices[a->nr_devices++] = (struct machine_device){ spec, comma ? comma + 1 : NULL };
	return 0;
}

/* --net's card: virtio-net on the backend just made, as QEMU's -nic. */
int run_add_nic(struct run_args *a, const struct net_backend *be, char *err, size_t errlen)
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

int run_parse_args(int argc, char **argv, struct run_args *a)
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
		{ "bios", optional_argument, NULL, 'b' + 0x100 },
		{ "no-reboot", no_argument, NULL, 'B' },
		{ "escape", required_argument, NULL, 'E' },
		{ "no-acpi", no_argument, NULL, 'A' },
		{ "net", required_argument, NULL, 'n' },
		{ "netdev", required_argument, NULL, 'n' + 0x100 },	/* backend only */
		{ "device", required_argument, NULL, 'D' },
		{ "disk", required_argument, NULL, 'k' + 0x100 },
		{ "drive", required_argument, NULL, 'd' + 0x100 },	/* QEMU's -drive */
		{ "gdb", required_argument, NULL, 'g' + 0x100 },
		{ "gdb-wait", no_argument, NULL, 'w' + 0x100 },
		{ "control", required_argument, NULL, 'Q' },
		{ "incoming", required_argument, NULL, 'I' },
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
		case 'b' + 0x100:
			if (a->bios)
				return usage_error("%s", "one --bios only");
			a->bios = true;
			a->bios_file = optarg;
			/* --bios FILE as QEMU's -bios FILE: an optional argument
			 * getopt only takes as --bios=FILE */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				a->bios_file = argv[optind++];
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
		case 'g' + 0x100: {
			char err[300];
			if (gdb_config_parse(optarg, &a->gdb, err, sizeof(err)) < 0) {
				fprintf(stderr, "hyvm run: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		}
		case 'w' + 0x100:
			a->gdb.wait = true;
			break;
		case 'Q':
			a->control = optarg;
			break;
		case 'I':
			if (strncmp(optarg, "file:", 5) || !optarg[5])
				return usage_error("--incoming takes file:FILE (a checkpoint), not '%s'",
						   optarg);
			a->incoming = optarg + 5;
			break;
		case 'h':
			printf("usage: hyvm run [-e|--engine auto|kvm|bt|vmx|svm|hybrid] [--cpu MODEL|help] "
			       "[-m|--mem MiB] [-c|--cmdline|-p|--append STR] [-M|--module FILE]... [-i|--initrd FILE] "
			       "[--rom FILE[@ADDR]] [--bios [FILE]] [--no-acpi] [--stats] [--stats-out FILE] [--no-stats] [--no-reboot] "
			       "[--escape KEY] [--net|--netdev SPEC] [--device MODEL[,KEY=VAL...]]... "
			       "[--disk FILE[,OPTS]]... [--drive file=FILE[,OPTS]]... [--gdb tcp:[HOST]:PORT [--gdb-wait]] "
			       "[--control PATH|none] [--incoming file:FILE] [-k|--kernel GUEST | GUEST]\n"
			       "HYVM_ENGINE in the environment is the default --engine. Every run publishes a live\n"
			       "statistics file for hyvm ps and hyvm top (in HYVM_STATS_DIR if set); --stats names it\n"
			       "on stderr, --stats-out FILE writes the final exit profile to FILE, --no-stats\n"
			       "publishes none.\n"
			       "GUEST: a Multiboot v1 kernel or a Linux bzImage (boot protocol 2.06+), told apart by its header\n"
			       "The BIOS area holds an MP table and ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT)\n"
			       "describing the machine; --no-acpi leaves the ACPI tables out (the MP table stays), as QEMU's\n"
			       "-no-acpi. A --rom BIOS brings its own tables instead.\n"
			       "--bios [FILE]: the CPU starts at the reset vector (F000:FFF0) of a BIOS image,\n"
			       "  default /usr/share/seabios/bios.bin (Debian's SeaBIOS), ROM ending at 4 GiB and its\n"
			       "  last 128 KiB at 0xe0000; QEMU's fw_cfg (ports 0x510/0x511, DMA 0x514) tells it the\n"
			       "  machine; it boots the --disk (virtio-blk), or a --kernel bzImage through QEMU's\n"
			       "  linuxboot_dma.bin. Needs an engine that runs real mode.\n"
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
			       "The card's MAC is 52:54:00:12:34:56, as QEMU's first NIC.\n"
			       "\n"
			       "--gdb tcp:[HOST]:PORT: a gdb remote stub on HOST (default 127.0.0.1) and PORT\n"
			       "  (QEMU's -gdb tcp::PORT): target remote :PORT in gdb stops the guest; breakpoints,\n"
			       "  single steps and watchpoints as far as the engine can (bt: no watchpoints)\n"
			       "--gdb-wait: the guest waits for the debugger before its first instruction (QEMU's S option)\n"
			       "--control PATH: the VM's QMP control socket (hyvm ctl, or any QMP client);\n"
			       "  default $XDG_RUNTIME_DIR/hyvm/PID.qmp (/run/hyvm as root, else\n"
			       "  /tmp/hyvm-UID), removed when the VM ends; none: no socket\n"
			       "--incoming file:FILE: continue the checkpoint FILE (hyvm ctl PID save FILE,\n"
			       "  or QMP migrate file:FILE) instead of booting GUEST; the rest of the command\n"
			       "  line must make the same VM (hyvm restore FILE does that for you)\n");
			exit(0);
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (a->gdb.wait && !a->gdb.enabled)
		return usage_error("%s", "--gdb-wait needs --gdb tcp:[HOST]:PORT");
	if (a->no_stats && (a->stats || a->stats_out))
		return usage_error("%s", "--no-stats contradicts --stats and --stats-out");
	/* With --bios the one operand is the BIOS file (--bios FILE reads as
	 * QEMU's -bios FILE); a kernel for it comes through --kernel. */
	if (optind < argc && a->bios && !a->bios_file)
		a->bios_file = argv[optind++];
	if (optind < argc && !a->guest && !a->bios)
		a->guest = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return 0;
}

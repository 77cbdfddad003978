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
#include "cli/run_args.h"
#include "cli/run_bios.h"
#include "console/console_tty.h"
#include "engines/engine.h"
#include "boot/loader.h"
#include "cpu/cpu_model.h"
#include "boot/rom_image.h"
#include "boot/bios_image.h"
#include "firmware/fw_tables.h"
#include "cli/run_disks.h"
#include "cli/run_incoming.h"
#include "control/control_vm.h"
#include "devices/firmware/fw_cfg_store.h"
#include "net/net_backend.h"
#include "gdb/gdb_stub.h"
#include "stats/stats.h"
#include "vmm/vm.h"

/* The demo guest is linked into the binary (see the Makefile). */
extern const char _binary_demo_elf_start[], _binary_demo_elf_end[];


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
	case VM_KILLED:
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
/* --bios: where the image is in the memfd, for each boot's shadow copy */
static struct rom_image bios_rom;

static int load_guest(struct vm *vm, struct run_args *a, const struct engine_ops **engine,
		      struct guest_image *img, struct hyvm_cpu_state *st)
{
	char err[512], loader_name[64];

	if (a->bios) {
		/* the BIOS finds the machine through fw_cfg: no tables of ours */
		run_bios_boot(vm, a, &bios_rom, img, st);
		if (!*engine && !(*engine = engine_pick_auto(img->needs, err, sizeof(err)))) {
			fprintf(stderr, "SKIP: no engine here can run a BIOS: %s\n", err);
			return EXIT_SKIP;
		}
		return 0;
	}

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
	/* static: what the arguments point to (the --device copies) lives as
	 * long as the process, whichever way the run ends; one run a process */
	static struct run_args a;
	const struct engine_ops *engine;
	struct guest_image img;
	struct hyvm_cpu_state st;
	struct vm vm;
	struct vm_outcome out;
	struct memory_map map;
	struct rom_image rom = { 0 };
	struct console_tty con;
	struct net_backend *net = NULL;
	struct gdb_stub *gdb = NULL;
	struct control_vm ctl = { 0 };
	char err[512], demo_path[64];
	int r, input_fd;

	if ((r = run_parse_args(argc, argv, &a)) != 0)
		return r;
	if (a.incoming && (r = run_incoming_prepare(&a)) != 0)
		return r;
	if ((r = resolve_engine(a.engine, &engine)) != 0)
		return r;
	if (!a.guest && !a.bios) {
		if (demo_guest_path(demo_path, sizeof(demo_path)) < 0) {
			fprintf(stderr, "hyvm run: cannot stage the demo guest: %s\n", strerror(errno));
			return 1;
		}
		a.guest = demo_path;
	}
	if (memory_map_build_pc(&map, a.mem_mib << 20, err, sizeof(err)) < 0 ||
	    (a.rom && rom_image_load(a.rom, &map, &rom, err, sizeof(err)) < 0) ||
	    (a.bios && run_bios_prepare(&a, &map, &bios_rom, err, sizeof(err)) < 0)) {
		fprintf(stderr, "hyvm run: %s\n", err);
		rom_image_free(&rom);
		rom_image_free(&bios_rom);
		return EXIT_USAGE;
	}
	if (a.net.kind != NET_NONE) {
		if (!(net = net_backend_create(&a.net, err, sizeof(err)))) {
			fprintf(stderr, "hyvm run: %s\n", err);
			rom_image_free(&rom);
			return EXIT_USAGE;
		}
		if (a.net_nic && run_add_nic(&a, net, err, sizeof(err)) < 0) {
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
	if (bios_rom.bytes)
		memcpy(vm.backing + bios_rom.memfd_offset, bios_rom.bytes, bios_rom.size);
	rom_image_free(&bios_rom);
	a.boot.cmdline = a.cmdline;
	a.is_linux = a.guest && linux_is_bzimage(a.guest);
	/* a checkpoint does not read the guest's files (only a reboot does) */
	if (!a.is_linux && a.boot.initrd && !a.incoming) {
		fprintf(stderr, "hyvm run: %s: --initrd is for Linux bzImages, and this is not one "
			"(a Multiboot kernel takes --module)\n", a.guest);
		r = EXIT_USAGE;
		goto out;
	}
	if (a.incoming) {
		if ((r = run_incoming_load(&vm, &a, engine, &st)) != 0)
			goto out;
	} else if ((r = load_guest(&vm, &a, &engine, &img, &st)) != 0 ||
		   (r = check_needs(engine, &img)) != 0)
		goto out;
	vm.cpu_model = a.cpu;
	if (attach(&vm, engine, &st) < 0) {
		r = EXIT_USAGE;
		goto out;
	}
	if (a.gdb.enabled && !(gdb = gdb_stub_open(&vm, &a.gdb, err, sizeof(err)))) {
		fprintf(stderr, "hyvm run: %s\n", err);
		r = EXIT_USAGE;
		goto out;
	}
	if (!a.control || strcmp(a.control, "none")) {
		err[0] = '\0';
		/* --control PATH that fails is bad input; the default path
		 * is a convenience: without a place for it, no socket (before
		 * the statistics file, which a failure here would leave) */
		if (control_vm_open(&ctl, &vm, a.control, argc, argv, err, sizeof(err)) < 0 &&
		    a.control) {
			fprintf(stderr, "hyvm run: %s\n", err);
			r = EXIT_USAGE;
			goto out;
		}
	}
	if (!a.no_stats && stats_run_start(&vm.stats, a.guest ? a.guest : a.bios_file ? a.bios_file : BIOS_DEFAULT_FILE, a.stats, a.stats || a.stats_out,
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
	control_vm_close(&ctl, out.kind == VM_POWEROFF);
	console_tty_restore();
	if (r == 0)
		r = report(&vm, &out);
	gdb_stub_vm_ended(gdb, r);
	if (stats_run_finish(vm.stats, r, a.stats_out) < 0 && r == 0)
		r = 1;
out:
	control_vm_close(&ctl, false);	/* a failure after it opened leaves no socket */
	gdb_stub_close(gdb);
	vm_destroy(&vm);
	fw_cfg_registry_clear();
	console_tty_close(&con);
	net_backend_destroy(net);
	run_disks_close();
	return r;
}

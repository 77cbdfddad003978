/*
 * hyvm run's command line: the options (QEMU's and kvmtool's spellings
 * where they have one), their checks, and the devices they add. Every
 * refusal is one line on stderr and EXIT_USAGE.
 */
#ifndef HYVM_RUN_ARGS_H
#define HYVM_RUN_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include "boot/loader.h"
#include "net/net_backend.h"
#include "net/net_config.h"
#include "vmm/machine.h"
#include "gdb/gdb_config.h"

#define DEFAULT_MEM_MIB	128
#define MIN_MEM_MIB	2
/* Above 3.5 GiB the rest goes above 4 GiB (vmm/memory_map.h); 60 GiB
 * stays below the 64 GiB guest-physical space every engine can map. */
#define MAX_MEM_MIB	61440
/* --device instances beyond the pc machine's own (VM_MAX_DEVICES bounds
 * them all). */
#define MAX_EXTRA_DEVICES 16

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
	bool bios;		/* --bios: start at the reset vector of a BIOS */
	const char *bios_file;	/* its FILE; NULL: boot/bios_image.h's default */
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
	struct gdb_config gdb;	/* --gdb, --gdb-wait (gdb/gdb_config.h) */
	const char *control;	/* --control PATH|none; NULL: the default path */
	const char *incoming;	/* --incoming file:FILE: the checkpoint FILE */
};

/* 0, or EXIT_USAGE after one line on stderr; exits 0 for --help. */
int run_parse_args(int argc, char **argv, struct run_args *a);
/* The virtio-net card for --net's backend, appended to a->devices. */
int run_add_nic(struct run_args *a, const struct net_backend *be, char *err, size_t errlen);

#endif

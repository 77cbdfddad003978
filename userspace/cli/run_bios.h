/*
 * hyvm run --bios: the BIOS image in the memory map, fw_cfg and its items
 * as a device of the machine, and each boot's start at the reset vector
 * (boot/bios_image.h, firmware/fw_cfg_pc.h, devices/firmware/fw_cfg.c).
 */
#ifndef HYVM_RUN_BIOS_H
#define HYVM_RUN_BIOS_H

#include <stddef.h>
#include "boot/loader.h"
#include "boot/rom_image.h"
#include "cli/run_args.h"
#include "vmm/memory_map.h"

struct vm;

/* Before vm_init: the image into map (rom says where), the fw_cfg items
 * registered and the fw_cfg device appended to a->devices. 0, or -1 with
 * one line in err (bad BIOS file, a kernel or modules it cannot boot). */
int run_bios_prepare(struct run_args *a, struct memory_map *map, struct rom_image *rom,
		     char *err, size_t errlen);
/* At every boot: the legacy segment shadowed into RAM, the vCPU at the
 * reset state, the guest's needs (real mode). */
void run_bios_boot(struct vm *vm, const struct run_args *a, const struct rom_image *rom,
		   struct guest_image *img, struct hyvm_cpu_state *st);

#endif

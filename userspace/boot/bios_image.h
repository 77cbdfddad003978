/*
 * A PC BIOS at the reset vector: `hyvm run --bios [FILE]`. The image is
 * ROM ending at 4 GiB, where the CPU fetches its first instruction, and
 * its last 128 KiB are the legacy BIOS segment 0xe0000-0xfffff below
 * 1 MiB, as QEMU's pc machine maps "isa-bios".
 */
#ifndef HYVM_BIOS_IMAGE_H
#define HYVM_BIOS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <hyvm/cpu_state.h>
#include "boot/rom_image.h"
#include "vmm/memory_map.h"

/* Debian's SeaBIOS (package seabios), the one QEMU's pc machine loads. */
#define BIOS_DEFAULT_FILE	"/usr/share/seabios/bios.bin"
/* A flash part is a whole number of 64 KiB blocks, as QEMU requires of
 * -bios (hw/i386/x86.c: "qemu: could not load PC BIOS"). */
#define BIOS_BLOCK		0x10000ull

/* Reads FILE (NULL: BIOS_DEFAULT_FILE) and adds it to map as ROM ending at
 * 4 GiB. -1 with one line in err for a file that is missing, not a
 * regular file, empty, larger than the ROM window (MEMMAP_ROM_MAX) or not
 * a multiple of 64 KiB. */
int bios_image_load(const char *path, struct memory_map *map, struct rom_image *rom,
		    char *err, size_t errlen);

/* The legacy segment the BIOS runs from: the ROM's last 128 KiB (all of
 * a smaller one), ending at 1 MiB. */
uint64_t bios_legacy_size(const struct rom_image *rom);

/* Copies the legacy segment from the ROM's bytes in backing (the VM's
 * memfd) into RAM below 1 MiB. This is the state in which SeaBIOS's
 * make_bios_writable (src/fw/shadow.c) leaves it through the i440FX's
 * PAM registers: RAM holding the BIOS. hyvm's engines map memory once, so
 * the PAM registers cannot switch the segment between ROM and RAM; it is
 * RAM from the start (see devices/pci/pci_i440fx.c). At every boot. */
void bios_shadow_legacy(uint8_t *backing, const struct rom_image *rom);

/* The processor's state after RESET (Intel SDM Vol. 3A 9.1.1, Table 9-1;
 * AMD APM Vol. 2 14.1.3): real mode, CS selector 0xf000 with base
 * 0xffff0000, IP 0xfff0 (the first fetch at 0xfffffff0), CR0 0x60000010,
 * EDX the family/model/stepping signature (CPUID.1:EAX). */
void bios_reset_state(uint32_t cpu_signature, struct hyvm_cpu_state *st);

/* CPUID.1:EAX of the named CPU model as the VM will see it (0 if the
 * model cannot be built). */
uint32_t bios_cpu_signature(const char *cpu_model);

#endif

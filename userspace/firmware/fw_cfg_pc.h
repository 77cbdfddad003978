/*
 * The fw_cfg items of the pc machine, what QEMU's pc machine gives
 * SeaBIOS (hw/i386/fw_cfg.c, hw/nvram/fw_cfg.c): the RAM size, the CPU
 * counts, IRQ 0's override, etc/e820 from the memory map,
 * etc/sercon-port (COM1, so SeaBIOS and the boot loader print on the
 * serial port without VGA), etc/boot-fail-wait, and the ACPI tables of
 * userspace/firmware/ through QEMU's table loader (fw_acpi_loader.h).
 */
#ifndef HYVM_FW_CFG_PC_H
#define HYVM_FW_CFG_PC_H

#include <stdbool.h>
#include <stddef.h>
#include "devices/firmware/fw_cfg_store.h"
#include "vmm/memory_map.h"

#define FW_CFG_SERCON_PORT	0x3f8	/* COM1 (devices/isa/uart16550.c) */
#define FW_CFG_BOOT_FAIL_WAIT	5	/* seconds before SeaBIOS retries a failed boot */

struct fw_cfg_pc_config {
	const char *cpu_model;	/* NULL: the default */
	bool acpi;		/* false: no ACPI tables (--no-acpi) */
	/* A Linux bzImage the BIOS boots (fw_cfg_linux.h); NULL: none */
	const char *kernel, *initrd, *cmdline;
};

/* A finished store (fw_cfg_store_finish) for the machine on map, or NULL
 * with one line in err. */
struct fw_cfg_store *fw_cfg_pc_build(const struct memory_map *map,
				     const struct fw_cfg_pc_config *cfg, char *err, size_t errlen);

/* etc/e820 as QEMU writes it: {u64 address, u64 length, u32 type} packed,
 * little-endian, one E820_USABLE entry per run of RAM (the legacy area
 * included: SeaBIOS carves out what it reserves). The byte count, at
 * most max entries. */
size_t fw_cfg_pc_e820(const struct memory_map *map, uint8_t *out, unsigned max);
#define FW_CFG_E820_ENTRY	20

#endif

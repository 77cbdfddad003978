/*
 * The ACPI tables of acpi_tables.c handed to a BIOS through QEMU's table
 * loader (QEMU hw/acpi/bios-linker-loader.c; SeaBIOS src/fw/
 * romfile_loader.c): fw_cfg files etc/acpi/tables (FACS, DSDT, FADT, MADT,
 * RSDT, XSDT), etc/acpi/rsdp, and etc/table-loader, the commands that
 * allocate them (the RSDP in the F segment, where ACPI 6.4 5.2.5.1 wants
 * it), add the allocated addresses to every pointer field and recompute
 * each checksum. So a kernel booted by the BIOS finds the same MADT, FADT
 * and DSDT as one hyvm boots directly.
 */
#ifndef HYVM_FW_ACPI_LOADER_H
#define HYVM_FW_ACPI_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "devices/firmware/fw_cfg_store.h"
#include "vmm/memory_map.h"

/* The loader's commands (128 bytes each, little-endian). */
#define FW_LOADER_ALLOCATE	1
#define FW_LOADER_ADD_POINTER	2
#define FW_LOADER_ADD_CHECKSUM	3
#define FW_LOADER_ZONE_HIGH	1
#define FW_LOADER_ZONE_FSEG	2
#define FW_LOADER_ENTRY_SIZE	128
#define FW_LOADER_FILE_MAX	56

/* Adds the three files for the pc machine with the named CPU model
 * (NULL: the default). 0, or -1 with one line in err. */
int fw_acpi_loader_add(struct fw_cfg_store *s, const struct memory_map *map,
		       const char *cpu_model, char *err, size_t errlen);

#endif

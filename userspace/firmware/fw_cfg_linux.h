/*
 * A Linux kernel booted through the BIOS, as QEMU's -kernel on a machine
 * with SeaBIOS (hw/i386/x86.c x86_load_linux): the bzImage split into its
 * real-mode setup (FW_CFG_SETUP_*, the setup header patched as a boot
 * loader does: type_of_loader, CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr,
 * ramdisk_image/size) and its protected-mode kernel (FW_CFG_KERNEL_*),
 * the command line (FW_CFG_CMDLINE_*) and initrd (FW_CFG_INITRD_*), and
 * QEMU's option ROM genroms/linuxboot_dma.bin, which SeaBIOS runs and
 * which copies them into place over fw_cfg DMA and enters the setup code.
 */
#ifndef HYVM_FW_CFG_LINUX_H
#define HYVM_FW_CFG_LINUX_H

#include <stddef.h>
#include "devices/firmware/fw_cfg_store.h"
#include "vmm/memory_map.h"

/* Where QEMU's loader puts them for boot protocol 2.02+. */
#define FW_LINUX_REAL_ADDR	0x10000u
#define FW_LINUX_CMDLINE_ADDR	0x20000u
#define FW_LINUX_PROT_ADDR	0x100000u
/* Debian's qemu-system-data ships it; the first that exists is taken. */
#define FW_LINUXBOOT_ROM_PATHS	{ "/usr/share/qemu/linuxboot_dma.bin", \
				  "/usr/lib/ipxe/qemu/linuxboot_dma.bin", NULL }

/* Adds the items for kernel (a bzImage), initrd (NULL: none) and cmdline
 * (NULL: empty). 0, or -1 with one line in err (not a bzImage, protocol
 * older than 2.02 or not LOADED_HIGH, the initrd too big, the option ROM
 * not found). */
int fw_cfg_linux_add(struct fw_cfg_store *s, const struct memory_map *map, const char *kernel,
		     const char *initrd, const char *cmdline, char *err, size_t errlen);

#endif

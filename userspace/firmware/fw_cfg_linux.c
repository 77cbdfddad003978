/*
 * A Linux kernel for the BIOS to boot through fw_cfg (fw_cfg_linux.h).
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst) says what
 * a boot loader writes into the setup header; the addresses are QEMU's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "boot/linux_boot.h"
#include "boot/loader.h"
#include "firmware/fw_cfg_linux.h"
#include <hyvm/le.h>

#define TYPE_OF_LOADER_UNDEFINED	0xff	/* boot.rst: "0xff: undefined" */
#define CAN_USE_HEAP		0x80
/* The BIOS's own tables (SeaBIOS's high zone, the ACPI tables) take the
 * top of low RAM: the initrd stays 1 MiB below it. */
#define INITRD_TOP_GAP		0x100000u

static int add_rom(struct fw_cfg_store *s, char *err, size_t errlen)
{
	static const char *const paths[] = FW_LINUXBOOT_ROM_PATHS;
	uint8_t *rom;
	size_t len;
	int r;

	for (unsigned i = 0; paths[i]; i++) {
		if (loader_read_file(paths[i], paths[i], 1 << 20, NULL, NULL, &rom, &len, err, errlen) < 0)
			continue;
		r = fw_cfg_store_add_file(s, "genroms/linuxboot_dma.bin", rom, len, err, errlen);
		free(rom);
		return r < 0 ? -1 : 0;
	}
	snprintf(err, errlen, "--bios --kernel needs QEMU's option ROM linuxboot_dma.bin "
		 "(%s; apt-get install qemu-system-data)", paths[0]);
	return -1;
}

#define SET(key, v) fw_cfg_store_set_le(s, key, v, 4, err, errlen)

int fw_cfg_linux_add(struct fw_cfg_store *s, const struct memory_map *map, const char *kernel,
		     const char *initrd, const char *cmdline, char *err, size_t errlen)
{
	uint8_t *k = NULL, *rd = NULL;
	size_t klen, rdlen = 0;
	int r = -1;

	if (!cmdline)
		cmdline = "";
	if (loader_read_file(kernel, kernel, LOADER_MAX_FILE_BYTES, NULL, NULL, &k, &klen, err, errlen) < 0)
		return -1;
	if (klen < 0x400 || le_get(k + 0x202, 4) != 0x53726448 /* "HdrS" */) {
		snprintf(err, errlen, "%s: --bios boots a Linux bzImage; this is not one", kernel);
		goto out;
	}
	uint32_t version = le_get(k + 0x206, 2);
	if (version < 0x202 || !(k[0x211] & LINUX_LOADED_HIGH)) {
		snprintf(err, errlen, "%s: Linux boot protocol %u.%02u%s; --bios --kernel needs a "
			 "bzImage of protocol 2.02 or later", kernel, version >> 8, version & 0xff,
			 k[0x211] & LINUX_LOADED_HIGH ? "" : " and not loaded high");
		goto out;
	}
	size_t setup = ((size_t)(k[0x1f1] ? k[0x1f1] : 4) + 1) * 512;
	if (setup >= klen) {
		snprintf(err, errlen, "%s: the setup code (%zu bytes) is the whole file", kernel, setup);
		goto out;
	}
	size_t cmdline_len = strlen(cmdline) + 1;
	uint32_t cmdline_max = version >= 0x206 ? le_get(k + 0x238, 4) + 1 : 256;
	if (cmdline_len > cmdline_max || cmdline_len > FW_LINUX_PROT_ADDR - FW_LINUX_CMDLINE_ADDR) {
		snprintf(err, errlen, "%s: the command line has %zu bytes, more than the kernel's %u",
			 kernel, cmdline_len - 1, cmdline_max - 1);
		goto out;
	}
	k[0x210] = TYPE_OF_LOADER_UNDEFINED;
	k[0x211] |= CAN_USE_HEAP;
	le_put(k + 0x224, FW_LINUX_CMDLINE_ADDR - FW_LINUX_REAL_ADDR - 0x200, 2);
	le_put(k + 0x228, FW_LINUX_CMDLINE_ADDR, 4);
	if (initrd) {
		if (loader_read_file(initrd, initrd, LOADER_MAX_FILE_BYTES, NULL, NULL, &rd, &rdlen, err,
				     errlen) < 0)
			goto out;
		uint64_t max = version >= 0x203 ? le_get(k + 0x22c, 4) : 0x37ffffff;
		if (max > map->ram_below_4g - INITRD_TOP_GAP - 1)
			max = map->ram_below_4g - INITRD_TOP_GAP - 1;
		uint64_t kernel_end = FW_LINUX_PROT_ADDR + (klen - setup);
		if (rdlen > max + 1 || ((max + 1 - rdlen) & ~0xfffull) < kernel_end) {
			snprintf(err, errlen, "%s: %zu bytes do not fit below %#llx beside the kernel "
				 "(more --mem?)", initrd, rdlen, (unsigned long long)max + 1);
			goto out;
		}
		uint32_t addr = (uint32_t)((max + 1 - rdlen) & ~0xfffull);
		le_put(k + 0x218, addr, 4);
		le_put(k + 0x21c, rdlen, 4);
		if (SET(FW_CFG_INITRD_ADDR, addr) < 0 || SET(FW_CFG_INITRD_SIZE, rdlen) < 0 ||
		    fw_cfg_store_set(s, FW_CFG_INITRD_DATA, rd, rdlen, err, errlen) < 0)
			goto out;
	}
	if (SET(FW_CFG_SETUP_ADDR, FW_LINUX_REAL_ADDR) < 0 || SET(FW_CFG_SETUP_SIZE, setup) < 0 ||
	    fw_cfg_store_set(s, FW_CFG_SETUP_DATA, k, setup, err, errlen) < 0 ||
	    SET(FW_CFG_KERNEL_ADDR, FW_LINUX_PROT_ADDR) < 0 || SET(FW_CFG_KERNEL_SIZE, klen - setup) < 0 ||
	    fw_cfg_store_set(s, FW_CFG_KERNEL_DATA, k + setup, klen - setup, err, errlen) < 0 ||
	    SET(FW_CFG_CMDLINE_ADDR, FW_LINUX_CMDLINE_ADDR) < 0 || SET(FW_CFG_CMDLINE_SIZE, cmdline_len) < 0 ||
	    fw_cfg_store_set(s, FW_CFG_CMDLINE_DATA, cmdline, cmdline_len, err, errlen) < 0 ||
	    add_rom(s, err, errlen) < 0)
		goto out;
	r = 0;
out:
	free(k);
	free(rd);
	return r;
}

/* Multiboot v1 (the 0.6.96 specification): header and boot-information
 * layouts exactly as the guest sees them. */
#ifndef HYVM_MULTIBOOT_H
#define HYVM_MULTIBOOT_H

#include <stdint.h>

#define MB_HEADER_MAGIC		0x1BADB002u
#define MB_BOOT_MAGIC		0x2BADB002u	/* in EAX at entry */
#define MB_SEARCH_BYTES		8192		/* header lies in the first 8 KiB */

/* header flags: bits 0-15 are requirements a loader must honour or refuse */
#define MB_FLAG_PAGE_ALIGN	(1u << 0)	/* modules on 4 KiB boundaries */
#define MB_FLAG_MEMORY_INFO	(1u << 1)	/* mem_* and mmap_* wanted */
#define MB_FLAG_VIDEO_MODE	(1u << 2)
#define MB_FLAG_AOUT_KLUDGE	(1u << 16)	/* load by the address fields */
#define MB_FLAGS_KNOWN_REQUIRED	(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* boot information flags */
#define MBI_MEMORY		(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

/* size does not count itself: the next entry is at +size+4 */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

#define MB_MEMORY_AVAILABLE	1
#define MB_MEMORY_RESERVED	2

#endif

/*
 * The Linux/x86 boot protocol (the kernel's Documentation/arch/x86/boot.rst
 * and arch/x86/include/uapi/asm/bootparam.h): the setup header a bzImage
 * carries at file offset 0x1f1, and the "zero page" (struct boot_params)
 * the boot loader hands the kernel, with the offsets the kernel defines.
 * Field names are the kernel's, so boot.rst can be read alongside.
 */
#ifndef HYVM_LINUX_BOOT_H
#define HYVM_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define LINUX_SETUP_HDR_OFFSET	0x1f1	/* in the file and in the zero page */
#define LINUX_BOOT_FLAG		0xaa55
#define LINUX_HDRS_MAGIC	0x53726448u	/* "HdrS" */
#define LINUX_MIN_PROTOCOL	0x0206	/* cmdline_size appears in 2.06 */
#define LINUX_DEFAULT_SETUP_SECTS 4	/* setup_sects 0 means 4 */
#define LINUX_SECTOR		512

/* loadflags */
#define LINUX_LOADED_HIGH	(1u << 0)	/* protected-mode code at 1 MiB (bzImage) */
#define LINUX_KASLR_FLAG	(1u << 1)
#define LINUX_QUIET_FLAG	(1u << 5)
#define LINUX_KEEP_SEGMENTS	(1u << 6)
#define LINUX_CAN_USE_HEAP	(1u << 7)

/* xloadflags (protocol 2.12) */
#define LINUX_XLF_KERNEL_64		(1u << 0)	/* a 64-bit kernel: 64-bit entry at +0x200 */
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)
#define LINUX_XLF_EFI_HANDOVER_32	(1u << 2)
#define LINUX_XLF_EFI_HANDOVER_64	(1u << 3)
#define LINUX_XLF_EFI_KEXEC		(1u << 4)

#define LINUX_TYPE_OF_LOADER_UNDEF 0xff	/* a boot loader without an assigned ID */
#define LINUX_VID_MODE_NORMAL	0xffff
#define LINUX_E820_MAX_ZEROPAGE	128
#define LINUX_ZERO_PAGE_SIZE	4096

/* The 32-bit and 64-bit boot protocols' selectors (boot.rst, "32-bit
 * BOOT PROTOCOL", "64-bit BOOT PROTOCOL") */
#define LINUX_BOOT_CS		0x10
#define LINUX_BOOT_DS		0x18
/* boot.rst, "64-bit BOOT PROTOCOL": the 64-bit entry (startup_64) is "the
 * start address of loaded 64-bit kernel plus 0x200". */
#define LINUX_STARTUP_64_OFFSET	0x200

struct linux_setup_header {
	uint8_t setup_sects;		/* 0x1f1 */
	uint16_t root_flags;		/* 0x1f2 */
	uint32_t syssize;		/* 0x1f4: protected-mode code, 16-byte units */
	uint16_t ram_size;		/* 0x1f8 */
	uint16_t vid_mode;		/* 0x1fa */
	uint16_t root_dev;		/* 0x1fc */
	uint16_t boot_flag;		/* 0x1fe: 0xAA55 */
	uint16_t jump;			/* 0x200: jmp rel8; 0x202 + its byte ends the header */
	uint32_t header;		/* 0x202: "HdrS" */
	uint16_t version;		/* 0x206: protocol, major.minor in bytes */
	uint32_t realmode_swtch;	/* 0x208 */
	uint16_t start_sys_seg;		/* 0x20c */
	uint16_t kernel_version;	/* 0x20e */
	uint8_t type_of_loader;		/* 0x210 */
	uint8_t loadflags;		/* 0x211 */
	uint16_t setup_move_size;	/* 0x212 */
	uint32_t code32_start;		/* 0x214 */
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;	/* 0x220 */
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t ext_loader_ver;		/* 0x226 */
	uint8_t ext_loader_type;	/* 0x227 */
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c: highest address the initrd may touch */
	uint32_t kernel_alignment;	/* 0x230 */
	uint8_t relocatable_kernel;	/* 0x234 */
	uint8_t min_alignment;		/* 0x235 */
	uint16_t xloadflags;		/* 0x236 */
	uint32_t cmdline_size;		/* 0x238: longest command line, without the NUL */
	uint32_t hardware_subarch;	/* 0x23c */
	uint64_t hardware_subarch_data;	/* 0x240 */
	uint32_t payload_offset;	/* 0x248 */
	uint32_t payload_length;	/* 0x24c */
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 */
	uint32_t init_size;		/* 0x260: linear memory the kernel needs from its load address */
	uint32_t handover_offset;	/* 0x264 */
	uint32_t kernel_info_offset;	/* 0x268 */
} __attribute__((packed));

struct linux_e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

/* struct boot_params: only the fields a boot loader fills are named. */
struct linux_boot_params {
	uint8_t screen_info[0x40];	/* 0x000 */
	uint8_t apm_bios_info[0x14];	/* 0x040 */
	uint8_t pad1[4];		/* 0x054 */
	uint64_t tboot_addr;		/* 0x058 */
	uint8_t ist_info[0x10];		/* 0x060 */
	uint64_t acpi_rsdp_addr;	/* 0x070 */
	uint8_t pad2[8];		/* 0x078 */
	uint8_t hd0_info[16];		/* 0x080 */
	uint8_t hd1_info[16];		/* 0x090 */
	uint8_t sys_desc_table[0x10];	/* 0x0a0 */
	uint8_t olpc_ofw_header[0x10];	/* 0x0b0 */
	uint32_t ext_ramdisk_image;	/* 0x0c0 */
	uint32_t ext_ramdisk_size;	/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;	/* 0x0c8 */
	uint8_t pad3[0x74];		/* 0x0cc */
	uint8_t edid_info[0x80];	/* 0x140 */
	uint8_t efi_info[0x20];		/* 0x1c0 */
	uint32_t alt_mem_k;		/* 0x1e0 */
	uint32_t scratch;		/* 0x1e4 */
	uint8_t e820_entries;		/* 0x1e8 */
	uint8_t eddbuf_entries;		/* 0x1e9 */
	uint8_t edd_mbr_sig_buf_entries;/* 0x1ea */
	uint8_t kbd_status;		/* 0x1eb */
	uint8_t secure_boot;		/* 0x1ec */
	uint8_t pad5[2];		/* 0x1ed */
	uint8_t sentinel;		/* 0x1ef */
	uint8_t pad6[1];		/* 0x1f0 */
	struct linux_setup_header hdr;	/* 0x1f1 */
	uint8_t pad7[0x290 - 0x1f1 - sizeof(struct linux_setup_header)];
	uint32_t edd_mbr_sig_buffer[16];/* 0x290 */
	struct linux_e820_entry e820_table[LINUX_E820_MAX_ZEROPAGE];	/* 0x2d0 */
	uint8_t pad8[48];		/* 0xcd0 */
	uint8_t eddbuf[0x1ec];		/* 0xd00 */
	uint8_t pad9[276];		/* 0xeec */
} __attribute__((packed));

_Static_assert(offsetof(struct linux_boot_params, hdr) == 0x1f1, "setup header at 0x1f1");
_Static_assert(offsetof(struct linux_boot_params, hdr.boot_flag) == 0x1fe, "boot_flag");
_Static_assert(offsetof(struct linux_boot_params, hdr.header) == 0x202, "HdrS");
_Static_assert(offsetof(struct linux_boot_params, hdr.code32_start) == 0x214, "code32_start");
_Static_assert(offsetof(struct linux_boot_params, hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(offsetof(struct linux_boot_params, hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(offsetof(struct linux_boot_params, hdr.pref_address) == 0x258, "pref_address");
_Static_assert(offsetof(struct linux_boot_params, hdr.init_size) == 0x260, "init_size");
_Static_assert(offsetof(struct linux_boot_params, hdr.kernel_info_offset) == 0x268, "kernel_info");
_Static_assert(offsetof(struct linux_boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct linux_boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(offsetof(struct linux_boot_params, eddbuf) == 0xd00, "eddbuf");
_Static_assert(sizeof(struct linux_boot_params) == LINUX_ZERO_PAGE_SIZE, "zero page is 4 KiB");

#endif

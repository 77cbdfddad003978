/*
 * QEMU's firmware configuration device as a guest sees it (QEMU
 * docs/specs/fw_cfg.rst, "QEMU Firmware Configuration (fw_cfg) Device"):
 * the x86 ports, the item keys SeaBIOS and the Linux boot option ROM read,
 * and the DMA interface's descriptor and control bits.
 */
#ifndef HYVM_FW_CFG_SPEC_H
#define HYVM_FW_CFG_SPEC_H

#include <stdint.h>

/* x86 ports: the 16-bit selector, the 8-bit data port, and the DMA
 * address register, 64 bits big-endian (high half at 0x514, low half at
 * 0x518; writing the low half starts the transfer). */
#define FW_CFG_PORT_SEL		0x510
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORT_DMA		0x514
#define FW_CFG_PORT_DMA_LEN	8
/* What a read of the DMA register gives: "QEMU CFG" big-endian. */
#define FW_CFG_DMA_SIGNATURE	0x51454d5520434647ull

/* Selector keys ("Selector Register" and the item list). */
#define FW_CFG_SIGNATURE	0x00	/* "QEMU" */
#define FW_CFG_ID		0x01	/* u32 LE feature bits, below */
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03	/* u64 LE */
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05	/* u16 LE */
#define FW_CFG_MACHINE_ID	0x06
#define FW_CFG_KERNEL_ADDR	0x07
#define FW_CFG_KERNEL_SIZE	0x08
#define FW_CFG_KERNEL_CMDLINE	0x09
#define FW_CFG_INITRD_ADDR	0x0a
#define FW_CFG_INITRD_SIZE	0x0b
#define FW_CFG_BOOT_DEVICE	0x0c
#define FW_CFG_NUMA		0x0d
#define FW_CFG_BOOT_MENU	0x0e
#define FW_CFG_MAX_CPUS		0x0f	/* u16 LE */
#define FW_CFG_KERNEL_ENTRY	0x10
#define FW_CFG_KERNEL_DATA	0x11
#define FW_CFG_INITRD_DATA	0x12
#define FW_CFG_CMDLINE_ADDR	0x13
#define FW_CFG_CMDLINE_SIZE	0x14
#define FW_CFG_CMDLINE_DATA	0x15
#define FW_CFG_SETUP_ADDR	0x16
#define FW_CFG_SETUP_SIZE	0x17
#define FW_CFG_SETUP_DATA	0x18
#define FW_CFG_FILE_DIR		0x19	/* be32 count, then struct fw_cfg_file each */
#define FW_CFG_FILE_FIRST	0x20	/* the first key of a named file */
#define FW_CFG_WRITE_CHANNEL	0x4000	/* selector bit: obsolete, ignored */
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_IRQ0_OVERRIDE	(FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_KEY_COUNT	0x10000

#define FW_CFG_ID_TRADITIONAL	0x1	/* the selector/data ports */
#define FW_CFG_ID_DMA		0x2	/* the DMA interface */

/* A directory entry, every field big-endian ("File Directory"). */
#define FW_CFG_NAME_MAX		56
struct fw_cfg_file {
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[FW_CFG_NAME_MAX];
};

/* The DMA descriptor the register points at, big-endian, 16 bytes. */
struct fw_cfg_dma_access {
	uint32_t control;
	uint32_t length;
	uint64_t address;
};

#define FW_CFG_DMA_CTL_ERROR	0x01
#define FW_CFG_DMA_CTL_READ	0x02
#define FW_CFG_DMA_CTL_SKIP	0x04
#define FW_CFG_DMA_CTL_SELECT	0x08	/* the selector in control's upper 16 bits */
#define FW_CFG_DMA_CTL_WRITE	0x10

#endif

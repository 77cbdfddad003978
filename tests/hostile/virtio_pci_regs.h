/*
 * The virtio 1.x PCI transport as the hostile virtio guests drive it
 * (virtio_blk_rings.c, virtio_net_rings.c): the common configuration at
 * BAR 4 + 0 (virtio 1.1, 4.1.4.3; hyvm lays the structures out a page
 * each, as QEMU: common 0, notify 0x3000, multiplier 4), the device
 * status bits (2.1) and the descriptor flags (2.6.5); configuration
 * mechanism #1 on the device's slot (dev_slot, bus 0, function 0). The
 * including file defines BAR_AT, where it placed BAR 4, CONFIG_ADDRESS
 * and CONFIG_DATA.
 */
#ifndef HYVM_HOSTILE_VIRTIO_PCI_REGS_H
#define HYVM_HOSTILE_VIRTIO_PCI_REGS_H

#define COMMON(off) (BAR_AT + (off))
#define DFSELECT 0x00
#define DF 0x04
#define GFSELECT 0x08
#define GF 0x0c
#define STATUS 0x14
#define Q_SELECT 0x16
#define Q_SIZE 0x18
#define Q_ENABLE 0x1c
#define Q_NOFF 0x1e
#define Q_DESC 0x20
#define Q_AVAIL 0x28
#define Q_USED 0x30
#define NOTIFY (BAR_AT + 0x3000)
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define F_NEXT 1
#define F_WRITE 2

static unsigned dev_slot;

static inline uint32_t cfg_read(unsigned reg)
{
	outl(CONFIG_ADDRESS, 0x80000000u | dev_slot << 11 | reg);
	return inl(CONFIG_DATA);
}

static inline void cfg_write(unsigned reg, uint32_t v)
{
	outl(CONFIG_ADDRESS, 0x80000000u | dev_slot << 11 | reg);
	outl(CONFIG_DATA, v);
}

static inline volatile uint8_t *c8(unsigned off) { return (volatile uint8_t *)COMMON(off); }
static inline volatile uint16_t *c16(unsigned off) { return (volatile uint16_t *)COMMON(off); }
static inline volatile uint32_t *c32(unsigned off) { return (volatile uint32_t *)COMMON(off); }

#endif

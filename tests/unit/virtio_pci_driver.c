/* The miniature virtio-pci driver of virtio_pci_driver.h. */
#include <string.h>
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_dev.h"
#include "virtio_pci_driver.h"

#define CFG_ADDR(slot, off) (0x80000000u | (slot) << 11 | ((off) & 0xfc))

uint32_t vdrv_cfg_read(struct fake_env *f, unsigned slot, unsigned off, unsigned len)
{
	uint8_t a[4], d[4] = { 0 };
	uint32_t addr = CFG_ADDR(slot, off);

	memcpy(a, &addr, 4);
	bus_access(&f->pio, PCI_CONFIG_ADDRESS_PORT, a, 4, true);
	bus_access(&f->pio, PCI_CONFIG_DATA_PORT + (off & 3), d, len, false);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

void vdrv_cfg_write(struct fake_env *f, unsigned slot, unsigned off, unsigned len, uint32_t v)
{
	uint8_t a[4], d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	uint32_t addr = CFG_ADDR(slot, off);

	memcpy(a, &addr, 4);
	bus_access(&f->pio, PCI_CONFIG_ADDRESS_PORT, a, 4, true);
	bus_access(&f->pio, PCI_CONFIG_DATA_PORT + (off & 3), d, len, true);
}

int vdrv_find(struct vdrv *d, struct fake_env *f, uint16_t device_id)
{
	memset(d, 0, sizeof(*d));
	d->f = f;
	/* the host bridge's ports (pci_i440fx.c), when the machine has none */
	if (!bus_find(&f->pio, PCI_CONFIG_ADDRESS_PORT) &&
	    (bus_register(&f->pio, PCI_CONFIG_ADDRESS_PORT, 4, pci_config_address_io, f->pci,
			  "vdrv-cf8") < 0 ||
	     bus_register(&f->pio, PCI_CONFIG_DATA_PORT, 4, pci_config_data_io, f->pci,
			  "vdrv-cfc") < 0))
		return -1;
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		if (vdrv_cfg_read(f, s, 0, 4) == (0x1af4u | (uint32_t)device_id << 16)) {
			d->slot = s;
			return 0;
		}
	return -1;
}

void vdrv_map_bar(struct vdrv *d, uint64_t addr)
{
	unsigned lo = PCI_BAR0 + 4 * 4, hi = lo + 4;

	/* 6.2.5.1: all-ones, read back the mask; a 64-bit BAR's upper half too */
	vdrv_cfg_write(d->f, d->slot, lo, 4, 0xffffffff);
	vdrv_cfg_write(d->f, d->slot, hi, 4, 0xffffffff);
	uint64_t mask = (uint64_t)vdrv_cfg_read(d->f, d->slot, hi, 4) << 32 |
			(vdrv_cfg_read(d->f, d->slot, lo, 4) & ~0xfu);
	d->bar_size = ~mask + 1;
	vdrv_cfg_write(d->f, d->slot, lo, 4, (uint32_t)addr);
	vdrv_cfg_write(d->f, d->slot, hi, 4, (uint32_t)(addr >> 32));
	uint16_t cmd = (uint16_t)vdrv_cfg_read(d->f, d->slot, PCI_COMMAND, 2);
	vdrv_cfg_write(d->f, d->slot, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	d->bar = addr;
}

unsigned vdrv_read_caps(struct vdrv *d)
{
	unsigned found = 0, guard = 0;

	if (!(vdrv_cfg_read(d->f, d->slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	for (unsigned at = vdrv_cfg_read(d->f, d->slot, PCI_CAPABILITY_LIST, 1) & 0xfc;
	     at && guard < 48; at = vdrv_cfg_read(d->f, d->slot, at + 1, 1) & 0xfc, guard++) {
		if (vdrv_cfg_read(d->f, d->slot, at, 1) != PCI_CAP_ID_VNDR)
			continue;
		unsigned type = vdrv_cfg_read(d->f, d->slot, at + 3, 1);
		if (type < 1 || type > 4 || d->cap[type].found)
			continue;	/* 4.1.4: the first of each type is the one */
		d->cap[type] = (struct vdrv_cap){
			true, (uint8_t)vdrv_cfg_read(d->f, d->slot, at + 4, 1),
			vdrv_cfg_read(d->f, d->slot, at + 8, 4), vdrv_cfg_read(d->f, d->slot, at + 12, 4),
		};
		if (type == 2)
			d->notify_mult = vdrv_cfg_read(d->f, d->slot, at + 16, 4);
		found++;
	}
	return found;
}

uint64_t vdrv_read(struct vdrv *d, unsigned type, uint32_t off, unsigned len)
{
	return mmio_read(d->f, d->bar + d->cap[type].offset + off, len);
}

void vdrv_write(struct vdrv *d, unsigned type, uint32_t off, unsigned len, uint64_t v)
{
	mmio_write(d->f, d->bar + d->cap[type].offset + off, v, len);
}

static void common_w(struct vdrv *d, uint32_t off, unsigned len, uint64_t v)
{
	vdrv_write(d, 1, off, len, v);
}

uint8_t vdrv_negotiate(struct vdrv *d, uint64_t features)
{
	common_w(d, VIRTIO_COMMON_STATUS, 1, 0);
	common_w(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	common_w(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		common_w(d, VIRTIO_COMMON_GFSELECT, 4, sel);
		common_w(d, VIRTIO_COMMON_GF, 4, (uint32_t)(features >> (32 * sel)));
	}
	common_w(d, VIRTIO_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		 VIRTIO_CONFIG_S_FEATURES_OK);
	return (uint8_t)vdrv_read(d, 1, VIRTIO_COMMON_STATUS, 1);
}

void vdrv_setup_queue(struct vdrv *d, uint16_t size, uint64_t desc)
{
	d->qsize = size;
	d->desc = desc;
	d->avail = desc + 0x1000;
	d->used = desc + 0x2000;
	d->next_desc = d->avail_idx = d->used_seen = 0;
	uint8_t *p = fake_guest_ram_host(&d->f->ram, desc);
	if (p)
		memset(p, 0, 0x3000);
	common_w(d, VIRTIO_COMMON_Q_SELECT, 2, 0);
	common_w(d, VIRTIO_COMMON_Q_SIZE, 2, size);
	common_w(d, VIRTIO_COMMON_Q_DESCLO, 4, (uint32_t)d->desc);
	common_w(d, VIRTIO_COMMON_Q_DESCHI, 4, (uint32_t)(d->desc >> 32));
	common_w(d, VIRTIO_COMMON_Q_AVAILLO, 4, (uint32_t)d->avail);
	common_w(d, VIRTIO_COMMON_Q_AVAILHI, 4, (uint32_t)(d->avail >> 32));
	common_w(d, VIRTIO_COMMON_Q_USEDLO, 4, (uint32_t)d->used);
	common_w(d, VIRTIO_COMMON_Q_USEDHI, 4, (uint32_t)(d->used >> 32));
	common_w(d, VIRTIO_COMMON_Q_ENABLE, 2, 1);
}

void vdrv_driver_ok(struct vdrv *d)
{
	uint8_t st = (uint8_t)vdrv_read(d, 1, VIRTIO_COMMON_STATUS, 1);
	common_w(d, VIRTIO_COMMON_STATUS, 1, st | VIRTIO_CONFIG_S_DRIVER_OK);
}

uint16_t vdrv_post(struct vdrv *d, const uint64_t *gpa, const uint32_t *len,
		   const bool *writable, unsigned n)
{
	uint16_t head = d->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % d->qsize);
		struct { uint64_t addr; uint32_t len; uint16_t flags, next; } desc = {
			gpa[i], len[i],
			(uint16_t)((writable[i] ? VIRTQ_DESC_F_WRITE : 0) |
				   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			(uint16_t)((at + 1) % d->qsize),
		};
		memcpy(fake_guest_ram_host(&d->f->ram, d->desc + 16ull * at), &desc, 16);
	}
	d->next_desc = (uint16_t)((head + n) % d->qsize);
	uint8_t *avail = fake_guest_ram_host(&d->f->ram, d->avail);
	uint16_t slot = (uint16_t)(d->avail_idx % d->qsize);
	memcpy(avail + 4 + 2 * slot, &head, 2);
	d->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE);	/* 2.7.13: entry before idx */
	memcpy(avail + 2, &d->avail_idx, 2);
	return head;
}

void vdrv_kick(struct vdrv *d, unsigned q)
{
	vdrv_write(d, 2, q * d->notify_mult, 2, q);
}

uint16_t vdrv_used_idx(struct vdrv *d)
{
	uint16_t idx;

	memcpy(&idx, fake_guest_ram_host(&d->f->ram, d->used + 2), 2);
	return idx;
}

void vdrv_used_elem(struct vdrv *d, uint16_t i, uint32_t *id, uint32_t *len)
{
	const uint8_t *e = fake_guest_ram_host(&d->f->ram, d->used + 4 + 8ull * (i % d->qsize));

	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
}

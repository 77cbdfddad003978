/*
 * fw_cfg's DMA interface (QEMU docs/specs/fw_cfg.rst, "DMA interface"):
 * the guest writes the address of a 16-byte big-endian descriptor
 * {control, length, address} to the DMA register; the device selects,
 * reads, skips or (refused here) writes, and stores 0 or CTL_ERROR back in
 * control. Every guest-physical range goes through vmm/dma_mem.h: a
 * descriptor or a buffer outside RAM, in ROM or wrapping fails the
 * transfer with CTL_ERROR (counted) and moves no byte; a descriptor that
 * cannot be read or written back is counted and dropped, since there is
 * nowhere to report it.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <string.h>
#include "devices/firmware/fw_cfg.h"

/* A read past the item's end yields zeros, as QEMU's fw_cfg_dma_transfer. */
static int dma_read_item(struct fw_cfg *c, uint64_t addr, uint32_t len)
{
	const struct fw_cfg_item *it = &c->store->item[c->key];
	uint32_t have = c->offset < it->len ? it->len - c->offset : 0;
	uint32_t n = have < len ? have : len;
	uint8_t *dst;

	/* the whole destination is checked first: all or nothing */
	if (!(dst = dma_ptr(&c->env->mem, addr, len, true)))
		return -1;
	if (n)
		memcpy(dst, it->data + c->offset, n);
	memset(dst + n, 0, len - n);
	dma_written(&c->env->mem, addr, len);
	c->offset += n;
	return 0;
}

static void dma_skip(struct fw_cfg *c, uint32_t len)
{
	const struct fw_cfg_item *it = &c->store->item[c->key];
	uint32_t have = c->offset < it->len ? it->len - c->offset : 0;

	c->offset += have < len ? have : len;
}

void fw_cfg_dma_transfer(struct fw_cfg *c, uint64_t addr)
{
	struct fw_cfg_dma_access d;
	uint32_t control, len, result = 0;
	uint64_t buf;

	if (dma_read(&c->env->mem, addr, &d, sizeof(d)) < 0) {
		c->dma_lost++;
		return;
	}
	control = ntohl(d.control);
	len = ntohl(d.length);
	buf = be64toh(d.address);
	if (control & FW_CFG_DMA_CTL_SELECT)
		fw_cfg_select(c, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ) {
		if (len && dma_read_item(c, buf, len) < 0)
			result = FW_CFG_DMA_CTL_ERROR;
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		/* no item is writable: QEMU refuses writes to read-only items */
		result = len ? FW_CFG_DMA_CTL_ERROR : 0;
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		dma_skip(c, len);
	}
	if (result)
		c->dma_errors++;
	control = htonl(result);
	if (dma_write(&c->env->mem, addr, &control, sizeof(control)) < 0)
		c->dma_lost++;
}

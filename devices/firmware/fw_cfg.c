/*
 * QEMU's firmware configuration device (QEMU docs/specs/fw_cfg.rst), as
 * its x86 machines have it: the selector at port 0x510 (16 bits), the
 * data port 0x511 (bytes of the selected item, zeros past its end) and
 * the DMA register at 0x514 (fw_cfg_dma.c). It serves a fw_cfg_store
 * (fw_cfg_store.h): with "items=ID" the one hyvm run registered under ID
 * (userspace/firmware/fw_cfg_pc.c fills it for --bios), without a
 * configuration an empty one (signature, ID and an empty directory).
 * Nothing a guest writes changes an item.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/device_state.h"
#include "devices/device_util.h"
#include "devices/firmware/fw_cfg.h"

void fw_cfg_select(struct fw_cfg *c, uint16_t key)
{
	/* the write-channel bit is obsolete (QEMU 2.4 on ignores writes) */
	c->key = key & ~FW_CFG_WRITE_CHANNEL;
	c->offset = 0;
}

/* 0x510 is the 16-bit selector and 0x511 the data byte: one range, as
 * an outw to 0x510 covers 0x511 too. */
static void fw_cfg_port_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			   bool is_write)
{
	struct fw_cfg *c = opaque;
	const struct fw_cfg_item *it = &c->store->item[c->key];

	if (addr == FW_CFG_PORT_SEL) {
		if (is_write && len == 2)
			fw_cfg_select(c, (uint16_t)(data[0] | data[1] << 8));
		else if (!is_write)
			memset(data, 0, len);	/* the selector reads as zero */
		return;
	}
	if (is_write)
		return;		/* items are read-only */
	for (unsigned i = 0; i < len; i++)
		data[i] = c->offset < it->len ? it->data[c->offset++] : 0;
}

static void fw_cfg_dma_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			  bool is_write)
{
	struct fw_cfg *c = opaque;
	uint64_t off = addr - FW_CFG_PORT_DMA;

	if (!is_write) {
		for (unsigned i = 0; i < len; i++)
			data[i] = off + i < 8 ? (uint8_t)(FW_CFG_DMA_SIGNATURE >> (56 - 8 * (off + i))) : 0;
		return;
	}
	if (len != 4)
		return;		/* the register is written as two big-endian dwords */
	uint32_t v = (uint32_t)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3];
	if (off == 0) {
		c->dma_addr = (uint64_t)v << 32;
	} else if (off == 4) {
		uint64_t desc = c->dma_addr | v;
		c->dma_addr = 0;
		fw_cfg_dma_transfer(c, desc);
	}
}

static void fw_cfg_reset(void *dev)
{
	struct fw_cfg *c = dev;

	c->key = 0;
	c->offset = 0;
	c->dma_addr = 0;
}

static void fw_cfg_destroy(void *dev)
{
	struct fw_cfg *c = dev;

	bus_unregister_owner(c->env->pio, c);
	fw_cfg_store_destroy(c->own_store);
	free(c);
}

static void *fw_cfg_create(struct device_env *env, const char *config, char *err,
			   size_t errlen)
{
	struct fw_cfg_store *store = NULL;

	if (config && *config) {
		if (strncmp(config, "items=", 6) || strchr(config, ',') ||
		    !(store = fw_cfg_registry_find(config + 6))) {
			snprintf(err, errlen, "device fw_cfg takes items=ID (the VMM's fw_cfg items), "
				 "not '%s'", config);
			return NULL;
		}
	}
	struct fw_cfg *c = calloc(1, sizeof(*c));
	if (!c)
		return device_no_memory(err, errlen, "fw_cfg");
	c->env = env;
	if (!store) {
		if (!(c->own_store = fw_cfg_store_create()) ||
		    fw_cfg_store_finish(c->own_store, err, errlen) < 0) {
			fw_cfg_store_destroy(c->own_store);
			free(c);
			return device_no_memory(err, errlen, "fw_cfg");
		}
		store = c->own_store;
	}
	c->store = store;
	if (bus_register(env->pio, FW_CFG_PORT_SEL, 2, fw_cfg_port_io, c, "fw_cfg") ||
	    bus_register(env->pio, FW_CFG_PORT_DMA, FW_CFG_PORT_DMA_LEN, fw_cfg_dma_io, c,
			 "fw_cfg-dma")) {
		bus_unregister_owner(env->pio, c);
		fw_cfg_store_destroy(c->own_store);
		free(c);
		return device_ports_taken(err, errlen, "fw_cfg", FW_CFG_PORT_SEL);
	}
	return c;
}

static void fw_cfg_save(void *dev, struct ds_writer *w)
{
	struct fw_cfg *c = dev;

	ds_put_u16(w, c->key);
	ds_put_u32(w, c->offset);
	ds_put_u64(w, c->dma_addr);
}

static int fw_cfg_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct fw_cfg *c = dev;
	uint16_t key = ds_get_u16(r);
	uint32_t offset = ds_get_u32(r);
	uint64_t dma_addr = ds_get_u64(r);

	if (!ds_done(r))
		return -1;
	/* any key and offset are harmless: reads past an item give zeros */
	c->key = key & ~FW_CFG_WRITE_CHANNEL;
	c->offset = offset;
	c->dma_addr = dma_addr & 0xffffffff00000000ull;
	return 0;
}

static struct device_model fw_cfg_model = {
	.name = "fw_cfg",
	.level = DEVICE_LEVEL_FIRMWARE,
	.state_version = 1,
	.create = fw_cfg_create,
	.reset = fw_cfg_reset,
	.save = fw_cfg_save,
	.load = fw_cfg_load,
	.destroy = fw_cfg_destroy,
};
DEVICE_REGISTER(fw_cfg_model)

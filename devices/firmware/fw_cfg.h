/*
 * The fw_cfg device's state, shared by its port side (fw_cfg.c) and its
 * DMA engine (fw_cfg_dma.c).
 */
#ifndef HYVM_FW_CFG_H
#define HYVM_FW_CFG_H

#include <stdint.h>
#include "devices/device.h"
#include "devices/firmware/fw_cfg_store.h"

struct fw_cfg {
	struct device_env *env;
	struct fw_cfg_store *store;	/* the registry's, or own_store */
	struct fw_cfg_store *own_store;	/* created with no items= */
	uint16_t key;			/* the selected item */
	uint32_t offset;		/* into it */
	uint64_t dma_addr;		/* the high half written so far */
	/* refusals, for the tests and a debugging reader */
	uint64_t dma_errors;		/* descriptors failed with CTL_ERROR */
	uint64_t dma_lost;		/* descriptors that could not be read or written back */
};

/* Selects key: offset 0 (the selector register and DMA's CTL_SELECT). */
void fw_cfg_select(struct fw_cfg *c, uint16_t key);
/* The transfer whose descriptor is at guest-physical addr (the DMA
 * register's low half was written). */
void fw_cfg_dma_transfer(struct fw_cfg *c, uint64_t addr);

#endif

/*
 * What fw_cfg serves: numbered items and named files, filled by the VMM
 * before the machine starts (userspace/firmware/fw_cfg_pc.c for the pc
 * machine) and read by the fw_cfg device (devices/firmware/fw_cfg.c).
 * Items are copies the store owns; files get keys from FW_CFG_FILE_FIRST
 * on in the order added, and the directory (FW_CFG_FILE_DIR) is built
 * from them. A device finds its store by id (`--device fw_cfg,items=ID`),
 * as virtio-blk finds its disk.
 */
#ifndef HYVM_FW_CFG_STORE_H
#define HYVM_FW_CFG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "devices/firmware/fw_cfg_spec.h"

#define FW_CFG_MAX_FILES	64
#define FW_CFG_ITEM_MAX		(1u << 30)	/* bytes in one item */

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_store {
	struct fw_cfg_item item[FW_CFG_KEY_COUNT];
	char names[FW_CFG_MAX_FILES][FW_CFG_NAME_MAX];
	unsigned nr_files;
};

/* An empty store, or NULL (out of memory). */
struct fw_cfg_store *fw_cfg_store_create(void);
void fw_cfg_store_destroy(struct fw_cfg_store *s);
/* Sets item key to a copy of len bytes (replacing one); 0, or -1 with one
 * line in err (out of memory, too big). */
int fw_cfg_store_set(struct fw_cfg_store *s, uint16_t key, const void *data, size_t len,
		     char *err, size_t errlen);
/* Little-endian integers, as QEMU's fw_cfg_add_i16/i32/i64. */
int fw_cfg_store_set_le(struct fw_cfg_store *s, uint16_t key, uint64_t v, unsigned bytes,
			char *err, size_t errlen);
/* A named file; its key (FW_CFG_FILE_FIRST + n), or -1 with one line in
 * err (name empty or too long, taken, too many files). */
int fw_cfg_store_add_file(struct fw_cfg_store *s, const char *name, const void *data,
			  size_t len, char *err, size_t errlen);
/* The key of a named file, or -1. */
int fw_cfg_store_file_key(const struct fw_cfg_store *s, const char *name);
/* Builds FW_CFG_SIGNATURE, FW_CFG_ID (with DMA) and FW_CFG_FILE_DIR from
 * the files; called after the last file is added. 0 or -1 with err. */
int fw_cfg_store_finish(struct fw_cfg_store *s, char *err, size_t errlen);

/* The stores hyvm run made, by id; the registry owns them once added. */
int fw_cfg_registry_add(const char *id, struct fw_cfg_store *s, char *err, size_t errlen);
struct fw_cfg_store *fw_cfg_registry_find(const char *id);
void fw_cfg_registry_clear(void);

#endif

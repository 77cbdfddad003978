/*
 * The items fw_cfg serves (devices/firmware/fw_cfg_store.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/firmware/fw_cfg_store.h"

struct fw_cfg_store *fw_cfg_store_create(void)
{
	return calloc(1, sizeof(struct fw_cfg_store));
}

void fw_cfg_store_destroy(struct fw_cfg_store *s)
{
	if (!s)
		return;
	/* only the keys in use: a free(NULL) per key costs 65536 stack
	 * unwinds under ASan, and the fw_cfg fuzzer makes a store per input */
	for (unsigned k = 0; k < FW_CFG_KEY_COUNT; k++)
		if (s->item[k].data)
			free(s->item[k].data);
	free(s);
}

int fw_cfg_store_set(struct fw_cfg_store *s, uint16_t key, const void *data, size_t len,
		     char *err, size_t errlen)
{
	uint8_t *copy = NULL;

	if (len > FW_CFG_ITEM_MAX) {
		snprintf(err, errlen, "fw_cfg item 0x%x: %zu bytes, more than the %u an item may have",
			 key, len, FW_CFG_ITEM_MAX);
		return -1;
	}
	if (len && !(copy = malloc(len))) {
		snprintf(err, errlen, "fw_cfg item 0x%x: out of memory", key);
		return -1;
	}
	if (len)
		memcpy(copy, data, len);
	free(s->item[key].data);
	s->item[key] = (struct fw_cfg_item){ copy, (uint32_t)len };
	return 0;
}

int fw_cfg_store_set_le(struct fw_cfg_store *s, uint16_t key, uint64_t v, unsigned bytes,
			char *err, size_t errlen)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_store_set(s, key, b, bytes > 8 ? 8 : bytes, err, errlen);
}

int fw_cfg_store_file_key(const struct fw_cfg_store *s, const char *name)
{
	for (unsigned i = 0; i < s->nr_files; i++)
		if (!strcmp(s->names[i], name))
			return FW_CFG_FILE_FIRST + (int)i;
	return -1;
}

int fw_cfg_store_add_file(struct fw_cfg_store *s, const char *name, const void *data,
			  size_t len, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n >= FW_CFG_NAME_MAX) {
		snprintf(err, errlen, "fw_cfg file '%s': a name has 1 to %d characters", name,
			 FW_CFG_NAME_MAX - 1);
		return -1;
	}
	if (fw_cfg_store_file_key(s, name) >= 0) {
		snprintf(err, errlen, "fw_cfg file '%s' exists already", name);
		return -1;
	}
	if (s->nr_files == FW_CFG_MAX_FILES) {
		snprintf(err, errlen, "fw_cfg file '%s': more than %d files", name, FW_CFG_MAX_FILES);
		return -1;
	}
	int key = FW_CFG_FILE_FIRST + (int)s->nr_files;
	if (fw_cfg_store_set(s, (uint16_t)key, data, len, err, errlen) < 0)
		return -1;
	memcpy(s->names[s->nr_files++], name, n + 1);
	return key;
}

int fw_cfg_store_finish(struct fw_cfg_store *s, char *err, size_t errlen)
{
	size_t len = 4 + s->nr_files * sizeof(struct fw_cfg_file);
	uint8_t *dir = calloc(1, len);
	uint32_t count = htonl(s->nr_files);
	int r;

	if (!dir) {
		snprintf(err, errlen, "fw_cfg: out of memory");
		return -1;
	}
	memcpy(dir, &count, 4);
	for (unsigned i = 0; i < s->nr_files; i++) {
		struct fw_cfg_file f = {
			.size = htonl(s->item[FW_CFG_FILE_FIRST + i].len),
			.select = htons((uint16_t)(FW_CFG_FILE_FIRST + i)),
		};
		memcpy(f.name, s->names[i], FW_CFG_NAME_MAX);
		memcpy(dir + 4 + i * sizeof(f), &f, sizeof(f));
	}
	r = fw_cfg_store_set(s, FW_CFG_FILE_DIR, dir, len, err, errlen);
	free(dir);
	if (r == 0)
		r = fw_cfg_store_set(s, FW_CFG_SIGNATURE, "QEMU", 4, err, errlen);
	if (r == 0)
		r = fw_cfg_store_set_le(s, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA, 4,
					err, errlen);
	return r;
}

/* A handful: hyvm run makes one. */
#define FW_CFG_REGISTRY_MAX 4
static struct {
	char id[32];
	struct fw_cfg_store *store;
} registry[FW_CFG_REGISTRY_MAX];

int fw_cfg_registry_add(const char *id, struct fw_cfg_store *s, char *err, size_t errlen)
{
	if (strlen(id) >= sizeof(registry[0].id) || fw_cfg_registry_find(id)) {
		snprintf(err, errlen, "fw_cfg items '%s': the id is %s", id,
			 fw_cfg_registry_find(id) ? "taken" : "too long");
		return -1;
	}
	for (unsigned i = 0; i < FW_CFG_REGISTRY_MAX; i++)
		if (!registry[i].store) {
			snprintf(registry[i].id, sizeof(registry[i].id), "%s", id);
			registry[i].store = s;
			return 0;
		}
	snprintf(err, errlen, "fw_cfg items '%s': more than %d stores", id, FW_CFG_REGISTRY_MAX);
	return -1;
}

struct fw_cfg_store *fw_cfg_registry_find(const char *id)
{
	for (unsigned i = 0; i < FW_CFG_REGISTRY_MAX; i++)
		if (registry[i].store && !strcmp(registry[i].id, id))
			return registry[i].store;
	return NULL;
}

void fw_cfg_registry_clear(void)
{
	for (unsigned i = 0; i < FW_CFG_REGISTRY_MAX; i++) {
		fw_cfg_store_destroy(registry[i].store);
		registry[i].store = NULL;
	}
}

/* The opened disks by drive id; see block_registry.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block_registry.h"

struct entry {
	char id[BLOCK_ID_MAX];
	struct block_dev *bd;
	struct entry *next;
};

static struct entry *disks;

int block_registry_add(const char *id, struct block_dev *bd, char *err, size_t errlen)
{
	if (!id[0] || strlen(id) >= BLOCK_ID_MAX) {
		snprintf(err, errlen, "drive id '%s' must be 1-%d characters", id, BLOCK_ID_MAX - 1);
		return -1;
	}
	if (block_registry_find(id)) {
		snprintf(err, errlen, "drive id '%s' is used twice", id);
		return -1;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->bd = bd;
	e->next = disks;
	disks = e;
	return 0;
}

struct block_dev *block_registry_find(const char *id)
{
	for (struct entry *e = disks; e; e = e->next)
		if (!strcmp(e->id, id))
			return e->bd;
	return NULL;
}

int block_registry_remove(const char *id)
{
	for (struct entry **link = &disks; *link; link = &(*link)->next) {
		struct entry *e = *link;
		if (!strcmp(e->id, id)) {
			*link = e->next;
			block_close(e->bd);
			free(e);
			return 0;
		}
	}
	return -1;
}

void block_registry_close_all(void)
{
	while (disks) {
		struct entry *e = disks;
		disks = e->next;
		block_close(e->bd);
		free(e);
	}
}

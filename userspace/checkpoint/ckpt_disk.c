/* The disks in a checkpoint; see ckpt_disk.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "block/block_registry.h"
#include "block/overlay.h"
#include "checkpoint/ckpt_disk.h"
#include "checkpoint/ckpt_overlay.h"
#include "devices/device_state.h"
#include "vmm/vm.h"

/* The drive id of a virtio-blk instance ("drive=ID"), or NULL. */
static const char *drive_id(const struct device_instance *d)
{
	if (strcmp(d->model->name, "virtio-blk") || !d->config || strncmp(d->config, "drive=", 6))
		return NULL;
	return d->config + 6;
}

static void identity(const struct stat *st, uint64_t *mtime_ns, uint64_t *ino)
{
	*mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
	*ino = st->st_ino;
}

int ckpt_disks_save(struct ckpt_writer *w, struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const char *id = drive_id(&vm->devices[i]);
		struct block_dev *bd = id ? block_registry_find(id) : NULL;
		struct ds_writer dw = { 0 };
		struct stat st;
		uint64_t mtime, ino;

		if (!bd)
			continue;
		if ((!bd->readonly && bd->ops->flush(bd) < 0) || stat(bd->path, &st) < 0) {
			snprintf(err, errlen, "cannot checkpoint: disk %s (%s): %s", id, bd->path,
				 strerror(errno));
			return -1;
		}
		if (block_is_overlay(bd) && !bd->readonly) {
			/* its writes travel in the checkpoint: see ckpt_overlay.h */
			if (ckpt_overlay_save(w, id, bd, err, errlen) < 0)
				return -1;
			continue;
		}
		identity(&st, &mtime, &ino);
		ds_put_u32(&dw, (uint32_t)strlen(id));
		ds_put_bytes(&dw, id, strlen(id));
		ds_put_u32(&dw, (uint32_t)strlen(bd->path));
		ds_put_bytes(&dw, bd->path, strlen(bd->path));
		ds_put_u64(&dw, bd->size);
		ds_put_u64(&dw, mtime);
		ds_put_u64(&dw, ino);
		if (dw.failed)
			w->failed = true;
		ckpt_section(w, CKPT_SEC_DISK, dw.data, dw.len);
		free(dw.data);
	}
	return 0;
}

static void get_str(struct ds_reader *r, char *s, size_t cap)
{
	uint32_t n = ds_get_u32(r);

	if (n >= cap) {
		ds_fail(r, "a name is too long");
		n = 0;
	}
	ds_get_bytes(r, s, n);
	s[n] = '\0';
}

int ckpt_disk_check(struct vm *vm, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct ds_reader r = { .data = p, .len = len };
	char id[64], path[256];
	struct stat st;
	uint64_t size, mtime, ino, now_mtime, now_ino;

	get_str(&r, id, sizeof(id));
	get_str(&r, path, sizeof(path));
	size = ds_get_u64(&r);
	mtime = ds_get_u64(&r);
	ino = ds_get_u64(&r);
	if (!ds_done(&r)) {
		snprintf(err, errlen, "the checkpoint is corrupted: a disk record: %s", r.err);
		return -1;
	}
	struct block_dev *bd = block_registry_find(id);
	if (!bd) {
		snprintf(err, errlen, "the checkpoint has disk %s (%s), this VM does not", id, path);
		return -1;
	}
	if (stat(bd->path, &st) < 0) {
		snprintf(err, errlen, "disk %s: %s: %s", id, bd->path, strerror(errno));
		return -1;
	}
	identity(&st, &now_mtime, &now_ino);
	if (bd->size != size || now_ino != ino || now_mtime != mtime) {
		snprintf(err, errlen, "disk %s (%s) changed since the checkpoint (size, inode or "
			 "modification time differ): restoring would corrupt it", id, bd->path);
		return -1;
	}
	return 0;
}

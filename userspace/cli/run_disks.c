/* hyvm run's --disk and --drive; see run_disks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block.h"
#include "block/block_registry.h"
#include "cli/run_disks.h"

struct disk_spec {
	char file[4096];
	char overlay[4096];
	char id[BLOCK_ID_MAX];
	char config[BLOCK_ID_MAX + 8];	/* "drive=ID" for the device */
	bool readonly, snapshot;
};

static struct disk_spec disks[RUN_MAX_DISKS];
static unsigned nr_disks;

/* on|off|yes|no|true|false, or a bare key meaning on (QEMU's). */
static int parse_bool(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	if (!val || !strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false")) {
		*out = false;
		return 0;
	}
	snprintf(err, errlen, "--disk: %s= takes on or off, not '%s'", key, val);
	return -1;
}

static int copy_value(char *dst, size_t dstlen, const char *key, const char *val,
		      char *err, size_t errlen)
{
	if (!val || !*val || strlen(val) >= dstlen) {
		snprintf(err, errlen, "--disk: %s= needs a value of 1-%zu characters", key, dstlen - 1);
		return -1;
	}
	snprintf(dst, dstlen, "%s", val);
	return 0;
}

static int parse_key(struct disk_spec *d, char *key, char *err, size_t errlen)
{
	char *val = strchr(key, '=');

	if (val)
		*val++ = '\0';
	if (!strcmp(key, "file"))
		return copy_value(d->file, sizeof(d->file), key, val, err, errlen);
	if (!strcmp(key, "overlay"))
		return copy_value(d->overlay, sizeof(d->overlay), key, val, err, errlen);
	if (!strcmp(key, "id"))
		return copy_value(d->id, sizeof(d->id), key, val, err, errlen);
	if (!strcmp(key, "readonly"))
		return parse_bool(key, val, &d->readonly, err, errlen);
	if (!strcmp(key, "snapshot"))
		return parse_bool(key, val, &d->snapshot, err, errlen);
	if (!strcmp(key, "format")) {
		if (val && !strcmp(val, "raw"))
			return 0;
		snprintf(err, errlen, "--disk: format=%s: only raw images are supported", val ? val : "");
		return -1;
	}
	if (!strcmp(key, "if")) {
		if (val && !strcmp(val, "virtio"))
			return 0;
		snprintf(err, errlen, "--disk: if=%s: only virtio disks exist here", val ? val : "");
		return -1;
	}
	if (!strcmp(key, "cache")) {
		/* FLUSH is fdatasync and writes go through the page cache:
		 * QEMU's writeback, its default; the other modes are not built */
		if (val && !strcmp(val, "writeback"))
			return 0;
		snprintf(err, errlen, "--disk: cache=%s is not supported (cache=writeback is what "
			 "hyvm does: writes through the host's page cache, FLUSH is fdatasync)",
			 val ? val : "");
		return -1;
	}
	snprintf(err, errlen, "--disk: unknown option '%s'", key);
	return -1;
}

int run_disks_add(const char *spec, bool qemu_style, char *err, size_t errlen)
{
	if (nr_disks == RUN_MAX_DISKS) {
		snprintf(err, errlen, "at most %d disks", RUN_MAX_DISKS);
		return -1;
	}
	struct disk_spec *d = &disks[nr_disks];
	char *copy = strdup(spec), *save = NULL;
	int r = 0;

	memset(d, 0, sizeof(*d));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *tok = strtok_r(copy, ",", &save);
	/* --disk FILE,...: the first item is the file (no '=' in it) */
	if (!qemu_style && tok && !strchr(tok, '=')) {
		r = copy_value(d->file, sizeof(d->file), "file", tok, err, errlen);
		tok = strtok_r(NULL, ",", &save);
	}
	for (; tok && r == 0; tok = strtok_r(NULL, ",", &save))
		r = parse_key(d, tok, err, errlen);
	free(copy);
	if (r < 0)
		return -1;
	if (!d->file[0]) {
		snprintf(err, errlen, "%s needs a file (%s)", qemu_style ? "--drive" : "--disk",
			 qemu_style ? "file=FILE" : "--disk FILE[,OPTIONS]");
		return -1;
	}
	if (d->overlay[0] && !d->snapshot) {
		snprintf(err, errlen, "--disk %s: overlay= is for snapshot disks", d->file);
		return -1;
	}
	if (!d->id[0])
		snprintf(d->id, sizeof(d->id), "disk%u", nr_disks);
	for (unsigned i = 0; i < nr_disks; i++)
		if (!strcmp(disks[i].id, d->id)) {
			snprintf(err, errlen, "--disk: drive id '%s' is used twice", d->id);
			return -1;
		}
	nr_disks++;
	return 0;
}

int run_disks_open(struct machine_device *devs, unsigned *nr, unsigned max,
		   char *err, size_t errlen)
{
	for (unsigned i = 0; i < nr_disks; i++) {
		struct disk_spec *d = &disks[i];
		struct block_open_opts o = {
			.readonly = d->readonly, .snapshot = d->snapshot,
			.overlay_path = d->overlay[0] ? d->overlay : NULL,
		};
		if (*nr == max) {
			snprintf(err, errlen, "too many devices with the disks");
			return -1;
		}
		struct block_dev *bd = block_open(d->file, &o, err, errlen);
		if (!bd)
			return -1;
		if (block_registry_add(d->id, bd, err, errlen) < 0) {
			block_close(bd);
			return -1;
		}
		snprintf(d->config, sizeof(d->config), "drive=%s", d->id);
		devs[(*nr)++] = (struct machine_device){ "virtio-blk", d->config };
	}
	return 0;
}

void run_disks_close(void)
{
	block_registry_close_all();
}

/* The test disks of fake_disk.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fake_disk.h"

int fake_disk_open(struct fake_disk *d, const char *prefix, unsigned sectors, bool readonly)
{
	static unsigned serial;
	char err[256];
	uint8_t sector[512];

	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/hyvm-fdisk-XXXXXX");
	int fd = mkstemp(d->path);
	if (fd < 0)
		return -1;
	for (unsigned s = 0; s < sectors; s++) {
		for (unsigned i = 0; i < 512; i++)
			sector[i] = fake_disk_pattern((uint64_t)s * 512 + i);
		if (pwrite(fd, sector, 512, (off_t)s * 512) != 512) {
			close(fd);
			unlink(d->path);
			return -1;
		}
	}
	close(fd);
	/* ids are unique for the process: the registry outlives a test */
	snprintf(d->id, sizeof(d->id), "%.16s%u", prefix, serial++);
	snprintf(d->config, sizeof(d->config), "drive=%s", d->id);
	d->bd = block_raw_open(d->path, readonly, err, sizeof(err));
	if (!d->bd || block_registry_add(d->id, d->bd, err, sizeof(err)) < 0) {
		if (d->bd)
			block_close(d->bd);
		d->bd = NULL;
		unlink(d->path);
		return -1;
	}
	return 0;
}

void fake_disk_close(struct fake_disk *d)
{
	if (!d->bd)
		return;
	block_registry_remove(d->id);
	unlink(d->path);
	d->bd = NULL;
}

int fake_disk_pread(const struct fake_disk *d, void *buf, size_t len, uint64_t off)
{
	int fd = open(d->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

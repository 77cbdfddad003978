/*
 * The crash-safety test's two halves (tests/block/crash.sh kills the
 * first at random moments):
 *
 *   crash-driver write BASE OVERLAY LOG SEED
 *       opens BASE as an undoable disk with its overlay at OVERLAY and
 *       writes random sector ranges forever, FLUSHing every few writes.
 *       Before each write it appends "W seq sector count" to LOG, after
 *       each flush returned "F seq" (the writes before it are durable).
 *   crash-driver verify BASE OVERLAY LOG SEED [IMAGE]
 *       opens the overlay afresh and checks every sector: the data of
 *       the last flushed write covering it (the base's bytes if none),
 *       or of a write logged after the last flush (those may or may not
 *       have landed). Writes what it read to IMAGE (for the commit test).
 *   crash-driver create BASE OVERLAY
 *       an empty overlay (for tests/cli/bad-input.sh).
 *
 * A sector's data is a function of (seed, seq, sector), so the log holds
 * no data. Exit 0 when the disk is right, 1 with a line saying which
 * sector is wrong, 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/block.h"
#include "block/block_io.h"
#include "block/overlay.h"

#define SECTOR 512
#define MAX_SECTORS_PER_WRITE 300	/* up to ~150 KiB: several clusters */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void sector_data(uint64_t seed, uint64_t seq, uint64_t sector, uint8_t *out)
{
	uint64_t s = seed ^ (seq * 0x100000001b3ull) ^ (sector << 20);

	for (int i = 0; i < SECTOR; i += 8) {
		uint64_t v = splitmix(&s);
		memcpy(out + i, &v, 8);
	}
}

static struct block_dev *open_disk(const char *base, const char *ovl)
{
	char err[1024];
	struct block_open_opts o = { .snapshot = true, .overlay_path = ovl };
	struct block_dev *bd = block_open(base, &o, err, sizeof(err));

	if (!bd)
		fprintf(stderr, "crash-driver: %s\n", err);
	return bd;
}

static int do_write(const char *base, const char *ovl, const char *log, uint64_t seed)
{
	struct block_dev *bd = open_disk(base, ovl);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	static uint8_t buf[MAX_SECTORS_PER_WRITE * SECTOR];
	uint64_t rng = seed, sectors;

	if (!bd || lfd < 0)
		return 2;
	sectors = bd->size / SECTOR;
	for (uint64_t seq = 1;; seq++) {
		char line[96];
		uint64_t first = splitmix(&rng) % sectors;
		uint64_t count = 1 + splitmix(&rng) % MAX_SECTORS_PER_WRITE;
		if (count > sectors - first)
			count = sectors - first;
		for (uint64_t k = 0; k < count; k++)
			sector_data(seed, seq, first + k, buf + k * SECTOR);
		int n = snprintf(line, sizeof(line), "W %llu %llu %llu\n", (unsigned long long)seq,
				 (unsigned long long)first, (unsigned long long)count);
		if (write(lfd, line, (size_t)n) != n)
			return 2;
		struct iovec iov = { buf, count * SECTOR };
		if (bd->ops->pwritev(bd, &iov, 1, first * SECTOR) < 0) {
			fprintf(stderr, "crash-driver: write failed\n");
			return 1;
		}
		if (splitmix(&rng) % 6 == 0) {
			if (bd->ops->flush(bd) < 0) {
				fprintf(stderr, "crash-driver: flush failed\n");
				return 1;
			}
			n = snprintf(line, sizeof(line), "F %llu\n", (unsigned long long)seq);
			if (write(lfd, line, (size_t)n) != n)
				return 2;
		}
	}
}

struct logged { uint64_t seq, first, count; };

static int do_verify(const char *base, const char *ovl, const char *log, uint64_t seed,
		     const char *image)
{
	FILE *lf = fopen(log, "r");
	struct logged *w = NULL;
	size_t nw = 0, cap = 0;
	uint64_t flushed = 0;
	char kind;
	unsigned long long a, b, c;

	/* killed before it opened the log: nothing was written */
	if (!lf && errno != ENOENT) {
		fprintf(stderr, "crash-driver: %s: %s\n", log, strerror(errno));
		return 2;
	}
	/* a line cut short by the kill is not matched and ends the log */
	while (lf && fscanf(lf, " %c", &kind) == 1) {
		if (kind == 'W' && fscanf(lf, "%llu %llu %llu", &a, &b, &c) == 3) {
			if (nw == cap && !(w = realloc(w, (cap = cap ? 2 * cap : 1024) * sizeof(*w))))
				return 2;
			w[nw++] = (struct logged){ a, b, c };
		} else if (kind == 'F' && fscanf(lf, "%llu", &a) == 1) {
			flushed = a;
		} else {
			break;
		}
	}
	if (lf)
		fclose(lf);

	struct block_dev *bd = open_disk(base, ovl);
	if (!bd)
		return 1;
	uint64_t sectors = bd->size / SECTOR;
	/* per sector: the last flushed write covering it (0: the base's) */
	uint64_t *last = calloc(sectors, sizeof(*last));
	uint8_t *disk = malloc(bd->size), *want = malloc(SECTOR);
	int bfd = open(base, O_RDONLY | O_CLOEXEC);
	struct iovec iov = { disk, bd->size };
	if (!last || !disk || !want || bfd < 0 || bd->ops->preadv(bd, &iov, 1, 0) < 0) {
		fprintf(stderr, "crash-driver: cannot read the disk back\n");
		return 1;
	}
	for (size_t i = 0; i < nw && w[i].seq <= flushed; i++)
		for (uint64_t k = 0; k < w[i].count; k++)
			last[w[i].first + k] = w[i].seq;
	uint64_t checked_flushed = 0, late = 0;
	for (uint64_t s = 0; s < sectors; s++) {
		const uint8_t *got = disk + s * SECTOR;
		if (last[s])
			sector_data(seed, last[s], s, want);
		else if (block_pread_full(bfd, want, SECTOR, s * SECTOR) < 0)
			return 1;
		if (!memcmp(got, want, SECTOR)) {
			checked_flushed += last[s] != 0;
			continue;
		}
		/* a write after the last flush may have landed */
		bool ok = false;
		for (size_t i = nw; i-- > 0 && w[i].seq > flushed && !ok;) {
			if (s < w[i].first || s >= w[i].first + w[i].count)
				continue;
			sector_data(seed, w[i].seq, s, want);
			ok = !memcmp(got, want, SECTOR);
		}
		if (!ok) {
			fprintf(stderr, "crash-driver: sector %llu holds neither its last flushed write "
				"(seq %llu) nor a later one (%llu flushed of %zu logged)\n",
				(unsigned long long)s, (unsigned long long)last[s],
				(unsigned long long)flushed, nw);
			return 1;
		}
		late++;
	}
	if (image) {
		int ifd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (ifd < 0 || block_pwrite_full(ifd, disk, bd->size, 0) < 0)
			return 2;
		close(ifd);
	}
	printf("verified: %zu writes logged, %llu flushed; %llu sectors hold a flushed write, "
	       "%llu a later one\n", nw, (unsigned long long)flushed,
	       (unsigned long long)checked_flushed, (unsigned long long)late);
	block_close(bd);
	close(bfd);
	free(last);
	free(disk);
	free(want);
	free(w);
	return 0;
}

int main(int argc, char **argv)
{
	char err[1024];

	if (argc == 4 && !strcmp(argv[1], "create")) {
		if (ovl_create(argv[3], argv[2], err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "crash-driver: %s\n", err);
		return 2;
	}
	if (argc >= 6 && !strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 0));
	if (argc >= 6 && !strcmp(argv[1], "verify"))
		return do_verify(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 0),
				 argc > 6 ? argv[6] : NULL);
	fprintf(stderr, "usage: crash-driver write|verify BASE OVERLAY LOG SEED [IMAGE] | "
		"create BASE OVERLAY\n");
	return 2;
}

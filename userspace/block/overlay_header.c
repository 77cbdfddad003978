/*
 * The overlay's header: CRC, layout, validation, creation and the base's
 * identity (overlay_format.h).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "files/input_file.h"
#include "block/block_io.h"
#include "block/overlay.h"

uint32_t ovl_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	/* bitwise CRC-32 (IEEE 802.3, reflected 0xedb88320): only headers */
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* Where bitmap and data go for a base of size bytes. */
static void layout(struct ovl_header *h)
{
	uint64_t cs = 1ull << h->cluster_bits;
	uint64_t clusters = (h->base_size + cs - 1) / cs;

	h->bitmap_offset = OVL_BITMAP_OFFSET;
	h->bitmap_bytes = round_up((clusters + 7) / 8, 4096);
	h->data_offset = round_up(OVL_BITMAP_OFFSET + h->bitmap_bytes, cs);
}

static uint64_t mtime_ns(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
}

int ovl_read(int fd, const char *path, struct ovl_info *oi, char *err, size_t errlen)
{
	uint8_t sector0[4096];
	struct stat st;
	struct ovl_header *h = &oi->h;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size < 4096 || block_pread_full(fd, sector0, sizeof(sector0), 0) < 0) {
		snprintf(err, errlen, "%s: not a hyvm overlay (shorter than its header)", path);
		return -1;
	}
	memcpy(h, sector0, sizeof(*h));
	if (memcmp(h->magic, OVL_MAGIC, 8)) {
		snprintf(err, errlen, "%s: not a hyvm overlay (no HYVMOVL magic)", path);
		return -1;
	}
	if (le32toh(h->version) != OVL_VERSION) {
		snprintf(err, errlen, "%s: overlay format version %u; this hyvm reads version %u",
			 path, le32toh(h->version), OVL_VERSION);
		return -1;
	}
	if (ovl_crc32(h, offsetof(struct ovl_header, header_crc)) != le32toh(h->header_crc)) {
		snprintf(err, errlen, "%s: overlay header is corrupt (checksum mismatch)", path);
		return -1;
	}
	h->version = le32toh(h->version);
	h->header_bytes = le32toh(h->header_bytes);
	h->cluster_bits = le32toh(h->cluster_bits);
	h->flags = le32toh(h->flags);
	h->base_size = le64toh(h->base_size);
	h->base_mtime_ns = le64toh(h->base_mtime_ns);
	h->base_ino = le64toh(h->base_ino);
	h->bitmap_offset = le64toh(h->bitmap_offset);
	h->bitmap_bytes = le64toh(h->bitmap_bytes);
	h->data_offset = le64toh(h->data_offset);
	h->base_path_len = le32toh(h->base_path_len);
	h->path_crc = le32toh(h->path_crc);

	const char *bad = NULL;
	struct ovl_header want = *h;
	if (h->header_bytes != OVL_HEADER_BYTES)
		bad = "header size";
	else if (h->cluster_bits < OVL_CLUSTER_BITS_MIN || h->cluster_bits > OVL_CLUSTER_BITS_MAX)
		bad = "cluster size";
	else if (h->base_size == 0 || h->base_size > OVL_MAX_BASE_SIZE)
		bad = "base size";
	else if (h->flags & ~OVL_FLAG_COMMITTING)
		bad = "unknown flags";
	else if (h->base_path_len == 0 || h->base_path_len > OVL_PATH_MAX)
		bad = "base path length";
	if (!bad) {
		layout(&want);
		if (want.bitmap_offset != h->bitmap_offset || want.bitmap_bytes != h->bitmap_bytes ||
		    want.data_offset != h->data_offset)
			bad = "layout";
		else if (ovl_crc32(sector0 + OVL_PATH_OFFSET, h->base_path_len) != h->path_crc)
			bad = "base path checksum";
		else if ((uint64_t)st.st_size < h->data_offset)
			bad = "file shorter than its bitmap";
	}
	if (bad) {
		snprintf(err, errlen, "%s: overlay header is corrupt (%s)", path, bad);
		return -1;
	}
	memcpy(oi->base_path, sector0 + OVL_PATH_OFFSET, h->base_path_len);
	oi->base_path[h->base_path_len] = 0;
	oi->clusters = (h->base_size + (1ull << h->cluster_bits) - 1) >> h->cluster_bits;
	return 0;
}

int ovl_write_header(int fd, struct ovl_header *h)
{
	struct ovl_header le = *h;

	le.version = htole32(h->version);
	le.header_bytes = htole32(h->header_bytes);
	le.cluster_bits = htole32(h->cluster_bits);
	le.flags = htole32(h->flags);
	le.base_size = htole64(h->base_size);
	le.base_mtime_ns = htole64(h->base_mtime_ns);
	le.base_ino = htole64(h->base_ino);
	le.bitmap_offset = htole64(h->bitmap_offset);
	le.bitmap_bytes = htole64(h->bitmap_bytes);
	le.data_offset = htole64(h->data_offset);
	le.base_path_len = htole32(h->base_path_len);
	le.path_crc = htole32(h->path_crc);
	le.header_crc = htole32(ovl_crc32(&le, offsetof(struct ovl_header, header_crc)));
	int r = block_pwrite_full(fd, &le, sizeof(le), 0);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	return r;
}

int ovl_check_base(const struct ovl_info *oi, int base_fd, const char *ovl_path,
		   bool ignore_mtime, char *err, size_t errlen)
{
	struct stat st;
	const char *what = NULL;

	if (fstat(base_fd, &st) < 0)
		what = "cannot stat it";
	else if ((uint64_t)st.st_size != oi->h.base_size)
		what = "its size differs";
	else if ((uint64_t)st.st_ino != oi->h.base_ino)
		what = "it is another file (inode)";
	else if (!ignore_mtime && mtime_ns(&st) != oi->h.base_mtime_ns)
		what = "it was modified";
	if (!what)
		return 0;
	snprintf(err, errlen, "%s: base %s changed since the overlay was made (%s); refusing "
		 "(hyvm disk discard drops the overlay)", ovl_path, oi->base_path, what);
	return -1;
}

int ovl_lock(int fd, const char *path, bool exclusive, char *err, size_t errlen)
{
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		snprintf(err, errlen, "%s is in use (another hyvm has it open)", path);
	else
		snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
	return -1;
}

/* The directory entry itself must be durable, or a crash could lose the
 * new (or keep the deleted) overlay's name. */
void ovl_sync_dir(const char *path)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

int ovl_create(const char *ovl_path, const char *base_path, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	struct stat st;
	struct ovl_header h = { 0 };

	char why[128];
	int bfd = input_file_open(base_path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));
	if (bfd < 0 && !strcmp(why, "not a regular file")) {
		snprintf(err, errlen, "%s: a snapshot's base must be a regular file", base_path);
		return -1;
	}
	if (bfd < 0) {
		snprintf(err, errlen, "%s: %s", base_path, why);
		return -1;
	}
	if (!realpath(base_path, abs)) {
		snprintf(err, errlen, "%s: a snapshot's base must be a regular file", base_path);
		close(bfd);
		return -1;
	}
	close(bfd);
	if (st.st_size == 0 || (uint64_t)st.st_size > OVL_MAX_BASE_SIZE) {
		snprintf(err, errlen, "%s: the image is %s", base_path,
			 st.st_size ? "too large for an overlay" : "empty");
		return -1;
	}
	if (strlen(abs) > OVL_PATH_MAX) {
		snprintf(err, errlen, "%s: path too long for an overlay header", base_path);
		return -1;
	}
	memcpy(h.magic, OVL_MAGIC, 8);
	h.version = OVL_VERSION;
	h.header_bytes = OVL_HEADER_BYTES;
	h.cluster_bits = OVL_CLUSTER_BITS;
	h.base_size = (uint64_t)st.st_size;
	h.base_mtime_ns = mtime_ns(&st);
	h.base_ino = (uint64_t)st.st_ino;
	h.base_path_len = (uint32_t)strlen(abs);
	h.path_crc = ovl_crc32(abs, h.base_path_len);
	layout(&h);
	uint64_t clusters = (h.base_size + (1ull << h.cluster_bits) - 1) >> h.cluster_bits;

	/* Written whole under a temporary name, then linked to its own: a
	 * crash meanwhile leaves no half-made overlay under ovl_path (only
	 * the temporary file), and link() refuses an existing name. */
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", ovl_path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", ovl_path);
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create the overlay: %s", ovl_path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0 ||
	    block_pwrite_full(fd, abs, h.base_path_len, OVL_PATH_OFFSET) < 0 ||
	    ftruncate(fd, (off_t)(h.data_offset + (clusters << h.cluster_bits))) < 0 ||
	    ovl_write_header(fd, &h) < 0) {
		snprintf(err, errlen, "%s: cannot write the overlay: %s", ovl_path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (link(tmp, ovl_path) < 0) {
		snprintf(err, errlen, "%s: cannot create the overlay: %s", ovl_path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	ovl_sync_dir(ovl_path);
	return 0;
}

void overlay_default_path(const char *base, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s.overlay", base);
}

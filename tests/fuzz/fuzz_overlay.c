/* The disk overlay's header (userspace/block/overlay_header.c) and
 * `hyvm disk info` (overlay_tool.c: the header, the bitmap, the base it
 * names) on the input as an overlay file. Each input is read as it is and
 * repaired (the path and header CRCs recomputed, as a hostile writer
 * would), so the layout checks behind the CRCs are in reach. */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "block/overlay.h"
#include "fuzz_input.h"

static void read_all(const uint8_t *data, size_t size)
{
	static FILE *null;
	char path[32], err[512];
	struct ovl_info oi;

	if ((!null && !(null = fopen("/dev/null", "w"))) || fuzz_file(data, size, path) < 0)
		abort();
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		abort();
	if (ovl_read(fd, path, &oi, err, sizeof(err)) < 0 && (!err[0] || strchr(err, '\n')))
		abort();	/* a refusal is one line */
	close(fd);
	if (overlay_info(path, null, err, sizeof(err)) < 0 && (!err[0] || strchr(err, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all(data, size);
	if (size < OVL_BITMAP_OFFSET)
		return 0;
	uint8_t *f = malloc(size);
	if (!f)
		abort();
	memcpy(f, data, size);
	struct ovl_header h;
	memcpy(&h, f, sizeof(h));
	uint32_t plen = le32toh(h.base_path_len);
	if (plen <= OVL_PATH_MAX)
		h.path_crc = htole32(ovl_crc32(f + OVL_PATH_OFFSET, plen));
	h.header_crc = htole32(ovl_crc32(&h, offsetof(struct ovl_header, header_crc)));
	memcpy(f, &h, sizeof(h));
	read_all(f, size);
	free(f);
	return 0;
}

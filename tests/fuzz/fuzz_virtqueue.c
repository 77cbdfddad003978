/* Split virtqueue processing (devices/virtio/virtqueue.c) over guest RAM
 * the driver controls completely: descriptor tables, indirect tables,
 * avail and used rings from the input, any size, address and feature
 * bits; requests popped, read, written and pushed back until the queue
 * is empty or broken. */
#include <stdlib.h>
#include "fake_guest_ram.h"
#include "devices/virtio/virtqueue.h"
#include "fuzz_input.h"

#define RAM_BYTES (2u << 20)
#define WINDOW 0x20000u		/* rings and tables in the first 128 KiB */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_guest_ram g;
	static struct virtq q;
	static struct virtq_req *req;
	struct fuzz_in in = { data, size };
	uint8_t buf[512];

	if (!req) {
		if (fake_guest_ram_init(&g, RAM_BYTES, true) < 0 || !(req = virtq_req_new(64)))
			abort();
	}
	memset(fake_guest_ram_host(&g, 0), 0, WINDOW);
	virtq_init(&q, &g.mem, 256);
	(void)virtq_set_size(&q, fuzz_take(&in, 2));
	uint64_t desc = fuzz_take(&in, 3), avail = fuzz_take(&in, 3), used = fuzz_take(&in, 3);
	if (fuzz_take(&in, 1) & 1) {	/* rings in RAM, mostly */
		desc %= WINDOW, avail %= WINDOW, used %= WINDOW;
	}
	(void)virtq_set_addrs(&q, desc, avail, used);
	uint64_t features = fuzz_take(&in, 1) & 3;
	features = (features & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		   (features & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	/* the rest of the input: the first WINDOW bytes of RAM, then the
	 * device's choices */
	size_t fill = in.n < WINDOW ? in.n : WINDOW;
	memcpy(fake_guest_ram_host(&g, 0), in.p, fill);
	in.p += fill, in.n -= fill;
	if (virtq_enable(&q, features) < 0)
		return 0;
	for (int i = 0; i < 512 && virtq_pending(&q); i++) {
		int r = virtq_pop(&q, req);
		if (r < 0 && !virtq_err_has_head(r))
			break;		/* broken: the device stops */
		if (r < 0)
			continue;
		(void)virtq_req_read(req, fuzz_take(&in, 2), buf, fuzz_take(&in, 2) % sizeof(buf));
		(void)virtq_req_write(req, fuzz_take(&in, 2), buf, fuzz_take(&in, 2) % sizeof(buf));
		(void)virtq_push(&q, req, fuzz_take(&in, 4));
		(void)virtq_should_notify(&q);
		(void)virtq_set_notify(&q, fuzz_take(&in, 1) & 1);
	}
	virtq_reset(&q);
	return 0;
}

/* The virtqueue suites' fixture; see virtq_fixture.h. */
#include <string.h>
#include "unit.h"
#include "virtq_fixture.h"

struct fake_guest_ram g;
struct virtq q;
struct virtq_req *req;

void set_desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(fake_guest_ram_host(&g, table + 16ull * i), &d, sizeof(d));
}

void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	set_desc_at(DESC, i, addr, len, flags, next);
}

uint16_t *avail16(unsigned word)	/* flags, idx, ring[0..], used_event */
{
	return (uint16_t *)fake_guest_ram_host(&g, AVAIL + 2ull * word);
}

uint16_t *used16(unsigned byte)
{
	return (uint16_t *)fake_guest_ram_host(&g, USED + byte);
}

uint32_t used_elem(unsigned i, unsigned field)	/* field 0 id, 1 len */
{
	uint32_t v;

	memcpy(&v, fake_guest_ram_host(&g, USED + 4 + 8ull * i + 4 * field), 4);
	return v;
}

void make_available(uint16_t head)
{
	uint16_t idx = *avail16(1);

	avail16(2)[idx % q.size] = head;
	*avail16(1) = idx + 1;
}

int setup_queue(uint64_t features)
{
	virtq_init(&q, &g.mem, QSIZE);
	virtq_set_size(&q, QSIZE);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	return virtq_enable(&q, features);
}

int vq_suite_setup(void)
{
	if (fake_guest_ram_init(&g, 16 * MiB, true) < 0)
		return -1;
	req = virtq_req_new(8);
	return req ? 0 : -1;
}

int vq_suite_teardown(void)
{
	virtq_req_free(req);
	fake_guest_ram_fini(&g);
	return 0;
}

void fresh(uint64_t features)
{
	memset(fake_guest_ram_host(&g, DESC), 0, 0x4000);
	g.nr_written = 0;
	CU_ASSERT_EQUAL_FATAL(setup_queue(features), 0);
}

uint64_t errors_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < VIRTQ_ERR_COUNT; i++)
		n += q.errors[i];
	return n;
}

/* A virtio-blk-shaped request: header, data, status. */

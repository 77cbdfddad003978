/*
 * The split virtqueue against rings of random bytes, and against a
 * "guest" thread rewriting the ring while the device pops: whatever comes
 * out must lie in guest RAM, and nothing may crash or spin.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtq_fixture.h"

static void test_random_rings(void)
{
	unsigned seed = 12345, ok = 0, errs = 0;
	struct virtq_req *r = virtq_req_new(64);

	for (int round = 0; round < 2000; round++) {
		uint8_t *ring = fake_guest_ram_host(&g, DESC);
		for (unsigned i = 0; i < 0x4000; i++)
			ring[i] = (uint8_t)rand_r(&seed);
		/* addresses mostly near the buffers, so some chains succeed */
		for (unsigned i = 0; i < QSIZE; i++) {
			uint64_t *addr = (uint64_t *)(ring + 16 * i);
			if (rand_r(&seed) % 4)
				*addr = BUF + (*addr & 0xffff);
			uint32_t *len = (uint32_t *)(ring + 16 * i + 8);
			if (rand_r(&seed) % 4)
				*len &= 0x3ff;
			uint16_t *flags = (uint16_t *)(ring + 16 * i + 12);
			if (rand_r(&seed) % 4)
				*flags &= i == 3 ? 7 : 3;
			uint16_t *next = (uint16_t *)(ring + 16 * i + 14);
			if (rand_r(&seed) % 2)
				*next &= QSIZE - 1;
		}
		for (unsigned i = 0; i < QSIZE; i++)
			if (rand_r(&seed) % 8)
				avail16(2)[i] &= QSIZE - 1;
		uint64_t *taddr = (uint64_t *)(ring + 16 * 3);
		if (rand_r(&seed) % 2)
			*taddr = TABLE;
		for (unsigned i = 0; i < 64; i++) {
			uint64_t *a = (uint64_t *)(fake_guest_ram_host(&g, TABLE) + 16 * i);
			if (rand_r(&seed) % 2)
				*a = BUF + (*a & 0xffff);
		}
		virtq_init(&q, &g.mem, QSIZE);
		virtq_set_addrs(&q, DESC, AVAIL, USED);
		if (virtq_enable(&q, rand_r(&seed) % 2 ? VQ_ALL_FEATURES : 0) < 0)
			continue;
		q.last_avail = *avail16(1) - (rand_r(&seed) % (QSIZE + 3));
		for (int n = 0; n < 2 * QSIZE; n++) {
			int res = virtq_pop(&q, r);
			if (res == 0)
				break;
			if (res < 0) {
				errs++;
				if (!virtq_err_has_head(res))
					break;
				continue;
			}
			ok++;
			for (unsigned k = 0; k < r->nr_out + r->nr_in; k++) {
				uint8_t *b = r->iov[k].iov_base;
				CU_ASSERT_FATAL(b >= g.backing &&
						b + r->iov[k].iov_len <= g.backing + g.map.memfd_size);
				volatile uint8_t touch = b[r->iov[k].iov_len - 1];
				(void)touch;
			}
			virtq_push(&q, r, (uint32_t)rand_r(&seed));
			virtq_should_notify(&q);
		}
	}
	virtq_req_free(r);
	printf("(%u chains popped, %u refused) ", ok, errs);
	CU_ASSERT(ok > 100);	/* the shape above lets some through */
	CU_ASSERT(errs > 100);
}

static atomic_bool stop_scribbling;

/* The guest on another CPU: rewrites descriptors, the avail ring and
 * an indirect table without pause, plausible values mostly. */
static void *scribble(void *arg)
{
	unsigned seed = 777;
	uint8_t *ring = fake_guest_ram_host(&g, DESC), *table = fake_guest_ram_host(&g, TABLE);

	while (!atomic_load(&stop_scribbling)) {
		unsigned i = (unsigned)rand_r(&seed) % QSIZE;
		struct virtq_desc d = {
			.addr = rand_r(&seed) % 8 ? BUF + (unsigned)rand_r(&seed) % 0x10000
						  : (uint64_t)rand_r(&seed) << 20,
			.len = (uint32_t)rand_r(&seed) % 0x2000,
			.flags = (uint16_t)(rand_r(&seed) % 8),
			.next = (uint16_t)(rand_r(&seed) % (QSIZE + 2)),
		};
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			d.addr = rand_r(&seed) % 4 ? TABLE : d.addr;
		memcpy(rand_r(&seed) % 3 ? ring + 16 * i : table + 16 * (i % 8), &d, sizeof(d));
		uint16_t *avail = (uint16_t *)fake_guest_ram_host(&g, AVAIL);
		__atomic_store_n(&avail[2 + (unsigned)rand_r(&seed) % QSIZE],
				 (uint16_t)(rand_r(&seed) % (QSIZE + 1)), __ATOMIC_RELAXED);
		/* mostly no more outstanding than the queue holds */
		uint16_t used_idx = __atomic_load_n(used16(2), __ATOMIC_ACQUIRE);
		uint16_t idx = __atomic_load_n(&avail[1], __ATOMIC_RELAXED);
		if ((uint16_t)(idx - used_idx) < QSIZE || rand_r(&seed) % 65536 == 0)
			__atomic_store_n(&avail[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	}
	return NULL;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Until both outcomes were seen often, or 3 s on a starved machine. */
static bool enough(unsigned ok, unsigned errs, const struct timespec *start)
{
	return (ok >= 1000 && errs >= 1000) || elapsed_ms(start) > 3000;
}

/* The rings change under the device's feet (a second vCPU, kvm): every
 * descriptor is copied once and the copy checked, so what a pop returns
 * lies in RAM however the guest races it. */
static void test_guest_rewrites_ring_meanwhile(void)
{
	pthread_t t;
	struct virtq_req *r = virtq_req_new(64);
	unsigned ok = 0, errs = 0, enables = 0;
	struct timespec start;

	memset(fake_guest_ram_host(&g, DESC), 0, 0x4000);
	atomic_store(&stop_scribbling, false);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, scribble, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		virtq_init(&q, &g.mem, QSIZE);
		virtq_set_addrs(&q, DESC, AVAIL, USED);
		CU_ASSERT_EQUAL(virtq_enable(&q, VQ_ALL_FEATURES), 0);
		enables++;
		/* a driver starting over: nothing outstanding */
		q.last_avail = q.used_idx = __atomic_load_n(avail16(1), __ATOMIC_ACQUIRE);
		__atomic_store_n(used16(2), q.used_idx, __ATOMIC_RELEASE);
		while (q.ready && !enough(ok, errs, &start)) {
			int res = virtq_pop(&q, r);
			if (res < 0) {
				errs++;
				if (virtq_err_has_head(res))
					virtq_push(&q, r, 0);	/* as a device does */
				continue;
			}
			if (res == 0)
				continue;
			ok++;
			for (unsigned k = 0; k < r->nr_out + r->nr_in; k++) {
				uint8_t *b = r->iov[k].iov_base;
				CU_ASSERT_FATAL(b >= g.backing &&
						b + r->iov[k].iov_len <= g.backing + g.map.memfd_size);
				CU_ASSERT_FATAL(b == dma_ptr(&g.mem, r->gpa[k], r->iov[k].iov_len, false));
			}
			virtq_push(&q, r, 1);
			virtq_should_notify(&q);
		}
	} while (!enough(ok, errs, &start));
	atomic_store(&stop_scribbling, true);
	pthread_join(t, NULL);
	virtq_req_free(r);
	printf("(%u chains, %u refused, %u enables, %ld ms) ", ok, errs, enables, elapsed_ms(&start));
	CU_ASSERT(ok > 0);
	CU_ASSERT(errs > 0);
}

UNIT_SUITE(virtqueue_random, vq_suite_setup, vq_suite_teardown,
	   UNIT_TEST(test_random_rings),
	   UNIT_TEST(test_guest_rewrites_ring_meanwhile))

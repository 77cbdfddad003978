/*
 * A virtio-blk request's whole way without the PCI transport: chains in
 * fake guest RAM, popped and parsed (virtio_blk_req.c), run by the disk
 * pool's workers on an undoable disk (block_aio.c, block_overlay.c), the
 * pool's eventfd watched through device_env.watch_fd (fake_poll_all
 * serves it as vm.c does), completed, pushed and notified on this thread.
 * Every DMA write is announced from this thread, never a worker's.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "fake_device_env.h"
#include "fake_guest_ram.h"
#include "block/block_io.h"
#include "devices/virtio/virtio_blk_req.h"

#define MiB (1ull << 20)
#define QN 128		/* 3 descriptors a request */
#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define HDRS 0x20000ull		/* request i's header at HDRS + 16 i */
#define STATUSES 0x30000ull	/* and its status byte at STATUSES + i */
#define DATA 0x100000ull	/* and its 4 KiB at DATA + 4096 i */
#define NREQ 24			/* 12 writes, a flush, 11 reads of the same */

struct flow {
	struct fake_env env;
	struct fake_guest_ram ram;
	struct virtq q;
	struct vblk_disk disk;
	struct block_aio *aio;
	struct vblk_req *req[NREQ];
	struct virtq_req *vq[NREQ];
	unsigned completed, interrupts, off_thread_writes;
	pthread_t vcpu;
};

static struct flow *F;

static void announce(void *ctx, uint64_t gpa, uint64_t len)
{
	if (!pthread_equal(pthread_self(), F->vcpu))
		F->off_thread_writes++;
}

static void finish(struct block_aio_req *a)
{
	struct vblk_req *r = a->opaque;

	virtq_push(&F->q, r->vq, vblk_finish(r, a->result));
	F->completed++;
	if (virtq_should_notify(&F->q))
		F->interrupts++;
}

static void pool_ready(void *opaque)
{
	block_aio_complete(opaque);
}

static void chain(unsigned i, uint32_t type, uint64_t sector, bool with_data)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { type, 0, sector };
	uint16_t d = (uint16_t)(3 * i);
	struct virtq_desc desc[3] = {
		{ HDRS + 16 * i, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1) },
		{ DATA + 4096ull * i, 4096, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2) },
		{ STATUSES + i, 1, VIRTQ_DESC_F_WRITE, 0 },
	};
	if (type == VIRTIO_BLK_T_IN)
		desc[1].flags |= VIRTQ_DESC_F_WRITE;
	if (!with_data) {
		desc[0].next = (uint16_t)(d + 2);
		desc[1] = desc[2];
	}
	memcpy(fake_guest_ram_host(&F->ram, HDRS + 16 * i), &h, sizeof(h));
	memcpy(fake_guest_ram_host(&F->ram, DESC + 16ull * d), desc, sizeof(desc));
	if (!with_data)	/* the status descriptor is d + 1 then */
		((struct virtq_desc *)fake_guest_ram_host(&F->ram, DESC + 16ull * d))->next =
			(uint16_t)(d + 1);
	uint16_t *avail = (uint16_t *)fake_guest_ram_host(&F->ram, AVAIL);
	avail[2 + avail[1] % QN] = d;
	__atomic_store_n(&avail[1], (uint16_t)(avail[1] + 1), __ATOMIC_RELEASE);
}

/* The device's notify handler: pop everything, submit or answer. */
static void notified(void)
{
	for (unsigned n = 0;; n++) {
		struct vblk_req *r = F->req[n % NREQ];
		int res = virtq_pop(&F->q, F->vq[n % NREQ]);
		if (res == 0)
			return;
		CU_ASSERT_EQUAL_FATAL(res, 1);
		CU_ASSERT_EQUAL_FATAL(vblk_parse(&F->disk, F->vq[n % NREQ], r), VBLK_SUBMIT);
		r->aio.done = finish;
		r->aio.opaque = r;
		block_aio_submit(F->aio, &r->aio);
	}
}

static void test_requests_through_the_pool(void)
{
	char dir[] = "/tmp/hyvm-flow-XXXXXX", base[64], err[256];
	struct flow f = { 0 };

	F = &f;
	f.vcpu = pthread_self();
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(base, sizeof(base), "%s/disk.img", dir);
	int fd = open(base, O_RDWR | O_CREAT, 0644);
	CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, 4 * MiB) == 0);
	close(fd);
	CU_ASSERT_FATAL(fake_env_init(&f.env, 16 * MiB) == 0);
	CU_ASSERT_FATAL(fake_guest_ram_init(&f.ram, 16 * MiB, false) == 0);
	f.ram.mem.written = announce;
	f.env.env.mem = f.ram.mem;
	struct block_open_opts o = { .snapshot = true };
	f.disk.bd = block_open(base, &o, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.disk.bd);
	f.disk.capacity = vblk_capacity(f.disk.bd);
	f.aio = block_aio_new(3, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.aio);
	CU_ASSERT_EQUAL(f.env.env.watch_fd(f.env.env.watch_ctx, block_aio_fd(f.aio),
					   pool_ready, f.aio), 0);
	for (unsigned i = 0; i < NREQ; i++) {
		f.req[i] = vblk_req_new(4);
		f.vq[i] = virtq_req_new(4);
	}
	virtq_init(&f.q, &f.env.env.mem, QN);
	virtq_set_addrs(&f.q, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL_FATAL(virtq_enable(&f.q, 1ull << VIRTIO_F_EVENT_IDX), 0);

	/* 12 writes of 8 sectors each, a flush, then reads of 11 of them */
	for (unsigned i = 0; i < 12; i++) {
		memset(fake_guest_ram_host(&f.ram, DATA + 4096ull * i), 0x40 + (int)i, 4096);
		chain(i, VIRTIO_BLK_T_OUT, 8ull * i * 3, true);
	}
	chain(12, VIRTIO_BLK_T_FLUSH, 0, false);
	notified();
	struct pollfd p = { .fd = block_aio_fd(f.aio), .events = POLLIN };
	for (int guard = 0; f.completed < 13 && guard < 500; guard++) {
		poll(&p, 1, 10);	/* the halted guest's sleep */
		fake_poll_all(&f.env);	/* the VMM between runs */
	}
	CU_ASSERT_EQUAL(f.completed, 13);
	for (unsigned i = 13; i < NREQ; i++)
		chain(i, VIRTIO_BLK_T_IN, 8ull * (i - 13) * 3, true);
	notified();
	for (int guard = 0; f.completed < NREQ && guard < 500; guard++) {
		poll(&p, 1, 10);
		fake_poll_all(&f.env);
	}
	CU_ASSERT_EQUAL(f.completed, NREQ);
	for (unsigned i = 0; i < NREQ; i++)
		CU_ASSERT_EQUAL(*fake_guest_ram_host(&f.ram, STATUSES + i), VIRTIO_BLK_S_OK);
	for (unsigned i = 13; i < NREQ; i++) {
		uint8_t *got = fake_guest_ram_host(&f.ram, DATA + 4096ull * i);
		CU_ASSERT(got[0] == 0x40 + (int)(i - 13) && got[4095] == 0x40 + (int)(i - 13));
	}
	CU_ASSERT_EQUAL(*(uint16_t *)fake_guest_ram_host(&f.ram, USED + 2), NREQ);
	CU_ASSERT(f.interrupts >= 1);
	CU_ASSERT_EQUAL(f.off_thread_writes, 0);
	/* the base is untouched: the writes went to the overlay */
	uint8_t b[4096], zeros[4096] = { 0 };
	fd = open(base, O_RDONLY);
	CU_ASSERT(block_pread_full(fd, b, 4096, 0) == 0 && memcmp(b, zeros, 4096) == 0);
	close(fd);

	f.env.env.unwatch_fd(f.env.env.watch_ctx, block_aio_fd(f.aio));
	block_aio_free(f.aio);
	block_close(f.disk.bd);
	for (unsigned i = 0; i < NREQ; i++) {
		vblk_req_free(f.req[i]);
		virtq_req_free(f.vq[i]);
	}
	fake_guest_ram_fini(&f.ram);
	fake_env_fini(&f.env);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT(system(cmd) == 0);
}

UNIT_SUITE(virtio_blk_flow, NULL, NULL,
	   UNIT_TEST(test_requests_through_the_pool))

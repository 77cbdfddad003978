/*
 * virtio-blk requests from a real virtqueue in fake guest RAM to a raw
 * image file and back: every type, and the refusals of 5.2.6.2 (ranges,
 * lengths, read-only, unknown types, unsupported flags, missing status).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "fake_guest_ram.h"
#include "block/block_io.h"
#include "devices/virtio/virtio_blk_req.h"

#define MiB (1ull << 20)
#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define HDR 0x100000ull
#define DATA 0x101000ull
#define STATUS 0x108000ull
#define DISK_SECTORS 64

static struct fake_guest_ram g;
static struct virtq q;
static struct virtq_req *vq;
static struct vblk_req *r;
static struct vblk_disk d;
static char path[] = "/tmp/hyvm-vblk-XXXXXX";
static unsigned nd;	/* descriptors of the chain being built */

static int setup(void)
{
	char err[256];
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, DISK_SECTORS * 512) < 0)
		return -1;
	close(fd);
	if (fake_guest_ram_init(&g, 16 * MiB, false) < 0)
		return -1;
	vq = virtq_req_new(8);
	r = vblk_req_new(8);
	d.bd = block_raw_open(path, false, err, sizeof(err));
	return vq && r && d.bd ? 0 : -1;
}

static int teardown(void)
{
	block_close(d.bd);
	unlink(path);
	virtq_req_free(vq);
	vblk_req_free(r);
	fake_guest_ram_fini(&g);
	return 0;
}

static void fresh_disk(bool readonly, bool discard)
{
	struct block_dev *bd = d.bd;

	memset(&d, 0, sizeof(d));
	d.bd = bd;
	d.capacity = vblk_capacity(bd);
	d.readonly = readonly;
	d.discard = d.write_zeroes = discard;
	d.max_discard_sectors = d.max_write_zeroes_sectors = 16;
	memcpy(d.id, "hyvm-test-disk-0001x", VIRTIO_BLK_ID_BYTES);
	memset(fake_guest_ram_host(&g, DESC), 0, 0x3000);
	virtq_init(&q, &g.mem, 16);
	virtq_set_addrs(&q, DESC, AVAIL, USED);
	CU_ASSERT_EQUAL_FATAL(virtq_enable(&q, 0), 0);
	nd = 0;
}

static void add(uint64_t addr, uint32_t len, bool writable)
{
	struct virtq_desc desc = { addr, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0 };

	if (nd) {	/* link the previous one to this */
		struct virtq_desc *prev = (struct virtq_desc *)fake_guest_ram_host(&g, DESC + 16 * (nd - 1));
		prev->flags |= VIRTQ_DESC_F_NEXT;
		prev->next = (uint16_t)nd;
	}
	memcpy(fake_guest_ram_host(&g, DESC + 16 * nd), &desc, sizeof(desc));
	nd++;
}

static void header(uint32_t type, uint64_t sector)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { type, 0, sector };

	memcpy(fake_guest_ram_host(&g, HDR), &h, sizeof(h));
	add(HDR, sizeof(h), false);
}

static uint8_t *status_byte(void)
{
	return fake_guest_ram_host(&g, STATUS);
}

/* Makes the chain available, pops, parses, runs it on the disk as the
 * pool would, finishes and pushes; returns the parse result and the used
 * length in *used. */
static int run(uint32_t *used)
{
	uint16_t *avail = (uint16_t *)fake_guest_ram_host(&g, AVAIL);

	*status_byte() = 0xee;
	g.nr_written = 0;
	avail[2 + avail[1] % 16] = 0;
	avail[1]++;
	nd = 0;
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, vq), 1);
	int st = vblk_parse(&d, vq, r);
	uint32_t len = 0;
	if (st == VBLK_SUBMIT)
		len = vblk_finish(r, block_aio_run(&r->aio));
	else if (st >= 0)
		len = vblk_used_len(r);
	virtq_push(&q, vq, len);
	*used = len;
	return st;
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	CU_ASSERT(block_pread_full(fd, buf, len, off) == 0);
	close(fd);
}

static void test_write_then_read(void)
{
	uint8_t buf[1024];
	uint32_t used;

	fresh_disk(false, false);
	memset(fake_guest_ram_host(&g, DATA), 0x5a, 1024);
	header(VIRTIO_BLK_T_OUT, 4);
	add(DATA, 700, false);		/* the data split unevenly */
	add(DATA + 700, 324, false);
	add(STATUS, 1, true);
	CU_ASSERT_EQUAL(run(&used), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used, 1);
	file_read(4 * 512, buf, 1024);
	CU_ASSERT_EQUAL(buf[0], 0x5a);
	CU_ASSERT_EQUAL(buf[1023], 0x5a);

	memset(fake_guest_ram_host(&g, DATA), 0, 2048);
	header(VIRTIO_BLK_T_IN, 4);
	add(DATA, 512, true);
	add(DATA + 1024, 512 + 1, true);	/* data and the status in one buffer */
	CU_ASSERT_EQUAL(run(&used), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(used, 1025);
	CU_ASSERT_EQUAL(fake_guest_ram_host(&g, DATA)[511], 0x5a);
	CU_ASSERT_EQUAL(fake_guest_ram_host(&g, DATA + 1024)[511], 0x5a);
	CU_ASSERT_EQUAL(fake_guest_ram_host(&g, DATA + 1024)[512], VIRTIO_BLK_S_OK);
	/* what was read was announced to the engine */
	CU_ASSERT(fake_guest_ram_was_written(&g, DATA, 512));

	header(VIRTIO_BLK_T_FLUSH, 0);
	add(STATUS, 1, true);
	CU_ASSERT_EQUAL(run(&used), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(r->aio.op, BLOCK_FLUSH);
}

static void test_get_id(void)
{
	uint32_t used;

	fresh_disk(true, false);
	header(VIRTIO_BLK_T_GET_ID, 0);
	add(DATA, VIRTIO_BLK_ID_BYTES, true);
	add(STATUS, 1, true);
	CU_ASSERT_EQUAL(run(&used), VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(used, VIRTIO_BLK_ID_BYTES + 1);
	CU_ASSERT_EQUAL(memcmp(fake_guest_ram_host(&g, DATA), "hyvm-test-disk-0001x", 20), 0);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_OK);
}

/* A request refused with status want; the file's first 8 sectors and the
 * refusal counters tell whether anything was written. */
static void expect_refusal(uint8_t want)
{
	uint8_t before[4096], after[4096];
	uint32_t used;
	uint64_t n = d.ioerr + d.unsupp;

	file_read(0, before, sizeof(before));
	CU_ASSERT_EQUAL(run(&used), want);
	CU_ASSERT_EQUAL(*status_byte(), want);
	CU_ASSERT_EQUAL(used, 1);
	/* the status byte is announced even where used.len does not reach it */
	CU_ASSERT(fake_guest_ram_was_written(&g, STATUS, 1));
	CU_ASSERT_EQUAL(d.ioerr + d.unsupp, n + 1);
	file_read(0, after, sizeof(after));
	CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
}

static void test_refusals(void)
{
	fresh_disk(false, false);
	header(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1);	/* runs past the end */
	add(DATA, 1024, false);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, UINT64_MAX);		/* sector + count wraps */
	add(DATA, 512, true);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_OUT, 0);			/* not whole sectors */
	add(DATA, 500, false);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, 0);			/* readable data on a read */
	add(DATA, 512, false);
	add(DATA + 512, 512, true);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_OUT, 0);			/* writable data on a write */
	add(DATA, 512, false);
	add(DATA + 512, 512, true);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	add(HDR, 8, false);				/* half a header */
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(99, 0);					/* no such type */
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_UNSUPP);
	header(VIRTIO_BLK_T_DISCARD, 0);		/* not offered */
	add(DATA, 16, false);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_UNSUPP);

	/* read-only: writes fail and write nothing; reads work */
	fresh_disk(true, true);
	memset(fake_guest_ram_host(&g, DATA), 0x77, 512);
	header(VIRTIO_BLK_T_OUT, 0);
	add(DATA, 512, false);
	add(STATUS, 1, true);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	add(DATA, 16, false);
	add(STATUS, 1, true);
	memset(fake_guest_ram_host(&g, DATA), 0, 16);
	expect_refusal(VIRTIO_BLK_S_IOERR);

	/* no byte to put a status in: the device can only return the chain */
	fresh_disk(false, false);
	header(VIRTIO_BLK_T_FLUSH, 0);
	uint32_t used;
	CU_ASSERT_EQUAL(run(&used), -1);
	CU_ASSERT_EQUAL(d.no_status, 1);
	CU_ASSERT_EQUAL(used, 0);
	/* the backend failing: IOERR, no data claimed */
	header(VIRTIO_BLK_T_IN, 0);
	add(DATA, 512, true);
	add(STATUS, 1, true);
	uint16_t *avail = (uint16_t *)fake_guest_ram_host(&g, AVAIL);
	avail[2 + avail[1] % 16] = 0;
	avail[1]++;
	nd = 0;
	CU_ASSERT_EQUAL_FATAL(virtq_pop(&q, vq), 1);
	CU_ASSERT_EQUAL(vblk_parse(&d, vq, r), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(vblk_finish(r, -EIO), 1);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_IOERR);
}

static void segment(uint64_t sector, uint32_t count, uint32_t flags)
{
	struct { uint64_t sector; uint32_t count, flags; } s = { sector, count, flags };

	memcpy(fake_guest_ram_host(&g, DATA), &s, sizeof(s));
}

static void test_discard_and_write_zeroes(void)
{
	uint8_t buf[2048], zeros[2048] = { 0 };
	uint32_t used;

	fresh_disk(false, true);
	memset(buf, 0x99, sizeof(buf));
	int fd = open(path, O_WRONLY);
	CU_ASSERT(block_pwrite_full(fd, buf, sizeof(buf), 8 * 512) == 0);
	close(fd);
	header(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(8, 4, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CU_ASSERT_EQUAL(run(&used), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_OK);
	file_read(8 * 512, buf, sizeof(buf));
	CU_ASSERT_EQUAL(memcmp(buf, zeros, sizeof(buf)), 0);

	header(VIRTIO_BLK_T_DISCARD, 0);
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(0, 16, 0);
	CU_ASSERT_EQUAL(run(&used), VBLK_SUBMIT);
	CU_ASSERT_EQUAL(*status_byte(), VIRTIO_BLK_S_OK);

	header(VIRTIO_BLK_T_DISCARD, 0);		/* unmap on a discard */
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	expect_refusal(VIRTIO_BLK_S_UNSUPP);
	header(VIRTIO_BLK_T_WRITE_ZEROES, 0);		/* reserved flags */
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(0, 1, 0x80);
	expect_refusal(VIRTIO_BLK_S_UNSUPP);
	header(VIRTIO_BLK_T_DISCARD, 0);		/* beyond the maximum */
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(0, 17, 0);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_WRITE_ZEROES, 0);		/* past the end */
	add(DATA, 16, false);
	add(STATUS, 1, true);
	segment(DISK_SECTORS - 2, 4, 0);
	expect_refusal(VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_DISCARD, 0);		/* two segments */
	add(DATA, 32, false);
	add(STATUS, 1, true);
	segment(0, 1, 0);
	expect_refusal(VIRTIO_BLK_S_IOERR);
}

UNIT_SUITE(virtio_blk_req, setup, teardown,
	   UNIT_TEST(test_write_then_read),
	   UNIT_TEST(test_get_id),
	   UNIT_TEST(test_refusals),
	   UNIT_TEST(test_discard_and_write_zeroes))

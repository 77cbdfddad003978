/*
 * virtio-net's device logic (devices/virtio/virtio_net_*.c) driven as a
 * driver would: rings and buffers written into fake guest RAM by hand,
 * the queues enabled, the device's tx/rx calls made as the transport
 * will. Against a recording backend (frames exactly as sent, headers and
 * num_buffers with and without MRG_RXBUF, frames too big, bad chains),
 * then against the real slirp backend: a DHCP exchange through the rings.
 */
#include <poll.h>
#include <string.h>
#include <time.h>
#include "unit.h"
#include "fake_guest_ram.h"
#include "net_frames.h"
#include "devices/virtio/virtio_net.h"

#define MiB (1ull << 20)
#define QSIZE 16
#define BIT(n) (1ull << (n))
#define HDR ((unsigned)sizeof(struct virtio_net_hdr))

/* Where the driver put each queue's rings, and its buffers. */
static const uint64_t ring_base[2] = { 0x10000, 0x20000 };
#define DESC(qi)	(ring_base[qi])
#define AVAIL(qi)	(ring_base[qi] + 0x1000)
#define USED(qi)	(ring_base[qi] + 0x2000)
#define BUF		0x100000ull

static struct fake_guest_ram g;
static struct virtio_net n;
static struct virtq qs[2];	/* the transport's queues (virtio_dev's vq[]) */
static const uint8_t nic_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A backend that records what the device sends; frames for the guest are
 * pushed into its queue by the test. */
static struct {
	struct net_backend be;
	uint8_t sent[4][2048];
	size_t sent_len[4];
	unsigned nr_sent;
} rec;

static int rec_send(struct net_backend *be, const void *frame, size_t len)
{
	if (rec.nr_sent < 4 && len <= sizeof(rec.sent[0])) {
		memcpy(rec.sent[rec.nr_sent], frame, len);
		rec.sent_len[rec.nr_sent] = len;
	}
	rec.nr_sent++;
	return 0;
}

static const struct net_backend_ops rec_ops = { .send = rec_send };

static void set_desc(unsigned qi, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy(fake_guest_ram_host(&g, DESC(qi) + 16ull * i), &d, sizeof(d));
}

static void make_available(unsigned qi, uint16_t head)
{
	uint16_t *avail = (uint16_t *)fake_guest_ram_host(&g, AVAIL(qi));
	uint16_t idx = avail[1];

	avail[2 + idx % QSIZE] = head;
	avail[1] = idx + 1;
}

static uint16_t used_idx(unsigned qi)
{
	return *(uint16_t *)fake_guest_ram_host(&g, USED(qi) + 2);
}

static uint32_t used_len(unsigned qi, unsigned i)
{
	uint32_t v;

	memcpy(&v, fake_guest_ram_host(&g, USED(qi) + 4 + 8ull * i + 4), 4);
	return v;
}

/* The device at DRIVER_OK with these features on backend be. */
static void start(struct net_backend *be, uint64_t features)
{
	memset(fake_guest_ram_host(&g, ring_base[0]), 0, 0x20000);
	for (unsigned qi = 0; qi < 2; qi++)
		virtq_init(&qs[qi], &g.mem, VIRTIO_NET_QUEUE_SIZE);
	CU_ASSERT_EQUAL_FATAL(virtio_net_init(&n, &qs[VIRTIO_NET_RXQ], &qs[VIRTIO_NET_TXQ], be,
					      nic_mac, 1500), 0);
	CU_ASSERT_EQUAL_FATAL(virtio_net_set_features(&n, features), 0);
	for (unsigned qi = 0; qi < 2; qi++) {
		virtq_set_size(&qs[qi], QSIZE);
		virtq_set_addrs(&qs[qi], DESC(qi), AVAIL(qi), USED(qi));
		CU_ASSERT_EQUAL_FATAL(virtq_enable(&qs[qi], features), 0);
	}
}

static void rec_start(uint64_t features)
{
	memset(&rec, 0, sizeof(rec));
	rec.be.ops = &rec_ops;
	rec.be.kind = "recorder";
	CU_ASSERT_EQUAL_FATAL(net_rx_queue_init(&rec.be.rx), 0);
	start(&rec.be, features);
}

static void rec_stop(void)
{
	virtio_net_fini(&n);
	net_rx_queue_fini(&rec.be.rx);
}

static int suite_setup(void)
{
	return fake_guest_ram_init(&g, 16 * MiB, false);
}

static int suite_teardown(void)
{
	fake_guest_ram_fini(&g);
	return 0;
}

static void test_features_and_config(void)
{
	uint8_t mac[6], b[4];
	uint16_t v;

	rec_start(BIT(VIRTIO_F_VERSION_1));
	uint64_t f = virtio_net_device_features(&n);
	CU_ASSERT_TRUE((f & BIT(VIRTIO_F_VERSION_1)) != 0);
	CU_ASSERT_TRUE((f & BIT(VIRTIO_NET_F_MAC)) != 0);
	CU_ASSERT_TRUE((f & BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0);
	CU_ASSERT_FALSE((f & BIT(VIRTIO_NET_F_CSUM)) != 0);	/* no offloads */
	CU_ASSERT_EQUAL(virtio_net_set_features(&n, BIT(VIRTIO_NET_F_MAC)), -1);	/* legacy */
	CU_ASSERT_EQUAL(virtio_net_set_features(&n, BIT(VIRTIO_F_VERSION_1) |
						    BIT(VIRTIO_NET_F_CSUM)), -1);
	CU_ASSERT_EQUAL(sizeof(struct virtio_net_config), 24);	/* 5.1.4 */
	CU_ASSERT_EQUAL(HDR, 12);				/* 5.1.6 */
	virtio_net_config_read(&n, 0, mac, 6);
	CU_ASSERT_EQUAL(memcmp(mac, nic_mac, 6), 0);
	virtio_net_config_read(&n, 6, &v, 2);
	CU_ASSERT_EQUAL(v, VIRTIO_NET_S_LINK_UP);
	virtio_net_config_read(&n, 8, &v, 2);
	CU_ASSERT_EQUAL(v, 1);		/* max_virtqueue_pairs */
	virtio_net_config_read(&n, 10, &v, 2);
	CU_ASSERT_EQUAL(v, 1500);	/* mtu */
	virtio_net_config_read(&n, 22, b, 4);	/* two bytes past the end read 0 */
	CU_ASSERT_EQUAL(b[2] | b[3], 0);
	rec_stop();
}

/* Header and frame split over three readable buffers: the backend gets the
 * frame alone; the chain comes back with 0 bytes written. */
static void test_tx_split_chain(void)
{
	uint8_t frame[60];
	struct virtio_net_hdr hdr = { 0 };

	rec_start(BIT(VIRTIO_F_VERSION_1));
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	memcpy(fake_guest_ram_host(&g, BUF), &hdr, HDR);
	memcpy(fake_guest_ram_host(&g, BUF + 0x1000), frame, 20);
	memcpy(fake_guest_ram_host(&g, BUF + 0x2000), frame + 20, 40);
	set_desc(VIRTIO_NET_TXQ, 0, BUF, HDR, VIRTQ_DESC_F_NEXT, 1);
	set_desc(VIRTIO_NET_TXQ, 1, BUF + 0x1000, 20, VIRTQ_DESC_F_NEXT, 2);
	set_desc(VIRTIO_NET_TXQ, 2, BUF + 0x2000, 40, 0, 0);
	make_available(VIRTIO_NET_TXQ, 0);
	CU_ASSERT_TRUE(virtio_net_tx(&n));	/* the used ring moved */
	CU_ASSERT_TRUE(virtq_should_notify(&qs[VIRTIO_NET_TXQ]));	/* nothing suppresses it */
	CU_ASSERT_EQUAL_FATAL(rec.nr_sent, 1);
	CU_ASSERT_EQUAL(rec.sent_len[0], 60);
	CU_ASSERT_EQUAL(memcmp(rec.sent[0], frame, 60), 0);
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_TXQ), 1);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_TXQ, 0), 0);
	/* a chain with only a header, and one asking for a checksum offload
	 * that was not offered: both returned, neither sent */
	set_desc(VIRTIO_NET_TXQ, 3, BUF, HDR, 0, 0);
	make_available(VIRTIO_NET_TXQ, 3);
	hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	memcpy(fake_guest_ram_host(&g, BUF + 0x3000), &hdr, HDR);
	memcpy(fake_guest_ram_host(&g, BUF + 0x3000 + HDR), frame, 60);
	set_desc(VIRTIO_NET_TXQ, 4, BUF + 0x3000, HDR + 60, 0, 0);
	make_available(VIRTIO_NET_TXQ, 4);
	virtio_net_tx(&n);
	CU_ASSERT_EQUAL(rec.nr_sent, 1);
	CU_ASSERT_EQUAL(n.stats.tx_bad_chains, 2);
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_TXQ), 3);
	rec_stop();
}

/* Without MRG_RXBUF: one chain per frame, num_buffers 1; a frame larger
 * than the chain is dropped and the chain kept for the next one. */
static void test_rx_one_chain_per_frame(void)
{
	uint8_t frame[1514], small[100];
	struct virtio_net_hdr hdr;

	rec_start(BIT(VIRTIO_F_VERSION_1));
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i ^ 0x5a);
	memcpy(small, frame, sizeof(small));
	set_desc(VIRTIO_NET_RXQ, 0, BUF, 1000, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 0);
	net_rx_queue_push(&rec.be.rx, frame, sizeof(frame));	/* too big for 1000 */
	net_rx_queue_push(&rec.be.rx, small, sizeof(small));
	CU_ASSERT_TRUE(virtio_net_rx(&n));
	CU_ASSERT_EQUAL(n.stats.rx_too_big, 1);
	CU_ASSERT_EQUAL(n.stats.rx_frames, 1);
	CU_ASSERT_EQUAL_FATAL(used_idx(VIRTIO_NET_RXQ), 1);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_RXQ, 0), HDR + sizeof(small));
	memcpy(&hdr, fake_guest_ram_host(&g, BUF), HDR);
	CU_ASSERT_EQUAL(hdr.num_buffers, 1);
	CU_ASSERT_EQUAL(hdr.flags, 0);
	CU_ASSERT_EQUAL(memcmp(fake_guest_ram_host(&g, BUF + HDR), small, sizeof(small)), 0);
	CU_ASSERT_TRUE(fake_guest_ram_was_written(&g, BUF, HDR + sizeof(small)));
	/* no buffers: the next frame waits in the backend, not lost */
	net_rx_queue_push(&rec.be.rx, small, sizeof(small));
	CU_ASSERT_FALSE(virtio_net_rx(&n));
	CU_ASSERT_PTR_NOT_NULL(net_backend_rx_peek(&rec.be));
	CU_ASSERT_TRUE(n.rx_waiting_for_buffers);
	set_desc(VIRTIO_NET_RXQ, 1, BUF + 0x1000, 2048, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 1);
	CU_ASSERT_TRUE(virtio_net_rx(&n));
	CU_ASSERT_PTR_NULL(net_backend_rx_peek(&rec.be));
	CU_ASSERT_FALSE(n.rx_waiting_for_buffers);
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_RXQ), 2);
	rec_stop();
}

/* MRG_RXBUF: a 1514-byte frame over three 600-byte chains, num_buffers 3
 * in the first header, the bytes continuing across the chains. */
static void test_rx_merged_buffers(void)
{
	uint8_t frame[1514], got[1514];
	struct virtio_net_hdr hdr;

	rec_start(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 13 + 1);
	for (unsigned i = 0; i < 4; i++) {
		set_desc(VIRTIO_NET_RXQ, i, BUF + 0x1000ull * i, 600, VIRTQ_DESC_F_WRITE, 0);
		make_available(VIRTIO_NET_RXQ, (uint16_t)i);
	}
	net_rx_queue_push(&rec.be.rx, frame, sizeof(frame));
	CU_ASSERT_TRUE(virtio_net_rx(&n));
	CU_ASSERT_EQUAL_FATAL(used_idx(VIRTIO_NET_RXQ), 3);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_RXQ, 0), 600);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_RXQ, 1), 600);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_RXQ, 2), HDR + 1514 - 1200);
	memcpy(&hdr, fake_guest_ram_host(&g, BUF), HDR);
	CU_ASSERT_EQUAL(hdr.num_buffers, 3);
	memcpy(got, fake_guest_ram_host(&g, BUF + HDR), 600 - HDR);
	memcpy(got + 600 - HDR, fake_guest_ram_host(&g, BUF + 0x1000), 600);
	memcpy(got + 1200 - HDR, fake_guest_ram_host(&g, BUF + 0x2000), 1514 - 1200 + HDR);
	CU_ASSERT_EQUAL(memcmp(got, frame, sizeof(frame)), 0);
	/* the fourth chain was not needed: still the driver's, unpopped or held */
	CU_ASSERT_EQUAL(n.stats.rx_frames, 1);
	/* a chain without room for a header goes back at once, counted */
	set_desc(VIRTIO_NET_RXQ, 5, BUF + 0x8000, 4, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 5);
	net_rx_queue_push(&rec.be.rx, frame, sizeof(frame));
	virtio_net_rx(&n);
	CU_ASSERT_EQUAL(n.stats.rx_bad_chains, 1);
	CU_ASSERT_PTR_NOT_NULL(net_backend_rx_peek(&rec.be));	/* 600 + nothing: waits */
	rec_stop();
}

static uint32_t used_id(unsigned qi, unsigned i)
{
	uint32_t v;

	memcpy(&v, fake_guest_ram_host(&g, USED(qi) + 4 + 8ull * i), 4);
	return v;
}

/* Before a checkpoint the held receive chains go back: stepped back over
 * when they are the last popped (popped again later, the frame lands in
 * them), returned used and empty when a bad chain went back among them. */
static void test_rx_unstash(void)
{
	uint8_t frame[1514];

	memset(frame, 0x5a, sizeof(frame));
	rec_start(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 2; i++) {
		set_desc(VIRTIO_NET_RXQ, i, BUF + 0x1000ull * i, 600, VIRTQ_DESC_F_WRITE, 0);
		make_available(VIRTIO_NET_RXQ, (uint16_t)i);
	}
	net_rx_queue_push(&rec.be.rx, frame, sizeof(frame));
	CU_ASSERT_FALSE(virtio_net_rx(&n));		/* 1200 bytes: the frame waits */
	CU_ASSERT_EQUAL(n.nr_stash, 2);
	CU_ASSERT_EQUAL(qs[VIRTIO_NET_RXQ].last_avail, 2);
	CU_ASSERT_FALSE(virtio_net_rx_unstash(&n));
	CU_ASSERT_EQUAL(n.nr_stash, 0);
	CU_ASSERT_EQUAL(qs[VIRTIO_NET_RXQ].last_avail, 0);
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_RXQ), 0);
	set_desc(VIRTIO_NET_RXQ, 2, BUF + 0x2000, 600, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 2);
	CU_ASSERT_TRUE(virtio_net_rx(&n));		/* popped again: 0, 1, 2 */
	CU_ASSERT_EQUAL_FATAL(used_idx(VIRTIO_NET_RXQ), 3);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(used_id(VIRTIO_NET_RXQ, i), i);
	CU_ASSERT_EQUAL(n.stats.rx_frames, 1);
	rec_stop();

	rec_start(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF));
	set_desc(VIRTIO_NET_RXQ, 0, BUF, 600, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 0);
	set_desc(VIRTIO_NET_RXQ, 1, BUF + 0x1000, 4, VIRTQ_DESC_F_WRITE, 0);	/* bad */
	make_available(VIRTIO_NET_RXQ, 1);
	net_rx_queue_push(&rec.be.rx, frame, sizeof(frame));
	virtio_net_rx(&n);
	CU_ASSERT_EQUAL(n.nr_stash, 1);
	CU_ASSERT_EQUAL_FATAL(used_idx(VIRTIO_NET_RXQ), 1);	/* the bad one */
	CU_ASSERT_TRUE(virtio_net_rx_unstash(&n));
	CU_ASSERT_EQUAL(n.nr_stash, 0);
	CU_ASSERT_EQUAL_FATAL(used_idx(VIRTIO_NET_RXQ), 2);
	CU_ASSERT_EQUAL(used_id(VIRTIO_NET_RXQ, 1), 0);
	CU_ASSERT_EQUAL(used_len(VIRTIO_NET_RXQ, 1), 0);
	CU_ASSERT_EQUAL(qs[VIRTIO_NET_RXQ].last_avail, 2);
	rec_stop();
}

/* A card on no network: frames go nowhere, counted; nothing arrives. */
static void test_no_backend(void)
{
	struct virtio_net_hdr hdr = { 0 };

	start(NULL, BIT(VIRTIO_F_VERSION_1));
	memcpy(fake_guest_ram_host(&g, BUF), &hdr, HDR);
	memset(fake_guest_ram_host(&g, BUF + HDR), 0xab, 60);
	set_desc(VIRTIO_NET_TXQ, 0, BUF, HDR + 60, 0, 0);
	make_available(VIRTIO_NET_TXQ, 0);
	CU_ASSERT_TRUE(virtio_net_tx(&n));
	CU_ASSERT_EQUAL(n.stats.tx_dropped, 1);
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_TXQ), 1);
	set_desc(VIRTIO_NET_RXQ, 0, BUF + 0x1000, 2048, VIRTQ_DESC_F_WRITE, 0);
	make_available(VIRTIO_NET_RXQ, 0);
	CU_ASSERT_FALSE(virtio_net_rx(&n));
	CU_ASSERT_EQUAL(used_idx(VIRTIO_NET_RXQ), 0);
	virtio_net_fini(&n);
}

struct dhcp_seen { bool offer; };

/* The real slirp backend behind the device: a DHCP DISCOVER put on the
 * transmit ring comes back as an OFFER in a receive buffer. */
static void test_dhcp_through_the_rings(void)
{
	struct net_config cfg;
	char err[256];
	struct net_backend *be;
	uint8_t f[2048];
	size_t len = frame_dhcp(f, DHCP_DISCOVER, 0x4242, 0, 0);
	struct virtio_net_hdr hdr = { 0 };
	struct parsed p;
	struct timespec t0, t;

	CU_ASSERT_EQUAL_FATAL(net_config_parse("user", &cfg, err, sizeof(err)), 0);
	be = net_backend_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(be);
	start(be, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 8; i++) {
		set_desc(VIRTIO_NET_RXQ, i, BUF + 0x1000ull * i, 2048, VIRTQ_DESC_F_WRITE, 0);
		make_available(VIRTIO_NET_RXQ, (uint16_t)i);
	}
	memcpy(fake_guest_ram_host(&g, BUF + 0x10000), &hdr, HDR);
	memcpy(fake_guest_ram_host(&g, BUF + 0x10000 + HDR), f, len);
	set_desc(VIRTIO_NET_TXQ, 0, BUF + 0x10000, (uint32_t)(HDR + len), 0, 0);
	make_available(VIRTIO_NET_TXQ, 0);
	virtio_net_tx(&n);
	CU_ASSERT_EQUAL(n.stats.tx_frames, 1);
	/* as the VMM will: the backend's fd readable -> the device's rx */
	bool offer = false;
	unsigned seen = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct pollfd pfd = { .fd = net_backend_rx_fd(be), .events = POLLIN };
		poll(&pfd, 1, 100);
		virtio_net_rx(&n);
		for (; seen < used_idx(VIRTIO_NET_RXQ) && seen < 8; seen++) {
			uint32_t l = used_len(VIRTIO_NET_RXQ, seen);
			uint64_t at = BUF + 0x1000ull * seen;
			if (l > HDR && frame_parse(fake_guest_ram_host(&g, at + HDR), l - HDR, &p) &&
			    p.dhcp_type == DHCP_OFFER && p.dhcp_yiaddr == IP4(10, 0, 2, 15))
				offer = true;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!offer && t.tv_sec - t0.tv_sec < 3);
	CU_ASSERT_TRUE(offer);
	virtio_net_fini(&n);
	net_backend_destroy(be);
}

UNIT_SUITE(virtio_net, suite_setup, suite_teardown,
	   UNIT_TEST(test_features_and_config), UNIT_TEST(test_tx_split_chain),
	   UNIT_TEST(test_rx_one_chain_per_frame), UNIT_TEST(test_rx_merged_buffers),
	   UNIT_TEST(test_no_backend), UNIT_TEST(test_rx_unstash),
	   UNIT_TEST(test_dhcp_through_the_rings))

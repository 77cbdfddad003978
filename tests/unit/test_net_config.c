/*
 * --net parsing (userspace/net/net_options.c, net_hostfwd.c) against
 * QEMU's documented defaults and spellings, and the rx queue's bound and
 * eventfd level (net_rx_queue.c). Bad values' messages are checked end to
 * end by tests/cli/bad-input.sh.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include "unit.h"
#include "net/net_backend.h"

static uint32_t ip(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static int parse(const char *spec, struct net_config *cfg)
{
	char err[256];

	return net_config_parse(spec, cfg, err, sizeof(err));
}

static void test_user_defaults_are_qemus(void)
{
	struct net_config c;

	CU_ASSERT_EQUAL_FATAL(parse("user", &c), 0);
	CU_ASSERT_EQUAL(c.kind, NET_USER);
	CU_ASSERT_EQUAL(ip(c.user.net), 0x0a000200);
	CU_ASSERT_EQUAL(ip(c.user.mask), 0xffffff00);
	CU_ASSERT_EQUAL(ip(c.user.host), 0x0a000202);
	CU_ASSERT_EQUAL(ip(c.user.dns), 0x0a000203);
	CU_ASSERT_EQUAL(ip(c.user.dhcp_start), 0x0a00020f);
	CU_ASSERT_FALSE(c.user.restricted);
	CU_ASSERT_TRUE(c.user.ipv6);
	CU_ASSERT_EQUAL(c.user.nr_fwd, 0);
}

/* net= moves the derived addresses with it (.2, .3, .15), and a hostfwd
 * without a guest address goes to the DHCP start, whatever the order. */
static void test_network_moves_derived_addresses(void)
{
	struct net_config c;

	CU_ASSERT_EQUAL_FATAL(parse("user,hostfwd=::8080-:80,net=192.168.76.0/255.255.255.0,"
				    "dns=192.168.76.53,id=n0", &c), 0);
	CU_ASSERT_EQUAL(ip(c.user.host), 0xc0a84c02);
	CU_ASSERT_EQUAL(ip(c.user.dns), 0xc0a84c35);
	CU_ASSERT_EQUAL(ip(c.user.dhcp_start), 0xc0a84c0f);
	CU_ASSERT_STRING_EQUAL(c.id, "n0");
	CU_ASSERT_EQUAL_FATAL(c.user.nr_fwd, 1);
	CU_ASSERT_EQUAL(ip(c.user.fwd[0].guest_addr), 0xc0a84c0f);
	CU_ASSERT_EQUAL(c.user.fwd[0].host_addr.s_addr, INADDR_ANY);
	CU_ASSERT_FALSE(c.user.fwd[0].udp);	/* tcp when left out */
	CU_ASSERT_EQUAL(c.user.fwd[0].host_port, 8080);
	CU_ASSERT_EQUAL(c.user.fwd[0].guest_port, 80);
	CU_ASSERT_EQUAL_FATAL(parse("user,net=10.1.0.0/16", &c), 0);
	CU_ASSERT_EQUAL(ip(c.user.mask), 0xffff0000);
	CU_ASSERT_EQUAL(ip(c.user.host), 0x0a010002);
}

static void test_hostfwd_rules(void)
{
	struct net_config c;
	char s[96];

	CU_ASSERT_EQUAL_FATAL(parse("user,hostfwd=tcp:127.0.0.1:2222-:22,"
				    "hostfwd=udp:127.0.0.1:5353-10.0.2.20:53,restrict=on", &c), 0);
	CU_ASSERT_TRUE(c.user.restricted);
	CU_ASSERT_EQUAL_FATAL(c.user.nr_fwd, 2);
	net_hostfwd_format(&c.user.fwd[0], s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "tcp:127.0.0.1:2222-10.0.2.15:22");
	net_hostfwd_format(&c.user.fwd[1], s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "udp:127.0.0.1:5353-10.0.2.20:53");
	/* each malformed part refused */
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp:127.0.0.1:2222-:", &c), -1);
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp:127.0.0.1:-2222-:22", &c), -1);
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp:127.0.0.1:22x-:22", &c), -1);
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp:127.0.0.1:2222-:65536", &c), -1);
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp:127.0.0.1:2222-10.0.2.255x:22", &c), -1);
	CU_ASSERT_EQUAL(parse("user,hostfwd=tcp", &c), -1);
}

static void test_other_kinds(void)
{
	struct net_config c;

	CU_ASSERT_EQUAL(parse("none", &c), 0);
	CU_ASSERT_EQUAL(c.kind, NET_NONE);
	CU_ASSERT_EQUAL(parse("tap,ifname=tap7", &c), 0);
	CU_ASSERT_EQUAL(c.kind, NET_TAP);
	CU_ASSERT_STRING_EQUAL(c.tap.ifname, "tap7");
	CU_ASSERT_EQUAL(parse("tap,ifname=a/b", &c), -1);
	CU_ASSERT_EQUAL(parse("", &c), -1);
	CU_ASSERT_EQUAL(parse("user,net=10.0.2.0/30", &c), -1);	/* no room for .15 */
}

static bool rx_readable(struct net_rx_queue *q)
{
	struct pollfd pfd = { .fd = q->event_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static unsigned notified;
static void count_notify(void *ctx) { notified++; }

/* Bounded, in order, the eventfd readable exactly while frames wait, and
 * the notify callback once per empty -> non-empty. */
static void test_rx_queue_bound_and_level(void)
{
	struct net_rx_queue q;
	uint8_t frame[60] = { 0 };

	CU_ASSERT_EQUAL_FATAL(net_rx_queue_init(&q), 0);
	q.notify = count_notify;
	notified = 0;
	CU_ASSERT_FALSE(rx_readable(&q));
	for (unsigned i = 0; i < NET_RX_QUEUE_LEN + 5; i++) {
		frame[0] = (uint8_t)i;
		CU_ASSERT_EQUAL(net_rx_queue_push(&q, frame, sizeof(frame)), i < NET_RX_QUEUE_LEN);
	}
	CU_ASSERT_EQUAL(q.dropped, 5);
	CU_ASSERT_EQUAL(q.frames, NET_RX_QUEUE_LEN);
	CU_ASSERT_EQUAL(notified, 1);
	CU_ASSERT_TRUE(rx_readable(&q));
	for (unsigned i = 0; i < NET_RX_QUEUE_LEN; i++) {
		const struct net_frame *f = net_rx_queue_peek(&q);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(f->data[0], (uint8_t)i);
		net_rx_queue_pop(&q);
	}
	CU_ASSERT_PTR_NULL(net_rx_queue_peek(&q));
	CU_ASSERT_FALSE(rx_readable(&q));
	CU_ASSERT_FALSE(net_rx_queue_push(&q, frame, NET_FRAME_MAX + 1));
	CU_ASSERT_TRUE(net_rx_queue_push(&q, frame, sizeof(frame)));
	CU_ASSERT_EQUAL(notified, 2);
	CU_ASSERT_TRUE(rx_readable(&q));
	net_rx_queue_fini(&q);	/* frees the waiting frame */
}

/* A NIC finds the backend by QEMU's id (default net0); one id, one
 * backend; destroyed, it is gone. */
static void test_backend_found_by_id(void)
{
	struct net_config c;
	char err[256];
	struct net_backend *a, *b;

	CU_ASSERT_EQUAL_FATAL(parse("user", &c), 0);
	CU_ASSERT_STRING_EQUAL(c.id, NET_DEFAULT_ID);
	a = net_backend_create(&c, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NULL(net_backend_create(&c, err, sizeof(err)));	/* net0 again */
	CU_ASSERT_EQUAL_FATAL(parse("user,id=uplink,restrict=on", &c), 0);
	b = net_backend_create(&c, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_EQUAL(net_backend_find("net0"), a);
	CU_ASSERT_PTR_EQUAL(net_backend_find("uplink"), b);
	net_backend_destroy(a);
	CU_ASSERT_PTR_NULL(net_backend_find("net0"));
	CU_ASSERT_PTR_EQUAL(net_backend_find("uplink"), b);
	net_backend_destroy(b);
	CU_ASSERT_PTR_NULL(net_backend_find("uplink"));
	CU_ASSERT_EQUAL(parse("user,id=", &c), -1);
}

UNIT_SUITE(net_config, NULL, NULL,
	   UNIT_TEST(test_backend_found_by_id),
	   UNIT_TEST(test_user_defaults_are_qemus), UNIT_TEST(test_network_moves_derived_addresses),
	   UNIT_TEST(test_hostfwd_rules), UNIT_TEST(test_other_kinds),
	   UNIT_TEST(test_rx_queue_bound_and_level))

/*
 * --net parsing (userspace/net/net_options.c, net_hostfwd.c) against
 * QEMU's documented defaults and spellings, and the rx queue's bound and
 * eventfd level (net_rx_queue.c). Bad values' messages are checked end to
 * end by tests/cli/bad-input.sh.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* The line of /proc/self/task/TID/status that starts with key, or "". */
static void task_status(const char *tid, const char *key, char *line, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	line[0] = '\0';
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, (int)len, f))
		if (!strncmp(line, key, strlen(key)))
			break;
	if (strncmp(line, key, strlen(key)))
		line[0] = '\0';
	fclose(f);
}

/* Until the thread sleeps (in its poll): a new thread starts with every
 * signal blocked and sets its inherited mask only once it runs, so its
 * mask means something only after that (up to 2 s). */
static bool wait_sleeping(const char *tid)
{
	char line[128];

	for (int i = 0; i < 200; i++) {
		task_status(tid, "State:", line, sizeof(line));
		if (strstr(line, "S (sleeping)"))
			return true;
		usleep(10000);
	}
	return false;
}

/* Whether thread tid of this process blocks sig (/proc's SigBlk mask). */
static bool thread_blocks(const char *tid, int sig)
{
	char line[128];

	task_status(tid, "SigBlk:", line, sizeof(line));
	return line[0] && ((strtoull(line + 7, NULL, 16) >> (sig - 1)) & 1);
}

/* The backend's thread blocks the VMM's signals, so the 1 ms tick and
 * SIGINT/SIGTERM reach the vCPU thread (net_backend_start_thread). */
static void test_backend_thread_leaves_signals(void)
{
	struct net_config c;
	char err[256], self[16];
	struct net_backend *be;
	unsigned others = 0;
	struct dirent *d;
	DIR *dir;

	CU_ASSERT_EQUAL_FATAL(parse("user,id=signals", &c), 0);
	be = net_backend_create(&c, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(be);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	CU_ASSERT_FALSE(thread_blocks(self, SIGALRM));
	dir = opendir("/proc/self/task");
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || !strcmp(d->d_name, self))
			continue;
		others++;
		CU_ASSERT_TRUE(wait_sleeping(d->d_name));
		CU_ASSERT_TRUE(thread_blocks(d->d_name, SIGALRM));
		CU_ASSERT_TRUE(thread_blocks(d->d_name, SIGINT));
		CU_ASSERT_TRUE(thread_blocks(d->d_name, SIGTERM));
	}
	closedir(dir);
	CU_ASSERT_TRUE(others >= 1);
	net_backend_destroy(be);
}

UNIT_SUITE(net_config, NULL, NULL,
	   UNIT_TEST(test_backend_thread_leaves_signals),
	   UNIT_TEST(test_backend_found_by_id),
	   UNIT_TEST(test_user_defaults_are_qemus), UNIT_TEST(test_network_moves_derived_addresses),
	   UNIT_TEST(test_hostfwd_rules), UNIT_TEST(test_other_kinds),
	   UNIT_TEST(test_rx_queue_bound_and_level))

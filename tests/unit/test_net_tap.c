/*
 * The tap backend against a real tap interface on this machine: the test
 * gives it 198.18.77.1/24 (RFC 2544's benchmarking range, routed nowhere)
 * and plays the guest at 198.18.77.2 behind it. The host kernel answers
 * the guest's ARP (a frame read from the tap), and a UDP frame from the
 * guest (written to the tap) reaches a host socket on 198.18.77.1. The
 * interface exists only while the backend holds it. Needs root or
 * CAP_NET_ADMIN: SKIP otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit.h"
#include "net_frames.h"
#include "net/net_backend.h"

#define HOST_IP		IP4(198, 18, 77, 1)
#define TAP_GUEST_IP	IP4(198, 18, 77, 2)

static void skip(const char *why)
{
	fprintf(stderr, "\nSKIP: tap backend test: %s\n", why);
}

static int set_addr(int s, const char *ifname, unsigned long req, uint32_t addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(addr);
	return ioctl(s, req, &ifr);
}

/* 198.18.77.1/24 on the tap, and up. */
static int configure(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s >= 0 && set_addr(s, ifname, SIOCSIFADDR, HOST_IP) == 0 &&
	    set_addr(s, ifname, SIOCSIFNETMASK, IP4(255, 255, 255, 0)) == 0 &&
	    ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
	return r;
}

static bool is_arp_reply(const struct parsed *p, void *arg)
{
	return p->ethertype == ETH_TYPE_ARP && p->arp_op == 2 && p->arp_spa == HOST_IP;
}

static void test_tap_arp_and_udp(void)
{
	struct net_config cfg;
	char spec[64], err[256];
	struct net_backend *be;
	uint8_t f[2048], r[NET_FRAME_MAX], host_mac[6];
	struct parsed p;
	int ufd;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(HOST_IP) };
	socklen_t alen = sizeof(a);
	char got[16] = { 0 };

	snprintf(spec, sizeof(spec), "tap,ifname=hyvmt%u", (unsigned)getpid() % 100000);
	CU_ASSERT_EQUAL_FATAL(net_config_parse(spec, &cfg, err, sizeof(err)), 0);
	be = net_backend_create(&cfg, err, sizeof(err));
	if (!be) {
		skip(err);	/* not root, or no /dev/net/tun here */
		return;
	}
	if (configure(cfg.tap.ifname) < 0) {
		snprintf(err, sizeof(err), "cannot configure %s: %s", cfg.tap.ifname, strerror(errno));
		skip(err);
		net_backend_destroy(be);
		return;
	}
	CU_ASSERT_EQUAL(net_backend_send(be, f, frame_arp_request(f, TAP_GUEST_IP, HOST_IP)), 0);
	CU_ASSERT_TRUE_FATAL(frame_wait(be, is_arp_reply, NULL, r, &p, 3000));
	CU_ASSERT_EQUAL(memcmp(p.dst_mac, guest_mac, 6), 0);
	memcpy(host_mac, p.arp_sha, 6);

	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_EQUAL_FATAL(bind(ufd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(ufd, (struct sockaddr *)&a, &alen), 0);
	CU_ASSERT_EQUAL(net_backend_send(be, f, frame_udp(f, host_mac, TAP_GUEST_IP, 6000, HOST_IP,
							   ntohs(a.sin_port), "via-tap", 7)), 0);
	struct pollfd pfd = { .fd = ufd, .events = POLLIN };
	CU_ASSERT_EQUAL_FATAL(poll(&pfd, 1, 3000), 1);
	CU_ASSERT_EQUAL(recv(ufd, got, sizeof(got), 0), 7);
	CU_ASSERT_STRING_EQUAL(got, "via-tap");
	close(ufd);
	net_backend_destroy(be);
	CU_ASSERT_EQUAL(if_nametoindex(cfg.tap.ifname), 0);	/* gone with the backend */
}

UNIT_SUITE(net_tap, NULL, NULL, UNIT_TEST(test_tap_arp_and_udp))

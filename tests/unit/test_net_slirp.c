/*
 * The slirp backend spoken to as a guest NIC would, frame by frame, with
 * no guest: DHCP, ARP, a TCP connection to a listener on the host's
 * loopback (the gateway address means the host), UDP to a host echo
 * socket, and a hostfwd connection from the host arriving as a SYN for the
 * guest. Only 127.0.0.1 is ever contacted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit.h"
#include "net_frames.h"
#include "net/net_backend.h"

#define GUEST_IP	IP4(10, 0, 2, 15)
#define GATEWAY_IP	IP4(10, 0, 2, 2)
#define DNS_IP		IP4(10, 0, 2, 3)
#define WAIT_MS		3000

/* libslirp's MAC for its own addresses: 52:55 and the IPv4 address. */
static const uint8_t gateway_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static bool wait_frame(struct net_backend *be, bool (*match)(const struct parsed *, void *),
		       void *arg, uint8_t *buf, struct parsed *p)
{
	return frame_wait(be, match, arg, buf, p, WAIT_MS);
}

static struct net_backend *make_backend(const char *spec)
{
	struct net_config cfg;
	char err[256];
	struct net_backend *be;

	if (net_config_parse(spec, &cfg, err, sizeof(err)) < 0) {
		CU_FAIL(err);
		return NULL;
	}
	be = net_backend_create(&cfg, err, sizeof(err));
	if (!be)
		CU_FAIL(err);
	return be;
}

static void send_frame(struct net_backend *be, const uint8_t *f, size_t len)
{
	CU_ASSERT_EQUAL(net_backend_send(be, f, len), 0);
}

/* A socket of type on 127.0.0.1 and the port the kernel gave it. */
static int loopback_socket(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

struct dhcp_want { uint8_t type; };

static bool is_dhcp(const struct parsed *p, void *arg)
{
	return p->proto == 17 && p->sport == 67 && p->dport == 68 &&
	       p->dhcp_type == ((struct dhcp_want *)arg)->type;
}

/* RFC 2131 section 3.1: DISCOVER -> OFFER, REQUEST -> ACK, with QEMU's
 * addresses: the guest 10.0.2.15, router 10.0.2.2, DNS 10.0.2.3; and
 * hostname= as option 12 (RFC 2132 3.14). */
static void test_dhcp(void)
{
	struct net_backend *be = make_backend("user,hostname=hyvm-guest");
	uint8_t f[2048], r[NET_FRAME_MAX];
	struct parsed p;
	struct net_stats st;

	if (!be)
		return;
	send_frame(be, f, frame_dhcp(f, DHCP_DISCOVER, 0x1234, 0, 0));
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_dhcp, &(struct dhcp_want){ DHCP_OFFER }, r, &p));
	CU_ASSERT_EQUAL(p.dhcp_yiaddr, GUEST_IP);
	CU_ASSERT_EQUAL(p.dhcp_router, GATEWAY_IP);
	CU_ASSERT_EQUAL(p.dhcp_dns, DNS_IP);
	CU_ASSERT_EQUAL(p.dhcp_server, GATEWAY_IP);
	CU_ASSERT_STRING_EQUAL(p.dhcp_hostname, "hyvm-guest");
	CU_ASSERT_EQUAL(p.src_ip, GATEWAY_IP);
	CU_ASSERT_TRUE(p.ip_csum_ok && p.l4_csum_ok);
	CU_ASSERT_EQUAL(memcmp(p.src_mac, gateway_mac, 6), 0);

	send_frame(be, f, frame_dhcp(f, DHCP_REQUEST, 0x1235, GUEST_IP, GATEWAY_IP));
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_dhcp, &(struct dhcp_want){ DHCP_ACK }, r, &p));
	CU_ASSERT_EQUAL(p.dhcp_yiaddr, GUEST_IP);

	net_backend_stats(be, &st);
	CU_ASSERT_EQUAL(st.tx_frames, 2);
	CU_ASSERT_TRUE(st.rx_frames >= 2);
	CU_ASSERT_EQUAL(st.tx_dropped, 0);
	net_backend_destroy(be);
}

static bool is_arp_reply(const struct parsed *p, void *arg)
{
	return p->ethertype == ETH_TYPE_ARP && p->arp_op == 2 &&
	       p->arp_spa == *(uint32_t *)arg;
}

/* Who has 10.0.2.2 (and 10.0.2.3)? slirp answers with its MAC. */
static void test_arp(void)
{
	struct net_backend *be = make_backend("user");
	uint8_t f[128], r[NET_FRAME_MAX];
	struct parsed p;
	uint32_t want = GATEWAY_IP;

	if (!be)
		return;
	send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_arp_reply, &want, r, &p));
	CU_ASSERT_EQUAL(memcmp(p.arp_sha, gateway_mac, 6), 0);
	CU_ASSERT_EQUAL(memcmp(p.dst_mac, guest_mac, 6), 0);
	CU_ASSERT_EQUAL(p.arp_tpa, GUEST_IP);
	want = DNS_IP;
	send_frame(be, f, frame_arp_request(f, GUEST_IP, DNS_IP));
	CU_ASSERT_TRUE(wait_frame(be, is_arp_reply, &want, r, &p));
	/* a frame shorter than an Ethernet header is refused and counted */
	CU_ASSERT_EQUAL(net_backend_send(be, f, 10), -1);
	struct net_stats st;
	net_backend_stats(be, &st);
	CU_ASSERT_EQUAL(st.tx_dropped, 1);
	net_backend_destroy(be);
}

struct tcp_want { uint16_t sport, dport; uint8_t flags; size_t min_payload; };

static bool is_tcp(const struct parsed *p, void *arg)
{
	struct tcp_want *w = arg;

	/* sport 0: any (slirp picks the source port of a hostfwd SYN) */
	return p->proto == 6 && (!w->sport || p->sport == w->sport) && p->dport == w->dport &&
	       (p->tcp_flags & w->flags) == w->flags && p->payload_len >= w->min_payload;
}

/* The guest connects to 10.0.2.2:PORT; slirp connects to 127.0.0.1:PORT,
 * where the test listens, and answers the SYN once that connection is up;
 * then bytes both ways. */
static void test_tcp_to_host(void)
{
	uint16_t port;
	int lfd = loopback_socket(SOCK_STREAM, &port), cfd;
	struct net_backend *be = make_backend("user");
	uint8_t f[2048], r[NET_FRAME_MAX];
	struct parsed p;
	char got[16] = { 0 };

	CU_ASSERT_TRUE_FATAL(lfd >= 0);
	if (!be) {
		close(lfd);
		return;
	}
	send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));	/* slirp learns the MAC */
	send_frame(be, f, frame_tcp(f, gateway_mac, GUEST_IP, 40001, GATEWAY_IP, port, 1000, 0,
				    TCP_SYN, NULL, 0));
	CU_ASSERT_TRUE_FATAL(readable(lfd, WAIT_MS));
	cfd = accept(lfd, NULL, NULL);
	CU_ASSERT_TRUE_FATAL(cfd >= 0);
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_tcp, &(struct tcp_want){ port, 40001,
			     TCP_SYN | TCP_ACK, 0 }, r, &p));
	CU_ASSERT_EQUAL(p.ack, 1001);
	CU_ASSERT_EQUAL(p.src_ip, GATEWAY_IP);
	CU_ASSERT_EQUAL(p.dst_ip, GUEST_IP);
	CU_ASSERT_TRUE(p.ip_csum_ok && p.l4_csum_ok);
	uint32_t host_seq = p.seq + 1;

	send_frame(be, f, frame_tcp(f, gateway_mac, GUEST_IP, 40001, GATEWAY_IP, port, 1001,
				    host_seq, TCP_ACK | TCP_PSH, "hello", 5));
	CU_ASSERT_TRUE(readable(cfd, WAIT_MS));
	CU_ASSERT_EQUAL(recv(cfd, got, sizeof(got), 0), 5);
	CU_ASSERT_STRING_EQUAL(got, "hello");

	CU_ASSERT_EQUAL(send(cfd, "world", 5, 0), 5);
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_tcp, &(struct tcp_want){ port, 40001, TCP_ACK, 5 },
					r, &p));
	CU_ASSERT_EQUAL(p.seq, host_seq);
	CU_ASSERT_EQUAL(p.payload_len, 5);
	CU_ASSERT_EQUAL(memcmp(p.payload, "world", 5), 0);
	close(cfd);
	close(lfd);
	net_backend_destroy(be);
}

struct udp_want { uint16_t sport, dport; };

static bool is_udp(const struct parsed *p, void *arg)
{
	struct udp_want *w = arg;

	return p->proto == 17 && p->sport == w->sport && p->dport == w->dport;
}

/* UDP from the guest to 10.0.2.2:PORT reaches the test's socket on
 * 127.0.0.1:PORT, which echoes; the echo comes back as a frame. */
static void test_udp_echo(void)
{
	uint16_t port;
	int ufd = loopback_socket(SOCK_DGRAM, &port);
	struct net_backend *be = make_backend("user");
	uint8_t f[2048], r[NET_FRAME_MAX];
	struct parsed p;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char got[16] = { 0 };

	CU_ASSERT_TRUE_FATAL(ufd >= 0);
	if (!be) {
		close(ufd);
		return;
	}
	send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
	send_frame(be, f, frame_udp(f, gateway_mac, GUEST_IP, 5555, GATEWAY_IP, port, "ping", 4));
	CU_ASSERT_TRUE_FATAL(readable(ufd, WAIT_MS));
	CU_ASSERT_EQUAL(recvfrom(ufd, got, sizeof(got), 0, (struct sockaddr *)&from, &flen), 4);
	CU_ASSERT_STRING_EQUAL(got, "ping");
	CU_ASSERT_EQUAL(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CU_ASSERT_EQUAL(sendto(ufd, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_udp, &(struct udp_want){ port, 5555 }, r, &p));
	CU_ASSERT_EQUAL(p.src_ip, GATEWAY_IP);
	CU_ASSERT_EQUAL(p.dst_ip, GUEST_IP);
	CU_ASSERT_TRUE(p.l4_csum_ok);
	CU_ASSERT_EQUAL(p.payload_len, 4);
	CU_ASSERT_EQUAL(memcmp(p.payload, "pong", 4), 0);
	close(ufd);
	net_backend_destroy(be);
}

/* hostfwd=tcp:127.0.0.1:HOSTPORT-:2222: a host connect() becomes a SYN
 * to 10.0.2.15:2222; the fake guest completes the handshake and the
 * host's bytes arrive as a frame. */
static void test_hostfwd(void)
{
	uint16_t host_port;
	int probe = loopback_socket(SOCK_STREAM, &host_port), cfd;
	char spec[128];
	struct net_backend *be;
	uint8_t f[2048], r[NET_FRAME_MAX];
	struct parsed p;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	CU_ASSERT_TRUE_FATAL(probe >= 0);
	close(probe);		/* a port that was free a moment ago */
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%u-:2222", host_port);
	be = make_backend(spec);
	if (!be)
		return;
	send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_port = htons(host_port);
	CU_ASSERT_EQUAL_FATAL(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_tcp, &(struct tcp_want){ 0, 2222, TCP_SYN, 0 }, r,
					&p));
	CU_ASSERT_EQUAL(p.dst_ip, GUEST_IP);
	CU_ASSERT_EQUAL(p.src_ip, GATEWAY_IP);
	CU_ASSERT_EQUAL(p.tcp_flags & (TCP_SYN | TCP_ACK), TCP_SYN);
	CU_ASSERT_EQUAL(memcmp(p.dst_mac, guest_mac, 6), 0);
	uint16_t sport = p.sport;
	uint32_t seq = p.seq + 1;

	send_frame(be, f, frame_tcp(f, gateway_mac, GUEST_IP, 2222, GATEWAY_IP, sport, 5000, seq,
				    TCP_SYN | TCP_ACK, NULL, 0));
	CU_ASSERT_EQUAL(send(cfd, "to-guest", 8, 0), 8);
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_tcp, &(struct tcp_want){ sport, 2222, TCP_ACK, 8 },
					r, &p));
	CU_ASSERT_EQUAL(p.ack, 5001);
	CU_ASSERT_EQUAL(memcmp(p.payload, "to-guest", 8), 0);
	close(cfd);
	net_backend_destroy(be);
}

/* net= moves the whole network: the OFFER is 192.168.76.15 from .2. */
static void test_other_network(void)
{
	struct net_backend *be = make_backend("user,net=192.168.76.0/24");
	uint8_t f[2048], r[NET_FRAME_MAX];
	struct parsed p;

	if (!be)
		return;
	send_frame(be, f, frame_dhcp(f, DHCP_DISCOVER, 0x99, 0, 0));
	CU_ASSERT_TRUE_FATAL(wait_frame(be, is_dhcp, &(struct dhcp_want){ DHCP_OFFER }, r, &p));
	CU_ASSERT_EQUAL(p.dhcp_yiaddr, IP4(192, 168, 76, 15));
	CU_ASSERT_EQUAL(p.dhcp_router, IP4(192, 168, 76, 2));
	CU_ASSERT_EQUAL(p.dhcp_dns, IP4(192, 168, 76, 3));
	net_backend_destroy(be);
}

/* restrict=on: the guest's SYN to the gateway reaches no host socket. */
static void test_restricted(void)
{
	uint16_t port;
	int lfd = loopback_socket(SOCK_STREAM, &port);
	struct net_backend *be = make_backend("user,restrict=on");
	uint8_t f[2048];

	CU_ASSERT_TRUE_FATAL(lfd >= 0);
	if (be) {
		send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
		send_frame(be, f, frame_tcp(f, gateway_mac, GUEST_IP, 40002, GATEWAY_IP, port, 7, 0,
					    TCP_SYN, NULL, 0));
		CU_ASSERT_FALSE(readable(lfd, 500));
		net_backend_destroy(be);
	}
	close(lfd);
}

/* Hostile guest frames: 3000 of them, random bytes behind Ethernet, IPv4,
 * ARP and DHCP headers that are partly right (lengths, protocols, ports,
 * truncation), from a fixed seed. The backend must survive them (ASan
 * watches under SAN=1) and still answer ARP afterwards. restrict=on and
 * ipv6=off: a damaged destination address must not make slirp open a
 * socket towards another machine (libslirp drops restricted guests' UDP,
 * outside pings and outside-bound IP in its input paths). */
static void test_hostile_frames(void)
{
	struct net_backend *be = make_backend("user,restrict=on,ipv6=off");
	uint8_t f[2048], r[NET_FRAME_MAX], junk[512];
	struct parsed p;
	uint32_t seed = 12345, want = GATEWAY_IP;

	if (!be)
		return;
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 151 + 7);
	for (unsigned i = 0; i < 3000; i++) {
		size_t len;
		seed = seed * 1103515245 + 12345;
		switch (seed >> 29) {
		case 0:
			len = frame_arp_request(f, GUEST_IP, GATEWAY_IP);
			break;
		case 1:
			len = frame_dhcp(f, (uint8_t)(seed >> 8), seed, GUEST_IP, seed);
			break;
		case 2:
			len = frame_tcp(f, gateway_mac, GUEST_IP, (uint16_t)seed, GATEWAY_IP, 9,
					seed, ~seed, (uint8_t)(seed >> 16), junk, seed % 200);
			break;
		default:
			len = frame_udp(f, gateway_mac, GUEST_IP, (uint16_t)seed, GATEWAY_IP + (seed & 1),
					(uint16_t)(seed >> 7), junk, seed % 300);
			break;
		}
		/* then damage it: a few random bytes anywhere, and a random cut */
		for (unsigned k = 0; k < 1 + (seed >> 4) % 4; k++) {
			seed = seed * 1103515245 + 12345;
			f[(seed >> 8) % len] = (uint8_t)(seed >> 20);
		}
		seed = seed * 1103515245 + 12345;
		if (seed & 0x10000)
			len = 14 + (seed >> 17) % (len - 13);
		net_backend_send(be, f, len);
		/* drain what it answers, as a NIC would */
		while (net_backend_rx_peek(be))
			net_backend_rx_pop(be);
	}
	send_frame(be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
	CU_ASSERT_TRUE(wait_frame(be, is_arp_reply, &want, r, &p));
	struct net_stats st;
	net_backend_stats(be, &st);
	CU_ASSERT_EQUAL(st.tx_frames + st.tx_dropped, 3001);	/* every one went in */
	net_backend_destroy(be);
}

UNIT_SUITE(net_slirp, NULL, NULL,
	   UNIT_TEST(test_hostile_frames),
	   UNIT_TEST(test_other_network), UNIT_TEST(test_restricted),
	   UNIT_TEST(test_dhcp), UNIT_TEST(test_arp), UNIT_TEST(test_tcp_to_host),
	   UNIT_TEST(test_udp_echo), UNIT_TEST(test_hostfwd))

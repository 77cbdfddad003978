/* Frames a guest NIC would send, their parsing, and waiting for one
 * from a backend (net_frames.h). */
#include <poll.h>
#include <string.h>
#include <time.h>
#include "net_frames.h"
#include "net/net_backend.h"

const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };	/* QEMU's first NIC */
const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* The Internet checksum (RFC 1071): one's complement sum of 16-bit words. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* TCP and UDP sum a pseudo header of addresses, protocol and length. */
static uint16_t l4_checksum(const uint8_t *ip, const uint8_t *l4, size_t len)
{
	uint32_t sum = sum16(0, ip + 12, 8);

	sum += ip[9] + (uint32_t)len;
	return fold(sum16(sum, l4, len));
}

static size_t eth(uint8_t *buf, const uint8_t *dst, uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, guest_mac, 6);
	put16(buf + 12, type);
	return 14;
}

/* An IPv4 header at buf for l4_len bytes of proto; returns its length. */
static size_t ipv4(uint8_t *buf, uint8_t proto, uint32_t src, uint32_t dst, size_t l4_len)
{
	static uint16_t id = 1;

	memset(buf, 0, 20);
	buf[0] = 0x45;
	put16(buf + 2, (uint16_t)(20 + l4_len));
	put16(buf + 4, id++);
	put16(buf + 6, 0x4000);		/* DF */
	buf[8] = 64;
	buf[9] = proto;
	put32(buf + 12, src);
	put32(buf + 16, dst);
	put16(buf + 10, fold(sum16(0, buf, 20)));
	return 20;
}

size_t frame_arp_request(uint8_t *buf, uint32_t sender_ip, uint32_t target_ip)
{
	size_t n = eth(buf, broadcast_mac, ETH_TYPE_ARP);
	uint8_t *a = buf + n;

	memset(a, 0, 46);		/* padded to Ethernet's 60-byte minimum */
	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);		/* request */
	memcpy(a + 8, guest_mac, 6);
	put32(a + 14, sender_ip);
	put32(a + 24, target_ip);
	return n + 46;
}

size_t frame_udp(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		 uint32_t dst_ip, uint16_t dport, const void *data, size_t len)
{
	size_t n = eth(buf, dst_mac, ETH_TYPE_IPV4);
	uint8_t *ip = buf + n, *u = ip + ipv4(ip, 17, src_ip, dst_ip, 8 + len);
	uint16_t c;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (len)
		memcpy(u + 8, data, len);
	c = l4_checksum(ip, u, 8 + len);
	put16(u + 6, c ? c : 0xffff);	/* 0 means "no checksum" in UDP */
	return n + 20 + 8 + len;
}

size_t frame_tcp(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		 uint32_t dst_ip, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 const void *data, size_t len)
{
	size_t n = eth(buf, dst_mac, ETH_TYPE_IPV4);
	uint8_t *ip = buf + n, *t = ip + ipv4(ip, 6, src_ip, dst_ip, 20 + len);

	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;			/* 20-byte header, no options */
	t[13] = flags;
	put16(t + 14, 65535);		/* window */
	if (len)
		memcpy(t + 20, data, len);
	put16(t + 16, l4_checksum(ip, t, 20 + len));
	return n + 20 + 20 + len;
}

size_t frame_tcp_syn(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		     uint32_t dst_ip, uint16_t dport, uint32_t seq, uint16_t mss)
{
	size_t n = eth(buf, dst_mac, ETH_TYPE_IPV4);
	uint8_t *ip = buf + n, *t = ip + ipv4(ip, 6, src_ip, dst_ip, 24);

	memset(t, 0, 24);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	t[12] = 6 << 4;			/* 24 bytes: the header and one option */
	t[13] = TCP_SYN;
	put16(t + 14, 65535);
	t[20] = 2;			/* MSS */
	t[21] = 4;
	put16(t + 22, mss);
	put16(t + 16, l4_checksum(ip, t, 24));
	return n + 20 + 24;
}

size_t frame_dhcp(uint8_t *buf, uint8_t type, uint32_t xid, uint32_t requested,
		  uint32_t server)
{
	/* BOOTP's fixed 236 bytes, the magic cookie and options, padded to
	 * the 312-byte option field (RFC 2131 section 2) slirp expects */
	uint8_t d[236 + 312] = { 0 }, *o = d + 240;

	d[0] = 1;			/* BOOTREQUEST */
	d[1] = 1;
	d[2] = 6;
	put32(d + 4, xid);
	memcpy(d + 28, guest_mac, 6);
	put32(d + 236, 0x63825363);
	*o++ = 53, *o++ = 1, *o++ = type;
	if (requested) {
		*o++ = 50, *o++ = 4;
		put32(o, requested);
		o += 4;
	}
	if (server) {
		*o++ = 54, *o++ = 4;
		put32(o, server);
		o += 4;
	}
	*o = 255;
	return frame_udp(buf, broadcast_mac, 0, 68, IP4(255, 255, 255, 255), 67, d, sizeof(d));
}

static void parse_dhcp(const uint8_t *d, size_t len, struct parsed *p)
{
	if (len < 240 || d[0] != 2 || get32(d + 236) != 0x63825363)
		return;
	p->dhcp_yiaddr = get32(d + 16);
	for (size_t i = 240; i < len && d[i] != 255;) {
		uint8_t code = d[i];
		if (code == 0) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + d[i + 1] > len)
			break;
		const uint8_t *v = d + i + 2;
		uint8_t olen = d[i + 1];
		if (code == 53 && olen >= 1)
			p->dhcp_type = v[0];
		else if (code == 3 && olen >= 4)
			p->dhcp_router = get32(v);
		else if (code == 6 && olen >= 4)
			p->dhcp_dns = get32(v);
		else if (code == 54 && olen >= 4)
			p->dhcp_server = get32(v);
		else if (code == 12 && olen < sizeof(p->dhcp_hostname)) {
			memcpy(p->dhcp_hostname, v, olen);
			p->dhcp_hostname[olen] = '\0';
		}
		i += 2 + olen;
	}
}

bool frame_parse(const uint8_t *f, size_t len, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 14)
		return false;
	memcpy(p->dst_mac, f, 6);
	memcpy(p->src_mac, f + 6, 6);
	p->ethertype = get16(f + 12);
	f += 14;
	len -= 14;
	if (p->ethertype == ETH_TYPE_ARP) {
		if (len < 28)
			return false;
		p->arp_op = get16(f + 6);
		memcpy(p->arp_sha, f + 8, 6);
		p->arp_spa = get32(f + 14);
		p->arp_tpa = get32(f + 24);
		return true;
	}
	if (p->ethertype != ETH_TYPE_IPV4 || len < 20 || (f[0] >> 4) != 4)
		return false;
	size_t ihl = (f[0] & 15) * 4u, total = get16(f + 2);
	if (ihl < 20 || total < ihl || total > len)
		return false;
	p->proto = f[9];
	p->src_ip = get32(f + 12);
	p->dst_ip = get32(f + 16);
	p->ip_csum_ok = fold(sum16(0, f, ihl)) == 0;
	const uint8_t *l4 = f + ihl;
	size_t l4_len = total - ihl;
	if (p->proto == 17 && l4_len >= 8) {
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->l4_csum_ok = get16(l4 + 6) == 0 || l4_checksum(f, l4, l4_len) == 0;
		p->payload = l4 + 8;
		p->payload_len = l4_len - 8;
		if (p->sport == 67 && p->dport == 68)
			parse_dhcp(p->payload, p->payload_len, p);
	} else if (p->proto == 6 && l4_len >= 20) {
		size_t off = (l4[12] >> 4) * 4u;
		if (off < 20 || off > l4_len)
			return false;
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->seq = get32(l4 + 4);
		p->ack = get32(l4 + 8);
		p->tcp_flags = l4[13];
		p->window = get16(l4 + 14);
		p->l4_csum_ok = l4_checksum(f, l4, l4_len) == 0;
		p->payload = l4 + off;
		p->payload_len = l4_len - off;
	}
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool frame_wait(struct net_backend *be, bool (*match)(const struct parsed *, void *),
		void *arg, uint8_t *buf, struct parsed *p, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		const struct net_frame *f = net_backend_rx_peek(be);
		if (f) {
			size_t len = f->len;
			memcpy(buf, f->data, len);
			net_backend_rx_pop(be);
			if (frame_parse(buf, len, p) && match(p, arg))
				return true;
			continue;
		}
		int64_t left = end - now_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = net_backend_rx_fd(be), .events = POLLIN };
		poll(&pfd, 1, (int)left);
	}
}

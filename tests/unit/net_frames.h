/*
 * Hand-built Ethernet frames for the network backend tests: what a guest
 * NIC would send (ARP, IPv4 with UDP and TCP, DHCP), and their parsing.
 * Wire formats: RFC 826 (ARP), RFC 791 (IPv4), RFC 768 (UDP), RFC 793
 * (TCP), RFC 2131/2132 (DHCP). Addresses in host byte order here.
 */
#ifndef HYVM_TEST_NET_FRAMES_H
#define HYVM_TEST_NET_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_TYPE_IPV4	0x0800
#define ETH_TYPE_ARP	0x0806
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define DHCP_DISCOVER	1
#define DHCP_OFFER	2
#define DHCP_REQUEST	3
#define DHCP_ACK	5

#define IP4(a, b, c, d)	((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

extern const uint8_t guest_mac[6];
extern const uint8_t broadcast_mac[6];

/* A parsed frame; the fields that apply to its kind are set. */
struct parsed {
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;
	/* ARP */
	uint16_t arp_op;
	uint8_t arp_sha[6];
	uint32_t arp_spa, arp_tpa;
	/* IPv4 */
	uint8_t proto;
	uint32_t src_ip, dst_ip;
	bool ip_csum_ok;
	uint16_t sport, dport;
	/* TCP */
	uint32_t seq, ack;
	uint8_t tcp_flags;
	uint16_t window;
	bool l4_csum_ok;	/* TCP/UDP checksum over the pseudo header */
	const uint8_t *payload;
	size_t payload_len;
	/* DHCP (UDP 67 -> 68) */
	uint8_t dhcp_type;	/* option 53, 0 if none */
	uint32_t dhcp_yiaddr, dhcp_router, dhcp_dns, dhcp_server;
	char dhcp_hostname[64];	/* option 12, "" if none */
};

bool frame_parse(const uint8_t *f, size_t len, struct parsed *p);

struct net_backend;
/* The next frame for the guest that match() accepts, copied into buf
 * (NET_FRAME_MAX bytes) and parsed, within timeout_ms; others (IPv6
 * router advertisements, say) are taken and skipped, as a NIC would. */
bool frame_wait(struct net_backend *be, bool (*match)(const struct parsed *, void *),
		void *arg, uint8_t *buf, struct parsed *p, int timeout_ms);

size_t frame_arp_request(uint8_t *buf, uint32_t sender_ip, uint32_t target_ip);
size_t frame_udp(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		 uint32_t dst_ip, uint16_t dport, const void *data, size_t len);
size_t frame_tcp(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		 uint32_t dst_ip, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 const void *data, size_t len);
/* A SYN offering mss (RFC 793 3.1's MSS option, kind 2). */
size_t frame_tcp_syn(uint8_t *buf, const uint8_t *dst_mac, uint32_t src_ip, uint16_t sport,
		     uint32_t dst_ip, uint16_t dport, uint32_t seq, uint16_t mss);
/* DISCOVER (requested 0) or REQUEST for requested from server. */
size_t frame_dhcp(uint8_t *buf, uint8_t type, uint32_t xid, uint32_t requested,
		  uint32_t server);

#endif

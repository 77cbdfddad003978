/*
 * What `hyvm run --net SPEC` asks for, parsed (net_options.c) before
 * anything starts. The spelling is QEMU's -netdev/-nic (QEMU's manual,
 * "Network options"):
 *   --net user[,id=NAME][,net=ADDR[/MASK]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]
 *             [,restrict=on|off][,ipv6=on|off][,hostname=NAME][,hostfwd=RULE]...
 *   --net tap,ifname=NAME
 *   --net none
 * with RULE = [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (net_hostfwd.c).
 */
#ifndef HYVM_NET_CONFIG_H
#define HYVM_NET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <net/if.h>

#define NET_MAX_HOSTFWD	16
/* The backend's name when --net gives no id=: what a NIC's "netdev=" names. */
#define NET_DEFAULT_ID	"net0"

/* One hostfwd rule: connections to host_addr:host_port go to the guest. */
struct net_hostfwd {
	bool udp;
	struct in_addr host_addr;	/* INADDR_ANY when the rule leaves it out */
	uint16_t host_port;
	struct in_addr guest_addr;	/* the DHCP address when left out */
	uint16_t guest_port;
};

/* libslirp's virtual network; the defaults are QEMU's: 10.0.2.0/24, the
 * gateway (and the host's loopback) 10.0.2.2, DNS 10.0.2.3, DHCP from
 * 10.0.2.15. All in network byte order. */
struct net_user_config {
	struct in_addr net, mask, host, dhcp_start, dns;
	bool restricted;	/* the guest reaches only the host forwards */
	bool ipv6;		/* fec0::/64 as QEMU, on by default */
	char hostname[64];	/* DHCP option 12, "" for none */
	struct net_hostfwd fwd[NET_MAX_HOSTFWD];
	unsigned nr_fwd;
};

struct net_tap_config {
	char ifname[IFNAMSIZ];
};

enum net_kind { NET_NONE, NET_USER, NET_TAP };

struct net_config {
	enum net_kind kind;
	char id[32];		/* QEMU's id=; NET_DEFAULT_ID when not given */
	struct net_user_config user;
	struct net_tap_config tap;
};

/* spec as after --net; 0, or -1 with one line in err naming the bad part. */
int net_config_parse(const char *spec, struct net_config *cfg, char *err, size_t errlen);

/* One hostfwd rule inside user's network (for guest addresses); 0 or -1. */
int net_hostfwd_parse(const char *rule, const struct net_user_config *user,
		      struct net_hostfwd *fwd, char *err, size_t errlen);

/* "tcp:127.0.0.1:2222-10.0.2.15:22", for messages. */
void net_hostfwd_format(const struct net_hostfwd *fwd, char *buf, size_t len);

#endif

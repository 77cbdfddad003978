/*
 * `--net SPEC` into a struct net_config (net_config.h), QEMU's -netdev
 * spelling: a backend name, then key=value options separated by commas.
 * Addresses derived from net= (host .2, DNS .3, DHCP .15) are QEMU's
 * defaults; explicit host=, dns=, dhcpstart= and the hostfwd rules are
 * read after net=, whatever their order in SPEC, and must lie inside it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/net_config.h"

#define USER_KEYS "id, net, host, dhcpstart, dns, restrict, ipv6, hostname, hostfwd"

/* The options whose meaning depends on net=, kept until it is known. */
struct pending {
	const char *host, *dhcp_start, *dns;
	const char *fwd[NET_MAX_HOSTFWD];
	unsigned nr_fwd;
};

static void user_defaults(struct net_user_config *u)
{
	memset(u, 0, sizeof(*u));
	u->net.s_addr = htonl(0x0a000200);	/* 10.0.2.0/24 */
	u->mask.s_addr = htonl(0xffffff00);
	u->ipv6 = true;
}

static int on_off(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true"))
		*out = true;
	else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false"))
		*out = false;
	else {
		snprintf(err, errlen, "--net user: %s= takes on or off, not '%s'", key, val);
		return -1;
	}
	return 0;
}

/* net=ADDR[/PREFIX|/MASK]: a network address without host bits. */
static int parse_network(const char *val, struct net_user_config *u, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(val, '/');
	size_t n = slash ? (size_t)(slash - val) : strlen(val);
	uint32_t mask = 0xffffff00;

	if (n >= sizeof(addr))
		goto bad;
	memcpy(addr, val, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &u->net) != 1)
		goto bad;
	if (slash) {
		char *end;
		struct in_addr m;
		unsigned long bits = strtoul(slash + 1, &end, 10);
		if (slash[1] >= '0' && slash[1] <= '9' && !*end && bits >= 1 && bits <= 30)
			mask = 0xffffffffu << (32 - bits);
		else if (inet_pton(AF_INET, slash + 1, &m) == 1 &&
			 (~ntohl(m.s_addr) & (~ntohl(m.s_addr) + 1)) == 0 && ntohl(m.s_addr))
			mask = ntohl(m.s_addr);	/* ones then zeros */
		else
			goto bad;
	}
	u->mask.s_addr = htonl(mask);
	if (u->net.s_addr & ~u->mask.s_addr) {
		snprintf(err, errlen, "--net user: net=%s has host bits set", val);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "--net user: net= takes ADDR[/PREFIX 1-30 or /MASK], not '%s'", val);
	return -1;
}

/* An address of the guest network other than the network and broadcast
 * ones; val NULL: the network's host number dflt (QEMU's .2, .3, .15). */
static int network_address(const char *key, const char *val, uint32_t dflt,
			   const struct net_user_config *u, struct in_addr *out,
			   char *err, size_t errlen)
{
	uint32_t mask = ntohl(u->mask.s_addr), host;

	if (!val)
		out->s_addr = htonl(ntohl(u->net.s_addr) | dflt);
	else if (inet_pton(AF_INET, val, out) != 1) {
		snprintf(err, errlen, "--net user: %s= takes an IPv4 address, not '%s'", key, val);
		return -1;
	}
	host = ntohl(out->s_addr) & ~mask;
	if ((out->s_addr & u->mask.s_addr) != u->net.s_addr || host == 0 || host == ~mask) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, out, a, sizeof(a));
		snprintf(err, errlen, "--net user: %s %s is not a host address of the guest network",
			 key, a);
		return -1;
	}
	return 0;
}

static int user_option(char *key, char *val, struct net_config *cfg, struct pending *pend,
		       char *err, size_t errlen)
{
	struct net_user_config *u = &cfg->user;

	if (!strcmp(key, "net"))
		return parse_network(val, u, err, errlen);
	if (!strcmp(key, "host"))
		pend->host = val;
	else if (!strcmp(key, "dhcpstart"))
		pend->dhcp_start = val;
	else if (!strcmp(key, "dns"))
		pend->dns = val;
	else if (!strcmp(key, "restrict"))
		return on_off(key, val, &u->restricted, err, errlen);
	else if (!strcmp(key, "ipv6"))
		return on_off(key, val, &u->ipv6, err, errlen);
	else if (!strcmp(key, "hostname")) {
		if (strlen(val) >= sizeof(u->hostname)) {
			snprintf(err, errlen, "--net user: hostname= is longer than %zu characters",
				 sizeof(u->hostname) - 1);
			return -1;
		}
		strcpy(u->hostname, val);
	} else if (!strcmp(key, "hostfwd")) {
		if (pend->nr_fwd == NET_MAX_HOSTFWD) {
			snprintf(err, errlen, "--net user: at most %d hostfwd rules", NET_MAX_HOSTFWD);
			return -1;
		}
		pend->fwd[pend->nr_fwd++] = val;
	} else {
		snprintf(err, errlen, "--net user: unknown option '%s' (user takes " USER_KEYS ")",
			 key);
		return -1;
	}
	return 0;
}

static int user_finish(struct net_config *cfg, const struct pending *pend, char *err,
		       size_t errlen)
{
	struct net_user_config *u = &cfg->user;

	if (network_address("host", pend->host, 2, u, &u->host, err, errlen) < 0 ||
	    network_address("dns", pend->dns, 3, u, &u->dns, err, errlen) < 0 ||
	    network_address("dhcpstart", pend->dhcp_start, 15, u, &u->dhcp_start, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < pend->nr_fwd; i++) {
		char msg[256];
		if (net_hostfwd_parse(pend->fwd[i], u, &u->fwd[i], msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "--net user: %s", msg);
			return -1;
		}
	}
	u->nr_fwd = pend->nr_fwd;
	return 0;
}

static int tap_option(const char *key, const char *val, struct net_config *cfg, char *err,
		      size_t errlen)
{
	if (strcmp(key, "ifname")) {
		snprintf(err, errlen, "--net tap: unknown option '%s' (tap takes id, ifname)", key);
		return -1;
	}
	if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/')) {
		snprintf(err, errlen, "--net tap: ifname= takes an interface name of 1-%d characters, "
			 "not '%s'", IFNAMSIZ - 1, val);
		return -1;
	}
	strcpy(cfg->tap.ifname, val);
	return 0;
}

int net_config_parse(const char *spec, struct net_config *cfg, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *kind, *opt;
	struct pending pend = { 0 };

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--net: the specification is longer than %zu characters",
			 sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, spec);
	strcpy(cfg->id, NET_DEFAULT_ID);
	kind = strtok_r(buf, ",", &save);
	if (!kind || (strcmp(kind, "user") && strcmp(kind, "tap") && strcmp(kind, "none"))) {
		snprintf(err, errlen, "--net takes user[,OPTIONS], tap,ifname=NAME or none, not '%s'",
			 spec);
		return -1;
	}
	cfg->kind = !strcmp(kind, "user") ? NET_USER : !strcmp(kind, "tap") ? NET_TAP : NET_NONE;
	user_defaults(&cfg->user);
	while ((opt = strtok_r(NULL, ",", &save))) {
		char *val = strchr(opt, '=');
		if (!val) {
			snprintf(err, errlen, "--net %s: '%s' is not key=value", kind, opt);
			return -1;
		}
		*val++ = '\0';
		if (!strcmp(opt, "id")) {
			if (!*val || strlen(val) >= sizeof(cfg->id)) {
				snprintf(err, errlen, "--net %s: id= takes a name of 1-%zu characters",
					 kind, sizeof(cfg->id) - 1);
				return -1;
			}
			strcpy(cfg->id, val);
			continue;
		}
		if (cfg->kind == NET_NONE) {
			snprintf(err, errlen, "--net none takes no options, not '%s'", opt);
			return -1;
		}
		/* the option strings live in buf: finish before returning */
		if ((cfg->kind == NET_USER ? user_option(opt, val, cfg, &pend, err, errlen)
					   : tap_option(opt, val, cfg, err, errlen)) < 0)
			return -1;
	}
	if (cfg->kind == NET_TAP && !cfg->tap.ifname[0]) {
		snprintf(err, errlen, "--net tap needs ifname=NAME (an existing tap, or one to create)");
		return -1;
	}
	return cfg->kind == NET_USER ? user_finish(cfg, &pend, err, errlen) : 0;
}

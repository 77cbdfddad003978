/*
 * hostfwd rules as QEMU spells them (QEMU's manual, "-netdev user",
 * hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport): the
 * protocol defaults to tcp, an empty host address is every host address,
 * an empty guest address is the first DHCP address. Each part is checked
 * here, so a bad rule is one line before anything listens.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/net_config.h"

/* Copies rule's text up to sep into buf and moves *p past sep; false when
 * sep does not come (or the part is too long to be an address or port). */
static bool take_part(const char **p, char sep, char *buf, size_t len)
{
	const char *end = strchr(*p, sep);

	if (!end || (size_t)(end - *p) >= len)
		return false;
	memcpy(buf, *p, end - *p);
	buf[end - *p] = '\0';
	*p = end + 1;
	return true;
}

static bool parse_port(const char *s, unsigned long min, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || s[0] == '-' || s[0] == '+')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool in_network(struct in_addr a, const struct net_user_config *u)
{
	return (a.s_addr & u->mask.s_addr) == (u->net.s_addr & u->mask.s_addr);
}

int net_hostfwd_parse(const char *rule, const struct net_user_config *user,
		      struct net_hostfwd *fwd, char *err, size_t errlen)
{
	const char *p = rule;
	char part[64];

	memset(fwd, 0, sizeof(*fwd));
	if (!take_part(&p, ':', part, sizeof(part)) || (strcmp(part, "") && strcmp(part, "tcp") &&
							 strcmp(part, "udp"))) {
		snprintf(err, errlen, "hostfwd '%s': expected [tcp|udp]:[hostaddr]:hostport-"
			 "[guestaddr]:guestport", rule);
		return -1;
	}
	fwd->udp = !strcmp(part, "udp");
	if (!take_part(&p, ':', part, sizeof(part)) ||
	    (*part && inet_pton(AF_INET, part, &fwd->host_addr) != 1)) {
		snprintf(err, errlen, "hostfwd '%s': the host address is not an IPv4 address", rule);
		return -1;
	}
	if (!take_part(&p, '-', part, sizeof(part)) || !parse_port(part, 1, &fwd->host_port)) {
		snprintf(err, errlen, "hostfwd '%s': the host port must be 1-65535, then '-'", rule);
		return -1;
	}
	if (!take_part(&p, ':', part, sizeof(part)) ||
	    (*part && inet_pton(AF_INET, part, &fwd->guest_addr) != 1)) {
		snprintf(err, errlen, "hostfwd '%s': the guest address is not an IPv4 address", rule);
		return -1;
	}
	if (!*part)
		fwd->guest_addr = user->dhcp_start;
	else if (!in_network(fwd->guest_addr, user)) {
		snprintf(err, errlen, "hostfwd '%s': the guest address is outside the guest network",
			 rule);
		return -1;
	}
	if (!parse_port(p, 1, &fwd->guest_port)) {
		snprintf(err, errlen, "hostfwd '%s': the guest port must be 1-65535", rule);
		return -1;
	}
	return 0;
}

void net_hostfwd_format(const struct net_hostfwd *fwd, char *buf, size_t len)
{
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &fwd->host_addr, host, sizeof(host));
	inet_ntop(AF_INET, &fwd->guest_addr, guest, sizeof(guest));
	snprintf(buf, len, "%s:%s:%u-%s:%u", fwd->udp ? "udp" : "tcp", host, fwd->host_port,
		 guest, fwd->guest_port);
}

/* --gdb's address; see gdb_config.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/gdb_config.h"

int gdb_config_parse(const char *spec, struct gdb_config *c, char *err, size_t errlen)
{
	char host[64];
	const char *rest, *colon;

	if (strncmp(spec, "tcp:", 4)) {
		snprintf(err, errlen, "--gdb: '%s' is not tcp:[HOST]:PORT (the only scheme is tcp, "
			 "e.g. tcp::1234)", spec);
		return -1;
	}
	rest = spec + 4;
	colon = strrchr(rest, ':');
	if (!colon) {
		snprintf(err, errlen, "--gdb: '%s' names no port (tcp:[HOST]:PORT, e.g. tcp::1234)",
			 spec);
		return -1;
	}
	size_t hl = (size_t)(colon - rest);
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "--gdb: the host in '%s' is too long", spec);
		return -1;
	}
	memcpy(host, rest, hl);
	host[hl] = '\0';
	if (!hl || !strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &c->addr) != 1) {
		snprintf(err, errlen, "--gdb: '%s' is not an IPv4 address (or empty for 127.0.0.1)",
			 host);
		return -1;
	}
	const char *p = colon + 1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(p, &end, 10);
	if (errno || !*p || *end || *p == '-' || *p == '+' || port < 1 || port > 65535) {
		snprintf(err, errlen, "--gdb: bad port '%s' (1 to 65535)", p);
		return -1;
	}
	c->port = (uint16_t)port;
	c->enabled = true;
	return 0;
}

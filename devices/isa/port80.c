/*
 * Port 0x80, the POST-code port: firmware writes progress codes there and
 * Linux writes it for a short I/O delay. It keeps the last value, which a
 * read returns (as many chipsets' POST latches do).
 */
#include <stdlib.h>
#include "devices/device_util.h"

#define POST_PORT 0x80

struct port80 {
	struct device_env *env;
	uint8_t last;
	uint64_t writes;
};

static void port80_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		      bool is_write)
{
	struct port80 *p = opaque;

	if (is_write) {
		p->last = data[0];
		p->writes++;
	} else {
		data[0] = p->last;
	}
}

static void *port80_create(struct device_env *env)
{
	struct port80 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->env = env;
	if (bus_register(env->pio, POST_PORT, 1, port80_io, p, "port80")) {
		free(p);
		return NULL;
	}
	return p;
}

static void port80_destroy(void *dev)
{
	struct port80 *p = dev;

	bus_unregister_owner(p->env->pio, p);
	free(p);
}

static struct device_model port80_model = {
	.name = "port80",
	.level = DEVICE_LEVEL_DEV,
	.create = port80_create,
	.destroy = port80_destroy,
};
DEVICE_REGISTER(port80_model)

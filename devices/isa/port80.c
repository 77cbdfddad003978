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

static void *port80_create(struct device_env *env, const char *config,
			   char *err, size_t errlen)
{
	if (device_config_parse("port80", config, NULL, 0, err, errlen))
		return NULL;
	struct port80 *p = calloc(1, sizeof(*p));
	if (!p)
		return device_no_memory(err, errlen, "port80");
	p->env = env;
	if (bus_register(env->pio, POST_PORT, 1, port80_io, p, "port80")) {
		free(p);
		return device_ports_taken(err, errlen, "port80", POST_PORT);
	}
	return p;
}

static void port80_reset(void *dev)
{
	struct port80 *p = dev;

	p->last = 0;
	p->writes = 0;
}

static void port80_save(void *dev, struct ds_writer *w)
{
	struct port80 *p = dev;

	ds_put_u8(w, p->last);
	ds_put_u64(w, p->writes);
}

static int port80_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct port80 *p = dev;
	uint8_t last = ds_get_u8(r);
	uint64_t writes = ds_get_u64(r);

	if (!ds_done(r))
		return -1;
	p->last = last;
	p->writes = writes;
	return 0;
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
	.state_version = 1,
	.create = port80_create,
	.reset = port80_reset,
	.save = port80_save,
	.load = port80_load,
	.destroy = port80_destroy,
};
DEVICE_REGISTER(port80_model)

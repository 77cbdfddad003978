/*
 * System control port A at 0x92 (PS/2 "fast A20 and reset"): bit 1 gates
 * A20, writing bit 0 as 1 resets the CPU. A20 is read back and reported
 * on the device_env's A20 line (device_set_a20).
 */
#include <stdlib.h>
#include "devices/device_util.h"

#define PORT_A		0x92
#define PORTA_RESET	0x01
#define PORTA_A20	0x02

struct port92 {
	struct device_env *env;
	uint8_t value;
};

static void port92_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		      bool is_write)
{
	struct port92 *p = opaque;

	if (!is_write) {
		data[0] = p->value;
		return;
	}
	/* The reset bit does not stay set: it is a pulse. */
	p->value = data[0] & ~PORTA_RESET;
	/* every write drives the line, as QEMU's port92 does */
	device_set_a20(p->env, data[0] & PORTA_A20);
	if (data[0] & PORTA_RESET)
		device_request_stop(p->env, STOP_RESET, 0);
}

static void port92_reset(void *dev)
{
	struct port92 *p = dev;

	p->value = PORTA_A20;	/* firmware hands over with A20 on */
}

static void *port92_create(struct device_env *env, const char *config,
			   char *err, size_t errlen)
{
	if (device_config_parse("port92", config, NULL, 0, err, errlen))
		return NULL;
	struct port92 *p = calloc(1, sizeof(*p));
	if (!p)
		return device_no_memory(err, errlen, "port92");
	p->env = env;
	port92_reset(p);
	if (bus_register(env->pio, PORT_A, 1, port92_io, p, "port92")) {
		free(p);
		return device_ports_taken(err, errlen, "port92", PORT_A);
	}
	return p;
}

static void port92_save(void *dev, struct ds_writer *w)
{
	struct port92 *p = dev;

	ds_put_u8(w, p->value);
}

static int port92_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct port92 *p = dev;
	uint8_t value = ds_get_u8(r);

	if (!ds_done(r))
		return -1;
	p->value = value & ~PORTA_RESET;
	return 0;
}

static void port92_destroy(void *dev)
{
	struct port92 *p = dev;

	bus_unregister_owner(p->env->pio, p);
	free(p);
}

static struct device_model port92_model = {
	.name = "port92",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = port92_create,
	.reset = port92_reset,
	.save = port92_save,
	.load = port92_load,
	.destroy = port92_destroy,
};
DEVICE_REGISTER(port92_model)

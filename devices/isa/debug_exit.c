/*
 * QEMU's isa-debug-exit at 0xf4 (iosize 4): a write of value v ends the
 * run with exit status (v << 1) | 1, so a test guest that passes in QEMU
 * ends the same way here. Reads return 0, as QEMU's do.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/device_util.h"

#define DEBUG_EXIT_BASE	0xf4
#define DEBUG_EXIT_LEN	4

struct debug_exit {
	struct device_env *env;
};

static void debug_exit_io(void *opaque, uint64_t addr, uint8_t *data,
			  unsigned len, bool is_write)
{
	struct debug_exit *d = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	uint32_t v = (uint32_t)access_value(data, len);
	device_request_stop(d->env, STOP_DEBUG_EXIT, (int)((v << 1) | 1));
}

static void *debug_exit_create(struct device_env *env, const char *config,
			       char *err, size_t errlen)
{
	if (device_config_parse("debug_exit", config, NULL, 0, err, errlen))
		return NULL;
	struct debug_exit *d = calloc(1, sizeof(*d));
	if (!d)
		return device_no_memory(err, errlen, "debug_exit");
	d->env = env;
	if (bus_register(env->pio, DEBUG_EXIT_BASE, DEBUG_EXIT_LEN,
			 debug_exit_io, d, "isa-debug-exit")) {
		free(d);
		return device_ports_taken(err, errlen, "debug_exit", DEBUG_EXIT_BASE);
	}
	return d;
}

/* No state: a write ends the run at once. The empty save still carries
 * the model name and version, so a checkpoint lists the device. */
static void debug_exit_reset(void *dev)
{
}

static void debug_exit_save(void *dev, struct ds_writer *w)
{
}

static int debug_exit_load(void *dev, struct ds_reader *r, unsigned version)
{
	return ds_done(r) ? 0 : -1;
}

static void debug_exit_destroy(void *dev)
{
	struct debug_exit *d = dev;

	bus_unregister_owner(d->env->pio, d);
	free(d);
}

static struct device_model debug_exit_model = {
	.name = "debug_exit",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = debug_exit_create,
	.reset = debug_exit_reset,
	.save = debug_exit_save,
	.load = debug_exit_load,
	.destroy = debug_exit_destroy,
};
DEVICE_REGISTER(debug_exit_model)

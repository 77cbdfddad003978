/* The fake machine of fake_device_env.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fake_device_env.h"
#include "net/net_backend.h"
#include "net/net_config.h"
#include "devices/pci/pci.h"

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_env *)ctx)->now;
}

static void record_line(void *ctx, unsigned gsi, bool level)
{
	struct fake_env *f = ctx;

	if (gsi >= IRQ_ROUTER_LINES)
		return;
	if (level && !f->line[gsi])
		f->rising[gsi]++;
	f->line[gsi] = level;
}

static int fake_watch_fd(void *ctx, int fd, void (*ready)(void *opaque), void *opaque)
{
	return fd_watch_add(&((struct fake_env *)ctx)->watch, fd, ready, opaque);
}

static void fake_unwatch_fd(void *ctx, int fd)
{
	fd_watch_remove(&((struct fake_env *)ctx)->watch, fd);
}

int fake_wait_fds(struct fake_env *f, int timeout_ms)
{
	return fd_watch_poll(&f->watch, NULL, 0, timeout_ms);
}

void fake_set_irq(struct fake_env *f, unsigned gsi, bool level)
{
	irq_router_set(&f->irq, f, gsi, level);
}

bool fake_has_interrupt(struct fake_env *f)
{
	return irq_router_has_interrupt(&f->irq, 0);
}

int fake_acknowledge(struct fake_env *f)
{
	return irq_router_acknowledge(&f->irq, 0);
}

static void fake_request_stop(void *ctx, int reason, int status)
{
	struct fake_env *f = ctx;

	f->nr_stops++;
	f->stop_reason = reason;
	f->stop_status = status;
}

/* The fake vCPUs' TSC counts FAKE_TSC_PER_NS ticks a nanosecond of the
 * fake clock, from 0 at fake time 0 (fake_tsc). */
static uint64_t fake_tsc_to_ns(void *ctx, unsigned vcpu, uint64_t tsc)
{
	uint64_t ns = tsc / FAKE_TSC_PER_NS;

	return ns ? ns : 1;
}

uint64_t fake_tsc(const struct fake_env *f)
{
	return f->now * FAKE_TSC_PER_NS;
}

static void fake_set_a20(void *ctx, bool enabled)
{
	struct fake_env *f = ctx;

	f->nr_a20++;
	f->a20 = enabled;
}

int fake_env_init(struct fake_env *f, uint64_t ram_size)
{
	int in[2], out[2];

	memset(f, 0, sizeof(*f));
	if (pipe2(in, O_NONBLOCK | O_CLOEXEC))
		return -1;
	if (pipe2(out, O_NONBLOCK | O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	bus_init(&f->msr, "msr");
	/* the smallest PC memory map is 2 MiB; env.ram_size stays as asked */
	if (fake_guest_ram_init(&f->ram, ram_size < (2u << 20) ? 2u << 20 : ram_size, false) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	irq_router_init(&f->irq);
	irq_router_listen(&f->irq, 0, IRQ_ROUTER_LINES, record_line, f);
	f->pci = pci_bus_create(&f->pio, &f->mmio, &f->irq, NULL);
	f->now = 1000000000ull;	/* not zero: catches "0 means unset" bugs */
	f->env = (struct device_env){
		.pio = &f->pio, .mmio = &f->mmio, .pci = f->pci,
		.irq = &f->irq,
		.now_ns = fake_now, .clock_ctx = f,
		.msr = &f->msr, .tsc_to_ns = fake_tsc_to_ns, .tsc_ctx = f,
		.request_stop = fake_request_stop, .stop_ctx = f,
		.set_a20 = fake_set_a20, .a20_ctx = f,
		.ram_size = ram_size,
		.mem = f->ram.mem,
		.watch_fd = fake_watch_fd, .unwatch_fd = fake_unwatch_fd, .watch_ctx = f,
		.input_fd = in[0], .output_fd = out[1],
	};
	f->input_wr = in[1];
	f->output_rd = out[0];
	f->stop_reason = -1;
	return 0;
}

void fake_env_fini(struct fake_env *f)
{
	while (f->nr_created) {
		f->nr_created--;
		const struct device_model *m = f->created[f->nr_created].model;
		if (m->destroy)
			m->destroy(f->created[f->nr_created].dev);
	}
	pci_bus_destroy(f->pci);
	f->pci = NULL;
	fake_disk_close(&f->disk);
	fake_guest_ram_fini(&f->ram);
	close(f->env.input_fd);
	close(f->input_wr);
	close(f->env.output_fd);
	close(f->output_rd);
}

const struct device_model *fake_model(const char *name)
{
	for (struct device_model *m = device_models(); m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

void *fake_create(struct fake_env *f, const char *name)
{
	return fake_create_config(f, name, NULL);
}

void *fake_create_config(struct fake_env *f, const char *name, const char *config)
{
	const struct device_model *m = fake_model(name);

	f->err[0] = 0;
	if (!m || f->nr_created >= FAKE_MAX_DEVICES)
		return NULL;
	void *dev = m->create(&f->env, config, f->err, sizeof(f->err));
	if (dev) {
		f->created[f->nr_created].model = m;
		f->created[f->nr_created].dev = dev;
		f->nr_created++;
	}
	return dev;
}

const char *fake_default_config(struct fake_env *f, const struct device_model *m)
{
	if (!m->needs_config)
		return NULL;
	if (!strcmp(m->name, "virtio-blk")) {
		if (!f->disk.bd && fake_disk_open(&f->disk, "fake", 64, false) < 0) {
			snprintf(f->err, sizeof(f->err), "fake machine: cannot make a disk for %s",
				 m->name);
			return NULL;
		}
		return f->disk.config;
	}
	if (!strcmp(m->name, "virtio-net")) {
		/* one slirp backend for every fake machine (ids are global),
		 * restricted: nothing a test's guest sends leaves the host */
		struct net_config c;
		char err[256];
		if (!net_backend_find("fakenet") &&
		    (net_config_parse("user,id=fakenet,restrict=on,ipv6=off", &c, err, sizeof(err)) < 0 ||
		     !net_backend_create(&c, err, sizeof(err)))) {
			snprintf(f->err, sizeof(f->err), "fake machine: no network backend: %.200s", err);
			return NULL;
		}
		return "netdev=fakenet";
	}
	snprintf(f->err, sizeof(f->err), "fake machine: %s needs a configuration and the fake "
		 "machine has none for it (tests/unit/fake_device_env.c)", m->name);
	return NULL;
}

void *fake_create_default(struct fake_env *f, const char *name)
{
	const struct device_model *m = fake_model(name);

	if (!m)
		return NULL;
	const char *config = fake_default_config(f, m);
	if (m->needs_config && !config)
		return NULL;		/* f->err says why */
	return fake_create_config(f, name, config);
}

void fake_poll_all(struct fake_env *f)
{
	fake_wait_fds(f, 0);
	for (unsigned i = 0; i < f->nr_created; i++)
		if (f->created[i].model->poll)
			f->created[i].model->poll(f->created[i].dev, f->now);
}

uint8_t pio_in8(struct fake_env *f, uint16_t port)
{
	uint8_t v = 0;
	bus_access(&f->pio, port, &v, 1, false);
	return v;
}

uint16_t pio_in16(struct fake_env *f, uint16_t port)
{
	uint8_t b[2] = { 0, 0 };
	bus_access(&f->pio, port, b, 2, false);
	return (uint16_t)(b[0] | b[1] << 8);
}

void pio_out8(struct fake_env *f, uint16_t port, uint8_t v)
{
	bus_access(&f->pio, port, &v, 1, true);
}

void pio_out16(struct fake_env *f, uint16_t port, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	bus_access(&f->pio, port, b, 2, true);
}

void pio_out32(struct fake_env *f, uint16_t port, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };
	bus_access(&f->pio, port, b, 4, true);
}

int fake_read_output(struct fake_env *f, char *buf, int max)
{
	ssize_t n = read(f->output_rd, buf, (size_t)max);
	return n < 0 ? 0 : (int)n;
}

uint64_t mmio_read(struct fake_env *f, uint64_t addr, unsigned len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	bus_access(&f->mmio, addr, b, len, false);
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

void mmio_write(struct fake_env *f, uint64_t addr, uint64_t v, unsigned len)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	bus_access(&f->mmio, addr, b, len, true);
}

uint32_t mmio_read32(struct fake_env *f, uint64_t addr)
{
	return (uint32_t)mmio_read(f, addr, 4);
}

void mmio_write32(struct fake_env *f, uint64_t addr, uint32_t v)
{
	mmio_write(f, addr, v, 4);
}

bool fake_msr_read(struct fake_env *f, uint32_t index, uint64_t *val)
{
	uint8_t b[8] = { 0 };

	*val = 0;
	if (!bus_access(&f->msr, DEVICE_MSR_ADDR(0, index), b, 8, false))
		return false;
	for (unsigned i = 0; i < 8; i++)
		*val |= (uint64_t)b[i] << (8 * i);
	return true;
}

bool fake_msr_write(struct fake_env *f, uint32_t index, uint64_t val)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return bus_access(&f->msr, DEVICE_MSR_ADDR(0, index), b, 8, true);
}

void fake_pic_init(struct fake_env *f)
{
	static const uint8_t seq[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0x00 }, { 0xa1, 0x00 },
	};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		pio_out8(f, seq[i][0], seq[i][1]);
}

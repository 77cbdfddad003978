/*
 * The I/O APIC (Intel 82093AA datasheet; ICH's, version 0x20, as QEMU's):
 * 24 pins, each a 64-bit redirection entry that turns the pin's level into
 * an interrupt message to the local APICs (SDM Vol. 3A, 11.6.2 for the
 * destination), at 0xfec00000 with IOREGSEL at 0x00, IOWIN at 0x10 and the
 * EOI register at 0x40.
 *
 * Its pins are the router's lines, with the override every PC firmware
 * declares: ISA IRQ 0 (the PIT, line 0) is pin 2, where the 8259 cascade
 * would be (ACPI MADT "Interrupt Source Override" bus 0 IRQ 0 -> GSI 2);
 * every other line i is pin i, pin 0 has nothing. Configuration: "id=N"
 * (the IOAPIC ID, default 0 as QEMU's).
 *
 * Lines carry assertion, not voltage: the polarity bit is kept for the
 * guest to read back and does not invert the pin (QEMU does the same).
 */
#include <stdlib.h>
#include "devices/device_util.h"

#define IOAPIC_BASE	0xfec00000ull
#define IOAPIC_SIZE	0x1000
#define IOAPIC_PINS	24
#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOEOI		0x40	/* version 0x20 and later */

#define REG_ID		0x00
#define REG_VERSION	0x01
#define REG_ARB		0x02
#define REG_REDIR	0x10	/* 0x10 + 2n: low dword of pin n, then high */
/* Version 0x20, maximum redirection entry 23. */
#define IOAPIC_VERSION	(0x20u | (IOAPIC_PINS - 1u) << 16)

#define RTE_VECTOR	0xffull
#define RTE_DELIVERY	(7ull << 8)
#define RTE_LOGICAL	(1ull << 11)
#define RTE_STATUS	(1ull << 12)	/* delivery status: always idle here */
#define RTE_POLARITY	(1ull << 13)
#define RTE_REMOTE_IRR	(1ull << 14)
#define RTE_LEVEL	(1ull << 15)
#define RTE_MASKED	(1ull << 16)
#define RTE_DEST	(0xffull << 56)
#define RTE_WRITABLE	(RTE_VECTOR | RTE_DELIVERY | RTE_LOGICAL | RTE_POLARITY | \
			 RTE_LEVEL | RTE_MASKED | RTE_DEST)

struct ioapic {
	struct device_env *env;
	uint32_t id;			/* bits 27:24 */
	uint32_t config_id;		/* what reset restores */
	uint8_t ioregsel;
	uint32_t lines;			/* router line levels, bit per line */
	uint64_t rte[IOAPIC_PINS];
	unsigned long bad_access;
};

/* Line 0 (ISA IRQ 0) and the unused cascade line 2 both reach pin 2. */
static bool pin_level(const struct ioapic *io, unsigned pin)
{
	if (pin == 0)
		return false;
	if (pin == 2)
		return io->lines & 0x5u;
	return io->lines & (1u << pin);
}

static unsigned pin_of_line(unsigned line)
{
	return line == 0 ? 2 : line;
}

/* Sends pin's message. A level message nobody took leaves Remote IRR
 * clear: no local APIC will ever EOI it. */
static void deliver(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];
	struct irq_msg m = {
		.vector = (uint8_t)(e & RTE_VECTOR),
		.delivery = (uint8_t)((e & RTE_DELIVERY) >> 8),
		.level = e & RTE_LEVEL,
		.logical = e & RTE_LOGICAL,
		.dest = (uint8_t)(e >> 56),
	};

	if (irq_router_send(io->env->irq, &m, NULL) && (e & RTE_LEVEL))
		io->rte[pin] |= RTE_REMOTE_IRR;
}

/* A level pin is delivered while asserted, unmasked and not awaiting its
 * EOI (Remote IRR clear). */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && pin_level(io, pin))
		deliver(io, pin);
}

static void ioapic_line_changed(void *ctx, unsigned line, bool level)
{
	struct ioapic *io = ctx;
	unsigned pin = pin_of_line(line);
	bool was = pin_level(io, pin);

	if (level)
		io->lines |= 1u << line;
	else
		io->lines &= ~(1u << line);
	uint64_t e = io->rte[pin];
	if (e & RTE_LEVEL)
		service_level(io, pin);
	else if (!was && pin_level(io, pin) && !(e & RTE_MASKED))
		deliver(io, pin);	/* an edge while masked is lost */
}

/* SDM 11.8.5 / the datasheet's EOI register: the EOI of vector clears
 * Remote IRR of the level pins with that vector, which are delivered again
 * if still asserted. */
static void ioapic_eoi(void *ctx, uint8_t vector)
{
	struct ioapic *io = ctx;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->rte[pin];
		if ((e & RTE_REMOTE_IRR) && (e & RTE_VECTOR) == vector) {
			io->rte[pin] &= ~RTE_REMOTE_IRR;
			service_level(io, pin);
		}
	}
}

static uint32_t reg_read(struct ioapic *io, uint8_t reg)
{
	if (reg >= REG_REDIR && reg < REG_REDIR + 2 * IOAPIC_PINS) {
		uint64_t e = io->rte[(reg - REG_REDIR) / 2];
		return (uint32_t)(reg & 1 ? e >> 32 : e);
	}
	switch (reg) {
	case REG_ID:
	case REG_ARB:
		return io->id;
	case REG_VERSION:
		return IOAPIC_VERSION;
	default:
		return 0;
	}
}

static void reg_write(struct ioapic *io, uint8_t reg, uint32_t v)
{
	if (reg == REG_ID) {
		io->id = v & 0x0f000000u;
		return;
	}
	if (reg < REG_REDIR || reg >= REG_REDIR + 2 * IOAPIC_PINS)
		return;		/* read-only or no such register */
	unsigned pin = (reg - REG_REDIR) / 2;
	uint64_t e = io->rte[pin];
	uint64_t n = reg & 1 ? (e & 0xffffffffull) | (uint64_t)v << 32
			     : (e & ~0xffffffffull) | v;
	n = (n & RTE_WRITABLE) | (e & RTE_REMOTE_IRR);
	/* Edge mode has no Remote IRR: Linux clears a stuck one on IOAPICs
	 * without an EOI register by switching the pin to edge and back. */
	if (!(n & RTE_LEVEL))
		n &= ~RTE_REMOTE_IRR;
	io->rte[pin] = n;
	service_level(io, pin);	/* unmasked while asserted */
}

/* IOREGSEL, IOWIN and EOI take aligned dword accesses (datasheet 3.0);
 * IOREGSEL also a byte, its width. Anything else reads 0 or is dropped,
 * and counted. */
static void ioapic_mmio(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			bool is_write)
{
	struct ioapic *io = opaque;
	unsigned off = (unsigned)(addr - IOAPIC_BASE);
	uint32_t v = is_write ? (uint32_t)access_value(data, len) : 0;
	bool ok = (len == 4 || (len == 1 && off == IOREGSEL)) &&
		  (off == IOREGSEL || off == IOWIN || off == IOEOI);

	if (!ok) {
		io->bad_access++;
	} else if (off == IOREGSEL) {
		if (is_write)
			io->ioregsel = (uint8_t)v;
		else
			v = io->ioregsel;
	} else if (off == IOWIN) {
		if (is_write)
			reg_write(io, io->ioregsel, v);
		else
			v = reg_read(io, io->ioregsel);
	} else if (is_write) {
		ioapic_eoi(io, (uint8_t)v);
	}
	if (!is_write)
		for (unsigned i = 0; i < len; i++)
			data[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0;
}

/* Every pin masked, as at power-on (datasheet: mask bit set on reset);
 * the input lines keep their levels: they are wires. */
static void ioapic_reset(void *dev)
{
	struct ioapic *io = dev;

	io->ioregsel = 0;
	io->id = io->config_id;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
}

static void ioapic_disconnect(struct ioapic *io)
{
	irq_router_unlisten(io->env->irq, io);
	bus_unregister_owner(io->env->mmio, io);
}

static void *ioapic_create(struct device_env *env, const char *config,
			   char *err, size_t errlen)
{
	struct device_config_key keys[] = { { "id", 0, 15, 0 } };

	if (device_config_parse("ioapic", config, keys, 1, err, errlen))
		return NULL;
	if (!env->irq) {
		snprintf(err, errlen, "device ioapic: the machine has no interrupt lines");
		return NULL;
	}
	struct ioapic *io = calloc(1, sizeof(*io));
	if (!io)
		return device_no_memory(err, errlen, "ioapic");
	io->env = env;
	io->config_id = (uint32_t)keys[0].value << 24;
	ioapic_reset(io);
	if (irq_router_listen(env->irq, 0, IOAPIC_PINS, ioapic_line_changed, io) ||
	    irq_router_listen_eoi(env->irq, ioapic_eoi, io) ||
	    bus_register(env->mmio, IOAPIC_BASE, IOAPIC_SIZE, ioapic_mmio, io, "ioapic")) {
		ioapic_disconnect(io);
		free(io);
		snprintf(err, errlen, "device ioapic: the page at 0x%llx or the interrupt "
			 "lines are taken", (unsigned long long)IOAPIC_BASE);
		return NULL;
	}
	return io;
}

static void ioapic_save(void *dev, struct ds_writer *w)
{
	struct ioapic *io = dev;

	ds_put_u32(w, io->id);
	ds_put_u8(w, io->ioregsel);
	ds_put_u32(w, io->lines);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		ds_put_u64(w, io->rte[pin]);
}

static int ioapic_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct ioapic *io = dev;
	uint32_t id = ds_get_u32(r);
	uint8_t sel = ds_get_u8(r);
	uint32_t lines = ds_get_u32(r);
	uint64_t rte[IOAPIC_PINS];

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		rte[pin] = ds_get_u64(r) & (RTE_WRITABLE | RTE_REMOTE_IRR);
	if (!ds_done(r))
		return -1;
	io->id = id & 0x0f000000u;
	io->ioregsel = sel;
	io->lines = lines & ((1u << IOAPIC_PINS) - 1);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->rte[pin] = rte[pin];
	return 0;
}

static void ioapic_destroy(void *dev)
{
	struct ioapic *io = dev;

	ioapic_disconnect(io);
	free(io);
}

/* For the stop report: the asserted lines, and each unmasked pin's
 * vector, trigger and Remote IRR (a level pin awaiting an EOI). */
static void ioapic_describe(void *dev, uint64_t now_ns, char *buf, size_t len)
{
	const struct ioapic *io = dev;
	int n = snprintf(buf, len, "ioapic: lines asserted 0x%06x; unmasked pins:", io->lines);

	for (unsigned pin = 0; pin < IOAPIC_PINS && n > 0 && (size_t)n < len; pin++) {
		uint64_t e = io->rte[pin];
		if (e & RTE_MASKED)
			continue;
		n += snprintf(buf + n, len - n, " %u->0x%02x%s%s%s", pin, (unsigned)(e & RTE_VECTOR),
			      e & RTE_LEVEL ? " level" : "", e & RTE_REMOTE_IRR ? " remote-irr" : "",
			      pin_level(io, pin) ? " high" : "");
	}
}

static struct device_model ioapic_model = {
	.name = "ioapic",
	.level = DEVICE_LEVEL_CORE,
	.state_version = 1,
	.create = ioapic_create,
	.reset = ioapic_reset,
	.save = ioapic_save,
	.load = ioapic_load,
	.describe = ioapic_describe,
	.destroy = ioapic_destroy,
};
DEVICE_REGISTER(ioapic_model)

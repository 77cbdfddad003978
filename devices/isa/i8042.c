/*
 * The 8042 keyboard controller at 0x60 (data) and 0x64 (status/command),
 * with a keyboard that answers commands but has no keys. What guests use
 * it for here: the reset line (command 0xFE, or output port bit 0 via
 * 0xD1), the A20 gate (0xD1, 0xDD/0xDF), the self test (0xAA -> 0x55),
 * the controller command byte (0x20/0x60), and probing by Linux's i8042
 * driver, which must find a sane controller and a keyboard that ACKs.
 * Port 0x61 belongs to the PIT model (it carries channel 2's gate).
 *
 * Names follow the IBM PC/AT technical reference: status register bits
 * OBF, IBF, SYS, A2 (CMD/DATA), INH, AUX_OBF; command byte bits.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/device_util.h"

#define KBC_DATA	0x60
#define KBC_CMD		0x64
#define KBD_IRQ		1
#define AUX_IRQ		12

#define STAT_OBF	0x01
#define STAT_SYS	0x04
#define STAT_CMD	0x08	/* last write was to 0x64 */
#define STAT_UNLOCKED	0x10	/* keyboard not inhibited */
#define STAT_AUX_OBF	0x20

#define CB_KBD_INT	0x01
#define CB_AUX_INT	0x02
#define CB_SYS		0x04
#define CB_KBD_OFF	0x10
#define CB_AUX_OFF	0x20
#define CB_XLATE	0x40

#define OUT_RESET_N	0x01	/* CPU reset line, active low */
#define OUT_A20		0x02

#define KBD_ACK		0xfa
#define OUT_QUEUE	16

/* A controller command whose argument arrives on the data port. */
enum pending_write {
	PENDING_NONE,
	PENDING_CMD_BYTE,	/* 0x60 */
	PENDING_OUTPORT,	/* 0xD1 */
	PENDING_KBD_ECHO,	/* 0xD2: fake keyboard output */
	PENDING_AUX_ECHO,	/* 0xD3: fake aux output */
	PENDING_AUX_WRITE,	/* 0xD4: byte for the mouse */
	PENDING_KBD_ARG,	/* keyboard command with an argument byte */
};

struct i8042 {
	struct device_env *env;
	uint8_t cmd_byte, outport, status_cmd;
	enum pending_write pending;
	struct { uint8_t byte; bool aux; } q[OUT_QUEUE];
	unsigned q_head, q_count;
	bool kbd_irq, aux_irq;
};

static void update_irqs(struct i8042 *k)
{
	bool has = k->q_count > 0;
	bool aux = has && k->q[k->q_head].aux;
	bool kbd_irq = has && !aux && (k->cmd_byte & CB_KBD_INT);
	bool aux_irq = aux && (k->cmd_byte & CB_AUX_INT);

	if (kbd_irq != k->kbd_irq) {
		k->kbd_irq = kbd_irq;
		device_set_irq(k->env, k, KBD_IRQ, kbd_irq);
	}
	if (aux_irq != k->aux_irq) {
		k->aux_irq = aux_irq;
		device_set_irq(k->env, k, AUX_IRQ, aux_irq);
	}
}

static void queue_byte(struct i8042 *k, uint8_t b, bool aux)
{
	if (k->q_count == OUT_QUEUE)
		return;	/* a guest not reading: drop, as a full buffer would */
	unsigned at = (k->q_head + k->q_count) % OUT_QUEUE;
	k->q[at].byte = b;
	k->q[at].aux = aux;
	k->q_count++;
	update_irqs(k);
}

static void pulse_reset(struct i8042 *k)
{
	device_request_stop(k->env, STOP_RESET, 0);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v | OUT_RESET_N;
	device_set_a20(k->env, v & OUT_A20);	/* the gate is output port bit 1 */
	if (!(v & OUT_RESET_N))
		pulse_reset(k);
}

/* Commands to the keyboard itself (data port writes). */
static void keyboard_command(struct i8042 *k, uint8_t c)
{
	if (k->pending == PENDING_KBD_ARG) {
		k->pending = PENDING_NONE;
		queue_byte(k, KBD_ACK, false);
		return;
	}
	switch (c) {
	case 0xff:	/* reset: ACK, then BAT passed */
		queue_byte(k, KBD_ACK, false);
		queue_byte(k, 0xaa, false);
		break;
	case 0xf2:	/* identify: MF2 keyboard */
		queue_byte(k, KBD_ACK, false);
		queue_byte(k, 0xab, false);
		queue_byte(k, 0x83, false);
		break;
	case 0xee:	/* echo */
		queue_byte(k, 0xee, false);
		break;
	case 0xed:	/* set LEDs */
	case 0xf0:	/* scan code set */
	case 0xf3:	/* typematic rate */
		queue_byte(k, KBD_ACK, false);
		k->pending = PENDING_KBD_ARG;
		break;
	default:	/* enable, disable, defaults, ...: just ACK */
		queue_byte(k, KBD_ACK, false);
		break;
	}
}

static void controller_command(struct i8042 *k, uint8_t c)
{
	k->pending = PENDING_NONE;
	if (c >= 0xf0) {
		/* Pulse output port bits 0-3 for each 0 bit in c; bit 0 is
		 * the CPU reset line (0xFE is the classic reboot). */
		if (!(c & OUT_RESET_N))
			pulse_reset(k);
		return;
	}
	switch (c) {
	case 0x20:
		queue_byte(k, k->cmd_byte, false);
		break;
	case 0x60:
		k->pending = PENDING_CMD_BYTE;
		break;
	case 0xa7:
		k->cmd_byte |= CB_AUX_OFF;
		break;
	case 0xa8:
		k->cmd_byte &= ~CB_AUX_OFF;
		break;
	case 0xa9:	/* aux interface test: no fault */
	case 0xab:	/* keyboard interface test: no fault */
		queue_byte(k, 0x00, false);
		break;
	case 0xaa:	/* controller self test */
		k->cmd_byte |= CB_SYS;
		queue_byte(k, 0x55, false);
		break;
	case 0xad:
		k->cmd_byte |= CB_KBD_OFF;
		break;
	case 0xae:
		k->cmd_byte &= ~CB_KBD_OFF;
		break;
	case 0xc0:	/* input port: keyboard not locked, colour display */
		queue_byte(k, 0x80, false);
		break;
	case 0xd0:
		queue_byte(k, k->outport, false);
		break;
	case 0xd1:
		k->pending = PENDING_OUTPORT;
		break;
	case 0xd2:
		k->pending = PENDING_KBD_ECHO;
		break;
	case 0xd3:
		k->pending = PENDING_AUX_ECHO;
		break;
	case 0xd4:
		k->pending = PENDING_AUX_WRITE;
		break;
	case 0xdd:	/* HP Vectra-style A20 off/on */
		k->outport &= ~OUT_A20;
		device_set_a20(k->env, false);
		break;
	case 0xdf:
		k->outport |= OUT_A20;
		device_set_a20(k->env, true);
		break;
	default:	/* unknown commands are ignored, as on the 8042 */
		break;
	}
	update_irqs(k);
}

static void data_write(struct i8042 *k, uint8_t v)
{
	enum pending_write p = k->pending;

	if (p != PENDING_KBD_ARG)
		k->pending = PENDING_NONE;
	switch (p) {
	case PENDING_CMD_BYTE:
		k->cmd_byte = v;
		update_irqs(k);
		break;
	case PENDING_OUTPORT:
		write_outport(k, v);
		break;
	case PENDING_KBD_ECHO:
		queue_byte(k, v, false);
		break;
	case PENDING_AUX_ECHO:
		queue_byte(k, v, true);
		break;
	case PENDING_AUX_WRITE:
		break;	/* no mouse: the byte goes nowhere, no ACK */
	default:
		keyboard_command(k, v);
		break;
	}
}

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = STAT_UNLOCKED | k->status_cmd;

	if (k->cmd_byte & CB_SYS)
		s |= STAT_SYS;
	if (k->q_count) {
		s |= STAT_OBF;
		if (k->q[k->q_head].aux)
			s |= STAT_AUX_OBF;
	}
	return s;
}

static uint8_t data_read(struct i8042 *k)
{
	if (!k->q_count)
		return k->q[k->q_head].byte;	/* the last byte, again */
	uint8_t b = k->q[k->q_head].byte;
	k->q_head = (k->q_head + 1) % OUT_QUEUE;
	k->q_count--;
	/* Keep the last byte at the head slot for re-reads. */
	if (!k->q_count)
		k->q[k->q_head].byte = b;
	/* Reading empties the output buffer, which drops the IRQ line; the
	 * next byte then raises it again: one edge per byte. */
	if (k->kbd_irq) {
		k->kbd_irq = false;
		device_set_irq(k->env, k, KBD_IRQ, false);
	}
	if (k->aux_irq) {
		k->aux_irq = false;
		device_set_irq(k->env, k, AUX_IRQ, false);
	}
	update_irqs(k);
	return b;
}

static void i8042_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		     bool is_write)
{
	struct i8042 *k = opaque;

	if (addr == KBC_DATA) {
		if (is_write) {
			k->status_cmd = 0;
			data_write(k, data[0]);
		} else {
			data[0] = data_read(k);
		}
	} else {
		if (is_write) {
			k->status_cmd = STAT_CMD;
			controller_command(k, data[0]);
		} else {
			data[0] = status(k);
		}
	}
}

/* As firmware leaves it: translation on, POST passed, kbd IRQ on. */
static void i8042_reset(void *dev)
{
	struct i8042 *k = dev;

	k->cmd_byte = CB_XLATE | CB_SYS | CB_KBD_INT;
	k->outport = OUT_RESET_N | OUT_A20;
	k->status_cmd = 0;
	k->pending = PENDING_NONE;
	k->q_head = k->q_count = 0;
	memset(k->q, 0, sizeof(k->q));
	update_irqs(k);
}

static void *i8042_create(struct device_env *env, const char *config,
			  char *err, size_t errlen)
{
	if (device_config_parse("i8042", config, NULL, 0, err, errlen))
		return NULL;
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return device_no_memory(err, errlen, "i8042");
	k->env = env;
	i8042_reset(k);
	if (bus_register(env->pio, KBC_DATA, 1, i8042_io, k, "i8042-data") ||
	    bus_register(env->pio, KBC_CMD, 1, i8042_io, k, "i8042-cmd")) {
		bus_unregister_owner(env->pio, k);
		free(k);
		return device_ports_taken(err, errlen, "i8042", KBC_DATA);
	}
	return k;
}

static void i8042_save(void *dev, struct ds_writer *w)
{
	struct i8042 *k = dev;

	ds_put_u8(w, k->cmd_byte);
	ds_put_u8(w, k->outport);
	ds_put_u8(w, k->status_cmd);
	ds_put_u32(w, k->pending);
	for (unsigned i = 0; i < OUT_QUEUE; i++) {
		ds_put_u8(w, k->q[i].byte);
		ds_put_bool(w, k->q[i].aux);
	}
	ds_put_u32(w, k->q_head);
	ds_put_u32(w, k->q_count);
	ds_put_bool(w, k->kbd_irq);
	ds_put_bool(w, k->aux_irq);
}

static int i8042_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct i8042 *k = dev, t = *k;

	t.cmd_byte = ds_get_u8(r);
	t.outport = ds_get_u8(r);
	t.status_cmd = ds_get_u8(r) & STAT_CMD;
	t.pending = ds_get_below(r, PENDING_KBD_ARG + 1, "pending command");
	for (unsigned i = 0; i < OUT_QUEUE; i++) {
		t.q[i].byte = ds_get_u8(r);
		t.q[i].aux = ds_get_bool(r);
	}
	t.q_head = ds_get_below(r, OUT_QUEUE, "queue head");
	t.q_count = ds_get_below(r, OUT_QUEUE + 1, "queue length");
	t.kbd_irq = ds_get_bool(r);
	t.aux_irq = ds_get_bool(r);
	if (!ds_done(r))
		return -1;
	*k = t;
	/* The lines follow the loaded state. */
	device_set_irq(k->env, k, KBD_IRQ, k->kbd_irq);
	device_set_irq(k->env, k, AUX_IRQ, k->aux_irq);
	return 0;
}

static void i8042_destroy(void *dev)
{
	struct i8042 *k = dev;

	bus_unregister_owner(k->env->pio, k);
	free(k);
}

static struct device_model i8042_model = {
	.name = "i8042",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = i8042_create,
	.reset = i8042_reset,
	.save = i8042_save,
	.load = i8042_load,
	.destroy = i8042_destroy,
};
DEVICE_REGISTER(i8042_model)

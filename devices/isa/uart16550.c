/*
 * NS16550A UART, by default COM1 (0x3f8-0x3ff, IRQ4) on the console;
 * configuration "port=0x2f8,irq=3,console=0" makes a COM2 with no host
 * side (input none, output counted as dropped). Transmit is instant: a byte
 * written to THR goes to the host's output fd at once, so LSR always shows
 * THRE and TEMT. Receive takes bytes from the input fd in poll() into the
 * 16-byte RX FIFO (1 byte when the FIFOs are off), never more than fits,
 * so nothing is lost to overrun; the rest waits in the fd. As on silicon
 * and under QEMU, a byte taken before the guest enables or clears the
 * FIFOs (FCR) is discarded by that write: feed input after the guest's
 * UART set-up, not before it starts.
 *
 * Register names are the datasheet's: RBR/THR/DLL, IER/DLM, IIR/FCR, LCR,
 * MCR, LSR, MSR, SCR. The IRQ follows QEMU: not gated by MCR.OUT2, so the
 * same guest behaves the same under QEMU and here.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "devices/device_util.h"

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define UART_PORTS	8
#define RX_FIFO_SIZE	16

enum uart_reg { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR };

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* THR empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_TIMEOUT	0x0c	/* character timeout (FIFO mode) */
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	0x1e	/* OE, PE, FE, BI: cleared by reading LSR */

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct uart {
	struct device_env *env;
	unsigned base, irq;		/* configuration */
	int input_fd, output_fd;	/* -1: none (console=0) */
	uint8_t ier, lcr, mcr, lsr_errors, msr, scr, dll, dlm;
	uint8_t fcr;			/* FIFO enable and RX trigger bits */
	bool thr_ipending;		/* THRE interrupt not yet acknowledged */
	uint8_t rx[RX_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool input_eof;
	bool irq_level;
	uint64_t tx_bytes, tx_dropped;
};

static unsigned rx_capacity(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE) ? RX_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };
	return (u->fcr & FCR_ENABLE) ? level[u->fcr >> 6] : 1;
}

static void rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_errors |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = b;
	u->rx_count++;
}

static uint8_t rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
	u->rx_count--;
	return b;
}

/* The highest-priority pending interrupt, as IIR bits 3-0. */
static uint8_t pending_interrupt(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && u->lsr_errors)
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		if (u->rx_count >= rx_trigger(u))
			return IIR_RDI;
		/* Below the trigger level the 16550A reports a character
		 * timeout once the line has been idle; input here arrives in
		 * bursts between polls, so it is idle at once. */
		return IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
	bool level = pending_interrupt(u) != IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		device_set_irq(u->env, u, u->irq, level);
	}
}

static void write_output(struct uart *u, uint8_t b)
{
	int fd = u->output_fd;

	for (int tries = 0; fd >= 0 && tries < 10; tries++) {
		ssize_t n = write(fd, &b, 1);
		if (n == 1) {
			u->tx_bytes++;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		/* A non-blocking fd that is full: wait a little for room. */
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		poll(&pfd, 1, 10);
	}
	u->tx_dropped++;
}

/* In loopback the modem outputs feed the modem inputs (datasheet 8.6). */
static uint8_t loopback_msr(uint8_t mcr)
{
	return (uint8_t)((mcr & MCR_RTS ? MSR_CTS : 0) |
			 (mcr & MCR_DTR ? MSR_DSR : 0) |
			 (mcr & MCR_OUT1 ? MSR_RI : 0) |
			 (mcr & MCR_OUT2 ? MSR_DCD : 0));
}

static void set_msr_inputs(struct uart *u, uint8_t inputs)
{
	uint8_t old = u->msr;
	uint8_t delta = 0;

	if ((old ^ inputs) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ inputs) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(inputs & MSR_RI))
		delta |= MSR_TERI;	/* trailing edge only */
	if ((old ^ inputs) & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = (uint8_t)((old & MSR_DELTAS) | delta | inputs);
}

static void write_mcr(struct uart *u, uint8_t v)
{
	u->mcr = v & 0x1f;
	if (u->mcr & MCR_LOOP)
		set_msr_inputs(u, loopback_msr(u->mcr));
	else
		set_msr_inputs(u, MSR_DCD | MSR_DSR | MSR_CTS);
}

static void write_fcr(struct uart *u, uint8_t v)
{
	/* Turning the FIFOs on or off empties them. */
	if ((v ^ u->fcr) & FCR_ENABLE) {
		u->rx_count = 0;
		u->rx_head = 0;
	}
	if (v & FCR_CLEAR_RX) {
		u->rx_count = 0;
		u->rx_head = 0;
	}
	/* The TX FIFO is always empty: bytes leave at once. */
	u->fcr = v & (FCR_ENABLE | 0xc0);
	if (!(u->fcr & FCR_ENABLE))
		u->fcr = 0;
}

static void uart_write_byte(void *dev, unsigned reg, uint8_t v)
{
	struct uart *u = dev;
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case RBR_THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, v);
		else
			write_output(u, v);
		/* Writing THR clears THRE; the byte leaves at once, so THR is
		 * empty again and a new THRE interrupt is due. */
		u->thr_ipending = true;
		break;
	case IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling ETBEI with THR empty raises THRE at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		break;
	case IIR_FCR:
		write_fcr(u, v);
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		write_mcr(u, v);
		break;
	case LSR:
	case MSR:
		break;	/* read-only (factory test on silicon) */
	case SCR:
		u->scr = v;
		break;
	}
	update_irq(u);
}

static uint8_t uart_read_byte(void *dev, unsigned reg)
{
	struct uart *u = dev;
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = 0;

	switch (reg) {
	case RBR_THR:
		v = dlab ? u->dll : rx_pop(u);
		break;
	case IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case IIR_FCR:
		v = pending_interrupt(u);
		/* Reading IIR while it reports THRE acknowledges it. */
		if (v == IIR_THRI)
			u->thr_ipending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO_ON;
		break;
	case LCR:
		v = u->lcr;
		break;
	case MCR:
		v = u->mcr;
		break;
	case LSR:
		v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_errors |
			      (u->rx_count ? LSR_DR : 0));
		u->lsr_errors = 0;
		break;
	case MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		break;
	case SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

static void uart_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		    bool is_write)
{
	struct uart *u = opaque;

	access_bytewise(opaque, (unsigned)(addr - u->base), data, len, is_write,
			uart_read_byte, uart_write_byte);
}

static void read_input(struct uart *u)
{
	int fd = u->input_fd;

	if (fd < 0 || u->input_eof || (u->mcr & MCR_LOOP))
		return;
	unsigned room = rx_capacity(u) - u->rx_count;
	if (!room)
		return;

	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (pfd.revents & POLLNVAL) {
		u->input_eof = true;
		return;
	}
	uint8_t buf[RX_FIFO_SIZE];
	ssize_t n = read(fd, buf, room);
	if (n == 0) {
		u->input_eof = true;	/* stop polling a closed input */
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		rx_push(u, buf[i]);
}

static void uart_poll(void *dev, uint64_t now)
{
	struct uart *u = dev;

	read_input(u);
	update_irq(u);
}

/* Power-on registers, as firmware leaves COM1: 8N1, 9600 baud, OUT2. */
static void uart_reset(void *dev)
{
	struct uart *u = dev;
	struct uart config = *u;

	if (u->irq_level)
		device_set_irq(u->env, u, u->irq, false);
	*u = (struct uart){
		.env = config.env, .base = config.base, .irq = config.irq,
		.input_fd = config.input_fd, .output_fd = config.output_fd,
	};
	u->lcr = 0x03;
	u->dll = 0x0c;
	write_mcr(u, MCR_OUT2);
	u->msr &= ~MSR_DELTAS;
}

static void *uart_create(struct device_env *env, const char *config,
			 char *err, size_t errlen)
{
	struct device_config_key keys[] = {
		{ "port", 0, 0x10000 - UART_PORTS, COM1_BASE },
		{ "irq", 0, IRQ_ROUTER_LINES - 1, COM1_IRQ },
		{ "console", 0, 1, 1 },
	};
	if (device_config_parse("uart16550", config, keys, 3, err, errlen))
		return NULL;
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return device_no_memory(err, errlen, "uart16550");
	u->env = env;
	u->base = (unsigned)keys[0].value;
	u->irq = (unsigned)keys[1].value;
	u->input_fd = keys[2].value ? env->input_fd : -1;
	u->output_fd = keys[2].value ? env->output_fd : -1;
	uart_reset(u);
	if (bus_register(env->pio, u->base, UART_PORTS, uart_io, u, "uart16550")) {
		free(u);
		return device_ports_taken(err, errlen, "uart16550", (unsigned)keys[0].value);
	}
	return u;
}

static void uart_save(void *dev, struct ds_writer *w)
{
	struct uart *u = dev;

	ds_put_u8(w, u->ier);
	ds_put_u8(w, u->lcr);
	ds_put_u8(w, u->mcr);
	ds_put_u8(w, u->lsr_errors);
	ds_put_u8(w, u->msr);
	ds_put_u8(w, u->scr);
	ds_put_u8(w, u->dll);
	ds_put_u8(w, u->dlm);
	ds_put_u8(w, u->fcr);
	ds_put_bool(w, u->thr_ipending);
	ds_put_bytes(w, u->rx, RX_FIFO_SIZE);
	ds_put_u32(w, u->rx_head);
	ds_put_u32(w, u->rx_count);
	ds_put_bool(w, u->input_eof);
	ds_put_bool(w, u->irq_level);
	ds_put_u64(w, u->tx_bytes);
	ds_put_u64(w, u->tx_dropped);
}

static int uart_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct uart *u = dev, t = *u;

	t.ier = ds_get_u8(r) & 0x0f;
	t.lcr = ds_get_u8(r);
	t.mcr = ds_get_u8(r);
	t.lsr_errors = ds_get_u8(r) & LSR_ERRORS;
	t.msr = ds_get_u8(r);
	t.scr = ds_get_u8(r);
	t.dll = ds_get_u8(r);
	t.dlm = ds_get_u8(r);
	t.fcr = ds_get_u8(r);
	t.thr_ipending = ds_get_bool(r);
	ds_get_bytes(r, t.rx, RX_FIFO_SIZE);
	t.rx_head = ds_get_below(r, RX_FIFO_SIZE, "RX FIFO head");
	t.rx_count = ds_get_below(r, RX_FIFO_SIZE + 1, "RX FIFO count");
	t.input_eof = ds_get_bool(r);
	t.irq_level = ds_get_bool(r);
	t.tx_bytes = ds_get_u64(r);
	t.tx_dropped = ds_get_u64(r);
	if (!ds_done(r))
		return -1;
	*u = t;
	device_set_irq(u->env, u, u->irq, u->irq_level);
	return 0;
}

static void uart_destroy(void *dev)
{
	struct uart *u = dev;

	bus_unregister_owner(u->env->pio, u);
	free(u);
}

static struct device_model uart16550_model = {
	.name = "uart16550",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = uart_create,
	.reset = uart_reset,
	.save = uart_save,
	.load = uart_load,
	.poll = uart_poll,
	.destroy = uart_destroy,
};
DEVICE_REGISTER(uart16550_model)

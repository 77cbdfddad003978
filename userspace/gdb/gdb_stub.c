/*
 * The gdb stub's connection and its pause: see gdb_stub.h. Everything
 * runs on the vCPU thread: while the guest runs, the listener and the
 * client are in the VMM's fd watch set (a connection or a Ctrl-C pauses
 * the VM); while it is paused, vm_pause_debug_point calls paused(), which
 * talks to the client until it resumes, detaches or leaves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "gdb/gdb_stub_internal.h"
#include "vmm/vm.h"

#define SEND_TIMEOUT_MS	5000	/* a client that reads nothing for this long is dropped */

static void disconnect(struct gdb_stub *s)
{
	char err[200];

	if (s->fd < 0)
		return;
	fd_watch_remove(&s->vm->fd_watch, s->fd);
	close(s->fd);
	s->fd = -1;
	s->running = false;
	/* the guest runs on without the debugger's breakpoints */
	memset(&s->dbg, 0, sizeof(s->dbg));
	memset(s->hw_kind, 0, sizeof(s->hw_kind));
	if (s->can_debug)
		gdb_apply_debug(s, false, err, sizeof(err));
}

static bool send_all(struct gdb_stub *s, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
		if (n < 0 && errno == EAGAIN && poll(&pfd, 1, SEND_TIMEOUT_MS) > 0)
			continue;
		return false;
	}
	return true;
}

static bool send_packet(struct gdb_stub *s, const char *text)
{
	long n = gdb_frame((const uint8_t *)text, strlen(text), true, s->out, sizeof(s->out));

	if (n < 0)
		return false;
	s->out_len = (size_t)n;
	return send_all(s, s->out, s->out_len);
}

/* Reads what the client sent into s->in; false when it is gone. */
static bool fill(struct gdb_stub *s)
{
	ssize_t n;

	if (s->in_pos < s->in_len)
		return true;
	do
		n = recv(s->fd, s->in, sizeof(s->in), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n <= 0)
		return false;
	s->in_pos = 0;
	s->in_len = (size_t)n;
	return true;
}

/* While the guest runs only Ctrl-C matters; packets are for a stopped
 * target. Before the debugger has resumed it (just attached: the stop
 * listen_ready asked for is pending), what it sent waits in s->in for
 * paused() to answer: scanning it here dropped a packet that came before
 * the stop took effect, gdb's first '?' right after connecting, and the
 * debugger waited for its reply for good (tests/gdb/linux.sh, about 1 run
 * in 12). The stop is near (the VMM loop checks it at its next turn), so
 * the fd reported readable meanwhile costs at most a few polls. */
static void client_ready(void *opaque)
{
	struct gdb_stub *s = opaque;

	if (!fill(s)) {
		disconnect(s);
		return;
	}
	if (!s->running)
		return;
	while (s->in_pos < s->in_len)
		if (gdb_rx_byte(&s->rx, s->in[s->in_pos++]) == GDB_RX_INTERRUPT) {
			s->stop_signal = 2;	/* SIGINT */
			vm_pause_request_async(s->vm);
		}
}

static void listen_ready(void *opaque)
{
	struct gdb_stub *s = opaque;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->fd >= 0) {	/* one debugger at a time */
		close(fd);
		return;
	}
	s->fd = fd;
	s->no_ack = false;
	s->running = false;
	s->arch_sent = false;
	s->in_pos = s->in_len = 0;
	gdb_rx_init(&s->rx);
	if (fd_watch_add(&s->vm->fd_watch, fd, client_ready, s) < 0) {
		close(fd);
		s->fd = -1;
		return;
	}
	s->stop_signal = 5;
	vm_pause_request_async(s->vm);	/* gdb expects a stopped target */
}

/* --gdb-wait before the first instruction: block until a client comes. */
static bool wait_for_client(struct gdb_stub *s)
{
	fprintf(stderr, "hyvm: gdb: waiting for a debugger on tcp:%s:%u\n",
		inet_ntoa(s->cfg.addr), s->cfg.port);
	while (s->fd < 0 && !s->vm->stop_requested) {
		struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) > 0)
			listen_ready(s);
	}
	s->vm->pause.debug_requested = 0;	/* the pause we are in */
	return s->fd >= 0;
}

/* One packet while paused; false once the VM should run on. */
static bool packet(struct gdb_stub *s, bool *alive)
{
	bool send_reply;
	long len = gdb_unescape(s->rx.buf, s->rx.len, s->payload, sizeof(s->payload) - 1);

	if (!s->no_ack && !send_all(s, (const uint8_t *)"+", 1)) {
		*alive = false;
		return false;
	}
	if (len < 0) {
		*alive = send_packet(s, "E22");
		return *alive;
	}
	s->payload[len] = '\0';
	enum gdb_action act = gdb_handle_packet(s, (size_t)len, &send_reply);
	if (send_reply && !send_packet(s, s->reply)) {
		*alive = false;
		return false;
	}
	if (!strcmp((char *)s->payload, "QStartNoAckMode"))
		s->no_ack = true;
	switch (act) {
	case GDB_STAY:
		return true;
	case GDB_RESUME:
		s->running = true;
		return false;
	case GDB_DETACH:
		*alive = false;
		return false;
	case GDB_KILL:
		s->vm->env.request_stop(s->vm->env.stop_ctx, VM_STOP_DEBUGGER_KILL, 0);
		*alive = false;
		return false;
	}
	return true;
}

static void paused(void *ctx, struct vm *vm, const struct vcpu_exit *exit)
{
	struct gdb_stub *s = ctx;
	bool alive = true, stay = true;
	char err[200];

	if (s->fd < 0 && !(s->cfg.wait && !exit && wait_for_client(s)))
		return;
	if (vm->engine->get_state(vm->vcpu, &s->st) < 0) {
		disconnect(s);
		return;
	}
	s->st_dirty = false;
	if (s->running) {
		char stop[96];
		gdb_stop_reply(s, exit, stop, sizeof(stop));
		s->running = false;
		alive = send_packet(s, stop);
	}
	s->stop_signal = 5;
	while (alive && stay && !vm->stop_requested) {
		while (s->in_pos < s->in_len && stay) {
			switch (gdb_rx_byte(&s->rx, s->in[s->in_pos++])) {
			case GDB_RX_PACKET:
				stay = packet(s, &alive);
				break;
			case GDB_RX_BAD_CHECKSUM:
			case GDB_RX_OVERFLOW:
				if (!s->no_ack)
					alive = send_all(s, (const uint8_t *)"-", 1);
				break;
			case GDB_RX_NAK:
				if (s->out_len)
					alive = send_all(s, s->out, s->out_len);
				break;
			default:
				break;	/* acks, and Ctrl-C on a stopped target */
			}
		}
		if (!stay || !alive)
			break;
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) > 0 && !fill(s))
			alive = false;
	}
	if (s->st_dirty && vm->engine->set_state(vm->vcpu, &s->st, err, sizeof(err)) < 0)
		fprintf(stderr, "hyvm: gdb: the registers written were refused: %s\n", err);
	if (!alive)
		disconnect(s);
}

struct gdb_stub *gdb_stub_open(struct vm *vm, const struct gdb_config *cfg, char *err,
			       size_t errlen)
{
	struct gdb_stub *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->port),
				  .sin_addr = cfg->addr };
	int one = 1;

	if (!s) {
		snprintf(err, errlen, "--gdb: out of memory");
		return NULL;
	}
	s->vm = vm;
	s->cfg = *cfg;
	s->fd = -1;
	s->stop_signal = 5;
	gdb_rx_init(&s->rx);
	s->mem = vm->env.mem;
	s->can_debug = vm->engine->set_guest_debug != NULL;
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->listen_fd, 1) < 0) {
		snprintf(err, errlen, "--gdb tcp:%s:%u: %s", inet_ntoa(cfg->addr), cfg->port,
			 strerror(errno));
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		free(s);
		return NULL;
	}
	if (fd_watch_add(&vm->fd_watch, s->listen_fd, listen_ready, s) < 0) {
		snprintf(err, errlen, "--gdb: too many watched descriptors");
		close(s->listen_fd);
		free(s);
		return NULL;
	}
	if (!s->can_debug)
		fprintf(stderr, "hyvm: gdb: engine %s cannot single-step or break; the debugger "
			"can read and write registers and memory, and the guest runs without breakpoints\n",
			vm->engine->name);
	vm->pause.debug_hook = (struct vm_pause_hook){ paused, s };
	if (cfg->wait)
		vm->pause.debug_requested = 1;
	return s;
}

void gdb_stub_vm_ended(struct gdb_stub *s, int status)
{
	char w[8];

	if (!s || s->fd < 0)
		return;
	snprintf(w, sizeof(w), "W%02x", status & 0xff);
	send_packet(s, w);
}

void gdb_stub_close(struct gdb_stub *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		fd_watch_remove(&s->vm->fd_watch, s->fd);
		close(s->fd);
	}
	fd_watch_remove(&s->vm->fd_watch, s->listen_fd);
	close(s->listen_fd);
	s->vm->pause.debug_hook = (struct vm_pause_hook){ 0 };
	free(s);
}

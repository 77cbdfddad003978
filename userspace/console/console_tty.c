/*
 * The terminal as the serial console (console_tty.h). Raw mode follows
 * QEMU's stdio chardev (qemu_chr_set_echo_stdio): no echo, no canonical
 * mode, no input translation or flow control, 8 bits, and ISIG off so
 * Ctrl-C reaches the guest; output post-processing (OPOST, with ONLCR as
 * the user had it) stays on, so a guest's bare "\n" still starts a line
 * and hyvm's own stderr lines look right. With the escape disabled ISIG
 * stays on: Ctrl-C is then the only key that stops hyvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "console/console_tty.h"

/* What the signal handlers and atexit need: plain globals, set before
 * raw mode is entered and only read by the handlers. */
static struct termios saved_termios;
static volatile sig_atomic_t raw_fd = -1;	/* the terminal while it is raw */

/* Async-signal-safe: tcsetattr is on POSIX's list. */
void console_tty_restore(void)
{
	int fd = raw_fd;

	if (fd >= 0) {
		tcsetattr(fd, TCSANOW, &saved_termios);
		raw_fd = -1;
	}
}

/* A crash or a termination outside the run loop: the terminal first,
 * then the signal's default action, so the exit status (and a core dump)
 * are what they would have been. */
static void on_fatal(int sig)
{
	console_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);	/* pending until this handler returns, then fatal */
}

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP };
/* vm.c takes SIGINT/SIGTERM/SIGHUP over while the guest runs (a clean
 * stop) and gives them back after; these handlers cover the rest. */
static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void install_handlers(void)
{
	static bool done;
	struct sigaction sa;

	if (done)
		return;
	done = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	/* on the alternate stack when a thread has one (bt's), so a
	 * stack overflow still restores the terminal */
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);
	for (unsigned i = 0; i < sizeof(term_signals) / sizeof(term_signals[0]); i++) {
		struct sigaction old;
		/* a signal the parent ignores (nohup) stays ignored */
		if (sigaction(term_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(term_signals[i], &sa, NULL);
	}
	atexit(console_tty_restore);
}

int console_tty_open(struct console_tty *c, int in_fd, int out_fd, int escape_key)
{
	int p[2];

	memset(c, 0, sizeof(*c));
	c->tty_fd = c->pipe_rd = c->pipe_wr = -1;
	c->out_fd = out_fd;
	console_escape_init(&c->esc, escape_key);
	/* Only the foreground job owns the terminal: a background hyvm
	 * would stop on SIGTTOU at tcsetattr. */
	if (!isatty(in_fd) || tcgetpgrp(in_fd) != getpgrp() ||
	    tcgetattr(in_fd, &saved_termios) < 0)
		return in_fd;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return in_fd;
	c->tty_fd = in_fd;
	c->pipe_rd = p[0];
	c->pipe_wr = p[1];
	install_handlers();
	return c->pipe_rd;
}

int console_tty_watch_fd(const struct console_tty *c)
{
	return c->tty_fd;
}

int console_tty_raw(struct console_tty *c)
{
	struct termios t = saved_termios;

	if (c->tty_fd < 0)
		return 0;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
	if (c->esc.key != CONSOLE_ESCAPE_NONE)
		t.c_lflag &= ~(tcflag_t)ISIG;
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	raw_fd = c->tty_fd;	/* before the change: a signal in between restores */
	if (tcsetattr(c->tty_fd, TCSANOW, &t) < 0) {
		raw_fd = -1;
		return -1;
	}
	return 0;
}

/* What the pipe takes now; the rest waits in pend, and the terminal is
 * not read again until the guest's UART has drained it. */
static void flush_pending(struct console_tty *c)
{
	while (c->npend) {
		ssize_t n = write(c->pipe_wr, c->pend, c->npend);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		memmove(c->pend, c->pend + n, c->npend - (size_t)n);
		c->npend -= (size_t)n;
	}
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

bool console_tty_pump(void *ctx)
{
	struct console_tty *c = ctx;
	uint8_t buf[sizeof(c->pend)];

	if (c->tty_fd < 0)
		return false;
	flush_pending(c);
	if (c->npend || c->eof)
		return false;
	struct pollfd p = { .fd = c->tty_fd, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return false;
	ssize_t n = read(c->tty_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		c->eof = true;	/* hung up (EIO) or closed: nothing more to read */
		return false;
	}
	for (ssize_t i = 0; i < n; i++) {
		uint8_t b;
		char help[256];
		switch (console_escape_feed(&c->esc, buf[i], &b)) {
		case CONSOLE_GUEST:
			c->pend[c->npend++] = b;
			break;
		case CONSOLE_HELP:
			console_escape_help(c->esc.key, help, sizeof(help));
			write_all(c->out_fd, help, strlen(help));
			break;
		case CONSOLE_QUIT:
			flush_pending(c);
			return true;
		case CONSOLE_SWALLOW:
			break;
		}
	}
	flush_pending(c);
	return false;
}

void console_tty_close(struct console_tty *c)
{
	console_tty_restore();
	if (c->pipe_wr >= 0)
		close(c->pipe_wr);
	if (c->pipe_rd >= 0)
		close(c->pipe_rd);
	c->pipe_rd = c->pipe_wr = c->tty_fd = -1;
}

/*
 * The terminal as the guest's serial console. When stdin is a terminal
 * (and hyvm is its foreground job), hyvm puts it in raw mode as QEMU's
 * -nographic does, reads it between guest runs, takes the escape commands
 * out (console_escape.h) and passes the rest to the UART through a pipe:
 * the UART only ever sees an input fd and knows nothing of terminals.
 * The terminal's settings come back on every way out: console_tty_close,
 * exit() (atexit), SIGINT/SIGTERM/SIGHUP outside the run loop, and the
 * crash signals, whose handlers restore it with async-signal-safe calls
 * and re-raise. A pipe or /dev/null on stdin is left as it is and goes to
 * the UART directly, as before.
 */
#ifndef HYVM_CONSOLE_TTY_H
#define HYVM_CONSOLE_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "console/console_escape.h"

struct console_tty {
	int tty_fd;		/* the terminal, or -1: stdin is not one */
	int out_fd;		/* where the help text goes (the guest's output) */
	int pipe_rd, pipe_wr;	/* the UART reads pipe_rd */
	struct console_escape esc;
	uint8_t pend[256];	/* filtered bytes the pipe has not taken yet */
	size_t npend;
	bool eof;		/* the terminal hung up: stop reading it */
};

/* Returns the fd the UART should read: the pipe when in_fd is a terminal
 * of ours, in_fd itself otherwise (then the console does nothing). Also
 * installs the crash handlers, before any engine adds its own fault
 * handlers on top (bt chains to them for faults outside its code). */
int console_tty_open(struct console_tty *c, int in_fd, int out_fd, int escape_key);
/* The terminal in use, or -1: what the VMM waits on while the guest halts. */
int console_tty_watch_fd(const struct console_tty *c);
/* Raw mode on, right before the guest runs. 0, or -1 if the terminal
 * refused (the run goes on with the terminal as it was). */
int console_tty_raw(struct console_tty *c);
/* Between guest runs: terminal bytes through the escape filter into the
 * pipe. Returns true when the user typed the quit command. */
bool console_tty_pump(void *ctx);
/* The terminal's settings back (idempotent): when the run ends, before
 * hyvm's last lines. */
void console_tty_restore(void);
/* Restores, and closes the pipe: after the VM (its UART) is gone. */
void console_tty_close(struct console_tty *c);

#endif

/*
 * The console's escape prefix, as QEMU's serial multiplexer has it: the
 * escape key (Ctrl-A by default) followed by a command key. A pure state
 * machine over input bytes, so it is unit-tested without a terminal
 * (tests/unit/test_console_escape.c); console_tty.c feeds it.
 */
#ifndef HYVM_CONSOLE_ESCAPE_H
#define HYVM_CONSOLE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE_DEFAULT	0x01	/* Ctrl-A, as QEMU */
#define CONSOLE_ESCAPE_NONE	(-1)	/* every byte goes to the guest */

enum console_action {
	CONSOLE_SWALLOW,	/* nothing to do: the byte was part of a command */
	CONSOLE_GUEST,		/* *out is a byte for the guest */
	CONSOLE_QUIT,		/* escape x: end hyvm */
	CONSOLE_HELP,		/* escape h or ?: print console_escape_help() */
};

struct console_escape {
	int key;		/* the escape byte, or CONSOLE_ESCAPE_NONE */
	bool pending;		/* the escape key was the last byte */
};

void console_escape_init(struct console_escape *e, int key);
/* One input byte; returns what to do with it. */
enum console_action console_escape_feed(struct console_escape *e, uint8_t c, uint8_t *out);
/* "^A" .. "^_" for a control key, "none", or the character itself. */
void console_escape_name(int key, char *buf, size_t len);
/* --escape's argument: "^X" or "C-x" (a control key), "none", or a
 * number 1-31 (QEMU's -echr). Returns 0 and *key, or -1. */
int console_escape_parse(const char *arg, int *key);
/* The help text for key, lines ended by "\r\n" (the terminal is raw). */
void console_escape_help(int key, char *buf, size_t len);

#endif

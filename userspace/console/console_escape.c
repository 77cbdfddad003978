/*
 * The escape prefix's state machine (console_escape.h). Keys as QEMU's
 * mux (chardev/char-mux.c): escape h or ? prints help, escape x quits,
 * escape escape sends one escape byte to the guest; any other key after
 * the escape is swallowed with it, as QEMU does, so a mistyped command
 * never reaches the guest. QEMU's c (monitor), s, b and t have no
 * counterpart here: hyvm has no monitor, disks or break line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console/console_escape.h"

void console_escape_init(struct console_escape *e, int key)
{
	e->key = key;
	e->pending = false;
}

enum console_action console_escape_feed(struct console_escape *e, uint8_t c, uint8_t *out)
{
	if (e->key == CONSOLE_ESCAPE_NONE) {
		*out = c;
		return CONSOLE_GUEST;
	}
	if (!e->pending) {
		if (c == e->key) {
			e->pending = true;
			return CONSOLE_SWALLOW;
		}
		*out = c;
		return CONSOLE_GUEST;
	}
	e->pending = false;
	if (c == e->key) {
		*out = c;
		return CONSOLE_GUEST;
	}
	switch (c) {
	case 'x':
	case 'X':
		return CONSOLE_QUIT;
	case 'h':
	case 'H':
	case '?':
		return CONSOLE_HELP;
	default:
		return CONSOLE_SWALLOW;
	}
}

void console_escape_name(int key, char *buf, size_t len)
{
	if (key == CONSOLE_ESCAPE_NONE)
		snprintf(buf, len, "none");
	else if (key < 0x20)
		snprintf(buf, len, "^%c", key + '@');
	else
		snprintf(buf, len, "%c", key);
}

int console_escape_parse(const char *arg, int *key)
{
	char *end;

	if (!strcmp(arg, "none")) {
		*key = CONSOLE_ESCAPE_NONE;
		return 0;
	}
	/* ^a, ^A, C-a: the control key of a letter or one of @[\]^_ */
	if ((arg[0] == '^' && arg[1] && !arg[2]) ||
	    ((arg[0] == 'C' || arg[0] == 'c') && arg[1] == '-' && arg[2] && !arg[3])) {
		int c = toupper((unsigned char)arg[arg[0] == '^' ? 1 : 2]);
		if (c < '@' || c > '_')
			return -1;
		*key = c - '@';
		return *key ? 0 : -1;	/* ^@ is NUL: not typeable everywhere */
	}
	long v = strtol(arg, &end, 0);
	if (end == arg || *end || v < 1 || v > 31)
		return -1;
	*key = (int)v;
	return 0;
}

void console_escape_help(int key, char *buf, size_t len)
{
	char k[8];

	console_escape_name(key, k, sizeof(k));
	snprintf(buf, len,
		 "\r\nhyvm console keys:\r\n"
		 "  %s h    print this help\r\n"
		 "  %s x    quit hyvm (exit status 0)\r\n"
		 "  %s %s   send %s to the guest\r\n",
		 k, k, k, k, k);
}

/*
 * hyvm ctl PID|PATH COMMAND [ARGS]: one QMP command to a VM's control
 * socket (control/control_socket.h), its reply printed as JSON. COMMAND is
 * a QMP command (query-status, stop, cont, system_powerdown, quit, ...)
 * with ARGS as KEY=VALUE (true/false and integers typed, the rest
 * strings), or one of the shorthands: save FILE [--quit] (hyvm-save),
 * migrate file:FILE (waits for query-migrate's end), stats (hyvm-stats).
 * Any error is one line on stderr and exit status 2.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli/commands.h"
#include "control/control_socket.h"

#define REPLY_TIMEOUT_MS 600000	/* a checkpoint of a large guest takes a while */

struct conn {
	int fd;
	char buf[QMP_MAX_MESSAGE + 2];
	size_t len;
	const char *path;
};

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "hyvm ctl: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* The next JSON line (new reference), or NULL after one line on stderr. */
static struct json_object *read_msg(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			*nl = '\0';
			struct json_object *o = json_tokener_parse(c->buf);
			size_t used = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->len - used);
			c->len -= used;
			if (!o)
				fail("%s: the VM sent something that is not JSON%s", c->path, "");
			return o;
		}
		struct pollfd p = { c->fd, POLLIN, 0 };
		if (c->len >= QMP_MAX_MESSAGE || poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
			fail("%s: no reply from the VM%s", c->path, "");
			return NULL;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, QMP_MAX_MESSAGE - c->len, 0);
		if (n <= 0) {
			fail("%s: the VM closed the connection%s", c->path, "");
			return NULL;
		}
		c->len += (size_t)n;
	}
}

/* Sends {"execute": name, "arguments": args} and returns the reply's
 * "return" (new reference), skipping events; NULL after one line. */
static struct json_object *execute(struct conn *c, const char *name, struct json_object *args)
{
	struct json_object *cmd = json_object_new_object(), *r, *v;

	json_object_object_add(cmd, "execute", json_object_new_string(name));
	if (args)
		json_object_object_add(cmd, "arguments", json_object_get(args));
	const char *text = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN);
	if (send(c->fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(c->fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		json_object_put(cmd);
		fail("%s: %s", c->path, strerror(errno));
		return NULL;
	}
	json_object_put(cmd);
	while ((r = read_msg(c))) {
		if (json_object_object_get_ex(r, "return", &v)) {
			json_object_get(v);
			json_object_put(r);
			return v;
		}
		if (json_object_object_get_ex(r, "error", &v)) {
			struct json_object *cls = NULL, *desc = NULL;
			json_object_object_get_ex(v, "class", &cls);
			json_object_object_get_ex(v, "desc", &desc);
			fail("%s: %s", cls ? json_object_get_string(cls) : "Error",
			     desc ? json_object_get_string(desc) : "(no description)");
			json_object_put(r);
			return NULL;
		}
		json_object_put(r);	/* an event */
	}
	return NULL;
}

static struct json_object *typed(const char *v)
{
	char *end;
	long long n;

	if (!strcmp(v, "true") || !strcmp(v, "false"))
		return json_object_new_boolean(v[0] == 't');
	errno = 0;
	n = strtoll(v, &end, 0);
	if (*v && !*end && !errno)
		return json_object_new_int64(n);
	return json_object_new_string(v);
}

/* The VM resolves a file name from its own directory: a relative one
 * is made absolute here, from ctl's. */
static struct json_object *abs_path(const char *prefix, const char *file)
{
	char cwd[4096], buf[8300];

	if (file[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(buf, sizeof(buf), "%s%s", prefix, file);
	else
		snprintf(buf, sizeof(buf), "%s%s/%s", prefix, cwd, file);
	return json_object_new_string(buf);
}

/* COMMAND ARGS as a QMP name and arguments; -1 after one line. */
static int build(int argc, char **argv, const char **name, struct json_object *args)
{
	*name = argv[0];
	if (!strcmp(argv[0], "save")) {
		*name = "hyvm-save";
		if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--quit")))
			return fail("usage: hyvm ctl PID|PATH save FILE [--quit]%s%s", "", ""), -1;
		json_object_object_add(args, "file", abs_path("", argv[1]));
		json_object_object_add(args, "quit", json_object_new_boolean(argc == 3));
		return 0;
	}
	if (!strcmp(argv[0], "migrate") && argc == 2 && !strchr(argv[1], '=')) {
		json_object_object_add(args, "uri", strncmp(argv[1], "file:", 5) ?
				       json_object_new_string(argv[1]) : abs_path("file:", argv[1] + 5));
		return 0;
	}
	if (!strcmp(argv[0], "stats"))
		*name = "hyvm-stats";
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i])
			return fail("argument '%s' is not KEY=VALUE%s", argv[i], ""), -1;
		*eq = '\0';
		json_object_object_add(args, argv[i], typed(eq + 1));
	}
	return 0;
}

/* After migrate: query-migrate until it is no longer active. */
static struct json_object *wait_migration(struct conn *c)
{
	for (;;) {
		struct json_object *r = execute(c, "query-migrate", NULL), *st;
		if (!r)
			return NULL;
		if (!json_object_object_get_ex(r, "status", &st) ||
		    strcmp(json_object_get_string(st), "active"))
			return r;
		json_object_put(r);
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
}

int cmd_ctl(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static struct conn c;
	char path[108];
	const char *name;
	int status = EXIT_USAGE;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: hyvm ctl PID|PATH COMMAND [KEY=VALUE]...\n"
		       "  QMP commands: query-status, stop, cont, system_powerdown, system_reset, quit,\n"
		       "  query-version, query-commands, migrate uri=file:FILE, query-migrate,\n"
		       "  hyvm-save file=FILE [quit=true], hyvm-stats\n"
		       "  shorthands: save FILE [--quit], migrate file:FILE (waits for it), stats\n"
		       "PID: the VM's default socket (see hyvm-run(1)); the reply's \"return\" is\n"
		       "printed as JSON; an error is one line on stderr, exit status 2.\n");
		return 0;
	}
	if (argc < 3)
		return fail("usage: hyvm ctl PID|PATH COMMAND [KEY=VALUE]... (hyvm ctl --help)%s%s",
			    "", "");
	if (strspn(argv[1], "0123456789") == strlen(argv[1])) {
		if (control_default_path((pid_t)atoi(argv[1]), path, sizeof(path)) < 0)
			return fail("no control socket path for PID %s%s", argv[1], "");
	} else if (snprintf(path, sizeof(path), "%s", argv[1]) >= (int)sizeof(path))
		return fail("%s: a socket path has at most 107 bytes%s", argv[1], "");
	c.path = path;
	struct json_object *args = json_object_new_object(), *r = NULL;
	if (build(argc - 2, argv + 2, &name, args) < 0)
		goto out;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail("cannot connect to %s: %s", path, strerror(errno));
		goto out;
	}
	struct json_object *greeting = read_msg(&c);
	if (!greeting)
		goto out;
	json_object_put(greeting);
	if (!(r = execute(&c, "qmp_capabilities", NULL)))
		goto out;
	json_object_put(r);
	r = execute(&c, name, json_object_object_length(args) ? args : NULL);
	if (r && !strcmp(name, "migrate")) {
		json_object_put(r);
		r = wait_migration(&c);
	}
	if (!r)
		goto out;
	struct json_object *st;
	printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED));
	status = 0;
	if (!strcmp(name, "migrate") && json_object_object_get_ex(r, "status", &st) &&
	    strcmp(json_object_get_string(st), "completed"))
		status = fail("%s: the migration %s", path, json_object_get_string(st));
out:
	json_object_put(r);
	json_object_put(args);
	return status;
}

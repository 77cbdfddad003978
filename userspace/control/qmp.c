/* The QMP command layer; see qmp.h. Error classes and wording follow
 * QEMU 8 (qapi/qmp-dispatch.c, monitor/qmp.c), so QMP clients written
 * for QEMU understand hyvm's replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "cli/commands.h"
#include "control/qmp.h"

struct qmp_session {
	const struct qmp_target_ops *ops;
	void *target;
	void (*send)(void *ctx, const char *json);
	void *send_ctx;
	struct json_tokener *tok;
	size_t partial;		/* bytes of the value being parsed */
	bool negotiated, closed;
	unsigned deferred;	/* commands whose reply comes later */
};

struct deferred {
	struct qmp_session *s;
	struct json_object *id;
};

typedef struct json_object *(*qmp_handler)(struct qmp_session *s, struct json_object *args,
					   struct json_object *id, bool *deferred);

static void send_obj(struct qmp_session *s, struct json_object *o)
{
	if (!s->closed)
		s->send(s->send_ctx, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static struct json_object *error_obj(const char *cls, const char *desc)
{
	struct json_object *e = json_object_new_object(), *o = json_object_new_object();

	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	return o;
}

static struct json_object *return_obj(struct json_object *value)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "return", value ? value : json_object_new_object());
	return o;
}

static void reply(struct qmp_session *s, struct json_object *o, struct json_object *id)
{
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	send_obj(s, o);
}

static void free_session(struct qmp_session *s)
{
	json_tokener_free(s->tok);
	free(s);
}

static void deferred_done(void *cookie, const char *error)
{
	struct deferred *d = cookie;
	struct qmp_session *s = d->s;

	reply(s, error ? error_obj("GenericError", error) : return_obj(NULL), d->id);
	json_object_put(d->id);
	free(d);
	if (--s->deferred == 0 && s->closed)
		free_session(s);
}

/* Arguments: a string member, or NULL (missing or of another type). */
static const char *arg_string(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool arg_bool(struct json_object *args, const char *key)
{
	struct json_object *v;

	return args && json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

static struct json_object *missing(const char *name)
{
	char desc[96];

	snprintf(desc, sizeof(desc), "Parameter '%s' is missing", name);
	return error_obj("GenericError", desc);
}

static struct json_object *cmd_query_status(struct qmp_session *s, struct json_object *args,
					    struct json_object *id, bool *deferred)
{
	const char *st = s->ops->status(s->target);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "running", json_object_new_boolean(!strcmp(st, "running")));
	json_object_object_add(o, "singlestep", json_object_new_boolean(false));
	json_object_object_add(o, "status", json_object_new_string(st));
	return return_obj(o);
}

static struct json_object *cmd_query_version(struct qmp_session *s, struct json_object *args,
					     struct json_object *id, bool *deferred)
{
	struct json_object *o = json_object_new_object(), *q = json_object_new_object();
	int major = 0, minor = 0;

	sscanf(HYVM_VERSION, "%d.%d", &major, &minor);
	json_object_object_add(q, "major", json_object_new_int(major));
	json_object_object_add(q, "minor", json_object_new_int(minor));
	json_object_object_add(q, "micro", json_object_new_int(0));
	json_object_object_add(o, "qemu", q);
	json_object_object_add(o, "package", json_object_new_string("hyvm " HYVM_VERSION));
	return return_obj(o);
}

static struct json_object *cmd_query_commands(struct qmp_session *s, struct json_object *args,
					      struct json_object *id, bool *deferred)
{
	struct json_object *a = json_object_new_array();

	for (const char *const *n = qmp_command_names(); *n; n++) {
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "name", json_object_new_string(*n));
		json_object_array_add(a, c);
	}
	return return_obj(a);
}

static struct json_object *cmd_stop(struct qmp_session *s, struct json_object *args,
				    struct json_object *id, bool *deferred)
{
	s->ops->stop(s->target);
	return return_obj(NULL);
}

static struct json_object *cmd_cont(struct qmp_session *s, struct json_object *args,
				    struct json_object *id, bool *deferred)
{
	s->ops->cont(s->target);
	return return_obj(NULL);
}

static struct json_object *cmd_powerdown(struct qmp_session *s, struct json_object *args,
					 struct json_object *id, bool *deferred)
{
	char err[160];

	if (s->ops->powerdown(s->target, err, sizeof(err)) < 0)
		return error_obj("GenericError", err);
	return return_obj(NULL);
}

static struct json_object *cmd_reset(struct qmp_session *s, struct json_object *args,
				     struct json_object *id, bool *deferred)
{
	s->ops->reset(s->target);
	return return_obj(NULL);
}

static struct json_object *cmd_quit(struct qmp_session *s, struct json_object *args,
				    struct json_object *id, bool *deferred)
{
	s->ops->quit(s->target);
	return return_obj(NULL);
}

static struct json_object *cmd_stats(struct qmp_session *s, struct json_object *args,
				     struct json_object *id, bool *deferred)
{
	return return_obj(s->ops->stats(s->target));
}

/* Starts a save whose reply (hyvm-save) or status (migrate) comes later. */
static struct json_object *start_save(struct qmp_session *s, const char *file, bool quit,
				      bool migrate, struct json_object *id, bool *deferred)
{
	struct deferred *d = calloc(1, sizeof(*d));
	char err[256];

	if (!d)
		return error_obj("GenericError", "out of memory");
	d->s = s;
	d->id = id ? json_object_get(id) : NULL;
	s->deferred++;
	if (s->ops->save(s->target, file, quit, migrate, migrate ? NULL : deferred_done,
			 migrate ? NULL : d, err, sizeof(err)) < 0) {
		s->deferred--;
		json_object_put(d->id);
		free(d);
		return error_obj("GenericError", err);
	}
	if (migrate) {		/* QEMU answers migrate at once; query-migrate follows it */
		s->deferred--;
		json_object_put(d->id);
		free(d);
		return return_obj(NULL);
	}
	*deferred = true;
	return NULL;
}

static struct json_object *cmd_hyvm_save(struct qmp_session *s, struct json_object *args,
					 struct json_object *id, bool *deferred)
{
	const char *file = arg_string(args, "file");

	if (!file)
		return missing("file");
	return start_save(s, file, arg_bool(args, "quit"), false, id, deferred);
}

static struct json_object *cmd_migrate(struct qmp_session *s, struct json_object *args,
				       struct json_object *id, bool *deferred)
{
	const char *uri = arg_string(args, "uri");

	if (!uri)
		return missing("uri");
	if (strncmp(uri, "file:", 5) || !uri[5])
		return error_obj("GenericError",
				 "hyvm migrates only to a file: URI (file:PATH)");
	return start_save(s, uri + 5, false, true, id, deferred);
}

static struct json_object *cmd_query_migrate(struct qmp_session *s, struct json_object *args,
					     struct json_object *id, bool *deferred)
{
	return return_obj(s->ops->migrate_status(s->target));
}

static const struct {
	const char *name;
	qmp_handler fn;
} commands[] = {
	{ "qmp_capabilities", NULL },	/* handled before the table */
	{ "query-status", cmd_query_status },
	{ "query-version", cmd_query_version },
	{ "query-commands", cmd_query_commands },
	{ "stop", cmd_stop },
	{ "cont", cmd_cont },
	{ "system_powerdown", cmd_powerdown },
	{ "system_reset", cmd_reset },
	{ "quit", cmd_quit },
	{ "migrate", cmd_migrate },
	{ "query-migrate", cmd_query_migrate },
	{ "hyvm-save", cmd_hyvm_save },
	{ "hyvm-stats", cmd_stats },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *const *qmp_command_names(void)
{
	static const char *names[NR_COMMANDS + 1];

	for (size_t i = 0; i < NR_COMMANDS; i++)
		names[i] = commands[i].name;
	return names;
}

static void dispatch(struct qmp_session *s, struct json_object *in)
{
	struct json_object *exec = NULL, *args = NULL, *id = NULL, *out = NULL;
	bool deferred = false;
	char desc[160];

	if (!json_object_is_type(in, json_type_object)) {
		reply(s, error_obj("GenericError", "QMP input must be a JSON object"), NULL);
		return;
	}
	json_object_object_get_ex(in, "id", &id);
	if (!json_object_object_get_ex(in, "execute", &exec) ||
	    !json_object_is_type(exec, json_type_string)) {
		reply(s, error_obj("GenericError", "QMP input lacks member 'execute'"), id);
		return;
	}
	if (json_object_object_get_ex(in, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		reply(s, error_obj("GenericError", "QMP input member 'arguments' must be an object"),
		      id);
		return;
	}
	const char *name = json_object_get_string(exec);
	if (!strcmp(name, "qmp_capabilities")) {
		if (s->negotiated)
			out = error_obj("CommandNotFound",
					"Capabilities negotiation is already complete, command ignored");
		else {
			s->negotiated = true;
			out = return_obj(NULL);
		}
		reply(s, out, id);
		return;
	}
	if (!s->negotiated) {
		reply(s, error_obj("CommandNotFound",
				   "Expecting capabilities negotiation with 'qmp_capabilities'"), id);
		return;
	}
	for (size_t i = 1; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name)) {
			out = commands[i].fn(s, args, id, &deferred);
			break;
		}
	if (!out && !deferred) {
		snprintf(desc, sizeof(desc), "The command %.100s has not been found", name);
		out = error_obj("CommandNotFound", desc);
	}
	if (out)
		reply(s, out, id);
}

struct qmp_session *qmp_session_new(const struct qmp_target_ops *ops, void *target,
				    void (*send)(void *ctx, const char *json), void *send_ctx)
{
	struct qmp_session *s = calloc(1, sizeof(*s));

	if (!s || !(s->tok = json_tokener_new())) {
		free(s);
		return NULL;
	}
	s->ops = ops;
	s->target = target;
	s->send = send;
	s->send_ctx = send_ctx;
	return s;
}

void qmp_session_greet(struct qmp_session *s)
{
	struct json_object *o = json_object_new_object(), *q = json_object_new_object();
	struct json_object *v = cmd_query_version(s, NULL, NULL, NULL);
	struct json_object *ver;

	json_object_object_get_ex(v, "return", &ver);
	json_object_object_add(q, "version", json_object_get(ver));
	json_object_object_add(q, "capabilities", json_object_new_array());
	json_object_object_add(o, "QMP", q);
	json_object_put(v);
	send_obj(s, o);
}

int qmp_session_feed(struct qmp_session *s, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t before = off;
		struct json_object *o = json_tokener_parse_ex(s->tok, buf + off, (int)(len - off));
		enum json_tokener_error e = json_tokener_get_error(s->tok);
		off += json_tokener_get_parse_end(s->tok);
		if (e == json_tokener_continue) {
			s->partial += off - before;
			if (s->partial > QMP_MAX_MESSAGE)
				return -1;
			continue;
		}
		s->partial = 0;
		if (e != json_tokener_success) {
			char desc[160];
			snprintf(desc, sizeof(desc), "JSON parse error, %s",
				 json_tokener_error_desc(e));
			reply(s, error_obj("GenericError", desc), NULL);
			json_tokener_reset(s->tok);
			/* start again after the bad line */
			const char *nl = memchr(buf + off, '\n', len - off);
			off = nl ? (size_t)(nl - buf) + 1 : len;
			continue;
		}
		dispatch(s, o);
		json_object_put(o);
		if (off == before)	/* cannot happen with json-c; never spin */
			break;
	}
	return 0;
}

void qmp_session_event(struct qmp_session *s, const char *name, struct json_object *data)
{
	struct json_object *o, *ts;
	struct timeval tv;

	if (!s->negotiated || s->closed)
		return;
	gettimeofday(&tv, NULL);
	o = json_object_new_object();
	ts = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(name));
	if (data)
		json_object_object_add(o, "data", json_object_get(data));
	json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	json_object_object_add(o, "timestamp", ts);
	send_obj(s, o);
}

void qmp_session_close(struct qmp_session *s)
{
	if (!s)
		return;
	s->closed = true;
	if (!s->deferred)
		free_session(s);
}

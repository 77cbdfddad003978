/* The QMP command layer (userspace/control/qmp.c) as the control socket
 * drives it, against a fake target: the input is the client's bytes,
 * fed in chunks of a size the first byte picks (a value split anywhere),
 * with events sent and deferred saves finished between chunks, and the
 * session closed before or after the last save finishes (the second byte
 * picks). Every reply is parsed back: it must be one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/qmp.h"

#define MAX_PENDING 64

static struct fake {
	bool paused;
	unsigned nr_pending;
	struct { qmp_done done; void *cookie; } pending[MAX_PENDING];
} tgt;

static void check_reply(void *ctx, const char *json)
{
	struct json_object *o = json_tokener_parse(json);

	if (!o || !json_object_is_type(o, json_type_object))
		abort();	/* the session wrote something that is not an object */
	json_object_put(o);
}

static const char *f_status(void *t) { return tgt.paused ? "paused" : "running"; }
static void f_stop(void *t) { tgt.paused = true; }
static void f_cont(void *t) { tgt.paused = false; }
static int f_power(void *t, char *e, size_t n)
{
	snprintf(e, n, "no ACPI");
	return tgt.paused ? -1 : 0;
}
static void f_reset(void *t) { }
static void f_quit(void *t) { }
static struct json_object *f_stats(void *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "exits", json_object_new_int64(42));
	return o;
}
static int f_save(void *t, const char *file, bool quit, bool stay, qmp_done done, void *cookie,
		  char *err, size_t n)
{
	if (!*file || tgt.nr_pending == MAX_PENDING) {
		snprintf(err, n, "a save is already under way");
		return -1;
	}
	if (done) {
		tgt.pending[tgt.nr_pending].done = done;
		tgt.pending[tgt.nr_pending++].cookie = cookie;
	}
	return 0;
}
static struct json_object *f_mig(void *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("completed"));
	return o;
}

static const struct qmp_target_ops fake_ops = {
	f_status, f_stop, f_cont, f_power, f_reset, f_quit, f_stats, f_save, f_mig,
};

static void finish_saves(unsigned n)
{
	while (n-- && tgt.nr_pending) {
		tgt.nr_pending--;
		tgt.pending[tgt.nr_pending].done(tgt.pending[tgt.nr_pending].cookie,
						 tgt.nr_pending & 1 ? "disk full" : NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk = data[0] ? data[0] : size;
	uint8_t flags = data[1];
	const char *text = (const char *)data + 2;
	size_t len = size - 2, off = 0;
	struct qmp_session *s;
	unsigned round = 0;

	memset(&tgt, 0, sizeof(tgt));
	if (!(s = qmp_session_new(&fake_ops, NULL, check_reply, NULL)))
		abort();
	qmp_session_greet(s);
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (qmp_session_feed(s, text + off, n) < 0)
			break;		/* the transport closes the connection */
		off += n;
		round++;
		if (flags & 1 && round % 3 == 0) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "guest", json_object_new_boolean(round & 1));
			qmp_session_event(s, round & 2 ? "SHUTDOWN" : "STOP", round & 4 ? d : NULL);
			json_object_put(d);
		}
		if (flags & 2 && round % 5 == 0)
			finish_saves(1);
	}
	if (flags & 4) {		/* the client goes away with saves under way */
		qmp_session_close(s);
		finish_saves(MAX_PENDING);
	} else {
		finish_saves(MAX_PENDING);
		qmp_session_close(s);
	}
	return 0;
}

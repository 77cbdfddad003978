/*
 * The QMP command layer of the control socket (userspace/control/): a
 * subset of QEMU's QEMU Machine Protocol (docs/interop/qmp-spec.rst in
 * QEMU): the greeting, capabilities negotiation first, {"execute": NAME,
 * "arguments": {...}, "id": ANY} in, {"return": ...} or {"error":
 * {"class", "desc"}} out with the id echoed, and events. It parses and
 * writes with json-c and knows neither sockets nor the VM: the transport
 * hands it bytes and a send function, and the commands act through
 * struct qmp_target_ops (control_vm.c for a VM; the unit tests' fake).
 */
#ifndef HYVM_QMP_H
#define HYVM_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Bytes of one JSON value at most; a client sending more is closed. */
#define QMP_MAX_MESSAGE	(1u << 20)

struct qmp_session;

/* A command that finishes later (a checkpoint) calls this once, with
 * NULL for success or the error's one line. */
typedef void (*qmp_done)(void *cookie, const char *error);

struct qmp_target_ops {
	/* QEMU's RunState names: "running", "paused", "postmigrate" */
	const char *(*status)(void *t);
	void (*stop)(void *t);
	void (*cont)(void *t);
	int (*powerdown)(void *t, char *err, size_t errlen);
	void (*reset)(void *t);
	void (*quit)(void *t);
	/* hyvm-stats' object (new reference) */
	struct json_object *(*stats)(void *t);
	/* Pauses at a clean point, writes FILE, then resumes, stays paused
	 * (migrate: "postmigrate") or quits; done() is called then. 0, or -1
	 * with err when it cannot even start. */
	int (*save)(void *t, const char *file, bool quit, bool stay_paused,
		    qmp_done done, void *cookie, char *err, size_t errlen);
	/* query-migrate's object (new reference) */
	struct json_object *(*migrate_status)(void *t);
};

/* send gets one JSON text without its "\r\n" (the transport adds it). */
struct qmp_session *qmp_session_new(const struct qmp_target_ops *ops, void *target,
				    void (*send)(void *ctx, const char *json), void *send_ctx);
/* The greeting, {"QMP": {"version": ..., "capabilities": []}}. */
void qmp_session_greet(struct qmp_session *s);
/* Bytes from the client: each complete JSON value is answered. -1: close
 * the connection (a value above QMP_MAX_MESSAGE). */
int qmp_session_feed(struct qmp_session *s, const char *buf, size_t len);
/* An event to this session, if it negotiated: {"event", "data",
 * "timestamp"}; data may be NULL (its reference is not taken). */
void qmp_session_event(struct qmp_session *s, const char *name, struct json_object *data);
/* The transport is gone: nothing is sent any more; the session is freed
 * now, or when its last deferred command finishes. */
void qmp_session_close(struct qmp_session *s);

/* The command names, NULL-terminated (query-commands, hyvm ctl). */
const char *const *qmp_command_names(void);

#endif

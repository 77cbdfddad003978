/*
 * The VM's control socket: a Unix stream socket speaking QMP (qmp.h),
 * watched by the VMM's fd_watch, so every command runs on the vCPU thread
 * between guest runs (or while the VM is held, vmm/vm_pause.h). The path
 * is --control PATH, or by default $XDG_RUNTIME_DIR/hyvm/PID.qmp (else
 * /run/hyvm/PID.qmp for root, else /tmp/hyvm-UID/PID.qmp), the directory
 * made 0700; the socket is removed when the VM ends.
 */
#ifndef HYVM_CONTROL_SOCKET_H
#define HYVM_CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "control/qmp.h"

#define CONTROL_MAX_CLIENTS	4

struct fd_watch_set;

struct control_client {
	int fd;
	struct qmp_session *s;
	struct control_server *srv;
};

struct control_server {
	int listen_fd;
	char path[108];		/* sun_path */
	struct fd_watch_set *watch;
	const struct qmp_target_ops *ops;
	void *target;
	struct control_client client[CONTROL_MAX_CLIENTS];
};

/* The default path for pid (see above); -1 when no directory applies. */
int control_default_path(pid_t pid, char *path, size_t len);
/* Creates the directory of the default path (0700, ours); -1 + err. */
int control_make_dir(const char *path, char *err, size_t errlen);
/* Listens on path and watches it; -1 with one line in err. */
int control_open(struct control_server *c, const char *path, struct fd_watch_set *watch,
		 const struct qmp_target_ops *ops, void *target, char *err, size_t errlen);
/* An event to every negotiated client (data's reference is not taken). */
void control_event(struct control_server *c, const char *name, struct json_object *data);
/* Closes every connection and removes the socket. Safe to call twice. */
void control_close(struct control_server *c);

#endif

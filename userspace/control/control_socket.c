/* The control socket's transport; see control_socket.h. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "control/control_socket.h"
#include "vmm/fd_watch.h"

int control_default_path(pid_t pid, char *path, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (xdg && *xdg)
		n = snprintf(path, len, "%s/hyvm/%d.qmp", xdg, (int)pid);
	else if (geteuid() == 0)
		n = snprintf(path, len, "/run/hyvm/%d.qmp", (int)pid);
	else
		n = snprintf(path, len, "/tmp/hyvm-%u/%d.qmp", (unsigned)geteuid(), (int)pid);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int control_make_dir(const char *path, char *err, size_t errlen)
{
	char dir[108];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(slash = strrchr(dir, '/')))
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno == ENOENT && (slash = strrchr(dir, '/')) && slash != dir) {
		/* /run itself may be missing (a minimal initramfs) */
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	/* somebody else's directory in /tmp would let them see our socket */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is not a directory of ours with mode 0700", dir);
		return -1;
	}
	return 0;
}

/* SIGABRT and SIGQUIT end the process without the run's cleanup: the
 * socket is removed first, then whoever handled them before (the
 * console's terminal restore) or the default action. SIGSEGV and the
 * other fault signals are bt's (bt/cpu/signals.c) and are left alone;
 * SIGKILL leaves the socket, which hyvm ps --prune removes. */
static char crash_path[108];
static struct sigaction crash_old[2];
static const int crash_sig[2] = { SIGABRT, SIGQUIT };

static void on_crash(int sig)
{
	int i = sig == SIGABRT ? 0 : 1;

	if (crash_path[0])
		unlink(crash_path);
	sigaction(sig, &crash_old[i], NULL);
	if (crash_old[i].sa_handler != SIG_DFL && crash_old[i].sa_handler != SIG_IGN &&
	    !(crash_old[i].sa_flags & SA_SIGINFO))
		crash_old[i].sa_handler(sig);
	else
		raise(sig);
}

static void crash_cleanup(bool on)
{
	struct sigaction sa = { .sa_handler = on_crash };

	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 2; i++) {
		if (on) {
			sigaction(crash_sig[i], NULL, &crash_old[i]);
			if (crash_old[i].sa_handler != SIG_IGN)	/* ignored stays ignored */
				sigaction(crash_sig[i], &sa, NULL);
		} else
			sigaction(crash_sig[i], &crash_old[i], NULL);
	}
}

static void send_line(void *ctx, const char *json)
{
	struct control_client *cl = ctx;
	size_t n = strlen(json);
	char *buf = malloc(n + 2);

	if (cl->fd < 0 || !buf) {
		free(buf);
		return;
	}
	memcpy(buf, json, n);
	memcpy(buf + n, "\r\n", 2);
	/* nonblocking: a client that does not read its replies loses them
	 * (and is closed at its next command) instead of stopping the VM */
	if (send(cl->fd, buf, n + 2, MSG_NOSIGNAL) != (ssize_t)(n + 2)) {
		shutdown(cl->fd, SHUT_RDWR);
	}
	free(buf);
}

static void drop_client(struct control_client *cl)
{
	fd_watch_remove(cl->srv->watch, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	qmp_session_close(cl->s);
	cl->s = NULL;
}

static void client_ready(void *opaque)
{
	struct control_client *cl = opaque;
	char buf[16384];
	ssize_t n = recv(cl->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || qmp_session_feed(cl->s, buf, (size_t)n) < 0)
		drop_client(cl);	/* gone, or a message above QMP_MAX_MESSAGE */
}

static void accept_ready(void *opaque)
{
	struct control_server *c = opaque;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct control_client *cl = NULL;

	if (fd < 0)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->client[i].fd < 0) {
			cl = &c->client[i];
			break;
		}
	if (!cl) {		/* QEMU allows one; we allow a few, then refuse */
		static const char busy[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": "
					   "\"too many control connections\"}}\r\n";
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	cl->fd = fd;
	cl->srv = c;
	if (!(cl->s = qmp_session_new(c->ops, c->target, send_line, cl)) ||
	    fd_watch_add(c->watch, fd, client_ready, cl) < 0) {
		qmp_session_close(cl->s);
		cl->s = NULL;
		close(fd);
		cl->fd = -1;
		return;
	}
	qmp_session_greet(cl->s);
}

int control_open(struct control_server *c, const char *path, struct fd_watch_set *watch,
		 const struct qmp_target_ops *ops, void *target, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->client[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--control %s: a socket path has at most %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->listen_fd, 4) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (c->listen_fd >= 0)
			close(c->listen_fd);
		c->listen_fd = -1;
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	chmod(path, 0600);
	if (!crash_path[0]) {
		snprintf(crash_path, sizeof(crash_path), "%s", path);
		crash_cleanup(true);
	}
	c->watch = watch;
	c->ops = ops;
	c->target = target;
	if (fd_watch_add(watch, c->listen_fd, accept_ready, c) < 0) {
		snprintf(err, errlen, "control socket %s: too many watched files", path);
		control_close(c);
		return -1;
	}
	return 0;
}

void control_event(struct control_server *c, const char *name, struct json_object *data)
{
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			qmp_session_event(c->client[i].s, name, data);
}

void control_close(struct control_server *c)
{
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->client[i].fd >= 0)
			drop_client(&c->client[i]);
	if (c->listen_fd >= 0) {
		if (c->watch)
			fd_watch_remove(c->watch, c->listen_fd);
		close(c->listen_fd);
		c->listen_fd = -1;
	}
	if (c->path[0]) {
		unlink(c->path);
		if (!strcmp(crash_path, c->path)) {
			crash_cleanup(false);
			crash_path[0] = '\0';
		}
	}
	c->path[0] = '\0';
}

/*
 * The tap backend: the guest's frames go to a host tap interface
 * (Linux's Documentation/networking/tuntap.rst: /dev/net/tun, TUNSETIFF
 * with IFF_TAP | IFF_NO_PI, one frame per read and write). Attaching
 * needs CAP_NET_ADMIN, or a tap made beforehand for this user
 * (`ip tuntap add NAME mode tap user USER`); otherwise one line says so.
 * A thread reads the tap and queues frames for the NIC, as slirp's does.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "net/net_backend.h"

struct tap_backend {
	struct net_backend be;
	int fd;
	int stop_fd;		/* eventfd: the reader ends */
	pthread_t thread;
	bool thread_started;
	uint8_t buf[NET_FRAME_MAX];
};

static void *tap_reader(void *arg)
{
	struct tap_backend *t = arg;
	struct pollfd pfd[2] = {
		{ .fd = t->fd, .events = POLLIN }, { .fd = t->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;	/* the interface went away */
		if (pfd[0].revents & POLLIN) {
			ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
			if (n >= 14)
				net_rx_queue_push(&t->be.rx, t->buf, (size_t)n);
		}
	}
	return NULL;
}

/* A full host queue drops the frame, as a wire would (counted). */
static int tap_send(struct net_backend *be, const void *frame, size_t len)
{
	struct tap_backend *t = (struct tap_backend *)be;

	return write(t->fd, frame, len) == (ssize_t)len ? 0 : -1;
}

static void tap_destroy(struct net_backend *be)
{
	struct tap_backend *t = (struct tap_backend *)be;

	if (t->thread_started) {
		uint64_t one = 1;
		if (write(t->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot fail on a fresh eventfd */
		}
		pthread_join(t->thread, NULL);
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	net_rx_queue_fini(&t->be.rx);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.destroy = tap_destroy,
};

struct net_backend *net_tap_create(const struct net_tap_config *cfg, char *err, size_t errlen)
{
	struct tap_backend *t = calloc(1, sizeof(*t));
	struct ifreq ifr = { 0 };

	if (!t) {
		snprintf(err, errlen, "--net tap: out of memory");
		return NULL;
	}
	t->be.ops = &tap_ops;
	t->be.kind = "tap";
	t->stop_fd = -1;
	t->fd = -1;
	if (net_rx_queue_init(&t->be.rx) < 0 ||
	    (t->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "--net tap: eventfd: %s", strerror(errno));
		goto fail;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(err, errlen, "--net tap: cannot open /dev/net/tun: %s%s", strerror(errno),
			 errno == EACCES || errno == EPERM
				 ? " (a tap needs root or CAP_NET_ADMIN; --net user needs neither)" : "");
		goto fail;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->ifname);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "--net tap: cannot attach tap %s: %s%s", cfg->ifname,
			 strerror(errno),
			 errno == EPERM ? " (needs root or CAP_NET_ADMIN, or a tap made for this "
					  "user: ip tuntap add NAME mode tap user USER; --net user "
					  "needs neither)" : "");
		goto fail;
	}
	if (net_backend_start_thread(&t->thread, tap_reader, t) != 0) {
		snprintf(err, errlen, "--net tap: cannot start its thread");
		goto fail;
	}
	t->thread_started = true;
	return &t->be;
fail:
	tap_destroy(&t->be);
	return NULL;
}

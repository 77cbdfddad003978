/*
 * The user-mode backend: libslirp, the TCP/IP stack QEMU's "-netdev user"
 * runs. The guest's frames go into slirp_input; slirp answers ARP, DHCP
 * and DNS itself, turns the guest's TCP and UDP into host sockets (the
 * gateway address means the host's loopback) and its hostfwd listeners
 * into connections towards the guest, and hands back Ethernet frames
 * through send_packet, which queues them for the NIC. No root needed.
 * Its thread and locking: net_slirp.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "net/net_slirp.h"

/* The SlirpConfig layout this file fills (libslirp 4.7 has up to 4). */
#define SLIRP_CFG_VERSION	4

/* slirp -> guest: on the loop's thread, or the sender's when slirp answers
 * at once (ARP), both under the lock. Dropping is allowed (libslirp.h). */
static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_backend *s = opaque;

	net_rx_queue_push(&s->be.rx, buf, len);
	return (ssize_t)len;
}

/* Malformed guest traffic (QEMU logs it with -d guest_errors): counted,
 * not printed, so a guest cannot flood the terminal. */
static void slirp_guest_error(const char *msg, void *opaque)
{
	struct slirp_backend *s = opaque;

	__atomic_add_fetch(&s->be.guest_errors, 1, __ATOMIC_RELAXED);
}

static int64_t slirp_clock_ns(void *opaque)
{
	return net_slirp_clock_ms() * 1000000;
}

/* For hosts whose poll needs fds registered (Windows); poll() does not. */
static void slirp_register_fd(int fd, void *opaque) { }
static void slirp_unregister_fd(int fd, void *opaque) { }

/* slirp can take more from a socket now: the loop must look again. */
static void slirp_notify(void *opaque)
{
	net_slirp_wake(opaque);
}

static const SlirpCb slirp_callbacks = {
	.send_packet = slirp_send_packet,
	.guest_error = slirp_guest_error,
	.clock_get_ns = slirp_clock_ns,
	.timer_new = net_slirp_timer_new,
	.timer_free = net_slirp_timer_free,
	.timer_mod = net_slirp_timer_mod,
	.register_poll_fd = slirp_register_fd,
	.unregister_poll_fd = slirp_unregister_fd,
	.notify = slirp_notify,
	.timer_new_opaque = net_slirp_timer_new_opaque,
};

static int slirp_send(struct net_backend *be, const void *frame, size_t len)
{
	struct slirp_backend *s = (struct slirp_backend *)be;

	pthread_mutex_lock(&s->lock);
	slirp_input(s->slirp, frame, (int)len);
	pthread_mutex_unlock(&s->lock);
	/* the frame may have opened a socket the loop must now watch */
	net_slirp_wake(s);
	return 0;
}

static void slirp_destroy(struct net_backend *be)
{
	struct slirp_backend *s = (struct slirp_backend *)be;

	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_mutex_unlock(&s->lock);
		net_slirp_wake(s);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);	/* frees its timers through timer_free */
	while (s->timers) {
		struct slirp_timer *t = s->timers;
		s->timers = t->next;
		free(t);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	net_rx_queue_fini(&s->be.rx);
	free(s->pfd);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.send = slirp_send,
	.destroy = slirp_destroy,
};

/* QEMU's IPv6 defaults: fec0::/64, host fec0::2, DNS fec0::3. */
static void ipv6_defaults(SlirpConfig *c)
{
	inet_pton(AF_INET6, "fec0::", &c->vprefix_addr6);
	c->vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &c->vhost6);
	inet_pton(AF_INET6, "fec0::3", &c->vnameserver6);
}

static int add_forwards(struct slirp_backend *s, const struct net_user_config *cfg,
			char *err, size_t errlen)
{
	for (unsigned i = 0; i < cfg->nr_fwd; i++) {
		const struct net_hostfwd *f = &cfg->fwd[i];
		char rule[96];

		errno = 0;
		if (slirp_add_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port,
				      f->guest_addr, f->guest_port) < 0) {
			net_hostfwd_format(f, rule, sizeof(rule));
			snprintf(err, errlen, "--net user: hostfwd %s: cannot listen on the host port%s%s",
				 rule, errno ? ": " : "", errno ? strerror(errno) : "");
			return -1;
		}
	}
	return 0;
}

struct net_backend *net_slirp_create(const struct net_user_config *cfg, char *err, size_t errlen)
{
	struct slirp_backend *s = calloc(1, sizeof(*s));
	SlirpConfig c = { 0 };

	if (!s) {
		snprintf(err, errlen, "--net user: out of memory");
		return NULL;
	}
	s->be.ops = &slirp_ops;
	s->be.kind = "user";
	s->wake_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (net_rx_queue_init(&s->be.rx) < 0 ||
	    (s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "--net user: eventfd: %s", strerror(errno));
		goto fail;
	}
	c.version = SLIRP_CFG_VERSION;
	c.restricted = cfg->restricted;
	c.in_enabled = true;
	c.vnetwork = cfg->net;
	c.vnetmask = cfg->mask;
	c.vhost = cfg->host;
	c.vdhcp_start = cfg->dhcp_start;
	c.vnameserver = cfg->dns;
	c.in6_enabled = cfg->ipv6;
	ipv6_defaults(&c);
	c.vhostname = cfg->hostname[0] ? cfg->hostname : NULL;
	s->slirp = slirp_new(&c, &slirp_callbacks, s);
	if (!s->slirp) {
		snprintf(err, errlen, "--net user: libslirp refused the configuration");
		goto fail;
	}
	if (add_forwards(s, cfg, err, errlen) < 0)
		goto fail;
	if (net_backend_start_thread(&s->thread, net_slirp_loop, s) != 0) {
		snprintf(err, errlen, "--net user: cannot start its thread");
		goto fail;
	}
	s->thread_started = true;
	return &s->be;
fail:
	slirp_destroy(&s->be);
	return NULL;
}

/*
 * The backend interface's common half (net_backend.h): creation by kind,
 * the rx queue the NIC drains, the statistics. The backends themselves
 * (net_slirp.c, net_tap.c) provide send and destroy.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "net/net_backend.h"

static struct net_backend *created;	/* by net_backend_create, for net_backend_find */

struct net_backend *net_backend_create(const struct net_config *cfg, char *err, size_t errlen)
{
	struct net_backend *be;

	if (net_backend_find(cfg->id)) {
		snprintf(err, errlen, "--net: a backend named '%s' exists already", cfg->id);
		return NULL;
	}
	switch (cfg->kind) {
	case NET_USER:
		be = net_slirp_create(&cfg->user, err, errlen);
		break;
	case NET_TAP:
		be = net_tap_create(&cfg->tap, err, errlen);
		break;
	default:
		snprintf(err, errlen, "--net none has no backend");
		return NULL;
	}
	if (be) {
		snprintf(be->id, sizeof(be->id), "%s", cfg->id);
		be->next = created;
		created = be;
	}
	return be;
}

int net_backend_start_thread(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	/* a new thread inherits its creator's mask */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

struct net_backend *net_backend_find(const char *id)
{
	for (struct net_backend *be = created; be; be = be->next)
		if (!strcmp(be->id, id))
			return be;
	return NULL;
}

int net_backend_send(struct net_backend *be, const void *frame, size_t len)
{
	/* 14: an Ethernet header; anything shorter is not a frame */
	if (len < 14 || len > NET_FRAME_MAX || be->ops->send(be, frame, len) < 0) {
		be->tx_dropped++;
		return -1;
	}
	be->tx_frames++;
	be->tx_bytes += len;
	return 0;
}

const struct net_frame *net_backend_rx_peek(struct net_backend *be)
{
	return net_rx_queue_peek(&be->rx);
}

void net_backend_rx_pop(struct net_backend *be)
{
	net_rx_queue_pop(&be->rx);
}

int net_backend_rx_fd(struct net_backend *be)
{
	return be->rx.event_fd;
}

void net_backend_set_rx_notify(struct net_backend *be, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&be->rx.lock);
	be->rx.notify = fn;
	be->rx.notify_ctx = ctx;
	pthread_mutex_unlock(&be->rx.lock);
}

void net_backend_stats(struct net_backend *be, struct net_stats *out)
{
	pthread_mutex_lock(&be->rx.lock);
	*out = (struct net_stats){
		.tx_frames = be->tx_frames, .tx_bytes = be->tx_bytes,
		.tx_dropped = be->tx_dropped,
		.rx_frames = be->rx.frames, .rx_bytes = be->rx.bytes,
		.rx_dropped = be->rx.dropped,
		.guest_errors = __atomic_load_n(&be->guest_errors, __ATOMIC_RELAXED),
	};
	pthread_mutex_unlock(&be->rx.lock);
}

void net_backend_destroy(struct net_backend *be)
{
	if (!be)
		return;
	for (struct net_backend **p = &created; *p; p = &(*p)->next)
		if (*p == be) {
			*p = be->next;
			break;
		}
	be->ops->destroy(be);
}

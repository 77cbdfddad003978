/*
 * The backend-to-NIC frame queue (net_rx_queue.h). One producer (the
 * backend's thread, or the sender's for slirp's immediate answers, both
 * under the backend's own lock) and one consumer (the NIC); the mutex
 * makes the eventfd's level follow the count exactly.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "net/net_rx_queue.h"

int net_rx_queue_init(struct net_rx_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->event_fd < 0)
		return -1;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

void net_rx_queue_fini(struct net_rx_queue *q)
{
	while (q->count) {
		free(q->slot[q->head]);
		q->head = (q->head + 1) % NET_RX_QUEUE_LEN;
		q->count--;
	}
	if (q->event_fd >= 0) {
		close(q->event_fd);
		pthread_mutex_destroy(&q->lock);
	}
	q->event_fd = -1;
}

bool net_rx_queue_push(struct net_rx_queue *q, const void *data, size_t len)
{
	struct net_frame *f = NULL;
	bool was_empty;

	if (len <= NET_FRAME_MAX)
		f = malloc(sizeof(*f) + len);
	pthread_mutex_lock(&q->lock);
	if (!f || q->count == NET_RX_QUEUE_LEN) {
		q->dropped++;
		pthread_mutex_unlock(&q->lock);
		free(f);
		return false;
	}
	f->len = len;
	memcpy(f->data, data, len);
	q->slot[(q->head + q->count) % NET_RX_QUEUE_LEN] = f;
	was_empty = q->count++ == 0;
	q->frames++;
	q->bytes += len;
	if (was_empty) {
		uint64_t one = 1;
		if (write(q->event_fd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter never nears its maximum */
		}
	}
	pthread_mutex_unlock(&q->lock);
	/* outside the lock: the callback may take locks of its own */
	if (was_empty && q->notify)
		q->notify(q->notify_ctx);
	return true;
}

const struct net_frame *net_rx_queue_peek(struct net_rx_queue *q)
{
	const struct net_frame *f;

	pthread_mutex_lock(&q->lock);
	f = q->count ? q->slot[q->head] : NULL;
	pthread_mutex_unlock(&q->lock);
	return f;	/* only the consumer pops, so it stays valid */
}

void net_rx_queue_pop(struct net_rx_queue *q)
{
	struct net_frame *f = NULL;

	pthread_mutex_lock(&q->lock);
	if (q->count) {
		f = q->slot[q->head];
		q->head = (q->head + 1) % NET_RX_QUEUE_LEN;
		if (--q->count == 0) {
			uint64_t v;
			if (read(q->event_fd, &v, sizeof(v)) < 0) {
				/* already zero: nothing to drain */
			}
		}
	}
	pthread_mutex_unlock(&q->lock);
	free(f);
}

/*
 * The frames a backend's thread has for the guest, until the NIC takes
 * them on the vCPU thread. Bounded: a guest that takes no frames (no
 * driver, no rx buffers) costs at most NET_RX_QUEUE_LEN frames, and the
 * rest are dropped and counted, as on a wire; TCP retransmits (libslirp's
 * send_packet is allowed to drop, libslirp.h).
 */
#ifndef HYVM_NET_RX_QUEUE_H
#define HYVM_NET_RX_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_RX_QUEUE_LEN	256
/* The largest frame a backend carries: a 64 KiB IP packet behind an
 * Ethernet header (a tap with a large MTU; slirp's are 1514 by default). */
#define NET_FRAME_MAX		(65535 + 14)

struct net_frame {
	size_t len;
	uint8_t data[];
};

struct net_rx_queue {
	pthread_mutex_t lock;
	struct net_frame *slot[NET_RX_QUEUE_LEN];
	unsigned head, count;
	/* readable exactly while count > 0 (EFD_NONBLOCK, written on
	 * empty -> non-empty, drained on non-empty -> empty) */
	int event_fd;
	void (*notify)(void *ctx);
	void *notify_ctx;
	uint64_t frames, bytes, dropped;
};

int net_rx_queue_init(struct net_rx_queue *q);
void net_rx_queue_fini(struct net_rx_queue *q);
/* Copies the frame in; false when full or oversized (counted as dropped). */
bool net_rx_queue_push(struct net_rx_queue *q, const void *data, size_t len);
const struct net_frame *net_rx_queue_peek(struct net_rx_queue *q);
void net_rx_queue_pop(struct net_rx_queue *q);

#endif

/*
 * The virtio network device's logic (virtio 1.2, 5.1), without a
 * transport: feature bits and the configuration layout it offers, the
 * transmit queue's chains to the backend (userspace/net/net_backend.h)
 * and the backend's frames into the receive queue's buffers. The queues
 * are the transport's (struct virtio_dev's vq[], given to
 * virtio_net_init): it owns the common configuration, enables and resets
 * them, reads this device's configuration through virtio_net_config_read,
 * and calls virtio_net_tx on the transmit queue's notification and
 * virtio_net_rx on the receive queue's and whenever the backend's rx fd
 * is readable (virtio_net_pci.c). A true return means "the used ring
 * moved": the caller asks virtq_should_notify (through virtio_dev_used),
 * once, whether the driver wants the interrupt.
 * All calls from the vCPU thread (virtqueue.h, "Threads").
 */
#ifndef HYVM_VIRTIO_NET_H
#define HYVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/virtqueue.h"
#include "net/net_backend.h"

#define VIRTIO_ID_NET		1	/* 5 Device Types: network card */

/* 5.1.3 Feature bits */
#define VIRTIO_NET_F_CSUM	0	/* device takes partially checksummed frames */
#define VIRTIO_NET_F_GUEST_CSUM	1
#define VIRTIO_NET_F_MTU	3	/* config.mtu is valid */
#define VIRTIO_NET_F_MAC	5	/* config.mac is valid */
#define VIRTIO_NET_F_MRG_RXBUF	15	/* a frame may span several rx chains */
#define VIRTIO_NET_F_STATUS	16	/* config.status is valid */
#define VIRTIO_NET_F_CTRL_VQ	17
#define VIRTIO_NET_F_MQ		22

/* 5.1.4 config.status */
#define VIRTIO_NET_S_LINK_UP	1

/* 5.1.2 Virtqueues: receiveq1, transmitq1 (no control queue, one pair) */
#define VIRTIO_NET_RXQ		0
#define VIRTIO_NET_TXQ		1
#define VIRTIO_NET_NR_QUEUES	2
#define VIRTIO_NET_QUEUE_SIZE	256
/* Buffers one chain may have: a whole ring's worth (chains are no longer
 * than the queue, virtqueue.h). */
#define VIRTIO_NET_MAX_SEGS	VIRTIO_NET_QUEUE_SIZE
/* Receive chains held back while a frame waits for enough of them
 * (MRG_RXBUF); a frame that needs more is dropped. */
#define VIRTIO_NET_RX_STASH	64

/* 5.1.6 Device Operation: the header before every frame, both ways. With
 * VIRTIO_F_VERSION_1 it is always these 12 bytes; num_buffers is 1
 * unless MRG_RXBUF is negotiated (5.1.6.4). Little-endian. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_GSO_NONE		0

/* 5.1.4 Device configuration layout (little-endian). */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;	/* valid with MQ (or RSS) only */
	uint16_t mtu;
	uint32_t speed;			/* Mbit/s, with SPEED_DUPLEX only */
	uint8_t duplex;
	uint8_t rss_max_key_size;
	uint16_t rss_max_indirection_table_length;
	uint32_t supported_hash_types;
} __attribute__((packed));

struct virtio_net_stats {
	uint64_t tx_frames, tx_bad_chains, tx_dropped;	/* dropped: backend refused */
	uint64_t rx_frames, rx_bad_chains, rx_too_big;	/* too big for the buffers */
};

struct virtio_net {
	struct virtq *q[VIRTIO_NET_NR_QUEUES];	/* the transport's */
	struct net_backend *backend;
	struct virtio_net_config config;
	uint64_t features;		/* negotiated (virtio_net_set_features) */
	bool needs_reset;		/* a ring-level error: the transport sets
					 * DEVICE_NEEDS_RESET (2.1.2) */
	/* After virtio_net_rx: frames wait and the driver gave no buffers
	 * (or the queue is off). The backend's rx fd stays readable then, so
	 * whoever watches it should stop until the receive queue's
	 * notification, or the VMM loop spins on it. */
	bool rx_waiting_for_buffers;
	struct virtq_req *tx_req;
	uint8_t *tx_buf;		/* header + the largest frame */
	struct virtq_req *rx_stash[VIRTIO_NET_RX_STASH];
	unsigned nr_stash;		/* popped, not yet used */
	/* A bad chain went back while chains were held: the held ones are
	 * no longer the last popped (virtio_net_rx_unstash). */
	bool stash_not_tail;
	struct virtio_net_stats stats;
};

/* rxq, txq: receiveq1 and transmitq1, owned by the transport, which must
 * not free them before virtio_net_fini. mac: the NIC's address; mtu:
 * what config.mtu says (1500 as QEMU's). backend NULL: a card on no
 * network (QEMU's NIC without a netdev): its frames are dropped
 * (tx_dropped) and nothing arrives. */
int virtio_net_init(struct virtio_net *n, struct virtq *rxq, struct virtq *txq,
		    struct net_backend *backend, const uint8_t mac[6], uint16_t mtu);
void virtio_net_fini(struct virtio_net *n);
/* 2.1 device reset: features and held chains forgotten (the transport
 * resets the queues themselves). */
void virtio_net_reset(struct virtio_net *n);

/* Before a checkpoint: the held receive chains go back, as a saved
 * state holds none. Nothing was written into them, so when they are the
 * last chains popped the ring's next-to-pop index steps back over them
 * and they are popped again later (here or after the restore); else
 * (a bad chain was returned among them) they are returned used with 0
 * bytes, which the driver drops as a short frame. True when the used
 * ring moved. */
bool virtio_net_rx_unstash(struct virtio_net *n);

/* What the device offers (bit numbers as above and virtio_spec.h). */
uint64_t virtio_net_device_features(const struct virtio_net *n);
/* The driver's choice: 0, or -1 when it takes a bit not offered or leaves
 * out VIRTIO_F_VERSION_1 (this device is modern only): FEATURES_OK then
 * stays clear (3.1.1). */
int virtio_net_set_features(struct virtio_net *n, uint64_t features);
/* len bytes of the configuration at offset (bytes past it read 0). The
 * driver writes none of it (5.1.4.2). */
void virtio_net_config_read(const struct virtio_net *n, uint64_t offset, void *data,
			    unsigned len);

bool virtio_net_tx(struct virtio_net *n);
bool virtio_net_rx(struct virtio_net *n);

#endif

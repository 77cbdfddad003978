/*
 * virtio-net's life and what it tells the driver (virtio 1.2, 5.1.3-5.1.5):
 * the features offered, their negotiation, the configuration layout.
 * Offered: VERSION_1 (modern only), MAC, STATUS (link always up), MTU,
 * MRG_RXBUF, and the ring features the virtqueue code implements
 * (INDIRECT_DESC, EVENT_IDX). No checksum or segmentation offloads:
 * every frame is complete both ways, which is what libslirp takes and
 * gives. One queue pair, no control queue.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/virtio/virtio_net.h"

#define BIT(n)	(1ull << (n))

static const uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_INDIRECT_DESC) |
				BIT(VIRTIO_F_EVENT_IDX) | BIT(VIRTIO_NET_F_MAC) |
				BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MTU) |
				BIT(VIRTIO_NET_F_MRG_RXBUF);

int virtio_net_init(struct virtio_net *n, struct virtq *rxq, struct virtq *txq,
		    struct net_backend *backend, const uint8_t mac[6], uint16_t mtu)
{
	memset(n, 0, sizeof(*n));
	n->backend = backend;
	n->q[VIRTIO_NET_RXQ] = rxq;
	n->q[VIRTIO_NET_TXQ] = txq;
	memcpy(n->config.mac, mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->config.mtu = mtu;
	n->tx_req = virtq_req_new(VIRTIO_NET_MAX_SEGS);
	n->tx_buf = malloc(sizeof(struct virtio_net_hdr) + NET_FRAME_MAX);
	for (unsigned i = 0; i < VIRTIO_NET_RX_STASH; i++)
		n->rx_stash[i] = virtq_req_new(VIRTIO_NET_MAX_SEGS);
	for (unsigned i = 0; i < VIRTIO_NET_RX_STASH; i++)
		if (!n->rx_stash[i]) {
			virtio_net_fini(n);
			return -1;
		}
	if (!n->tx_req || !n->tx_buf) {
		virtio_net_fini(n);
		return -1;
	}
	return 0;
}

void virtio_net_fini(struct virtio_net *n)
{
	virtq_req_free(n->tx_req);
	free(n->tx_buf);
	for (unsigned i = 0; i < VIRTIO_NET_RX_STASH; i++)
		virtq_req_free(n->rx_stash[i]);
	memset(n, 0, sizeof(*n));
}

void virtio_net_reset(struct virtio_net *n)
{
	/* held chains belong to the rings the driver just gave up */
	n->nr_stash = 0;
	n->stash_not_tail = false;
	n->features = 0;
	n->needs_reset = false;
}

uint64_t virtio_net_device_features(const struct virtio_net *n)
{
	return offered;
}

int virtio_net_set_features(struct virtio_net *n, uint64_t features)
{
	if ((features & ~offered) || !(features & BIT(VIRTIO_F_VERSION_1)))
		return -1;
	n->features = features;
	return 0;
}

void virtio_net_config_read(const struct virtio_net *n, uint64_t offset, void *data,
			    unsigned len)
{
	const uint8_t *cfg = (const uint8_t *)&n->config;

	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = offset + i < sizeof(n->config) ? cfg[offset + i] : 0;
}

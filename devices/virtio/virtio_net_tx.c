/*
 * virtio-net's transmit queue (virtio 1.2, 5.1.6.2): each chain is a
 * struct virtio_net_hdr and one Ethernet frame, split over the readable
 * buffers however the driver likes. The frame goes to the backend; the
 * chain comes back with nothing written (5.1.6.2.2: the device does not
 * write to transmit buffers).
 */
#include <string.h>
#include "devices/virtio/virtio_net.h"

/* One chain; false on a ring-level error (needs_reset is set). */
static bool tx_one(struct virtio_net *n, struct virtq *q, int r)
{
	struct virtq_req *req = n->tx_req;
	const size_t hlen = sizeof(struct virtio_net_hdr);
	struct virtio_net_hdr hdr;

	if (r < 0 && !virtq_err_has_head(r)) {
		n->needs_reset = true;
		return false;
	}
	if (r < 0 || req->out_bytes < hlen + 14 || req->out_bytes > hlen + NET_FRAME_MAX ||
	    virtq_req_read(req, 0, n->tx_buf, req->out_bytes) < 0) {
		n->stats.tx_bad_chains++;	/* a chain error, or no frame in it */
	} else {
		memcpy(&hdr, n->tx_buf, hlen);
		/* Offloads were not offered (virtio_net_config.c): a header
		 * asking for one is a driver bug, and its frame unfinished. */
		if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM || hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			n->stats.tx_bad_chains++;
		else if (!n->backend ||
			 net_backend_send(n->backend, n->tx_buf + hlen, req->out_bytes - hlen) < 0)
			n->stats.tx_dropped++;
		else
			n->stats.tx_frames++;
	}
	virtq_push(q, req, 0);
	return true;
}

bool virtio_net_tx(struct virtio_net *n)
{
	struct virtq *q = n->q[VIRTIO_NET_TXQ];
	bool pushed = false;

	if (!q->ready)
		return false;
	/* 2.7.7.2: no notifications while we drain; popping once more after
	 * turning them back on catches a chain that slipped in between */
	do {
		virtq_set_notify(q, false);
		int r;
		while ((r = virtq_pop(q, n->tx_req)) != 0) {
			if (!tx_one(n, q, r))
				return pushed;
			pushed = true;
		}
	} while (virtq_set_notify(q, true));
	return pushed;
}

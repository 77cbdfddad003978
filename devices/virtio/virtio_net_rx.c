/*
 * virtio-net's receive queue (virtio 1.2, 5.1.6.3-5.1.6.4): each frame
 * from the backend goes into the driver's writable buffers behind a
 * struct virtio_net_hdr. Without MRG_RXBUF one chain must hold header and
 * frame (5.1.6.3.1 has the driver give buffers of at least 1526 bytes);
 * with it, a frame may span several chains, the first header's
 * num_buffers saying how many (5.1.6.4).
 *
 * Chains are popped before the frame is known to fit, and a popped
 * chain cannot be given back unused; so chains that do not yet add up to
 * the frame are held (rx_stash) until more arrive, and a frame stays in
 * the backend's queue while the driver has no buffers, which is how the
 * backend's bound (net_rx_queue.h) applies back-pressure.
 */
#include <string.h>
#include "devices/virtio/virtio_net.h"

#define BIT(n)	(1ull << (n))

/* Writable bytes in the first k held chains. */
static uint64_t stash_room(const struct virtio_net *n, unsigned k)
{
	uint64_t room = 0;

	for (unsigned i = 0; i < k; i++)
		room += n->rx_stash[i]->in_bytes;
	return room;
}

/* Pops one more chain into the stash: 1, 0 when the ring is empty, -1 on
 * a ring-level error. Chains too short for even the header (or broken)
 * go straight back, counted. */
static int stash_one(struct virtio_net *n, struct virtq *q, bool *pushed)
{
	for (;;) {
		struct virtq_req *req = n->rx_stash[n->nr_stash];
		int r = virtq_pop(q, req);
		if (r == 0)
			return 0;
		if (r < 0 && !virtq_err_has_head(r)) {
			n->needs_reset = true;
			return -1;
		}
		if (r > 0 && req->in_bytes >= sizeof(struct virtio_net_hdr)) {
			n->nr_stash++;
			return 1;
		}
		n->stats.rx_bad_chains++;
		n->stash_not_tail |= n->nr_stash > 0;
		virtq_push(q, req, 0);
		*pushed = true;
	}
}

/* The frame into the first k held chains, which go back to the driver
 * in order; the rest of the stash moves up. */
static void deliver(struct virtio_net *n, struct virtq *q, const struct net_frame *f,
		    unsigned k)
{
	struct virtio_net_hdr hdr = { .gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = (uint16_t)k };
	size_t hlen = sizeof(hdr), done = 0;

	for (unsigned i = 0; i < k; i++) {
		struct virtq_req *req = n->rx_stash[i];
		uint64_t off = 0, room = req->in_bytes;
		if (i == 0) {
			virtq_req_write(req, 0, &hdr, hlen);
			off = hlen;
		}
		size_t part = f->len - done < room - off ? f->len - done : (size_t)(room - off);
		virtq_req_write(req, off, f->data + done, part);
		done += part;
		virtq_push(q, req, (uint32_t)(off + part));
	}
	/* the used requests' structures go to the back for reuse */
	struct virtq_req *used[VIRTIO_NET_RX_STASH];
	memcpy(used, n->rx_stash, k * sizeof(used[0]));
	memmove(n->rx_stash, n->rx_stash + k, (VIRTIO_NET_RX_STASH - k) * sizeof(used[0]));
	memcpy(n->rx_stash + VIRTIO_NET_RX_STASH - k, used, k * sizeof(used[0]));
	n->nr_stash -= k;
	n->stash_not_tail &= n->nr_stash > 0;
	n->stats.rx_frames++;
}

bool virtio_net_rx_unstash(struct virtio_net *n)
{
	struct virtq *q = n->q[VIRTIO_NET_RXQ];
	bool pushed = false;

	if (!n->stash_not_tail) {
		q->last_avail = (uint16_t)(q->last_avail - n->nr_stash);
	} else {
		for (unsigned i = 0; i < n->nr_stash; i++)
			virtq_push(q, n->rx_stash[i], 0);
		pushed = n->nr_stash > 0;
	}
	n->nr_stash = 0;
	n->stash_not_tail = false;
	return pushed;
}

bool virtio_net_rx(struct virtio_net *n)
{
	struct virtq *q = n->q[VIRTIO_NET_RXQ];
	const unsigned max_chains = n->features & BIT(VIRTIO_NET_F_MRG_RXBUF) ? VIRTIO_NET_RX_STASH : 1;
	const struct net_frame *f;
	bool pushed = false;

	if (!n->backend)
		return false;	/* a card on no network receives nothing */
	n->rx_waiting_for_buffers = true;
	if (!q->ready)
		return false;	/* frames wait in the backend's queue */
	while ((f = net_backend_rx_peek(n->backend))) {
		uint64_t need = sizeof(struct virtio_net_hdr) + f->len;
		unsigned k = 0;
		while (k < n->nr_stash && stash_room(n, k) < need)
			k++;
		while (stash_room(n, k) < need && n->nr_stash < max_chains) {
			int r = stash_one(n, q, &pushed);
			if (r <= 0)	/* no buffers yet: the frame waits */
				return pushed;
			k = n->nr_stash;
		}
		if (stash_room(n, k) < need) {
			/* larger than all the buffers one frame may have:
			 * drop it, keep the chains for the next */
			n->stats.rx_too_big++;
			net_backend_rx_pop(n->backend);
			continue;
		}
		deliver(n, q, f, k);
		net_backend_rx_pop(n->backend);
		pushed = true;
	}
	n->rx_waiting_for_buffers = false;	/* the backend's queue is empty */
	return pushed;
}

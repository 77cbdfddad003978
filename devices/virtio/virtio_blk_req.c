/* virtio-blk request parsing, checks and status; see virtio_blk_req.h. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include "devices/virtio/virtio_blk_req.h"

/* 5.2.6: the header every request starts with */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* 5.2.6: one DISCARD / WRITE_ZEROES segment */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct vblk_req *vblk_req_new(unsigned max_segs)
{
	struct vblk_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->max_segs = max_segs ? max_segs : 1;
	r->iov = calloc(r->max_segs, sizeof(*r->iov));
	if (!r->iov) {
		free(r);
		return NULL;
	}
	return r;
}

void vblk_req_free(struct vblk_req *r)
{
	if (r)
		free(r->iov);
	free(r);
}

/* The bytes [off, off + len) of iov[0 .. n) as a new iovec array in out;
 * returns its count. */
static int slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len,
		 struct iovec *out)
{
	int k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - (size_t)off;
		if (take > len)
			take = (size_t)len;
		out[k++] = (struct iovec){ (uint8_t *)iov[i].iov_base + off, take };
		len -= take;
		off = 0;
	}
	return k;
}

/* The request ends here with status st (written now). */
static int answer(struct vblk_disk *d, struct vblk_req *r, uint8_t st)
{
	r->status = st;
	r->data_bytes = 0;
	if (st == VIRTIO_BLK_S_IOERR)
		d->ioerr++;
	else if (st == VIRTIO_BLK_S_UNSUPP)
		d->unsupp++;
	virtq_req_write(r->vq, r->vq->in_bytes - 1, &st, 1);
	return st;
}

/* sector + count inside the disk, without overflow */
static bool in_disk(const struct vblk_disk *d, uint64_t sector, uint64_t count)
{
	return sector <= d->capacity && count <= d->capacity - sector;
}

static int parse_range(struct vblk_disk *d, struct vblk_req *r, uint64_t data_off)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;

	if (!(zeroes ? d->write_zeroes : d->discard))
		return answer(d, r, VIRTIO_BLK_S_UNSUPP);
	if (d->readonly)
		return answer(d, r, VIRTIO_BLK_S_IOERR);
	/* exactly one segment: the device offers max_discard_seg = 1 */
	if (r->vq->out_bytes - data_off != sizeof(seg) ||
	    virtq_req_read(r->vq, data_off, &seg, sizeof(seg)) < 0)
		return answer(d, r, VIRTIO_BLK_S_IOERR);
	uint64_t sector = le64toh(seg.sector);
	uint32_t count = le32toh(seg.num_sectors), flags = le32toh(seg.flags);
	/* 5.2.6.2: unmap is only for WRITE_ZEROES; other bits are reserved */
	if (flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
	    (!zeroes && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)))
		return answer(d, r, VIRTIO_BLK_S_UNSUPP);
	if (count > (zeroes ? d->max_write_zeroes_sectors : d->max_discard_sectors) ||
	    !in_disk(d, sector, count))
		return answer(d, r, VIRTIO_BLK_S_IOERR);
	r->sector = sector;
	r->aio.op = zeroes ? BLOCK_WRITE_ZEROES : BLOCK_DISCARD;
	r->aio.off = sector * VIRTIO_BLK_SECTOR;
	r->aio.len = (uint64_t)count * VIRTIO_BLK_SECTOR;
	return VBLK_SUBMIT;
}

int vblk_parse(struct vblk_disk *d, struct virtq_req *vq, struct vblk_req *r)
{
	struct virtio_blk_outhdr hdr;

	r->vq = vq;
	r->data_bytes = 0;
	r->status = VIRTIO_BLK_S_IOERR;
	r->aio = (struct block_aio_req){ .bd = d->bd, .iov = r->iov };
	/* 5.2.6: the status is the last byte the device may write; a
	 * chain without one cannot even be refused */
	if (vq->in_bytes == 0) {
		d->no_status++;
		return -1;
	}
	if (virtq_req_read(vq, 0, &hdr, sizeof(hdr)) < 0 ||
	    vq->nr_out + vq->nr_in > r->max_segs)
		return answer(d, r, VIRTIO_BLK_S_IOERR);
	r->type = le32toh(hdr.type);
	r->sector = le64toh(hdr.sector);
	uint64_t out_data = vq->out_bytes - sizeof(hdr), in_data = vq->in_bytes - 1;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool in = r->type == VIRTIO_BLK_T_IN;
		uint64_t len = in ? in_data : out_data;
		/* IN takes no readable data beyond the header, OUT no
		 * writable bytes beyond the status */
		if ((in ? out_data : in_data) != 0 || len % VIRTIO_BLK_SECTOR ||
		    !in_disk(d, r->sector, len / VIRTIO_BLK_SECTOR))
			return answer(d, r, VIRTIO_BLK_S_IOERR);
		if (!in && d->readonly)		/* 5.2.6.2: and write nothing */
			return answer(d, r, VIRTIO_BLK_S_IOERR);
		r->aio.iovcnt = in ? slice(vq->iov + vq->nr_out, vq->nr_in, 0, len, r->iov)
				   : slice(vq->iov, vq->nr_out, sizeof(hdr), len, r->iov);
		r->aio.op = in ? BLOCK_READ : BLOCK_WRITE;
		r->aio.off = r->sector * VIRTIO_BLK_SECTOR;
		r->data_bytes = in ? (uint32_t)len : 0;
		return VBLK_SUBMIT;
	}
	case VIRTIO_BLK_T_FLUSH:
		r->aio.op = BLOCK_FLUSH;
		return VBLK_SUBMIT;
	case VIRTIO_BLK_T_GET_ID: {
		/* 20 bytes, fewer if the driver gave less room */
		uint32_t n = in_data < VIRTIO_BLK_ID_BYTES ? (uint32_t)in_data : VIRTIO_BLK_ID_BYTES;
		virtq_req_write(vq, 0, d->id, n);
		r->status = VIRTIO_BLK_S_OK;
		r->data_bytes = n;
		virtq_req_write(vq, vq->in_bytes - 1, &r->status, 1);
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range(d, r, sizeof(hdr));
	default:
		return answer(d, r, VIRTIO_BLK_S_UNSUPP);
	}
}

uint32_t vblk_finish(struct vblk_req *r, int result)
{
	r->status = result == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	virtq_req_write(r->vq, r->vq->in_bytes - 1, &r->status, 1);
	/* a failed read wrote an unknown part of the data: claim none */
	return (result == 0 ? r->data_bytes : 0) + 1;
}

/*
 * Disk requests off the vCPU thread: a small pool of worker threads runs
 * them on a block_dev (block.h), and the vCPU thread collects the
 * finished ones when the pool's eventfd is readable, so a slow disk never
 * stalls the guest's timers and the completion (used ring, dma_written,
 * interrupt) happens where the devices live.
 *
 *   struct block_aio *aio = block_aio_new(4, err, sizeof(err));
 *   env->watch_fd(env->watch_ctx, block_aio_fd(aio), on_ready, dev);   // vm.c's hook
 *   req->op = BLOCK_READ; req->bd = bd; req->iov = ...; req->off = ...;
 *   req->done = finish; req->opaque = ...;
 *   block_aio_submit(aio, req);          // any time; req must live until done
 *   // on_ready (vCPU thread): block_aio_complete(aio) calls finish(req)
 *   //   for each finished request, req->result = 0 or -errno
 *
 * Order: requests start in submission order and may run concurrently;
 * a FLUSH is a barrier: it starts when everything submitted before it
 * has finished, and nothing submitted after it starts before it ends
 * (virtio 1.2, 5.2.6.2: a flush makes stable the writes completed before it was sent).
 */
#ifndef HYVM_BLOCK_AIO_H
#define HYVM_BLOCK_AIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "block/block.h"

enum block_op {
	BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH, BLOCK_DISCARD, BLOCK_WRITE_ZEROES,
};

struct block_aio_req {
	enum block_op op;
	struct block_dev *bd;
	const struct iovec *iov;	/* READ, WRITE */
	int iovcnt;
	uint64_t off;			/* all but FLUSH */
	uint64_t len;			/* DISCARD, WRITE_ZEROES */
	int result;			/* set by the pool: 0 or -errno */
	void (*done)(struct block_aio_req *req);	/* block_aio_complete's thread */
	void *opaque;			/* the submitter's */
	struct block_aio_req *next;	/* the pool's */
};

struct block_aio;

/* threads workers (1..16); NULL with one line in err. */
struct block_aio *block_aio_new(unsigned threads, char *err, size_t errlen);
/* Readable while finished requests wait for block_aio_complete. */
int block_aio_fd(const struct block_aio *aio);
void block_aio_submit(struct block_aio *aio, struct block_aio_req *req);
/* Calls done for every finished request, in the order they finished;
 * returns how many. Never blocks. */
unsigned block_aio_complete(struct block_aio *aio);
/* Submitted and not yet completed (done not called). */
unsigned block_aio_pending(struct block_aio *aio);
/* Waits until every submitted request has finished and completes them
 * (a device reset must not leave a request writing guest RAM). */
void block_aio_drain(struct block_aio *aio);
/* Drains, then stops the workers. */
void block_aio_free(struct block_aio *aio);

/* Runs one request on the calling thread (what a worker does). */
int block_aio_run(struct block_aio_req *req);

#endif

/* The disk request pool of block_aio.h: a FIFO, workers, an eventfd. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "block/block_aio.h"

#define MAX_THREADS 16

struct block_aio {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* workers wait for requests */
	pthread_cond_t idle;		/* a request finished: barriers and drain wait */
	struct block_aio_req *head, *tail;	/* submitted, not started */
	struct block_aio_req *done;		/* finished, newest first */
	unsigned running;		/* started, not finished */
	unsigned pending;		/* submitted, not completed */
	bool barrier;			/* a FLUSH runs: nothing else starts */
	bool stop;
	int efd;
	unsigned nr_threads;
	pthread_t threads[MAX_THREADS];
};

int block_aio_run(struct block_aio_req *req)
{
	struct block_dev *bd = req->bd;

	switch (req->op) {
	case BLOCK_READ:
		return bd->ops->preadv(bd, req->iov, req->iovcnt, req->off);
	case BLOCK_WRITE:
		return bd->ops->pwritev(bd, req->iov, req->iovcnt, req->off);
	case BLOCK_FLUSH:
		return bd->ops->flush(bd);
	case BLOCK_DISCARD:
		return bd->ops->discard(bd, req->off, req->len);
	case BLOCK_WRITE_ZEROES:
		return bd->ops->write_zeroes(bd, req->off, req->len);
	}
	return -EINVAL;
}

/* Under the lock: the next request a worker may start, or NULL. */
static struct block_aio_req *take(struct block_aio *a)
{
	struct block_aio_req *r = a->head;

	if (!r || a->barrier)
		return NULL;
	if (r->op == BLOCK_FLUSH) {
		if (a->running)
			return NULL;	/* wait for everything before it */
		a->barrier = true;
	}
	a->head = r->next;
	if (!a->head)
		a->tail = NULL;
	a->running++;
	return r;
}

static void *worker(void *arg)
{
	struct block_aio *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct block_aio_req *r;
		while (!(r = take(a)) && !a->stop)
			pthread_cond_wait(&a->work, &a->lock);
		if (!r)
			break;
		pthread_mutex_unlock(&a->lock);
		r->result = block_aio_run(r);
		pthread_mutex_lock(&a->lock);
		if (r->op == BLOCK_FLUSH)
			a->barrier = false;
		a->running--;
		r->next = a->done;
		a->done = r;
		uint64_t one = 1;
		if (write(a->efd, &one, sizeof(one)) < 0) {
			/* only at 2^64-1 unread: cannot happen */
		}
		/* a waiting FLUSH (or what waits behind one) may start now */
		pthread_cond_broadcast(&a->work);
		pthread_cond_broadcast(&a->idle);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct block_aio *block_aio_new(unsigned threads, char *err, size_t errlen)
{
	if (threads < 1 || threads > MAX_THREADS) {
		snprintf(err, errlen, "disk threads: %u is out of range (1-%d)", threads, MAX_THREADS);
		return NULL;
	}
	struct block_aio *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "disk threads: out of memory");
		return NULL;
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		snprintf(err, errlen, "disk threads: eventfd: %s", strerror(errno));
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->idle, NULL);
	/* Workers block every signal: the VMM's tick (a process-directed
	 * SIGALRM) and SIGINT/SIGTERM must reach the vCPU thread, which a
	 * worker taking them would leave running (as net_backend.c does). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = 0;
	for (unsigned i = 0; i < threads && !e; i++) {
		e = pthread_create(&a->threads[i], NULL, worker, a);
		if (!e)
			a->nr_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "disk threads: %s", strerror(e));
		block_aio_free(a);
		return NULL;
	}
	return a;
}

int block_aio_fd(const struct block_aio *aio)
{
	return aio->efd;
}

void block_aio_submit(struct block_aio *a, struct block_aio_req *req)
{
	req->next = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->tail)
		a->tail->next = req;
	else
		a->head = req;
	a->tail = req;
	a->pending++;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
}

unsigned block_aio_complete(struct block_aio *a)
{
	uint64_t count;
	unsigned n = 0;

	/* reset the eventfd first: a request finishing meanwhile makes it
	 * readable again and is seen next time */
	if (read(a->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: nothing signalled; the list may still hold some */
	}
	pthread_mutex_lock(&a->lock);
	struct block_aio_req *list = a->done, *fifo = NULL;
	a->done = NULL;
	while (list) {		/* newest first -> oldest first */
		struct block_aio_req *next = list->next;
		list->next = fifo;
		fifo = list;
		list = next;
		n++;
	}
	a->pending -= n;
	pthread_mutex_unlock(&a->lock);
	while (fifo) {
		struct block_aio_req *next = fifo->next;
		fifo->next = NULL;
		if (fifo->done)
			fifo->done(fifo);
		fifo = next;
	}
	return n;
}

unsigned block_aio_pending(struct block_aio *a)
{
	pthread_mutex_lock(&a->lock);
	unsigned n = a->pending;
	pthread_mutex_unlock(&a->lock);
	return n;
}

void block_aio_drain(struct block_aio *a)
{
	pthread_mutex_lock(&a->lock);
	while (a->head || a->running)
		pthread_cond_wait(&a->idle, &a->lock);
	pthread_mutex_unlock(&a->lock);
	block_aio_complete(a);
}

void block_aio_free(struct block_aio *a)
{
	if (!a)
		return;
	if (a->nr_threads)
		block_aio_drain(a);
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->nr_threads; i++)
		pthread_join(a->threads[i], NULL);
	close(a->efd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->idle);
	free(a);
}

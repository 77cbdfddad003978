/*
 * The slirp backend's thread (why a thread: net_slirp.h). Each round:
 * under the lock, libslirp lists the sockets it wants watched and how
 * soon its TCP timers need it (slirp_pollfds_fill); without the lock,
 * poll() on them, the wake eventfd and the nearest armed timer; under the
 * lock again, libslirp reads and writes what is ready
 * (slirp_pollfds_poll) and due timers fire. Frames slirp produces meanwhile
 * arrive through send_packet, on this thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "net/net_slirp.h"

/* At most this long without a look at the timers (a timer armed from
 * the vCPU thread also writes wake_fd, so this is only a backstop). */
#define LOOP_MAX_WAIT_MS	1000

int64_t net_slirp_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void net_slirp_wake(struct slirp_backend *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so a wake is pending anyway */
	}
}

static struct slirp_timer *timer_alloc(struct slirp_backend *s)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		abort();	/* libslirp has no way to hear of a failure here */
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

void *net_slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_alloc(opaque);

	t->cb = cb;
	t->cb_opaque = cb_opaque;
	return t;
}

void *net_slirp_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_alloc(opaque);

	t->id = id;
	t->cb_opaque = cb_opaque;
	return t;
}

void net_slirp_timer_free(void *timer, void *opaque)
{
	struct slirp_backend *s = opaque;

	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next)
		if (*p == timer) {
			*p = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
}

void net_slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
	net_slirp_wake(opaque);
}

/* Fires the due timers, one at a time: a callback may free or re-arm
 * timers, so the list is walked again after each. */
static void run_timers(struct slirp_backend *s)
{
	for (;;) {
		int64_t now = net_slirp_clock_ms();
		struct slirp_timer *t;
		for (t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0 && t->expire_ms <= now)
				break;
		if (!t)
			return;
		t->expire_ms = -1;
		if (t->cb)
			t->cb(t->cb_opaque);
		else
			slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
	}
}

static int next_timer_ms(struct slirp_backend *s, int wait_ms)
{
	int64_t now = net_slirp_clock_ms();

	for (struct slirp_timer *t = s->timers; t; t = t->next)
		if (t->expire_ms >= 0) {
			int64_t d = t->expire_ms <= now ? 0 : t->expire_ms - now;
			if (d < wait_ms)
				wait_ms = (int)d;
		}
	return wait_ms;
}

/* SLIRP_POLL_* and poll()'s bits differ in value (libslirp.h). */
static short to_poll_events(int ev)
{
	return (ev & SLIRP_POLL_IN ? POLLIN : 0) | (ev & SLIRP_POLL_OUT ? POLLOUT : 0) |
	       (ev & SLIRP_POLL_PRI ? POLLPRI : 0) | (ev & SLIRP_POLL_ERR ? POLLERR : 0) |
	       (ev & SLIRP_POLL_HUP ? POLLHUP : 0);
}

static int add_poll_fd(int fd, int events, void *opaque)
{
	struct slirp_backend *s = opaque;

	if (s->nr_pfd == s->cap_pfd) {
		unsigned cap = s->cap_pfd ? s->cap_pfd * 2 : 16;
		struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));
		if (!p)
			abort();
		s->pfd = p;
		s->cap_pfd = cap;
	}
	s->pfd[s->nr_pfd] = (struct pollfd){ .fd = fd, .events = to_poll_events(events) };
	return (int)s->nr_pfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_backend *s = opaque;
	short r = s->pfd[idx].revents;

	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

void *net_slirp_loop(void *arg)
{
	struct slirp_backend *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		uint32_t timeout = LOOP_MAX_WAIT_MS;
		int wait_ms, n;

		s->nr_pfd = 0;
		add_poll_fd(s->wake_fd, SLIRP_POLL_IN, s);	/* index 0 */
		slirp_pollfds_fill(s->slirp, &timeout, add_poll_fd, s);
		wait_ms = next_timer_ms(s, timeout > LOOP_MAX_WAIT_MS ? LOOP_MAX_WAIT_MS : (int)timeout);
		pthread_mutex_unlock(&s->lock);

		n = poll(s->pfd, s->nr_pfd, wait_ms);
		if (n > 0 && (s->pfd[0].revents & POLLIN)) {
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof(v)) < 0) {
				/* a racing reader cannot exist: this thread only */
			}
		}

		pthread_mutex_lock(&s->lock);
		if (s->stop)
			break;
		/* select_error: libslirp then looks at no revents */
		slirp_pollfds_poll(s->slirp, n < 0 && errno != EINTR, get_revents, s);
		run_timers(s);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

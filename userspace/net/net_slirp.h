/*
 * The slirp backend's state, shared by its two files: net_slirp.c (the
 * stack: configuration, libslirp's callbacks, frames in and out) and
 * net_slirp_loop.c (its thread: libslirp's sockets and timers).
 *
 * Why a thread and not the VMM loop (vm.c): the VMM looks at fds only
 * while the guest halts, and between guest runs only every 1 ms tick, so
 * libslirp's sockets would be served late while the guest computes, and
 * a poll() on every exit would cost every guest, network or not. QEMU's
 * slirp lives in its main loop, a thread apart from the vCPUs, for the
 * same reason. libslirp is not thread-safe: `lock` is held around every
 * call into it, from the loop and from net_backend_send on the vCPU thread.
 */
#ifndef HYVM_NET_SLIRP_H
#define HYVM_NET_SLIRP_H

#include <poll.h>
#include <pthread.h>
#include <libslirp.h>
#include "net/net_backend.h"

/* A libslirp timer: either the callback style (timer_new) or the
 * SlirpTimerId style (timer_new_opaque, SlirpConfig version 4). */
struct slirp_timer {
	SlirpTimerCb cb;		/* NULL: opaque style, slirp_handle_timer */
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;		/* -1: not armed */
	struct slirp_timer *next;
};

struct slirp_backend {
	struct net_backend be;		/* first: the interface's view */
	Slirp *slirp;
	pthread_mutex_t lock;		/* every call into libslirp */
	pthread_t thread;
	bool thread_started;
	int wake_fd;			/* eventfd: the loop's poll set is stale, or stop */
	bool stop;
	struct slirp_timer *timers;
	/* the loop's poll set, refilled each round (slirp_pollfds_fill) */
	struct pollfd *pfd;
	unsigned nr_pfd, cap_pfd;
};

int64_t net_slirp_clock_ms(void);
/* The loop's thread; started after slirp_new and the hostfwd rules. */
void *net_slirp_loop(void *arg);
void net_slirp_wake(struct slirp_backend *s);

/* libslirp's timer callbacks (SlirpCb), kept with the loop that fires them. */
void *net_slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque);
void *net_slirp_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque);
void net_slirp_timer_free(void *timer, void *opaque);
void net_slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque);

#endif

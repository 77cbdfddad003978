/*
 * File descriptors the VMM watches for devices: when one is readable the
 * device's callback runs on the vCPU thread between guest runs, and a
 * guest halted in HLT wakes for it. Devices reach it through
 * device_env.watch_fd (devices/device.h); the disk's request pool
 * (block/block_aio.h) announces finished requests this way.
 *
 * Cost: while any fd is watched, every pass of the run loop makes one
 * poll(2) with timeout 0 (about a microsecond); a guest that never exits
 * is still interrupted by the VMM's 1 ms tick, so a completion waits at
 * most that long.
 */
#ifndef HYVM_FD_WATCH_H
#define HYVM_FD_WATCH_H

#include <poll.h>

#define FD_WATCH_MAX 16

struct fd_watch_set {
	unsigned nr;
	struct {
		int fd;
		void (*ready)(void *opaque);
		void *opaque;
	} w[FD_WATCH_MAX];
};

/* 0, or -1 when the set is full or fd is negative or watched already.
 * A ready callback may remove its own watch, not another's. */
int fd_watch_add(struct fd_watch_set *s, int fd, void (*ready)(void *opaque), void *opaque);
void fd_watch_remove(struct fd_watch_set *s, int fd);
/* One poll(2) of the watched fds and nextra others for up to timeout_ms
 * (0: just look); calls ready for each watched fd found readable, leaves
 * the others' revents in extra. Returns poll's count, 0 with no fd at
 * all and timeout 0 (no system call then). */
int fd_watch_poll(struct fd_watch_set *s, struct pollfd *extra, unsigned nextra, int timeout_ms);

#endif

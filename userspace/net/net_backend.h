/*
 * A network backend: where the guest NIC's Ethernet frames go, and where
 * the frames for the guest come from. The NIC (virtio-net) sees only
 * this interface (devices/virtio/virtio_net_pci.c); the backends are libslirp's user-mode stack (net_slirp.c,
 * QEMU's default "-netdev user") and a host tap interface (net_tap.c).
 *
 * Threads. Every backend has a thread of its own that waits on its host
 * fds (slirp's sockets, the tap fd), so traffic and TCP timers go on while
 * the vCPU runs guest code and the VMM loop is not polling. Frames for the
 * guest are queued (net_rx_queue.h) and taken by the NIC on the vCPU
 * thread, between guest runs, where its virtqueue state lives; the queue's
 * eventfd and the notify callback tell the VMM that frames wait.
 */
#ifndef HYVM_NET_BACKEND_H
#define HYVM_NET_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net/net_config.h"
#include "net/net_rx_queue.h"

/* Counted by the backend; read with net_backend_stats. */
struct net_stats {
	uint64_t tx_frames, tx_bytes;	/* guest -> network, accepted */
	uint64_t tx_dropped;		/* refused: oversized, or the host would not take it */
	uint64_t rx_frames, rx_bytes;	/* network -> guest, queued for the NIC */
	uint64_t rx_dropped;		/* the queue was full: the NIC is not taking them */
	uint64_t guest_errors;		/* slirp: malformed guest traffic it reported */
};

struct net_backend;

struct net_backend_ops {
	/* One frame from the guest (no virtio-net header, no FCS). */
	int (*send)(struct net_backend *be, const void *frame, size_t len);
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind;		/* "user" or "tap" */
	char id[32];			/* net_config.id: what a NIC's netdev= names */
	struct net_backend *next;	/* the created backends (net_backend_find) */
	struct net_rx_queue rx;		/* frames waiting for the guest */
	/* The network card that took this backend (one at most: two would
	 * take each other's frames), NULL while none; main/vCPU thread. */
	void *nic;
	uint64_t tx_frames, tx_bytes, tx_dropped;	/* the sender's thread only */
	uint64_t guest_errors;		/* the backend's thread only */
};

/* The backend cfg names (cfg->kind != NET_NONE), started: its thread
 * runs, hostfwd ports listen. NULL with one line in err: a tap without
 * the right to open it, a hostfwd port in use, no memory. */
struct net_backend *net_backend_create(const struct net_config *cfg, char *err, size_t errlen);

/* The backend created with this id (QEMU's -netdev id=, default
 * NET_DEFAULT_ID) and not yet destroyed, or NULL: how a NIC's device
 * configuration ("netdev=net0") finds the backend hyvm run made. Main
 * thread only. */
struct net_backend *net_backend_find(const char *id);

/* Guest -> network: one Ethernet frame of 14 to NET_FRAME_MAX bytes. From
 * one thread (the NIC's). 0, or -1 when dropped (counted). */
int net_backend_send(struct net_backend *be, const void *frame, size_t len);

/* Network -> guest, on the NIC's thread: the oldest waiting frame without
 * taking it (NULL: none), so a NIC can first find room for peek->len
 * bytes; then pop it. A frame left waiting holds the ones behind it; when
 * the queue is full, new ones are dropped (as a wire would). */
const struct net_frame *net_backend_rx_peek(struct net_backend *be);
void net_backend_rx_pop(struct net_backend *be);

/* Readable while frames wait: for the VMM's poll while the guest halts. */
int net_backend_rx_fd(struct net_backend *be);

/* fn(ctx) when the queue goes from empty to non-empty, on the backend's
 * thread (or the sender's: slirp answers some frames at once, ARP say);
 * for waking the vCPU. Set before traffic starts, or NULL. */
void net_backend_set_rx_notify(struct net_backend *be, void (*fn)(void *ctx), void *ctx);

void net_backend_stats(struct net_backend *be, struct net_stats *out);

/* Stops the thread, closes the host side (hostfwd ports, tap fd). */
void net_backend_destroy(struct net_backend *be);

/* For the backends: starts fn(arg) on a thread with every signal blocked,
 * so process-directed signals stay with the vCPU thread. The VMM's 1 ms
 * tick (SIGALRM, vmm/vm.c) must land there: on kvm and hyvm.ko only a
 * signal arriving during the vCPU's run ioctl makes it return (EINTR),
 * and the kick handler alone would wait for the guest's next exit. */
int net_backend_start_thread(pthread_t *thread, void *(*fn)(void *), void *arg);

/* The backends' constructors, for net_backend_create. */
struct net_backend *net_slirp_create(const struct net_user_config *cfg, char *err, size_t errlen);
struct net_backend *net_tap_create(const struct net_tap_config *cfg, char *err, size_t errlen);

#endif

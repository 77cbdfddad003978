/*
 * virtio-net over PCI (virtio 1.2, 5.1 and 4.1): the device logic of
 * virtio_net_*.c on the transport's queues, bound to a network backend
 * (userspace/net/net_backend.h) that hyvm run started with --net or
 * --netdev, as QEMU's virtio-net-pci with -netdev.
 *
 * Configuration: "netdev=ID[,mac=52:54:00:12:34:56]"; netdev defaults to
 * net0 (the id --net gives its backend without id=), the MAC to QEMU's
 * first NIC's.
 *
 * When things run, all on the vCPU thread: transmit on the transmit
 * queue's notification; receive on the receive queue's notification and
 * whenever the backend's rx fd is readable (device_env.watch_fd). That fd
 * stays readable while a frame waits, so while the driver has given no
 * buffers (virtio_net.rx_waiting_for_buffers) the fd is not watched, or
 * the VMM loop would spin calling us; the receive queue's next
 * notification (the driver adding buffers, 5.1.6.3) or DRIVER_OK watches
 * it again.
 *
 * Saved state: the transport's (virtio_pci_save: features, status, the
 * queues' rings and indices, the PCI function) and nothing of our own: a
 * transmit chain is never held between calls, and the receive chains
 * held for a frame go back first (virtio_net_rx_unstash). The MAC and
 * the backend come from the command line the restore repeats; frames
 * waiting in the backend and the backend's own state (slirp's
 * connections) are not saved: as after a cable pulled and plugged, the
 * guest keeps its address and opens new connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device.h"
#include "devices/device_state.h"
#include "devices/virtio/virtio_dev.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_pci.h"

struct virtio_net_pci {
	struct virtio_dev vd;
	struct virtio_net net;
	struct virtio_pci *vp;
	struct device_env *env;
	int rx_fd;
	bool watching;
};

static struct virtio_net_pci *of(struct virtio_dev *vd)
{
	return vd->device;
}

static void config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	virtio_net_config_read(&of(vd)->net, off, data, len);
}

/* 3.1.1 step 5: virtio_dev checked them against what was offered;
 * virtio_net has the last word (it is modern only). */
static int set_features(struct virtio_dev *vd, uint64_t features)
{
	return virtio_net_set_features(&of(vd)->net, features);
}

static void rx_ready(void *opaque);

static void watch(struct virtio_net_pci *p, bool on)
{
	if (p->rx_fd < 0 || on == p->watching)
		return;
	if (on) {
		if (p->env->watch_fd(p->env->watch_ctx, p->rx_fd, rx_ready, p) == 0)
			p->watching = true;
	} else {
		p->env->unwatch_fd(p->env->watch_ctx, p->rx_fd);
		p->watching = false;
	}
}

/* A ring-level error found by virtio_net: 2.1.2's DEVICE_NEEDS_RESET. */
static void check_broken(struct virtio_net_pci *p)
{
	if (p->net.needs_reset && !(p->vd.status & VIRTIO_CONFIG_S_NEEDS_RESET))
		virtio_dev_set_needs_reset(&p->vd);
}

/* Frames from the backend into the receive queue, while buffers last. */
static void receive(struct virtio_net_pci *p)
{
	if (!virtio_dev_live(&p->vd)) {
		watch(p, false);	/* DRIVER_OK or the reset brings it back */
		return;
	}
	if (virtio_net_rx(&p->net))
		virtio_dev_used(&p->vd, VIRTIO_NET_RXQ);
	check_broken(p);
	watch(p, !p->net.rx_waiting_for_buffers && !p->net.needs_reset);
}

static void rx_ready(void *opaque)
{
	receive(opaque);
}

static void queue_notify(struct virtio_dev *vd, unsigned q)
{
	struct virtio_net_pci *p = of(vd);

	if (q == VIRTIO_NET_TXQ) {
		if (virtio_net_tx(&p->net))
			virtio_dev_used(vd, VIRTIO_NET_TXQ);
		check_broken(p);
	} else if (q == VIRTIO_NET_RXQ) {
		receive(p);	/* new buffers: frames that waited go now */
	}
}

static void activate(struct virtio_dev *vd)
{
	receive(of(vd));
}

/* 2.1: the core resets the queues after this; virtio_net forgets its
 * features and the chains it held (they belong to the old rings). The
 * fd is watched again from DRIVER_OK, so frames wait meanwhile. */
static void device_reset(struct virtio_dev *vd)
{
	struct virtio_net_pci *p = of(vd);

	virtio_net_reset(&p->net);
	watch(p, false);
}

static const struct virtio_dev_ops net_ops = {
	.config_read = config_read,
	.set_features = set_features,
	.queue_notify = queue_notify,
	.activate = activate,
	.reset = device_reset,
};

/* "52:54:00:12:34:56": six hex bytes; a multicast address (bit 0 of the
 * first byte) cannot be a NIC's. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -1;
	for (unsigned i = 0; i < 6; i++) {
		if (s[3 * i] == '+' || s[3 * i] == '-' || s[3 * i] == ' ' ||
		    (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return mac[0] & 1 ? -1 : 0;
}

/* netdev=ID and mac=MAC, any order; strings, which device_config
 * (numbers only) does not parse. */
static int parse_config(const char *config, char *id, size_t idlen, uint8_t mac[6],
			char *err, size_t errlen)
{
	char buf[128], *save = NULL;

	if (config && strlen(config) >= sizeof(buf)) {
		snprintf(err, errlen, "virtio-net: configuration too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", config ? config : "");
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "netdev=", 7) && tok[7] && strlen(tok + 7) < idlen) {
			snprintf(id, idlen, "%s", tok + 7);
		} else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, mac) < 0) {
				snprintf(err, errlen, "virtio-net: mac= takes a unicast address "
					 "like 52:54:00:12:34:56, not '%s'", tok + 4);
				return -1;
			}
		} else {
			snprintf(err, errlen, "virtio-net takes netdev=ID (a --netdev's id) and "
				 "mac=MAC, not '%s'", tok);
			return -1;
		}
	}
	return 0;
}

static void vnet_destroy(void *dev);

static void *vnet_create(struct device_env *env, const char *config, char *err, size_t errlen)
{
	char id[32] = NET_DEFAULT_ID;
	/* QEMU's default for its first NIC (52:54:00 is its prefix) */
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	if (parse_config(config, id, sizeof(id), mac, err, errlen) < 0)
		return NULL;
	struct net_backend *be = net_backend_find(id);
	if (!be) {
		snprintf(err, errlen, "virtio-net: no network backend with id '%s' (--net or --netdev "
			 "id=%s makes one)", id, id);
		return NULL;
	}
	if (be->nic) {
		snprintf(err, errlen, "virtio-net: network backend '%s' has a network card already", id);
		return NULL;
	}
	if (!env->watch_fd) {
		snprintf(err, errlen, "virtio-net: the machine cannot watch file descriptors");
		return NULL;
	}
	struct virtio_net_pci *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "virtio-net: out of memory");
		return NULL;
	}
	p->env = env;
	p->rx_fd = -1;
	/* virtio_dev_init resets, which calls device_reset: net first */
	if (virtio_net_init(&p->net, &p->vd.vq[VIRTIO_NET_RXQ], &p->vd.vq[VIRTIO_NET_TXQ], be,
			    mac, 1500) < 0) {
		snprintf(err, errlen, "virtio-net: out of memory");
		free(p);
		return NULL;
	}
	virtio_dev_init(&p->vd, &env->mem, VIRTIO_ID_NET, virtio_net_device_features(&p->net),
			VIRTIO_NET_NR_QUEUES, VIRTIO_NET_QUEUE_SIZE, sizeof(p->net.config),
			&net_ops, p);
	/* PCI class 02 (network), 00 (Ethernet), as QEMU's virtio-net-pci */
	p->vp = virtio_pci_create(env, &p->vd, "virtio-net", 0x02, 0x00, err, errlen);
	if (!p->vp) {
		vnet_destroy(p);
		return NULL;
	}
	p->rx_fd = net_backend_rx_fd(be);
	be->nic = p;
	return p;
}

static void vnet_reset(void *dev)
{
	virtio_pci_reset(((struct virtio_net_pci *)dev)->vp);
}

static void vnet_save(void *dev, struct ds_writer *w)
{
	struct virtio_net_pci *p = dev;

	if (virtio_net_rx_unstash(&p->net))
		virtio_dev_used(&p->vd, VIRTIO_NET_RXQ);
	virtio_pci_save(p->vp, w);
}

static int vnet_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct virtio_net_pci *p = dev;

	if (virtio_pci_load(p->vp, r) < 0)
		return -1;
	p->net.features = p->vd.features;
	p->net.needs_reset = p->vd.status & VIRTIO_CONFIG_S_NEEDS_RESET;
	p->net.rx_waiting_for_buffers = false;
	/* RAM may not be loaded yet: no ring is read here; frames from the
	 * backend find the receive queue through the watched fd */
	watch(p, virtio_dev_live(&p->vd) && !p->net.needs_reset);
	return 0;
}

static void vnet_destroy(void *dev)
{
	struct virtio_net_pci *p = dev;

	watch(p, false);
	if (p->net.backend && p->net.backend->nic == p)
		p->net.backend->nic = NULL;
	virtio_pci_destroy(p->vp);
	virtio_net_fini(&p->net);
	free(p);
}

static unsigned vnet_counters(void *dev, struct device_counter *out, unsigned max)
{
	return virtio_dev_counters(&((struct virtio_net_pci *)dev)->vd, out, max);
}

static struct device_model vnet_model = {
	.name = "virtio-net",
	.level = DEVICE_LEVEL_VIRTIO,
	.needs_config = true,	/* a backend by its netdev id */
	.create = vnet_create,
	.state_version = 1,
	.reset = vnet_reset,
	.save = vnet_save,
	.load = vnet_load,
	.counters = vnet_counters,
	.destroy = vnet_destroy,
};
DEVICE_REGISTER(vnet_model)

/* The virtio PCI transport, modern interface; see virtio_pci.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device_state.h"
#include "devices/pci/pci.h"
#include "devices/pci/pci_msix.h"
#include "devices/virtio/virtio_pci.h"
#include <hyvm/le.h>

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* 4.1.2.1: + the device ID */
#define VIRTIO_PCI_REVISION	1	/* 4.1.2.1: non-transitional */

/* 4.1.4: cfg_type of struct virtio_pci_cap. */
enum {
	VIRTIO_PCI_CAP_COMMON_CFG = 1,
	VIRTIO_PCI_CAP_NOTIFY_CFG = 2,
	VIRTIO_PCI_CAP_ISR_CFG = 3,
	VIRTIO_PCI_CAP_DEVICE_CFG = 4,
};

/* The BAR: four 4 KiB pages, one structure each, as QEMU lays them out. */
#define VP_BAR			4
#define VP_BAR_SIZE		0x4000u
#define VP_COMMON		0x0000u
#define VP_ISR			0x1000u
#define VP_DEVICE		0x2000u
#define VP_NOTIFY		0x3000u
#define VP_REGION		0x1000u
#define VP_NOTIFY_MULTIPLIER	4u	/* 4.1.4.4: queue n at n * 4 */
/* MSI-X in a BAR of its own, as QEMU has it: the table at 0, the PBA at
 * 2 KiB (room for 128 vectors); one vector for configuration changes and
 * one per queue, Linux's preferred layout (4.1.5.1.2). */
#define VP_MSIX_BAR		1
#define VP_MSIX_BAR_SIZE	0x1000u
#define VP_MSIX_TABLE		0x000u
#define VP_MSIX_PBA		0x800u

struct virtio_pci {
	struct virtio_dev *vd;
	struct pci_device *pci;
	struct pci_msix *msix;	/* owned by pci (pci_unregister_device) */
	bool intx;		/* INTA# asserted */
	uint64_t bad_accesses;
};

static void set_intx(struct virtio_pci *vp, bool level)
{
	if (vp->intx == level)
		return;
	vp->intx = level;
	pci_set_intx(vp->pci, level);
}

/* The common configuration: 64-bit fields are accessed as two dwords
 * (4.1.3.1); an 8-byte access is split the same way. */
static void common_access(struct virtio_pci *vp, uint32_t off, uint8_t *data, unsigned len,
			  bool is_write)
{
	if (len == 8) {
		common_access(vp, off, data, 4, is_write);
		common_access(vp, off + 4, data + 4, 4, is_write);
		return;
	}
	if (is_write)
		virtio_dev_common_write(vp->vd, off, len, (uint32_t)le_get(data, len));
	else
		le_put(data, virtio_dev_common_read(vp->vd, off, len), len);
}

static void device_access(struct virtio_pci *vp, uint32_t off, uint8_t *data, unsigned len,
			  bool is_write)
{
	struct virtio_dev *vd = vp->vd;

	if (off >= vd->config_size || len > vd->config_size - off) {
		vp->bad_accesses++;
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write) {
		if (vd->ops->config_write)
			vd->ops->config_write(vd, off, data, len);
	} else if (vd->ops->config_read) {
		vd->ops->config_read(vd, off, data, len);
	} else {
		memset(data, 0, len);
	}
}

static void bar_access(void *opaque, uint64_t addr, uint8_t *data, unsigned len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	uint32_t region = (uint32_t)addr & ~(VP_REGION - 1), off = (uint32_t)addr & (VP_REGION - 1);

	if (len == 0 || len > 8 || off + len > VP_REGION) {
		vp->bad_accesses++;
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	switch (region) {
	case VP_COMMON:
		common_access(vp, off, data, len, is_write);
		return;
	case VP_ISR:
		/* 4.1.4.5.1: reading the ISR clears it and deasserts INTx */
		if (!is_write && off == 0) {
			memset(data, 0, len);
			data[0] = virtio_dev_isr_read(vp->vd);
			set_intx(vp, false);
		} else if (!is_write) {
			memset(data, 0, len);
		}
		return;
	case VP_DEVICE:
		device_access(vp, off, data, len, is_write);
		return;
	case VP_NOTIFY:
		/* the value written is the queue index; the offset says it too
		 * (4.1.4.4), and we trust the offset */
		if (is_write && off % VP_NOTIFY_MULTIPLIER == 0)
			virtio_dev_notify(vp->vd, off / VP_NOTIFY_MULTIPLIER);
		else if (!is_write)
			memset(data, 0, len);
		return;
	}
	vp->bad_accesses++;
	if (!is_write)
		memset(data, 0xff, len);
}

/* The MSI-X BAR: the table and the PBA, nothing of ours besides. */
static void msix_bar_access(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
			    bool is_write)
{
	struct virtio_pci *vp = opaque;

	if (vp->msix && pci_msix_bar_io(vp->msix, addr, data, len, is_write))
		return;
	vp->bad_accesses++;
	if (!is_write)
		memset(data, 0, len);
}

/* With MSI-X enabled the event goes to its vector, or nowhere when the
 * driver mapped none (4.1.5.1.2); otherwise INTA# carries both kinds and
 * the ISR says which (4.1.4.5, 4.1.5.3). The ISR bit is set either way
 * (virtio_dev), as QEMU does. */
static void raise(struct virtio_pci *vp, uint16_t vector)
{
	if (vp->msix && pci_msix_enabled(vp->msix)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(vp->msix, vector);
		return;
	}
	set_intx(vp, true);
}

static void notify_queue(struct virtio_dev *vd, unsigned q, uint16_t vector)
{
	raise(vd->transport, vector);
}

static void notify_config(struct virtio_dev *vd, uint16_t vector)
{
	raise(vd->transport, vector);
}

static const struct virtio_transport_ops vp_ops = {
	.notify_queue = notify_queue,
	.notify_config = notify_config,
};

/* One struct virtio_pci_cap (4.1.4), plus the notify multiplier. */
static int add_cap(struct pci_device *pci, uint8_t type, uint32_t offset, uint32_t length,
		   char *err, size_t errlen)
{
	unsigned len = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;
	unsigned at = pci_add_capability(pci, PCI_CAP_ID_VNDR, len);

	if (!at) {
		snprintf(err, errlen, "virtio-pci: no room for its capabilities");
		return -1;
	}
	pci_config_set(pci, at + 2, 1, len);		/* cap_len */
	pci_config_set(pci, at + 3, 1, type);		/* cfg_type */
	pci_config_set(pci, at + 4, 1, VP_BAR);		/* bar */
	pci_config_set(pci, at + 5, 1, 0);		/* id */
	pci_config_set(pci, at + 8, 4, offset);
	pci_config_set(pci, at + 12, 4, length);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		pci_config_set(pci, at + 16, 4, VP_NOTIFY_MULTIPLIER);
	return 0;
}

struct virtio_pci *virtio_pci_create(struct device_env *env, struct virtio_dev *vd,
				     const char *name, uint8_t class_code, uint8_t subclass,
				     char *err, size_t errlen)
{
	if (!env->pci) {
		snprintf(err, errlen, "%s: the machine has no PCI bus", name);
		return NULL;
	}
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	vp->vd = vd;
	vd->transport = vp;
	vd->tops = &vp_ops;
	struct pci_device_desc d = {
		.name = name, .slot = -1,
		.vendor_id = VIRTIO_PCI_VENDOR,
		.device_id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vd->device_id),
		.subsystem_vendor_id = VIRTIO_PCI_VENDOR, .subsystem_id = vd->device_id,
		.revision = VIRTIO_PCI_REVISION, .class_code = class_code, .subclass = subclass,
		.intx = true,
		.opaque = vp,
	};
	d.bar[VP_BAR] = (struct pci_bar_desc){
		.kind = PCI_BAR_MEM64, .prefetchable = true, .size = VP_BAR_SIZE,
		.fn = bar_access, .opaque = vp,
	};
	d.bar[VP_MSIX_BAR] = (struct pci_bar_desc){
		.kind = PCI_BAR_MEM32, .size = VP_MSIX_BAR_SIZE, .fn = msix_bar_access, .opaque = vp,
	};
	vp->pci = pci_register_device(env->pci, &d, err, errlen);
	if (!vp->pci) {
		free(vp);
		return NULL;
	}
	unsigned vectors = vd->nr_queues + 1;
	vp->msix = pci_msix_create(vp->pci, vectors, VP_MSIX_BAR, VP_MSIX_TABLE, VP_MSIX_PBA,
				   err, errlen);
	if (!vp->msix) {
		virtio_pci_destroy(vp);
		return NULL;
	}
	vd->nr_vectors = (uint16_t)vectors;
	uint32_t dev_len = vd->config_size ? vd->config_size : 4;
	if (add_cap(vp->pci, VIRTIO_PCI_CAP_COMMON_CFG, VP_COMMON, VIRTIO_COMMON_SIZE, err, errlen) ||
	    add_cap(vp->pci, VIRTIO_PCI_CAP_ISR_CFG, VP_ISR, 1, err, errlen) ||
	    add_cap(vp->pci, VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVICE, dev_len, err, errlen) ||
	    add_cap(vp->pci, VIRTIO_PCI_CAP_NOTIFY_CFG, VP_NOTIFY,
		    VP_NOTIFY_MULTIPLIER * (vd->nr_queues ? vd->nr_queues : 1), err, errlen)) {
		virtio_pci_destroy(vp);
		return NULL;
	}
	return vp;
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	virtio_dev_reset(vp->vd);
	vp->intx = false;
	pci_device_reset(vp->pci);
}

void virtio_pci_save(const struct virtio_pci *vp, struct ds_writer *w)
{
	virtio_dev_save(vp->vd, w);
	pci_device_save(vp->pci, w);
}

int virtio_pci_load_staged(struct virtio_pci *vp, struct ds_reader *r,
			   const struct virtio_dev *staged)
{
	/* pci_device_load reads last and changes nothing unless the whole
	 * reader is good (ds_done), our part included */
	if (pci_device_load(vp->pci, r) < 0)
		return -1;
	virtio_dev_commit(vp->vd, staged);
	/* our copy of INTA#, so the next ISR read lowers what the blob raised */
	vp->intx = pci_config_get(vp->pci, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
	return 0;
}

int virtio_pci_load(struct virtio_pci *vp, struct ds_reader *r)
{
	struct virtio_dev staged;

	virtio_dev_load(vp->vd, r, &staged);
	return virtio_pci_load_staged(vp, r, &staged);
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	pci_unregister_device(vp->pci);
	free(vp);
}

/*
 * The numbers of the virtio 1.2 specification (OASIS, virtio-v1.2-cs01)
 * that more than one file here needs: device status bits (2.1), the
 * reserved feature bits (6) and the split virtqueue's flags (2.7.5,
 * 2.7.6, 2.7.8). Everything virtio is little-endian (1.4); so is x86.
 */
#ifndef HYVM_VIRTIO_SPEC_H
#define HYVM_VIRTIO_SPEC_H

/* 2.1 Device Status Field */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	1
#define VIRTIO_CONFIG_S_DRIVER		2
#define VIRTIO_CONFIG_S_DRIVER_OK	4
#define VIRTIO_CONFIG_S_FEATURES_OK	8
#define VIRTIO_CONFIG_S_NEEDS_RESET	64	/* 2.1.2: the device has erred */
#define VIRTIO_CONFIG_S_FAILED		128

/* 6 Reserved Feature Bits (bit numbers) */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34

/* 2.7.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT	1	/* the chain goes on at .next */
#define VIRTQ_DESC_F_WRITE	2	/* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT	4	/* the buffer is a table of descriptors */
/* 2.7.6 The Virtqueue Available Ring */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
/* 2.7.8 The Virtqueue Used Ring */
#define VIRTQ_USED_F_NO_NOTIFY		1

/* 2.7: Queue Size is a power of 2, at most 32768. */
#define VIRTQ_MAX_SIZE		32768u

#endif

/*
 * A split virtqueue in fake guest RAM for the virtqueue suites: the rings
 * at fixed addresses, helpers that write descriptors and the avail ring
 * as a driver would, and read the used ring back.
 */
#ifndef HYVM_VIRTQ_FIXTURE_H
#define HYVM_VIRTQ_FIXTURE_H

#include <stdint.h>
#include "fake_guest_ram.h"
#include "devices/virtio/virtqueue.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define QSIZE 16
#define DESC 0x10000ull
#define AVAIL 0x11000ull
#define USED 0x12000ull
#define TABLE 0x13000ull	/* an indirect table */
#define BUF 0x100000ull
#define VQ_ALL_FEATURES ((1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX))

extern struct fake_guest_ram g;
extern struct virtq q;
extern struct virtq_req *req;

void set_desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next);
void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
uint16_t *avail16(unsigned word);	/* flags, idx, ring[0..], used_event */
uint16_t *used16(unsigned byte);
uint32_t used_elem(unsigned i, unsigned field);	/* field 0 id, 1 len */
/* The driver makes the chain at head available. */
void make_available(uint16_t head);
int setup_queue(uint64_t features);
/* CUnit suite setup/teardown: 16 MiB with a ROM, a request of 8 buffers. */
int vq_suite_setup(void);
int vq_suite_teardown(void);
/* A fresh ring before each test (zeroed, as a driver leaves it). */
void fresh(uint64_t features);
uint64_t errors_total(void);

#endif

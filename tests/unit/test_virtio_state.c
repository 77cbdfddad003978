/*
 * virtio-blk's saved state (virtio_dev_save/load, virtio_pci_save/load)
 * read as guest input: a blob that checksums right but holds what no
 * guest could have produced is refused with one line, and the device
 * keeps its state; a good one brings INTA# and the ISR along, so the
 * loaded device's next ISR read lowers the line.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "virtio_pci_driver.h"
#include "devices/device_state.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_blk_req.h"
#include "devices/virtio/virtio_dev.h"

static struct fake_env A, B;
static void *a, *b;
static const struct device_model *m;
static struct vdrv da;

/* The payload's layout (virtio_dev_save, then pci_device_save), for the
 * blobs the tests doctor. */
enum {
	P_HOST_FEATURES = 0, P_NR_QUEUES = 8, P_STATUS = 9, P_ISR = 11,
	P_GUEST_FEATURES = 15, P_FEATURES = 23, P_CONFIG_VECTOR = 41,
	P_Q0 = 43, P_Q_SIZE = P_Q0 + 2, P_Q_DESC = P_Q0 + 4, P_Q_READY = P_Q0 + 28,
	P_Q_BROKEN = P_Q0 + 29, P_Q_LAST_AVAIL = P_Q0 + 30, P_Q_USED_IDX = P_Q0 + 32,
	P_PCI = P_Q0 + 38,
};
#define PAYLOAD_AT (4 + 1 + 10 + 2 + 4 + 4)	/* "virtio-blk" */

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static size_t save(void *dev, uint8_t **blob)
{
	size_t len = 0;
	char err[256];

	CU_ASSERT_EQUAL(device_state_save(m, dev, blob, &len, err, sizeof(err)), 0);
	return len;
}

/* A: negotiated, queue 0 live, one GET_ID answered, INTA# up. B: fresh. */
static void setup(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&A, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&B, 64 << 20), 0);
	m = fake_model("virtio-blk");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a = fake_create_default(&A, "virtio-blk");
	b = fake_create_default(&B, "virtio-blk");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(vdrv_find(&da, &A, 0x1042), 0);
	vdrv_map_bar(&da, VDRV_BAR_ADDR);
	CU_ASSERT_EQUAL_FATAL(vdrv_read_caps(&da), 4);
	vdrv_negotiate(&da, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX));
	vdrv_setup_queue(&da, 64, 0x10000);
	vdrv_driver_ok(&da);
	struct { uint32_t type, reserved; uint64_t sector; } hdr = { VIRTIO_BLK_T_GET_ID, 0, 0 };
	memcpy(fake_guest_ram_host(&A.ram, 0x20000), &hdr, sizeof(hdr));
	vdrv_post(&da, (const uint64_t[]){ 0x20000, 0x21000, 0x22000 },
		  (const uint32_t[]){ 16, VIRTIO_BLK_ID_BYTES, 1 }, (const bool[]){ false, true, true }, 3);
	vdrv_kick(&da, 0);
	CU_ASSERT_EQUAL(vdrv_used_idx(&da), 1);
}

static void teardown(void)
{
	fake_env_fini(&A);
	fake_env_fini(&B);
}

/* The good blob loads; B then has A's INTA# and ISR, and reading the ISR
 * through B's BAR lowers B's line (the transport's copy of INTx). */
static void test_load_brings_intx(void)
{
	setup();
	unsigned line = pci_intx_line(da.slot, 1);
	CU_ASSERT_TRUE(A.line[line]);
	CU_ASSERT_FALSE(B.line[line]);
	uint8_t *blob;
	size_t len = save(a, &blob);
	char err[256] = "";
	CU_ASSERT_EQUAL(device_state_load(m, b, blob, len, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_TRUE(B.line[line]);
	CU_ASSERT_EQUAL(mmio_read(&B, VDRV_BAR_ADDR + 0x1000, 1), 1);
	CU_ASSERT_FALSE(B.line[line]);
	CU_ASSERT_EQUAL(mmio_read(&B, VDRV_BAR_ADDR + 0x1000, 1), 0);
	CU_ASSERT_TRUE(A.line[line]);			/* A's own, untouched */
	free(blob);
	teardown();
}

struct doctor {
	const char *why;	/* a word of the refusal, or NULL: any refusal */
	unsigned at, len;	/* payload offset and width of the change */
	uint64_t value;
};

static const struct doctor doctored[] = {
	{ "ISR", P_ISR, 4, 4 },
	/* two MSI-X vectors (configuration, queue 0): 2 is none of them */
	{ "MSI-X vector", P_CONFIG_VECTOR, 2, 2 },
	{ "MSI-X vector", P_Q0, 2, 0x7fe },
	{ "offered other features", P_HOST_FEATURES, 1, 0x00 },
	{ "number of queues", P_NR_QUEUES, 1, 2 },
	/* bit 5 (RO) was not offered to a writable disk's driver */
	{ "refuses", P_GUEST_FEATURES, 1, 0x20 },
	{ "refuses", P_FEATURES, 1, 0x20 },
	{ "without FEATURES_OK", P_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER },
	{ "size or rings", P_Q_SIZE, 2, 48 },			/* not a power of 2 */
	{ "size or rings", P_Q_SIZE, 2, 256 },			/* above the maximum */
	{ "size or rings", P_Q_SIZE, 2, 0 },
	{ "size or rings", P_Q_DESC, 8, VDRV_BAR_ADDR },	/* rings in MMIO */
	{ "size or rings", P_Q_DESC, 8, 0x10008 },		/* misaligned */
	{ "size or rings", P_Q_DESC, 8, 0xfffffffffffff000ull },
	{ "both enabled and broken", P_Q_BROKEN, 1, 1 },
	{ "garbled", P_Q_READY, 1, 2 },
	{ "in flight", P_Q_LAST_AVAIL, 2, 2 },
	{ "in flight", P_Q_USED_IDX, 2, 0 },
	{ "queue that is off", P_Q_READY, 1, 0 },
	{ NULL, P_PCI + 256, 1, 7 },				/* the INTx flag */
};

/* Each doctored blob (checksum fixed) is refused with its reason and B
 * keeps its state; the undoctored one, re-summed the same way, loads. */
static void test_refusals(void)
{
	setup();
	uint8_t *blob, *before, *after;
	size_t len = save(a, &blob);
	CU_ASSERT_EQUAL_FATAL(blob[4], 10);		/* the layout PAYLOAD_AT assumes */
	/* ...and the MSI-X table and PBA after the INTx flag */
	CU_ASSERT_FATAL(len > PAYLOAD_AT + P_PCI + 256 + 1);
	size_t before_len = save(b, &before);
	uint8_t *bad = malloc(len);
	char err[256];

	for (unsigned i = 0; i < sizeof(doctored) / sizeof(doctored[0]); i++) {
		const struct doctor *t = &doctored[i];
		memcpy(bad, blob, len);
		for (unsigned k = 0; k < t->len; k++)
			bad[PAYLOAD_AT + t->at + k] = (uint8_t)(t->value >> (8 * k));
		uint32_t sum = fnv1a(bad + PAYLOAD_AT, len - PAYLOAD_AT);
		memcpy(bad + PAYLOAD_AT - 4, &sum, 4);
		err[0] = 0;
		CU_ASSERT_EQUAL(device_state_load(m, b, bad, len, err, sizeof(err)), -1);
		if (t->why && !strstr(err, t->why)) {
			CU_FAIL("refused for another reason than expected");
			fprintf(stderr, "\n  case %u: want '%s', got '%s'\n", i, t->why, err);
		}
		CU_ASSERT_PTR_NULL(strchr(err, '\n'));
		size_t after_len = save(b, &after);
		CU_ASSERT(after_len == before_len && !memcmp(before, after, after_len));
		free(after);
	}
	/* the same surgery with no change: loads */
	memcpy(bad, blob, len);
	uint32_t sum = fnv1a(bad + PAYLOAD_AT, len - PAYLOAD_AT);
	memcpy(bad + PAYLOAD_AT - 4, &sum, 4);
	CU_ASSERT_EQUAL(device_state_load(m, b, bad, len, err, sizeof(err)), 0);
	free(bad);
	free(blob);
	free(before);
	teardown();
}

UNIT_SUITE(virtio_state, NULL, NULL,
	   UNIT_TEST(test_load_brings_intx),
	   UNIT_TEST(test_refusals))

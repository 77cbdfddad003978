/*
 * A checkpoint's devices (checkpoint/ckpt_devices.c): an interrupt that a
 * device raises while it finishes its work in flight must be in the saved
 * state of an interrupt controller saved before it. Issue 14's root
 * cause: virtio-blk, after the LAPIC in the machine's order, completed
 * its requests from its save and signalled them into a LAPIC whose state
 * was already taken, so Linux restored from the file waited forever.
 * Two small models stand for them: a controller whose state is its
 * pending bit, a disk whose quiesce finishes a request and raises it.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "checkpoint/ckpt_devices.h"
#include "devices/device.h"
#include "devices/device_state.h"

struct ctl { bool pending; };
struct disk { struct ctl *ctl; bool in_flight; };

static void ctl_save(void *dev, struct ds_writer *w)
{
	ds_put_bool(w, ((struct ctl *)dev)->pending);
}

static int ctl_load(void *dev, struct ds_reader *r, unsigned version)
{
	bool p = ds_get_bool(r);

	if (!ds_done(r))
		return -1;
	((struct ctl *)dev)->pending = p;
	return 0;
}

static void disk_quiesce(void *dev)
{
	struct disk *d = dev;

	if (d->in_flight) {	/* the request completes: its interrupt */
		d->in_flight = false;
		d->ctl->pending = true;
	}
}

static void disk_save(void *dev, struct ds_writer *w)
{
	disk_quiesce(dev);	/* as virtio-blk's save does */
	ds_put_bool(w, ((struct disk *)dev)->in_flight);
}

static const struct device_model ctl_model = {
	.name = "test-controller", .state_version = 1, .save = ctl_save, .load = ctl_load,
};
static const struct device_model disk_model = {
	.name = "test-disk", .state_version = 1, .save = disk_save, .quiesce = disk_quiesce,
};
static const struct device_model mute_model = { .name = "test-mute" };

static void free_blobs(uint8_t **blob, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(blob[i]);
}

/* The controller first, as the PC machine has the LAPIC before virtio-blk. */
static void test_interrupt_of_quiesce_is_saved(void)
{
	struct ctl c = { 0 };
	struct disk d = { .ctl = &c, .in_flight = true };
	const struct device_instance devs[] = { { &ctl_model, &c, NULL }, { &disk_model, &d, NULL } };
	uint8_t *blob[2] = { 0 };
	size_t len[2];
	char err[200] = "";

	CU_ASSERT_EQUAL_FATAL(ckpt_devices_save(devs, 2, blob, len, err, sizeof(err)), 0);
	struct ctl restored = { 0 };
	CU_ASSERT_EQUAL(device_state_load(&ctl_model, &restored, blob[0], len[0], err,
					  sizeof(err)), 0);
	CU_ASSERT_TRUE(restored.pending);	/* the completion's interrupt */
	CU_ASSERT_FALSE(d.in_flight);
	free_blobs(blob, 2);
}

/* Nothing in flight: nothing raised. */
static void test_idle_devices_raise_nothing(void)
{
	struct ctl c = { 0 };
	struct disk d = { .ctl = &c };
	const struct device_instance devs[] = { { &ctl_model, &c, NULL }, { &disk_model, &d, NULL } };
	uint8_t *blob[2] = { 0 };
	size_t len[2];
	char err[200] = "";

	CU_ASSERT_EQUAL_FATAL(ckpt_devices_save(devs, 2, blob, len, err, sizeof(err)), 0);
	struct ctl restored = { .pending = true };
	CU_ASSERT_EQUAL(device_state_load(&ctl_model, &restored, blob[0], len[0], err,
					  sizeof(err)), 0);
	CU_ASSERT_FALSE(restored.pending);
	free_blobs(blob, 2);
}

/* A device that cannot save refuses the checkpoint with one line naming it. */
static void test_device_without_save_refused(void)
{
	struct ctl c = { 0 };
	const struct device_instance devs[] = { { &ctl_model, &c, NULL }, { &mute_model, NULL, NULL } };
	uint8_t *blob[2] = { 0 };
	size_t len[2];
	char err[200] = "";

	CU_ASSERT_EQUAL(ckpt_devices_save(devs, 2, blob, len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "test-mute"));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	free_blobs(blob, 2);
}

/* The real model takes part: virtio-blk finishes its requests in quiesce. */
static void test_virtio_blk_quiesces(void)
{
	const struct device_model *m = device_model_find("virtio-blk");

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL(m->quiesce);
}

UNIT_SUITE(ckpt_devices, NULL, NULL,
	   UNIT_TEST(test_interrupt_of_quiesce_is_saved),
	   UNIT_TEST(test_idle_devices_raise_nothing),
	   UNIT_TEST(test_device_without_save_refused),
	   UNIT_TEST(test_virtio_blk_quiesces))

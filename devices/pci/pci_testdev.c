/*
 * A PCI function for tests (hyvm run --device pci_testdev[,slot=N]), with
 * the IDs of QEMU's pci-testdev (1b36:0005, class 00ff) but registers of
 * its own: BAR 0, 4 KiB of memory, and BAR 1, 256 I/O ports, each a
 * scratch area that reads back what was written (dword 0 of the memory
 * BAR, bytes 0-3 of the port BAR); writing port 4 of BAR 1 drives INTA#
 * (bit 0: asserted), reading it returns the level. It lets a guest size
 * and move real BARs and see its INTx arrive where the firmware tables
 * say, with no driver to write.
 */
#include <stdlib.h>
#include <string.h>
#include "devices/device_util.h"
#include "devices/pci/pci.h"

#define TESTDEV_VENDOR		0x1b36
#define TESTDEV_DEVICE		0x0005
#define TESTDEV_CLASS		0x00	/* unclassified */
#define TESTDEV_SUBCLASS	0xff
#define TESTDEV_MEM_SIZE	0x1000
#define TESTDEV_IO_SIZE		0x100
#define TESTDEV_IO_INTX		4

struct testdev {
	struct pci_device *pci;
	uint32_t mem_scratch;
	uint8_t io_scratch[4];
	bool intx;
};

static void testdev_mem(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct testdev *t = opaque;

	for (unsigned i = 0; i < len; i++, off++) {
		uint8_t *b = off < 4 ? (uint8_t *)&t->mem_scratch + off : NULL;
		if (is_write && b)
			*b = data[i];
		else if (!is_write)
			data[i] = b ? *b : 0;
	}
}

static void testdev_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write)
{
	struct testdev *t = opaque;

	for (unsigned i = 0; i < len; i++, off++) {
		if (off == TESTDEV_IO_INTX) {
			if (is_write) {
				t->intx = data[i] & 1;
				pci_set_intx(t->pci, t->intx);
			} else {
				data[i] = t->intx;
			}
		} else if (off < sizeof(t->io_scratch)) {
			if (is_write)
				t->io_scratch[off] = data[i];
			else
				data[i] = t->io_scratch[off];
		} else if (!is_write) {
			data[i] = 0;
		}
	}
}

static void testdev_reset(void *dev)
{
	struct testdev *t = dev;

	t->mem_scratch = 0;
	memset(t->io_scratch, 0, sizeof(t->io_scratch));
	t->intx = false;
	pci_device_reset(t->pci);
}

static void *testdev_create(struct device_env *env, const char *config, char *err,
			    size_t errlen)
{
	struct device_config_key keys[] = { { "slot", 0, 31, 32 } };	/* unset (32): any */
	if (device_config_parse("pci_testdev", config, keys, 1, err, errlen))
		return NULL;
	struct testdev *t = calloc(1, sizeof(*t));
	if (!t)
		return device_no_memory(err, errlen, "pci_testdev");
	const struct pci_device_desc desc = {
		.name = "pci_testdev",
		.slot = keys[0].value == 32 ? -1 : (int)keys[0].value,
		.vendor_id = TESTDEV_VENDOR, .device_id = TESTDEV_DEVICE,
		.class_code = TESTDEV_CLASS, .subclass = TESTDEV_SUBCLASS,
		.intx = true,
		.bar = {
			[0] = { PCI_BAR_MEM32, false, TESTDEV_MEM_SIZE, testdev_mem, t },
			[1] = { PCI_BAR_IO, false, TESTDEV_IO_SIZE, testdev_io, t },
		},
	};
	t->pci = pci_register_device(env->pci, &desc, err, errlen);
	if (!t->pci) {
		free(t);
		return NULL;
	}
	return t;
}

static void testdev_destroy(void *dev)
{
	struct testdev *t = dev;

	pci_unregister_device(t->pci);
	free(t);
}

static void testdev_save(void *dev, struct ds_writer *w)
{
	struct testdev *t = dev;

	ds_put_u32(w, t->mem_scratch);
	ds_put_bytes(w, t->io_scratch, sizeof(t->io_scratch));
	pci_device_save(t->pci, w);
}

static int testdev_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct testdev *t = dev;
	uint32_t mem = ds_get_u32(r);
	uint8_t io[4];

	ds_get_bytes(r, io, sizeof(io));
	if (pci_device_load(t->pci, r) < 0)
		return -1;
	t->mem_scratch = mem;
	memcpy(t->io_scratch, io, sizeof(io));
	/* the function's INTA# level came back with its configuration */
	t->intx = pci_config_get(t->pci, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
	return 0;
}

static struct device_model testdev_model = {
	.name = "pci_testdev",
	.level = DEVICE_LEVEL_DEV,
	.state_version = 1,
	.create = testdev_create,
	.reset = testdev_reset,
	.save = testdev_save,
	.load = testdev_load,
	.destroy = testdev_destroy,
};
DEVICE_REGISTER(testdev_model)

/* fw_cfg (devices/firmware/) on the unit tests' fake machine, serving a
 * store the input fills (named files, numbered items of any key and
 * length, the directory built by fw_cfg_store_finish), driven by a random
 * sequence of selector writes, data-port reads of every size, DMA
 * register reads and writes (either half, any size) and guest RAM writes:
 * DMA descriptors at any address, with any control bits, length and
 * buffer address, biased towards RAM's edges, the legacy hole and ROM. */
#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>
#include "fake_device_env.h"
#include "devices/firmware/fw_cfg.h"
#include "fuzz_input.h"

#define RAM_BYTES (2u << 20)
#define MAX_OPS 2048
#define MAX_ITEM 8192

/* Guest-physical addresses a transfer likes to break at. */
static uint64_t gpa(struct fuzz_in *in)
{
	static const uint64_t edges[] = {
		0, 0x1000, 0x9fff0, 0xa0000, 0xc0000, 0xfffff, 0x100000,
		RAM_BYTES - 16, RAM_BYTES - 1, RAM_BYTES, 0xfffffff0, 0xffffffffffffffffull,
	};
	unsigned how = fuzz_take(in, 1);

	if (how < 64)
		return edges[how % 12] + (int8_t)fuzz_take(in, 1);
	if (how < 128)
		return fuzz_take(in, 8);
	return fuzz_take(in, 3) % RAM_BYTES;
}

static void put_ram(struct fake_env *f, uint64_t a, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *h = a + i < RAM_BYTES ? fake_guest_ram_host(&f->ram, a + i) : NULL;
		if (h)
			*h = ((const uint8_t *)p)[i];
	}
}

static struct fw_cfg_store *store_from(struct fuzz_in *in)
{
	static uint8_t data[MAX_ITEM];
	struct fw_cfg_store *s = fw_cfg_store_create();
	char err[200], name[FW_CFG_NAME_MAX + 8];
	unsigned n = fuzz_take(in, 1) % 16;

	if (!s)
		abort();
	for (unsigned i = 0; i < n; i++) {
		unsigned kind = fuzz_take(in, 1), len = fuzz_take(in, 2) % MAX_ITEM;
		for (unsigned j = 0; j < len; j++)
			data[j] = (uint8_t)(j * 7 + i);
		if (kind & 1) {
			unsigned nlen = fuzz_take(in, 1) % sizeof(name);
			for (unsigned j = 0; j < nlen; j++)
				name[j] = (char)(fuzz_take(in, 1) ?: 'x');	/* no NUL inside */
			name[nlen] = '\0';
			(void)fw_cfg_store_add_file(s, name, data, len, err, sizeof(err));
		} else {
			(void)fw_cfg_store_set(s, (uint16_t)fuzz_take(in, 2), data, len, err, sizeof(err));
		}
	}
	if (fw_cfg_store_finish(s, err, sizeof(err)) < 0) {
		fw_cfg_store_destroy(s);
		return NULL;
	}
	return s;
}

/* The fake machine is made once (pipes and buses cost more than an
 * input); the device is created per input on its store and destroyed
 * after it, and RAM is cleared. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_env f;
	static bool up;
	struct fuzz_in in = { data, size };
	struct fw_cfg_store *s;
	void *dev;
	char err[200];

	if (!up && fake_env_init(&f, RAM_BYTES) < 0)
		abort();
	up = true;
	memset(fake_guest_ram_host(&f.ram, 0), 0, 0xa0000);
	memset(fake_guest_ram_host(&f.ram, 0x100000), 0, RAM_BYTES - 0x100000);
	if ((s = store_from(&in)) && fw_cfg_registry_add("fz", s, err, sizeof(err)) < 0)
		fw_cfg_store_destroy(s), s = NULL;
	if (!(dev = s ? fake_create_config(&f, "fw_cfg", "items=fz") : fake_create(&f, "fw_cfg")))
		abort();
	for (int ops = 0; ops < MAX_OPS && fuzz_more(&in); ops++) {
		unsigned op = fuzz_take(&in, 1), len = 1u << (op >> 6);	/* 1, 2, 4, 8 */
		uint8_t buf[8] = { 0 };
		uint64_t v;

		switch (op & 7) {
		case 0:			/* select (sometimes a file's key, the directory) */
			v = op & 8 ? 0x19 + (fuzz_take(&in, 1) % 24) : fuzz_take(&in, 2);
			pio_out16(&f, FW_CFG_PORT_SEL, (uint16_t)v);
			break;
		case 1: {		/* read the data port, a burst */
			unsigned n = fuzz_take(&in, 1);
			for (unsigned i = 0; i < n; i++)
				(void)pio_in8(&f, FW_CFG_PORT_DATA);
			break;
		}
		case 2:			/* any port access in the device's range */
			v = fuzz_take(&in, 4);
			memcpy(buf, &v, 4);
			bus_access(&f.pio, 0x50e + fuzz_take(&in, 1) % 16, buf, len > 4 ? 4 : len,
				   op & 8);
			break;
		case 3: {		/* a descriptor in RAM, then the register pointing at it */
			uint64_t at = gpa(&in);
			uint32_t control = (uint32_t)fuzz_take(&in, 4), length;
			unsigned l = fuzz_take(&in, 1);
			length = l < 128 ? l * 9 : l < 192 ? (uint32_t)fuzz_take(&in, 4) : 0xffffffffu - l;
			struct fw_cfg_dma_access d = { htonl(control), htonl(length),
						       htobe64(gpa(&in)) };
			put_ram(&f, at, &d, sizeof(d));
			v = htobe64(at);	/* the guest writes big-endian bytes */
			memcpy(buf, &v, 8);
			bus_access(&f.pio, FW_CFG_PORT_DMA, buf, 4, true);
			bus_access(&f.pio, FW_CFG_PORT_DMA + 4, buf + 4, 4, true);
			break;
		}
		case 4:			/* the DMA register written or read alone */
			v = fuzz_take(&in, 4);
			memcpy(buf, &v, 4);
			bus_access(&f.pio, FW_CFG_PORT_DMA + (op & 8 ? 4 : 0) + (op >> 4 & 3),
				   buf, len > 4 ? 4 : len, op & 0x20);
			break;
		case 5: {		/* the guest writes RAM */
			uint64_t a = fuzz_take(&in, 3) % RAM_BYTES;
			for (int i = 0; i < 16; i++) {
				uint8_t b = fuzz_take(&in, 1);
				put_ram(&f, a + i, &b, 1);
			}
			break;
		}
		case 6:			/* a reboot */
			f.created[f.nr_created - 1].model->reset(dev);
			break;
		default:
			break;
		}
	}
	f.created[--f.nr_created].model->destroy(dev);
	fw_cfg_registry_clear();
	return 0;
}

/* Every registered device model (devices/isa, apic, pci, acpi, virtio) on
 * the unit tests' fake machine (tests/unit/fake_device_env.h), driven by a
 * random sequence of port and MMIO accesses of every size, PCI
 * configuration cycles, guest RAM writes (descriptors, rings, buffers the
 * devices DMA from), interrupt lines, acknowledgements and time advancing
 * with the devices' polls. */
#include <stdlib.h>
#include "fake_device_env.h"
#include "fuzz_input.h"

#define RAM_BYTES (4u << 20)
#define MAX_OPS 4096

static const uint64_t mmio_bases[] = {
	0xfee00000, 0xfec00000, 0xe0000000, 0xfe000000, 0xfebf0000, 0xc0000000,
};

static unsigned size_of(uint64_t v)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	return sizes[v & 3];
}

static uint64_t mmio_addr(struct fuzz_in *in)
{
	unsigned which = fuzz_take(in, 1);

	if (which >= 6 * 40)
		return fuzz_take(in, 4);
	return mmio_bases[which % 6] + (fuzz_take(in, 2) & ~(uint64_t)0);
}

/* The machine is made once (a fresh one per input costs 40 ms: threads,
 * the network backend) and reset before each input as a guest reboot
 * resets it: every model's reset, RAM cleared, the clock back.
 * FUZZ_DEVICES_FRESH=1 makes a fresh machine per input instead, to
 * reproduce a finding without the reset path in between. */
static void machine_up(struct fake_env *f)
{
	if (fake_env_init(f, RAM_BYTES) < 0)
		abort();
	for (struct device_model *m = device_models(); m; m = m->next)
		if (!fake_create_default(f, m->name) && getenv("FUZZ_DEBUG"))
			fprintf(stderr, "%s: %s\n", m->name, f->err);	/* a model may refuse */
}

static void machine_reset(struct fake_env *f)
{
	for (unsigned i = 0; i < f->nr_created; i++)
		if (f->created[i].model->reset)
			f->created[i].model->reset(f->created[i].dev);
	memset(fake_guest_ram_host(&f->ram, 0), 0, 0xa0000);	/* low RAM, */
	memset(fake_guest_ram_host(&f->ram, 0x100000), 0, RAM_BYTES - 0x100000);	/* high RAM */
	f->now = 1000000000ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_env f;
	struct fuzz_in in = { data, size };
	char out[4096];

	static bool up;
	bool fresh = getenv("FUZZ_DEVICES_FRESH");

	if (!up || fresh)
		machine_up(&f);
	else
		machine_reset(&f);
	up = true;
	for (int ops = 0; ops < MAX_OPS && fuzz_more(&in); ops++) {
		unsigned op = fuzz_take(&in, 1);
		uint64_t a, v;
		uint8_t buf[8];

		switch (op & 15) {
		case 0: case 1: case 2: {	/* port I/O */
			a = fuzz_take(&in, 2);
			unsigned len = size_of(op >> 4) > 4 ? 4 : size_of(op >> 4);
			v = fuzz_take(&in, 4);
			memcpy(buf, &v, sizeof(v));
			bus_access(&f.pio, a, buf, len, op & 1);
			break;
		}
		case 3: case 4: case 5:		/* MMIO */
			a = mmio_addr(&in);
			v = fuzz_take(&in, 8);
			memcpy(buf, &v, sizeof(v));
			bus_access(&f.mmio, a, buf, size_of(op >> 4), op & 1);
			break;
		case 6: {			/* PCI configuration cycle */
			uint32_t addr = 0x80000000u | (fuzz_take(&in, 2) & 0xffff) << 8 |
					(fuzz_take(&in, 1) & 0xfc);
			pio_out32(&f, 0xcf8, addr);
			v = fuzz_take(&in, 4);
			memcpy(buf, &v, 4);
			bus_access(&f.pio, 0xcfc + (op >> 6), buf, 4 - (op >> 6), op & 0x20);
			break;
		}
		case 7: {			/* the driver writes guest RAM */
			a = fuzz_take(&in, 3) % (RAM_BYTES - 16);
			for (int i = 0; i < 16; i++) {
				uint8_t *p = fake_guest_ram_host(&f.ram, a + i), b = fuzz_take(&in, 1);
				if (p)		/* not in the legacy hole */
					*p = b;
			}
			break;
		}
		case 8:				/* time passes; the run loop polls */
			f.now += fuzz_take(&in, 3) << (op >> 4);
			fake_poll_all(&f);
			break;
		case 9:
			fake_set_irq(&f, fuzz_take(&in, 1) % IRQ_ROUTER_LINES, op & 0x10);
			break;
		case 10:
			if (fake_has_interrupt(&f))
				(void)fake_acknowledge(&f);
			break;
		case 11:			/* serial input */
			v = fuzz_take(&in, 1);
			if (write(f.input_wr, &v, 1) < 0) { /* pipe full: fine */ }
			break;
		default:
			break;
		}
		while (fake_read_output(&f, out, sizeof(out)) > 0)
			;
	}
	if (fresh)
		fake_env_fini(&f);
	return 0;
}

/* The port/MMIO bus: registration, lookup, dispatch and the counters. */
#include <string.h>
#include "unit.h"
#include "vmm/bus.h"

/* A device that logs its last access and answers reads with addr+i. */
struct probe {
	unsigned calls;
	uint64_t addr;
	unsigned len;
	bool is_write;
	uint8_t wrote[8];
};

static void probe_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		     bool is_write)
{
	struct probe *p = opaque;

	p->calls++;
	p->addr = addr;
	p->len = len;
	p->is_write = is_write;
	for (unsigned i = 0; i < len; i++) {
		if (is_write)
			p->wrote[i] = data[i];
		else
			data[i] = (uint8_t)(addr + i);
	}
}

static void test_overlap_rejected(void)
{
	struct bus b;
	struct probe p = { 0 };

	bus_init(&b, "t");
	CU_ASSERT_EQUAL(bus_register(&b, 0x20, 2, probe_io, &p, "a"), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x21, 1, probe_io, &p, "in"), -1);
	CU_ASSERT_EQUAL(bus_register(&b, 0x1f, 2, probe_io, &p, "left"), -1);
	CU_ASSERT_EQUAL(bus_register(&b, 0x10, 0x40, probe_io, &p, "over"), -1);
	CU_ASSERT_EQUAL(bus_register(&b, 0x22, 1, probe_io, &p, "next"), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x1f, 1, probe_io, &p, "prev"), 0);
	CU_ASSERT_EQUAL(b.nr, 3);
	/* Nonsense ranges never get in. */
	CU_ASSERT_EQUAL(bus_register(&b, 0x100, 0, probe_io, &p, "empty"), -1);
	CU_ASSERT_EQUAL(bus_register(&b, UINT64_MAX - 1, 4, probe_io, &p, "wrap"), -1);
	CU_ASSERT_EQUAL(bus_register(&b, 0x200, 1, NULL, &p, "nofn"), -1);
	CU_ASSERT_EQUAL(b.nr, 3);
	/* The very top of the address space is a valid range. */
	CU_ASSERT_EQUAL(bus_register(&b, UINT64_MAX, 1, probe_io, &p, "top"), 0);
	CU_ASSERT_PTR_NOT_NULL(bus_find(&b, UINT64_MAX));
}

static void test_table_full(void)
{
	struct bus b;
	struct probe p = { 0 };

	bus_init(&b, "t");
	/* Registered in descending order to exercise the sorted insert. */
	for (unsigned i = 0; i < BUS_MAX_RANGES; i++)
		CU_ASSERT_EQUAL(bus_register(&b, 0x1000 - 0x10 * i, 4, probe_io,
					     &p, "x"), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x5000, 1, probe_io, &p, "one too many"), -1);
	CU_ASSERT_EQUAL(b.nr, BUS_MAX_RANGES);
	for (unsigned i = 1; i < b.nr; i++)
		CU_ASSERT(b.range[i - 1].base < b.range[i].base);
	for (unsigned i = 0; i < BUS_MAX_RANGES; i++) {
		const struct bus_range *r = bus_find(&b, 0x1000 - 0x10 * i + 3);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(r->base, 0x1000 - 0x10 * i);
	}
	CU_ASSERT_PTR_NULL(bus_find(&b, 0x1004));
}

static void test_unclaimed(void)
{
	struct bus b;
	struct probe p = { 0 };
	uint8_t d[4] = { 1, 2, 3, 4 };

	bus_init(&b, "t");
	bus_register(&b, 0x60, 1, probe_io, &p, "kbd");
	CU_ASSERT_FALSE(bus_access(&b, 0x61, d, 4, false));
	CU_ASSERT_EQUAL(d[0], 0xff);
	CU_ASSERT_EQUAL(d[3], 0xff);
	CU_ASSERT_EQUAL(b.unclaimed_reads, 1);
	CU_ASSERT_FALSE(bus_access(&b, 0x80, d, 1, true));
	CU_ASSERT_FALSE(bus_access(&b, 0x81, d, 2, true));
	CU_ASSERT_EQUAL(b.unclaimed_writes, 2);
	CU_ASSERT_EQUAL(p.calls, 0);
	/* Bad shapes of access are unclaimed, not crashes. */
	uint8_t big[16];
	CU_ASSERT_FALSE(bus_access(&b, 0x60, big, 16, false));
	CU_ASSERT_EQUAL(big[15], 0xff);
	CU_ASSERT_FALSE(bus_access(&b, UINT64_MAX, d, 2, false));
	CU_ASSERT_FALSE(bus_access(&b, 0x60, d, 0, false));
	CU_ASSERT_EQUAL(b.unclaimed_reads, 3);
	CU_ASSERT_EQUAL(p.calls, 0);
}

static void test_dispatch(void)
{
	struct bus b;
	struct probe pic = { 0 }, uart = { 0 };
	uint8_t d[4];

	bus_init(&b, "t");
	bus_register(&b, 0x3f8, 8, probe_io, &uart, "uart");
	bus_register(&b, 0x20, 2, probe_io, &pic, "pic");

	CU_ASSERT_TRUE(bus_access(&b, 0x3fd, d, 1, false));
	CU_ASSERT_EQUAL(uart.calls, 1);
	CU_ASSERT_EQUAL(uart.addr, 0x3fd);
	CU_ASSERT_EQUAL(uart.len, 1);
	CU_ASSERT_FALSE(uart.is_write);
	CU_ASSERT_EQUAL(d[0], 0xfd);
	CU_ASSERT_EQUAL(pic.calls, 0);

	d[0] = 0x11; d[1] = 0x22;
	CU_ASSERT_TRUE(bus_access(&b, 0x20, d, 2, true));
	CU_ASSERT_EQUAL(pic.calls, 1);
	CU_ASSERT_EQUAL(pic.addr, 0x20);
	CU_ASSERT_EQUAL(pic.len, 2);
	CU_ASSERT_TRUE(pic.is_write);
	CU_ASSERT_EQUAL(pic.wrote[1], 0x22);

	const struct bus_range *r = bus_find(&b, 0x3ff);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->name, "uart");
	CU_ASSERT_EQUAL(r->accesses, 1);
	CU_ASSERT_EQUAL(bus_find(&b, 0x21)->accesses, 1);
	CU_ASSERT_PTR_NULL(bus_find(&b, 0x400));
	CU_ASSERT_EQUAL(b.unclaimed_reads + b.unclaimed_writes, 0);
}

/* A dword IN at 0x21 on a 2-port device: byte 0x21 from the device, the
 * rest nobody's. */
static void test_straddle(void)
{
	struct bus b;
	struct probe pic = { 0 }, elcr = { 0 };
	uint8_t d[4] = { 0 };

	bus_init(&b, "t");
	bus_register(&b, 0x20, 2, probe_io, &pic, "pic");
	bus_register(&b, 0x23, 1, probe_io, &elcr, "next");
	CU_ASSERT_TRUE(bus_access(&b, 0x21, d, 4, false));
	CU_ASSERT_EQUAL(d[0], 0x21);
	CU_ASSERT_EQUAL(d[1], 0xff);
	CU_ASSERT_EQUAL(d[2], 0x23);
	CU_ASSERT_EQUAL(d[3], 0xff);
	CU_ASSERT_EQUAL(pic.len, 1);
	CU_ASSERT_EQUAL(elcr.len, 1);
	CU_ASSERT_EQUAL(b.unclaimed_reads, 0);
}

static void test_unregister_owner(void)
{
	struct bus b;
	struct probe a = { 0 }, c = { 0 };
	uint8_t d = 0;

	bus_init(&b, "t");
	bus_register(&b, 0x20, 2, probe_io, &a, "a1");
	bus_register(&b, 0x40, 4, probe_io, &c, "c");
	bus_register(&b, 0xa0, 2, probe_io, &a, "a2");
	bus_unregister_owner(&b, &a);
	CU_ASSERT_EQUAL(b.nr, 1);
	CU_ASSERT_FALSE(bus_access(&b, 0xa0, &d, 1, false));
	CU_ASSERT_EQUAL(a.calls, 0);
	CU_ASSERT_TRUE(bus_access(&b, 0x41, &d, 1, false));
	CU_ASSERT_EQUAL(c.calls, 1);
	/* The freed ports can be claimed again. */
	CU_ASSERT_EQUAL(bus_register(&b, 0x20, 2, probe_io, &c, "again"), 0);
}

UNIT_SUITE(bus_ranges, NULL, NULL,
	   UNIT_TEST(test_unregister_owner),
	   UNIT_TEST(test_overlap_rejected),
	   UNIT_TEST(test_table_full),
	   UNIT_TEST(test_unclaimed),
	   UNIT_TEST(test_dispatch),
	   UNIT_TEST(test_straddle))

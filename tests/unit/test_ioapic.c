/*
 * The IOAPIC (devices/apic/ioapic.c) with a local APIC behind it on the
 * fake machine: registers, ISA IRQ 0 on pin 2, edge and level pins, Remote
 * IRR set by delivery and cleared by the EOI broadcast or the EOI
 * register, re-delivery while asserted, masks, destinations, MSI decoding
 * and accesses a guest should not make.
 */
#include "unit.h"
#include "fake_device_env.h"

#define IO	0xfec00000u
#define LAPIC_EOI 0xfee000b0u
#define LAPIC_LDR 0xfee000d0u
#define LAPIC_IRR(v) (0xfee00200u + ((v) / 32) * 0x10)

static struct fake_env F;

static void start(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "lapic"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(&F, "ioapic"));
}

static uint32_t io_read(uint8_t reg)
{
	mmio_write32(&F, IO, reg);
	return mmio_read32(&F, IO + 0x10);
}

static void io_write(uint8_t reg, uint32_t v)
{
	mmio_write32(&F, IO, reg);
	mmio_write32(&F, IO + 0x10, v);
}

static void rte(unsigned pin, uint32_t lo, uint32_t hi)
{
	io_write(0x11 + 2 * pin, hi);
	io_write(0x10 + 2 * pin, lo);
}

static bool remote_irr(unsigned pin)
{
	return io_read(0x10 + 2 * pin) & (1u << 14);
}

static bool pending(uint8_t v)
{
	return mmio_read32(&F, LAPIC_IRR(v)) & (1u << (v & 31));
}

static void eoi(void)
{
	mmio_write32(&F, LAPIC_EOI, 0);
}

static void pulse(unsigned line)
{
	fake_set_irq(&F, line, true);
	fake_set_irq(&F, line, false);
}

static void test_registers(void)
{
	start();
	CU_ASSERT_EQUAL(io_read(0x01), 0x170020);		/* 24 pins, version 0x20 */
	CU_ASSERT_EQUAL(io_read(0x00), 0);
	io_write(0x00, 0xffffffff);
	CU_ASSERT_EQUAL(io_read(0x00), 0x0f000000);
	CU_ASSERT_EQUAL(io_read(0x02), 0x0f000000);		/* arbitration ID */
	io_write(0x01, 0);					/* read-only */
	CU_ASSERT_EQUAL(io_read(0x01), 0x170020);
	for (unsigned pin = 0; pin < 24; pin++)
		CU_ASSERT_EQUAL(io_read(0x10 + 2 * pin), 0x10000);	/* masked */
	rte(5, 0xffffffff, 0xffffffff);
	CU_ASSERT_EQUAL(io_read(0x10 + 2 * 5), 0x1afff);	/* status, remote IRR RO */
	CU_ASSERT_EQUAL(io_read(0x11 + 2 * 5), 0xff000000);
	CU_ASSERT_EQUAL(io_read(0x40), 0);			/* no such register */
	CU_ASSERT_EQUAL(mmio_read32(&F, IO), 0x40);		/* IOREGSEL reads back */
	fake_env_fini(&F);
}

/* The PIT's line 0 is pin 2 (the source override); line 4 is pin 4. */
static void test_edge_and_override(void)
{
	start();
	rte(2, 0x30, 0);
	rte(4, 0x34, 0);
	pulse(0);
	CU_ASSERT_TRUE(pending(0x30));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x30);
	eoi();
	CU_ASSERT_FALSE(remote_irr(2));
	pulse(4);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x34);
	eoi();
	/* A held edge line delivers once. */
	fake_set_irq(&F, 4, true);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x34);
	eoi();
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	fake_set_irq(&F, 4, false);
	/* Masked: an edge is lost, also once unmasked. */
	rte(4, 0x10034, 0);
	pulse(4);
	rte(4, 0x34, 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	fake_env_fini(&F);
}

/* Level: Remote IRR until the EOI; re-delivered while still asserted. */
static void test_level_remote_irr(void)
{
	start();
	rte(9, 0x8039, 0);
	fake_set_irq(&F, 9, true);
	CU_ASSERT_TRUE(remote_irr(9));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x39);
	CU_ASSERT_TRUE(mmio_read32(&F, 0xfee00180u + 0x10) & (1u << (0x39 - 32)));	/* TMR */
	eoi();					/* still asserted: again */
	CU_ASSERT_TRUE(remote_irr(9));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x39);
	fake_set_irq(&F, 9, false);
	eoi();
	CU_ASSERT_FALSE(remote_irr(9));
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	/* Asserted while masked: delivered when unmasked. */
	rte(9, 0x18039, 0);
	fake_set_irq(&F, 9, true);
	CU_ASSERT_FALSE(remote_irr(9));
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	rte(9, 0x8039, 0);
	CU_ASSERT_TRUE(remote_irr(9));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x39);
	/* The EOI register (version 0x20) clears Remote IRR too; the line
	 * still up, it is delivered again. */
	mmio_write32(&F, IO + 0x40, 0x39);
	CU_ASSERT_TRUE(remote_irr(9));
	CU_ASSERT_TRUE(pending(0x39));
	/* An EOI of another vector does nothing. */
	mmio_write32(&F, IO + 0x40, 0x38);
	CU_ASSERT_TRUE(remote_irr(9));
	/* Switching to edge clears it (Linux's fallback without the EOI
	 * register). */
	rte(9, 0x10039, 0);
	CU_ASSERT_FALSE(remote_irr(9));
	fake_env_fini(&F);
}

/* 11.6.2: physical and logical destinations; nobody named, no Remote IRR. */
static void test_destinations(void)
{
	start();
	rte(10, 0x803a, 0x01000000);				/* physical 1: nobody */
	fake_set_irq(&F, 10, true);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_FALSE(remote_irr(10));
	CU_ASSERT(F.irq.msgs_unclaimed >= 1);
	fake_set_irq(&F, 10, false);
	mmio_write32(&F, LAPIC_LDR, 0x04000000);		/* flat, bit 2 */
	rte(11, 0x83b, 0x04000000);
	pulse(11);
	CU_ASSERT_TRUE(pending(0x3b));
	rte(12, 0x83c, 0x03000000);
	pulse(12);
	CU_ASSERT_FALSE(pending(0x3c));
	rte(13, 0x3d, 0xff000000);				/* broadcast */
	pulse(13);
	CU_ASSERT_TRUE(pending(0x3d));
	rte(14, 0x13e, 0);					/* lowest priority */
	pulse(14);
	CU_ASSERT_TRUE(pending(0x3e));
	fake_env_fini(&F);
}

/* SDM 11.11: MSI address and data. */
static void test_msi(void)
{
	start();
	CU_ASSERT_EQUAL(irq_router_send_msi(&F.irq, 0xfee00000, 0x0041), 0);
	CU_ASSERT_TRUE(pending(0x41));
	CU_ASSERT_EQUAL(irq_router_send_msi(&F.irq, 0xfee01000, 0x0042), 0);	/* ID 1 */
	CU_ASSERT_FALSE(pending(0x42));
	CU_ASSERT_EQUAL(irq_router_send_msi(&F.irq, 0xfed00000, 0x0043), -1);
	CU_ASSERT_EQUAL(F.irq.msi_refused, 1);
	CU_ASSERT_EQUAL(irq_router_send_msi(&F.irq, 0xfee00000, 0xc044), 0);	/* level */
	CU_ASSERT_TRUE(mmio_read32(&F, 0xfee00180u + 0x20) & (1u << (0x44 - 64)));
	fake_env_fini(&F);
}

/* Odd sizes and offsets are dropped or read 0; no register changes. */
static void test_bad_accesses(void)
{
	start();
	rte(3, 0x10033, 0);
	mmio_write(&F, IO + 0x10, 0x33, 1);			/* byte IOWIN write */
	mmio_write(&F, IO + 0x12, 0, 4);
	mmio_write(&F, IO + 0x10, 0, 8);
	mmio_write32(&F, IO + 0x20, 0);
	mmio_write32(&F, IO + 0xffc, 0);
	CU_ASSERT_EQUAL(io_read(0x10 + 2 * 3), 0x10033);
	CU_ASSERT_EQUAL(mmio_read(&F, IO + 0x30, 4), 0);
	CU_ASSERT_EQUAL(mmio_read(&F, IO + 0x10, 8), 0);
	mmio_write(&F, IO, 0x01, 1);				/* byte IOREGSEL */
	CU_ASSERT_EQUAL(mmio_read32(&F, IO + 0x10), 0x170020);
	for (unsigned reg = 0; reg < 256; reg++) {
		mmio_write32(&F, IO, reg);
		(void)mmio_read32(&F, IO + 0x10);
		mmio_write32(&F, IO + 0x10, 0xffffffff);
	}
	fake_env_fini(&F);
}

UNIT_SUITE(ioapic, NULL, NULL,
	   UNIT_TEST(test_registers),
	   UNIT_TEST(test_edge_and_override),
	   UNIT_TEST(test_level_remote_irr),
	   UNIT_TEST(test_destinations),
	   UNIT_TEST(test_msi),
	   UNIT_TEST(test_bad_accesses))

/*
 * The local APIC (devices/apic/lapic*.c) through its register page, as a
 * guest drives it, on the fake machine's clock: reset state, TPR/PPR, EOI
 * order and broadcast, IPIs and destinations, ExtINT through LINT0, the
 * ESR, accesses the SDM leaves undefined, and the stop report's line. The
 * timer's tests are in test_lapic_timer.c.
 */
#include "lapic_fixture.h"

static void test_reset_state(void)
{
	start();
	CU_ASSERT_EQUAL(mmio_read32(&F, A(0x20)), 0);		/* ID: vCPU 0 */
	CU_ASSERT_EQUAL(mmio_read32(&F, A(0x30)), 0x50014);	/* version */
	CU_ASSERT_EQUAL(mmio_read32(&F, SVR), 0x1ff);		/* firmware's enable */
	CU_ASSERT_EQUAL(mmio_read32(&F, DFR), 0xffffffff);
	CU_ASSERT_EQUAL(mmio_read32(&F, LVT_TIMER), 0x10000);
	CU_ASSERT_EQUAL(mmio_read32(&F, LVT_LINT0), 0x8700);	/* ExtINT */
	CU_ASSERT_EQUAL(mmio_read32(&F, A(0x360)), 0x8400);	/* LINT1 NMI */
	CU_ASSERT_EQUAL(mmio_read32(&F, LVT_ERROR), 0x10000);
	CU_ASSERT_EQUAL(mmio_read32(&F, A(0x90)), 0);		/* APR */
	CU_ASSERT_EQUAL(mmio_read32(&F, PPR), 0);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	stop();
}

static void test_priority(void)
{
	start();
	send(0x45, false);
	mmio_write32(&F, TPR, 0x50);
	CU_ASSERT_EQUAL(mmio_read32(&F, PPR), 0x50);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	mmio_write32(&F, TPR, 0x4f);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* same class */
	mmio_write32(&F, TPR, 0x3f);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x45);
	CU_ASSERT_TRUE(bit(ISR(0x45), 0x45));
	CU_ASSERT_FALSE(bit(IRR(0x45), 0x45));
	CU_ASSERT_EQUAL(mmio_read32(&F, PPR), 0x40);
	send(0x48, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* class 4 in service */
	send(0x61, false);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x61);		/* nests */
	CU_ASSERT_EQUAL(mmio_read32(&F, PPR), 0x60);
	mmio_write32(&F, EOI, 0);
	CU_ASSERT_FALSE(bit(ISR(0x61), 0x61));
	CU_ASSERT_TRUE(bit(ISR(0x45), 0x45));
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* 0x48 waits for 0x45 */
	mmio_write32(&F, EOI, 0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x48);
	mmio_write32(&F, EOI, 0);
	mmio_write32(&F, EOI, 0);				/* nothing in service */
	CU_ASSERT_EQUAL(mmio_read32(&F, PPR), 0x3f);
	/* Raising the TPR between asking and INTA: the spurious vector. */
	send(0x50, false);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	mmio_write32(&F, TPR, 0xf0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0xff);
	CU_ASSERT_TRUE(bit(IRR(0x50), 0x50));
	CU_ASSERT_EQUAL(nr_eois, 0);				/* all edge */
	stop();
}

/* 11.8.5: a level-triggered vector's EOI goes to the IOAPICs. */
static void test_level_eoi_broadcast(void)
{
	start();
	send(0x70, true);
	CU_ASSERT_TRUE(bit(TMR(0x70), 0x70));
	send(0x30, false);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x70);		/* higher class first */
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* 0x30 below the PPR */
	mmio_write32(&F, EOI, 0);
	CU_ASSERT_EQUAL(nr_eois, 1);
	CU_ASSERT_EQUAL(eois[0], 0x70);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x30);
	mmio_write32(&F, EOI, 0);				/* edge: no broadcast */
	CU_ASSERT_EQUAL(nr_eois, 1);
	stop();
}

/* 11.4.7.2: software-disabled, nothing is delivered and every LVT entry
 * stays masked, LINT0 included, so the 8259 is cut off too. */
static void test_software_disable(void)
{
	start();
	send(0x40, false);
	mmio_write32(&F, SVR, 0xff);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(mmio_read32(&F, LVT_LINT0), 0x18700);
	mmio_write32(&F, LVT_LINT0, 0x700);
	CU_ASSERT_EQUAL(mmio_read32(&F, LVT_LINT0), 0x10700);
	mmio_write32(&F, SVR, 0x1ff);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x40);		/* held in the IRR */
	stop();
}

/* LINT0 in ExtINT mode: the 8259's vector, not the APIC's; the APIC's own
 * requests first; masked LINT0 cuts it off. */
static void test_extint(void)
{
	start();
	CU_ASSERT_PTR_NOT_NULL_FATAL(pic);
	fake_pic_init(&F);
	fake_set_irq(&F, 1, true);
	fake_set_irq(&F, 1, false);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	send(0x90, false);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x90);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x21);		/* the PIC's IRQ1 */
	CU_ASSERT(!bit(ISR(0x21), 0x21));			/* not the APIC's */
	pio_out8(&F, 0x20, 0x20);
	mmio_write32(&F, LVT_LINT0, 0x10700);
	fake_set_irq(&F, 3, true);
	fake_set_irq(&F, 3, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0xff);		/* spurious */
	mmio_write32(&F, LVT_LINT0, 0x700);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x23);
	stop();
}

static void ipi(uint32_t hi, uint32_t lo)
{
	mmio_write32(&F, ICR_HI, hi);
	mmio_write32(&F, ICR_LO, lo);
}

static bool take(uint8_t v)
{
	if (!bit(IRR(v), v))
		return false;
	CU_ASSERT_EQUAL(fake_acknowledge(&F), v);
	mmio_write32(&F, EOI, 0);
	return true;
}

/* 11.6.1-11.6.2: shorthands, physical and logical (flat, cluster). */
static void test_ipi_destinations(void)
{
	struct lapic_counters c;

	start();
	ipi(0, 0x40061);					/* self */
	CU_ASSERT_TRUE(take(0x61));
	CU_ASSERT_EQUAL(mmio_read32(&F, ICR_LO) & (1u << 12), 0);	/* idle */
	ipi(0, 0x80062);					/* all incl. self */
	CU_ASSERT_TRUE(take(0x62));
	ipi(0, 0xc0063);					/* all excl. self */
	CU_ASSERT_FALSE(take(0x63));
	ipi(0x00000000, 0x64);					/* physical 0 */
	CU_ASSERT_TRUE(take(0x64));
	ipi(0x01000000, 0x65);					/* physical 1 */
	CU_ASSERT_FALSE(take(0x65));
	ipi(0xff000000, 0x66);					/* broadcast */
	CU_ASSERT_TRUE(take(0x66));
	mmio_write32(&F, LDR, 0x02000000);			/* flat */
	ipi(0x02000000, 0x867);
	CU_ASSERT_TRUE(take(0x67));
	ipi(0x05000000, 0x868);
	CU_ASSERT_FALSE(take(0x68));
	mmio_write32(&F, DFR, 0x0fffffff);			/* cluster */
	CU_ASSERT_EQUAL(mmio_read32(&F, DFR), 0x0fffffff);
	mmio_write32(&F, LDR, 0x12000000);
	ipi(0x13000000, 0x869);
	CU_ASSERT_TRUE(take(0x69));
	ipi(0x22000000, 0x86a);
	CU_ASSERT_FALSE(take(0x6a));
	ipi(0x11000000, 0x86b);
	CU_ASSERT_FALSE(take(0x6b));
	ipi(0x01000000, 0x16c);					/* lowest priority, physical 1 */
	CU_ASSERT_FALSE(take(0x6c));
	ipi(0, 0x4400);						/* NMI to self */
	ipi(0, 0x4500);						/* INIT */
	ipi(0, 0x4608);						/* STARTUP */
	lapic_counters(apic, &c);
	CU_ASSERT_EQUAL(c.nmi_dropped, 1);
	CU_ASSERT_EQUAL(c.ipi_ignored, 2);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	stop();
}

/* 11.5.3: errors appear in the ESR at the next write, and raise the error
 * LVT; illegal vectors are refused. */
static void test_esr(void)
{
	start();
	mmio_write32(&F, LVT_ERROR, 0xfe);
	ipi(0, 0x40005);					/* send illegal vector */
	CU_ASSERT_EQUAL(mmio_read32(&F, ESR), 0);		/* not yet latched */
	mmio_write32(&F, ESR, 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, ESR), 0x20);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0xfe);
	mmio_write32(&F, EOI, 0);
	struct irq_msg m = { .vector = 3, .dest = 0 };
	irq_router_send(&F.irq, &m, NULL);			/* receive illegal */
	(void)mmio_read32(&F, A(0x40));				/* reserved register */
	mmio_write32(&F, ESR, 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, ESR), 0xc0);
	mmio_write32(&F, ESR, 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, ESR), 0);
	CU_ASSERT_FALSE(bit(IRR(3), 3));
	stop();
}

/* A guest can write anything: odd sizes and offsets never crash and never
 * change a register. */
static void test_bad_accesses(void)
{
	struct lapic_counters c;

	start();
	mmio_write(&F, TPR, 0x77, 1);				/* byte write: dropped */
	mmio_write(&F, TPR + 4, 0x77, 4);			/* not 16-aligned */
	mmio_write(&F, TPR, 0x7777777777ull, 8);
	CU_ASSERT_EQUAL(mmio_read32(&F, TPR), 0);
	CU_ASSERT_EQUAL(mmio_read(&F, A(0x30), 1), 0x14);	/* byte read of version */
	CU_ASSERT_EQUAL(mmio_read(&F, A(0x32), 1), 0x05);
	CU_ASSERT_EQUAL(mmio_read(&F, A(0x33), 2), 0);		/* crosses the dword */
	CU_ASSERT_EQUAL(mmio_read(&F, A(0x30), 8), 0);
	for (uint32_t off = 0; off < 0x1000; off += 4) {
		(void)mmio_read32(&F, A(off));
		if (off != 0xb0 && off != 0x300 && off != 0x280)
			mmio_write32(&F, A(off), 0xffffffff);
	}
	lapic_counters(apic, &c);
	CU_ASSERT(c.bad_access >= 4);
	stop();
}

/* The stop report's line (device_model.describe): a vector acknowledged
 * and never ended shows in service and holds a lower one back; the timer
 * says when it fires, and that an owed period waits behind its vector. */
static void test_describe(void)
{
	char line[1024];

	start();
	send(0xec, false);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0xec);		/* lost: never EOI'd */
	send(0x31, false);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	mmio_write32(&F, TIMER_DCR, 0xb);			/* divide by 1 */
	mmio_write32(&F, LVT_TIMER, 0x40);
	mmio_write32(&F, TIMER_ICR, 2000000);			/* 2 ms one-shot */
	model->describe(apic, F.now, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "lapic 0: svr 0x1ff tpr 0x00 ppr 0xe0 irr 0x31 isr 0xec;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "(one-shot) initial 2000000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "fires in 2.000 ms"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "lint0 0x08700"));
	advance(2000000);
	model->describe(apic, F.now, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "irr 0x40 0x31 isr 0xec;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "current 0, disarmed"));
	/* periodic, its last vector not taken: the next period is owed */
	mmio_write32(&F, LVT_TIMER, 0x20041);
	mmio_write32(&F, TIMER_ICR, 1000);
	advance(1000);
	advance(1500);
	model->describe(apic, F.now, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "(periodic) initial 1000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "its vector waits in the IRR (periods owed: 0.0 ms)"));
	stop();
}

UNIT_SUITE(lapic, NULL, NULL,
	   UNIT_TEST(test_reset_state),
	   UNIT_TEST(test_priority),
	   UNIT_TEST(test_level_eoi_broadcast),
	   UNIT_TEST(test_software_disable),
	   UNIT_TEST(test_extint),
	   UNIT_TEST(test_ipi_destinations),
	   UNIT_TEST(test_esr),
	   UNIT_TEST(test_bad_accesses),
	   UNIT_TEST(test_describe))

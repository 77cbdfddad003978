/*
 * The local APIC's timer (devices/apic/lapic_timer.c) as a guest drives
 * it, on the fake machine's clock: one-shot, periodic with owed periods,
 * the divide register, the current count, and TSC-deadline mode (SDM Vol.
 * 3A 11.5.4), also across a save and load.
 */
#include "lapic_fixture.h"

static void test_timer_one_shot(void)
{
	start();
	mmio_write32(&F, TIMER_DCR, 0xb);			/* divide by 1 */
	mmio_write32(&F, LVT_TIMER, 0x40);
	mmio_write32(&F, TIMER_ICR, 1000);
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 1000);
	advance(400);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 600);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	advance(600);
	CU_ASSERT_TRUE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x40);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_ICR), 1000);
	mmio_write32(&F, EOI, 0);
	advance(100000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* one shot */
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	/* Writing 0 stops a running count. */
	mmio_write32(&F, TIMER_ICR, 50);
	mmio_write32(&F, TIMER_ICR, 0);
	advance(1000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	stop();
}

static void test_timer_periodic(void)
{
	start();
	mmio_write32(&F, TIMER_DCR, 0x3);			/* divide by 16 */
	mmio_write32(&F, LVT_TIMER, 0x20041);			/* periodic */
	mmio_write32(&F, TIMER_ICR, 100);			/* 1600 ns */
	advance(800);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 50);
	advance(800);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x41);
	mmio_write32(&F, EOI, 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 100);	/* reloaded */
	/* Late by three periods: all three are owed (KVM's
	 * advance_periodic_target_expiration), each raised by the first poll
	 * after the guest took the last one, never merged in the IRR; the
	 * phase is kept. */
	advance(3 * 1600 + 400);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(fake_has_interrupt(&F));
		advance(0);		/* still in the IRR: nothing more */
		CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
		CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x41);
		CU_ASSERT_FALSE(fake_has_interrupt(&F));
		mmio_write32(&F, EOI, 0);
		advance(0);
	}
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 75);
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 1200);
	/* Masked: it counts on, nothing is requested or wakes the VMM. */
	mmio_write32(&F, LVT_TIMER, 0x30041);
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	advance(5000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT(mmio_read32(&F, TIMER_CCR) >= 1 && mmio_read32(&F, TIMER_CCR) <= 100);
	stop();
}

/* A VMM that did not poll for ten seconds owes the last second's periods
 * only (LAPIC_MAX_OWED_NS), so a guest is never stormed; then the period
 * keeps its phase. */
static void test_timer_periodic_owed_bound(void)
{
	const uint64_t period = 128ull * 1000000;		/* ns */
	unsigned raised = 0;

	start();
	mmio_write32(&F, TIMER_DCR, 0xa);			/* divide by 128 */
	mmio_write32(&F, LVT_TIMER, 0x20041);
	mmio_write32(&F, TIMER_ICR, 1000000);
	advance(10000000000ull + period / 2);
	while (fake_has_interrupt(&F) && raised < 100) {
		CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x41);
		mmio_write32(&F, EOI, 0);
		raised++;
		advance(0);
	}
	/* 78 periods ended by 10.064 s; owed are the first within a second
	 * of now when the poll came (it ended at 8.960 s) and the eight after */
	CU_ASSERT_EQUAL(raised, 9);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 375000);	/* 80 ms into the 79th */
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 48000000);
	stop();
}

/* Figure 11-10: every divide value, and a change mid-count keeps the count. */
static void test_timer_divide(void)
{
	static const struct { uint32_t dcr, div; } d[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 },
		{ 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 }, { 0xf4, 2 },
	};
	start();
	mmio_write32(&F, LVT_TIMER, 0x40);
	for (unsigned i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		mmio_write32(&F, TIMER_DCR, d[i].dcr);
		CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_DCR), d[i].dcr & 0xb);
		mmio_write32(&F, TIMER_ICR, 10);
		CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 10 * d[i].div);
	}
	mmio_write32(&F, TIMER_DCR, 0xb);
	mmio_write32(&F, TIMER_ICR, 1000);
	advance(200);
	mmio_write32(&F, TIMER_DCR, 0x0);			/* now by 2 */
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 800);
	advance(200);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 700);
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 1400);
	stop();
}

#define MSR_TSC_DEADLINE 0x6e0

/* IA32_TSC_DEADLINE through the VMM's MSR bus, in TSC units (the fake
 * TSC counts FAKE_TSC_PER_NS a nanosecond): SDM Vol. 3A, 11.5.4.1. */
static void test_timer_tsc_deadline(void)
{
	uint64_t v;

	start();
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, fake_tsc(&F) + 10)); /* one-shot: ignored */
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, 0);
	mmio_write32(&F, TIMER_ICR, 500);
	mmio_write32(&F, LVT_TIMER, 0x40042);			/* TSC-deadline: disarms */
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_ICR), 0);
	mmio_write32(&F, TIMER_ICR, 500);			/* ignored there */
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_ICR), 0);
	CU_ASSERT_EQUAL(mmio_read32(&F, TIMER_CCR), 0);
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	uint64_t dl = fake_tsc(&F) + 300 * FAKE_TSC_PER_NS;
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, dl));
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, dl);					/* reads what was written */
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 300);
	advance(299);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));		/* not before */
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, dl);
	advance(1);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x42);
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, 0);					/* 0 once fired */
	mmio_write32(&F, EOI, 0);
	advance(1000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	stop();
}

/* An armed deadline survives a checkpoint into a fresh machine whose clock
 * is later (a restore, or a hybrid VM's state saved and loaded): it reads
 * back the same TSC value and fires the same time after the load as it
 * had left before the save. */
static void test_timer_tsc_deadline_saved(void)
{
	uint8_t *blob;
	size_t len;
	char err[128];
	uint64_t v;

	start();
	mmio_write32(&F, LVT_TIMER, 0x40044);
	uint64_t dl = fake_tsc(&F) + 700 * FAKE_TSC_PER_NS;
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, dl));
	advance(200);
	CU_ASSERT_EQUAL_FATAL(device_state_save(model, apic, &blob, &len, err, sizeof(err)), 0);
	stop();

	start();
	F.now += 5000000;
	CU_ASSERT_EQUAL(device_state_load(model, apic, blob, len, err, sizeof(err)), 0);
	free(blob);
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, dl);
	CU_ASSERT_EQUAL(model->next_deadline(apic), F.now + 500);
	advance(499);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	advance(1);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x44);
	stop();
}

/* Writing 0 disarms; a deadline already past fires at the write itself;
 * a read after the deadline passed, before any poll, reads 0 (it fired);
 * leaving TSC-deadline mode disarms. */
static void test_timer_tsc_deadline_disarm_and_past(void)
{
	uint64_t v;

	start();
	mmio_write32(&F, LVT_TIMER, 0x40043);
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, fake_tsc(&F) + 1000));
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, 0));
	CU_ASSERT_EQUAL(model->next_deadline(apic), UINT64_MAX);
	advance(10000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, 0);

	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, fake_tsc(&F) - 50));	/* past */
	CU_ASSERT_TRUE(fake_has_interrupt(&F));			/* no time passed */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x43);
	mmio_write32(&F, EOI, 0);
	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, 1));	/* long past */
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x43);
	mmio_write32(&F, EOI, 0);

	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, fake_tsc(&F) + 100));
	F.now += 200;						/* no poll */
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(fake_acknowledge(&F), 0x43);
	mmio_write32(&F, EOI, 0);

	CU_ASSERT_TRUE(fake_msr_write(&F, MSR_TSC_DEADLINE, fake_tsc(&F) + 100));
	mmio_write32(&F, LVT_TIMER, 0x00043);			/* one-shot: disarmed */
	mmio_write32(&F, LVT_TIMER, 0x40043);
	CU_ASSERT_TRUE(fake_msr_read(&F, MSR_TSC_DEADLINE, &v));
	CU_ASSERT_EQUAL(v, 0);
	advance(1000);
	CU_ASSERT_FALSE(fake_has_interrupt(&F));
	stop();
}

/* 11.8.3: a request is delivered only above the PPR's class; PPR follows
 * the TPR and the highest in-service class; EOI retires the highest. */

UNIT_SUITE(lapic_timer, NULL, NULL,
	   UNIT_TEST(test_timer_one_shot),
	   UNIT_TEST(test_timer_periodic),
	   UNIT_TEST(test_timer_periodic_owed_bound),
	   UNIT_TEST(test_timer_divide),
	   UNIT_TEST(test_timer_tsc_deadline),
	   UNIT_TEST(test_timer_tsc_deadline_disarm_and_past),
	   UNIT_TEST(test_timer_tsc_deadline_saved))

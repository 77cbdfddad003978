/*
 * The local APIC's unit tests' fixture (test_lapic.c, test_lapic_timer.c):
 * its register addresses, a fake machine with an 8259 and a local APIC,
 * and the guest's moves (MMIO, an interrupt message, time passing).
 */
#ifndef HYVM_TEST_LAPIC_FIXTURE_H
#define HYVM_TEST_LAPIC_FIXTURE_H

#include <stdlib.h>
#include "unit.h"
#include "devices/device_state.h"
#include "fake_device_env.h"
#include "devices/apic/lapic.h"

#define A(off)	(0xfee00000u + (off))
#define TPR	A(0x80)
#define PPR	A(0xa0)
#define EOI	A(0xb0)
#define LDR	A(0xd0)
#define DFR	A(0xe0)
#define SVR	A(0xf0)
#define ISR(v)	A(0x100 + ((v) / 32) * 0x10)
#define TMR(v)	A(0x180 + ((v) / 32) * 0x10)
#define IRR(v)	A(0x200 + ((v) / 32) * 0x10)
#define ESR	A(0x280)
#define ICR_LO	A(0x300)
#define ICR_HI	A(0x310)
#define LVT_TIMER A(0x320)
#define LVT_LINT0 A(0x350)
#define LVT_ERROR A(0x370)
#define TIMER_ICR A(0x380)
#define TIMER_CCR A(0x390)
#define TIMER_DCR A(0x3e0)

static struct fake_env F;
static struct lapic *apic;
static void *pic;
static const struct device_model *model;
static unsigned eois[256], nr_eois;

static inline void on_eoi(void *ctx, uint8_t vector)
{
	eois[nr_eois++ & 255] = vector;
}

static inline void start(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 64 << 20), 0);
	pic = fake_create(&F, "pic8259");
	apic = fake_create(&F, "lapic");
	CU_ASSERT_PTR_NOT_NULL_FATAL(apic);
	model = fake_model("lapic");
	nr_eois = 0;
	CU_ASSERT_EQUAL(irq_router_listen_eoi(&F.irq, on_eoi, &nr_eois), 0);
}

static inline void stop(void)
{
	fake_env_fini(&F);
}

static inline bool bit(uint32_t addr_of_word, unsigned v)
{
	return mmio_read32(&F, addr_of_word) & (1u << (v & 31));
}

static inline void send(uint8_t vector, bool level)
{
	struct irq_msg m = { .vector = vector, .level = level, .dest = 0 };
	CU_ASSERT_EQUAL(irq_router_send(&F.irq, &m, NULL), 1);
}

static inline void advance(uint64_t ns)
{
	F.now += ns;
	fake_poll_all(&F);
}

#endif

/*
 * The local APIC's state and what its three files share: lapic.c (the
 * register page and the device model), lapic_irq.c (interrupt acceptance,
 * priority, EOI, IPIs, destinations), lapic_timer.c (the APIC timer).
 * Private to devices/apic/.
 */
#ifndef HYVM_LAPIC_INTERNAL_H
#define HYVM_LAPIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/device_util.h"
#include "devices/apic/lapic.h"

/* Register offsets in the page (SDM Vol. 3A, Table 11-1). */
#define APIC_ID		0x020
#define APIC_VERSION	0x030
#define APIC_TPR	0x080
#define APIC_APR	0x090
#define APIC_PPR	0x0a0
#define APIC_EOI	0x0b0
#define APIC_RRD	0x0c0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SVR	0x0f0
#define APIC_ISR	0x100	/* 8 registers, 0x10 apart */
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_LVT_CMCI	0x2f0
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_LVT_BASE	0x320	/* timer, thermal, perf, LINT0, LINT1, error */
#define APIC_TIMER_ICR	0x380
#define APIC_TIMER_CCR	0x390
#define APIC_TIMER_DCR	0x3e0

enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
		 LVT_COUNT };

/* Version register (11.4.8): version 0x14 (an integrated xAPIC), max LVT
 * entry 5 (six entries: no CMCI), no EOI-broadcast suppression; QEMU's
 * value, 0x50014. */
#define APIC_VERSION_VALUE	0x00050014u

#define LVT_VECTOR	0x000000ffu
#define LVT_DELIVERY	0x00000700u	/* bits 10:8 */
#define LVT_STATUS	(1u << 12)	/* delivery status: always idle here */
#define LVT_POLARITY	(1u << 13)
#define LVT_REMOTE_IRR	(1u << 14)
#define LVT_LEVEL	(1u << 15)
#define LVT_MASKED	(1u << 16)
#define LVT_TIMER_MODE	(3u << 17)
#define LVT_TIMER_ONESHOT	(0u << 17)
#define LVT_TIMER_PERIODIC	(1u << 17)
#define LVT_TIMER_TSC_DEADLINE	(2u << 17)
#define LVT_DM_FIXED	(0u << 8)
#define LVT_DM_NMI	(4u << 8)
#define LVT_DM_EXTINT	(7u << 8)

#define SVR_VECTOR	0x000000ffu
#define SVR_ENABLE	(1u << 8)	/* APIC software enable (11.4.7.2) */
#define SVR_NO_FOCUS	(1u << 9)	/* focus processor checking disabled */

/* ESR bits (11.5.3, Figure 11-9). */
#define ESR_SEND_ILLEGAL_VECTOR		(1u << 5)
#define ESR_RECEIVE_ILLEGAL_VECTOR	(1u << 6)
#define ESR_ILLEGAL_REGISTER		(1u << 7)

/* ICR (11.6.1, Figure 11-12). */
#define ICR_VECTOR	0x000000ffu
#define ICR_DELIVERY	0x00000700u
#define ICR_LOGICAL	(1u << 11)
#define ICR_STATUS	(1u << 12)
#define ICR_ASSERT	(1u << 14)
#define ICR_LEVEL	(1u << 15)
#define ICR_SHORTHAND	(3u << 18)
#define ICR_SH_NONE	(0u << 18)
#define ICR_SH_SELF	(1u << 18)
#define ICR_SH_ALL	(2u << 18)
#define ICR_SH_OTHERS	(3u << 18)
#define ICR_LO_WRITABLE	0x000ccfffu

struct lapic {
	struct device_env *env;
	unsigned vcpu;			/* its vCPU; the APIC ID at reset */
	uint32_t id;			/* the ID register: ID in 31:24 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;			/* what a read returns */
	uint32_t esr_pending;		/* errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];	/* bit v%32 of word v/32 */
	/* The timer (lapic_timer.c): armed while count > 0; it counted down
	 * from load_count at load_ns, at LAPIC_BUS_HZ / divide. */
	uint32_t initial_count, dcr;
	uint32_t load_count;
	uint64_t load_ns;
	/* TSC-deadline mode: IA32_TSC_DEADLINE as the guest wrote it (0:
	 * disarmed), and when that TSC value comes, in env->now_ns */
	uint64_t tsc_deadline, tsc_deadline_ns;
	struct lapic_counters counters;
};

/* lapic_irq.c */
void lapic_accept(struct lapic *a, uint8_t vector, bool level);
void lapic_eoi(struct lapic *a);
uint32_t lapic_ppr(const struct lapic *a);
void lapic_send_icr(struct lapic *a);
void lapic_error(struct lapic *a, uint32_t esr_bit);
bool lapic_enabled(const struct lapic *a);
extern const struct irq_controller_ops lapic_controller_ops;
extern const struct irq_msg_sink_ops lapic_sink_ops;

/* lapic_timer.c */
void lapic_timer_write_lvt(struct lapic *a, uint32_t value, uint64_t now);
void lapic_timer_write_initial(struct lapic *a, uint32_t count, uint64_t now);
void lapic_timer_write_dcr(struct lapic *a, uint32_t value, uint64_t now);
uint32_t lapic_timer_current(const struct lapic *a, uint64_t now);
void lapic_timer_poll(void *dev, uint64_t now);
uint64_t lapic_timer_deadline(void *dev);
void lapic_timer_describe(const struct lapic *a, uint64_t now, char *buf, size_t len);
void lapic_timer_write_tsc_deadline(struct lapic *a, uint64_t tsc, uint64_t deadline_ns);
uint64_t lapic_timer_read_tsc_deadline(const struct lapic *a);

static inline bool vec_test(const uint32_t *bits, unsigned v)
{
	return bits[v >> 5] & (1u << (v & 31));
}

static inline void vec_set(uint32_t *bits, unsigned v, bool on)
{
	if (on)
		bits[v >> 5] |= 1u << (v & 31);
	else
		bits[v >> 5] &= ~(1u << (v & 31));
}

/* The highest vector set, or -1. */
static inline int vec_highest(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return -1;
}

#endif

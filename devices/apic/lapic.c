/*
 * The xAPIC local APIC (SDM Vol. 3A, chapter 11) of one vCPU: the register
 * page at 0xfee00000 (Table 11-1) and the device model. The interrupt path
 * is lapic_irq.c, the timer lapic_timer.c.
 *
 * It is its vCPU's interrupt controller (irq_router_set_controller), a
 * sink for interrupt messages (IOAPIC, IPIs, MSI later), and passes the
 * 8259's INTR through LINT0. Configuration: "vcpu=N" (default 0), which is
 * also its APIC ID.
 *
 * Not modelled: relocating the page through IA32_APIC_BASE (the MSR lives
 * in the MSR file, cpu/cpu_msr.c, which would have to reach this device:
 * it would unregister the page and register it at the new base here), the
 * global disable through that MSR (11.4.3), x2APIC, and a page per vCPU
 * (the MMIO bus does not say which vCPU accessed it, so with more vCPUs
 * only vCPU 0's APIC can own the page).
 */
#include <stdlib.h>
#include <hyvm/x86.h>
#include "devices/apic/lapic_internal.h"

/* Writable bits per LVT entry (Figure 11-8): vector, delivery mode,
 * polarity, trigger mode and mask where the entry has them. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE,
	[LVT_THERMAL] = LVT_VECTOR | LVT_DELIVERY | LVT_MASKED,
	[LVT_PERF] = LVT_VECTOR | LVT_DELIVERY | LVT_MASKED,
	[LVT_LINT0] = LVT_VECTOR | LVT_DELIVERY | LVT_POLARITY | LVT_LEVEL | LVT_MASKED,
	[LVT_LINT1] = LVT_VECTOR | LVT_DELIVERY | LVT_POLARITY | LVT_LEVEL | LVT_MASKED,
	[LVT_ERROR] = LVT_VECTOR | LVT_MASKED,
};

static uint64_t now(const struct lapic *a)
{
	return device_now(a->env);
}

static uint32_t reg_read(struct lapic *a, unsigned reg)
{
	if (reg >= APIC_ISR && reg < APIC_ISR + 0x80)
		return a->isr[(reg - APIC_ISR) >> 4];
	if (reg >= APIC_TMR && reg < APIC_TMR + 0x80)
		return a->tmr[(reg - APIC_TMR) >> 4];
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
		return a->irr[(reg - APIC_IRR) >> 4];
	if (reg >= APIC_LVT_BASE && reg < APIC_LVT_BASE + 0x10 * LVT_COUNT)
		return a->lvt[(reg - APIC_LVT_BASE) >> 4];
	switch (reg) {
	case APIC_ID: return a->id;
	case APIC_VERSION: return APIC_VERSION_VALUE;
	case APIC_TPR: return a->tpr;
	case APIC_APR: return 0;	/* arbitration priority: no bus to arbitrate */
	case APIC_PPR: return lapic_ppr(a);
	case APIC_EOI: return 0;	/* write-only */
	case APIC_RRD: return 0;	/* remote read: not on an xAPIC */
	case APIC_LDR: return a->ldr;
	case APIC_DFR: return a->dfr;
	case APIC_SVR: return a->svr;
	case APIC_ESR: return a->esr;
	case APIC_ICR_LO: return a->icr_lo;	/* delivery status idle */
	case APIC_ICR_HI: return a->icr_hi;
	case APIC_TIMER_ICR: return a->initial_count;
	case APIC_TIMER_CCR: return lapic_timer_current(a, now(a));
	case APIC_TIMER_DCR: return a->dcr;
	default:
		lapic_error(a, ESR_ILLEGAL_REGISTER);	/* 11.5.3 */
		return 0;
	}
}

/* 11.4.7.2: clearing the software enable sets every LVT mask bit. */
static void write_svr(struct lapic *a, uint32_t v)
{
	lapic_timer_poll(a, now(a));	/* expiries before the masks */
	a->svr = v & (SVR_VECTOR | SVR_ENABLE | SVR_NO_FOCUS);
	if (!lapic_enabled(a))
		for (unsigned i = 0; i < LVT_COUNT; i++)
			a->lvt[i] |= LVT_MASKED;
}

static void reg_write(struct lapic *a, unsigned reg, uint32_t v)
{
	if (reg >= APIC_LVT_BASE && reg < APIC_LVT_BASE + 0x10 * LVT_COUNT) {
		unsigned i = (reg - APIC_LVT_BASE) >> 4;
		if (i == LVT_TIMER) {
			lapic_timer_write_lvt(a, v, now(a));
			return;
		}
		a->lvt[i] = (a->lvt[i] & LVT_REMOTE_IRR) | (v & lvt_writable[i]);
		if (!lapic_enabled(a))
			a->lvt[i] |= LVT_MASKED;	/* 11.4.7.2 */
		return;
	}
	switch (reg) {
	case APIC_ID: a->id = v & 0xff000000u; break;
	case APIC_TPR: a->tpr = v & 0xff; break;
	case APIC_EOI: lapic_eoi(a); break;
	case APIC_LDR: a->ldr = v & 0xff000000u; break;
	case APIC_DFR: a->dfr = v | 0x0fffffffu; break;	/* 27:0 read as ones */
	case APIC_SVR: write_svr(a, v); break;
	case APIC_ESR:
		/* 11.5.3: a write latches the errors since the last write */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case APIC_ICR_LO:
		a->icr_lo = v & ICR_LO_WRITABLE;
		lapic_send_icr(a);
		break;
	case APIC_ICR_HI: a->icr_hi = v & 0xff000000u; break;
	case APIC_TIMER_ICR: lapic_timer_write_initial(a, v, now(a)); break;
	case APIC_TIMER_DCR: lapic_timer_write_dcr(a, v, now(a)); break;
	case APIC_VERSION: case APIC_APR: case APIC_PPR: case APIC_RRD:
	case APIC_TIMER_CCR:
		break;		/* read-only */
	default:
		if ((reg >= APIC_ISR && reg < APIC_IRR + 0x80))
			break;	/* ISR, TMR, IRR: read-only */
		lapic_error(a, ESR_ILLEGAL_REGISTER);
		break;
	}
}

/* 11.4.1: registers are 16-byte aligned and accessed as aligned 32-bit
 * loads and stores; narrower reads inside the first dword are answered
 * (some processors do, and it costs nothing), anything else reads 0 or is
 * dropped, and counted. */
static void lapic_mmio(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		       bool is_write)
{
	struct lapic *a = opaque;
	unsigned off = (unsigned)(addr & (LAPIC_PAGE_SIZE - 1));
	unsigned reg = off & ~0xfu, byte = off & 0xf;

	if (is_write) {
		if (len != 4 || byte) {
			a->counters.bad_access++;
			return;
		}
		reg_write(a, reg, (uint32_t)access_value(data, 4));
		return;
	}
	uint64_t v = 0;
	if (byte + len <= 4)
		v = reg_read(a, reg) >> (8 * byte);
	else
		a->counters.bad_access++;
	for (unsigned i = 0; i < len; i++)
		data[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

/* IA32_TSC_DEADLINE (11.5.4.1), from the VMM's MSR bus. Expiries up to
 * now come first: a deadline that passed before a read makes it read 0,
 * and one that passed before a write fired before it. A deadline written
 * in the past fires at once (its vector is in the IRR before the guest
 * runs again). */
static void lapic_msr(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		      bool is_write)
{
	struct lapic *a = opaque;
	uint64_t v;

	lapic_timer_poll(a, now(a));
	if (is_write) {
		v = access_value(data, len);
		lapic_timer_write_tsc_deadline(a, v, v ? a->env->tsc_to_ns(a->env->tsc_ctx,
									 a->vcpu, v) : 0);
		lapic_timer_poll(a, now(a));
		return;
	}
	v = lapic_timer_read_tsc_deadline(a);
	for (unsigned i = 0; i < len; i++)
		data[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

/* The state firmware hands over, not the SDM's power-on state (11.4.7.1:
 * software-disabled, every LVT masked): with no BIOS to program it, that
 * would cut the 8259 off. So, as SeaBIOS leaves the BSP for QEMU (and the
 * MP specification's virtual wire mode, 3.6.2.2): software-enabled with
 * spurious vector 0xff, LINT0 ExtINT unmasked (the 8259's INTR), LINT1
 * NMI, both with the level trigger bit SeaBIOS writes (0x8700, 0x8400,
 * read by tests/guests/apic_timer.c under QEMU), the rest masked. Linux keeps LINT0 as ExtINT on the BSP when it
 * finds it so. */
static void lapic_reset(void *dev)
{
	struct lapic *a = dev;
	struct lapic_counters counters = a->counters;
	struct device_env *env = a->env;
	unsigned vcpu = a->vcpu;

	*a = (struct lapic){ .env = env, .vcpu = vcpu, .counters = counters };
	a->id = vcpu << 24;
	a->dfr = 0xffffffffu;
	a->svr = SVR_ENABLE | 0xff;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
	a->lvt[LVT_LINT0] = LVT_LEVEL | LVT_DM_EXTINT;
	a->lvt[LVT_LINT1] = LVT_LEVEL | LVT_DM_NMI;
}

static void lapic_disconnect(struct lapic *a)
{
	irq_router_unlisten(a->env->irq, a);
	irq_router_clear_controller(a->env->irq, a);
	bus_unregister_owner(a->env->mmio, a);
	if (a->env->msr)
		bus_unregister_owner(a->env->msr, a);
}

static void *lapic_create(struct device_env *env, const char *config,
			  char *err, size_t errlen)
{
	struct device_config_key keys[] = {
		{ "vcpu", 0, IRQ_ROUTER_MAX_VCPUS - 1, 0 },
	};

	if (device_config_parse("lapic", config, keys, 1, err, errlen))
		return NULL;
	if (!env->irq) {
		snprintf(err, errlen, "device lapic: the machine has no interrupt lines");
		return NULL;
	}
	struct lapic *a = calloc(1, sizeof(*a));
	if (!a)
		return device_no_memory(err, errlen, "lapic");
	a->env = env;
	a->vcpu = (unsigned)keys[0].value;
	lapic_reset(a);
	if (irq_router_set_controller(env->irq, a->vcpu, &lapic_controller_ops, a)) {
		snprintf(err, errlen, "device lapic: vCPU %u has an interrupt controller already",
			 a->vcpu);
		free(a);
		return NULL;
	}
	if (irq_router_add_sink(env->irq, &lapic_sink_ops, a) ||
	    bus_register(env->mmio, LAPIC_DEFAULT_BASE, LAPIC_PAGE_SIZE, lapic_mmio, a,
			 "lapic")) {
		lapic_disconnect(a);
		free(a);
		snprintf(err, errlen, "device lapic: the page at 0x%llx is taken",
			 (unsigned long long)LAPIC_DEFAULT_BASE);
		return NULL;
	}
	/* A machine whose VMM routes no MSRs leaves TSC-deadline mode
	 * unreachable; the CPU model then does not list it either. */
	if (env->msr && env->tsc_to_ns &&
	    bus_register(env->msr, DEVICE_MSR_ADDR(a->vcpu, MSR_IA32_TSC_DEADLINE), DEVICE_MSR_LEN,
			 lapic_msr, a, "lapic-tsc-deadline")) {
		snprintf(err, errlen, "device lapic: vCPU %u's IA32_TSC_DEADLINE is taken",
			 a->vcpu);
		lapic_disconnect(a);
		free(a);
		return NULL;
	}
	return a;
}

static void put_words(struct ds_writer *w, const uint32_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ds_put_u32(w, v[i]);
}

static void get_words(struct ds_reader *r, uint32_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		v[i] = ds_get_u32(r);
}

/* Times are saved relative to the clock, as the PIT's. */
static void lapic_save(void *dev, struct ds_writer *w)
{
	struct lapic *a = dev;
	uint64_t t = now(a);
	const uint32_t regs[] = { a->id, a->tpr, a->ldr, a->dfr, a->svr, a->esr,
				  a->esr_pending, a->icr_lo, a->icr_hi, a->initial_count,
				  a->dcr, a->load_count };

	put_words(w, regs, sizeof(regs) / sizeof(regs[0]));
	put_words(w, a->lvt, LVT_COUNT);
	put_words(w, a->irr, 8);
	put_words(w, a->isr, 8);
	put_words(w, a->tmr, 8);
	ds_put_u64(w, a->load_count ? a->load_ns - t : 0);
	ds_put_bool(w, a->tsc_deadline != 0);
	ds_put_u64(w, a->tsc_deadline ? a->tsc_deadline_ns - t : 0);
	ds_put_u64(w, a->tsc_deadline);		/* version 2 */
}

static int lapic_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct lapic *a = dev, n = *a;
	uint64_t t = now(a);
	uint32_t regs[12];

	get_words(r, regs, 12);
	get_words(r, n.lvt, LVT_COUNT);
	get_words(r, n.irr, 8);
	get_words(r, n.isr, 8);
	get_words(r, n.tmr, 8);
	uint64_t load_rel = ds_get_u64(r);
	bool deadline = ds_get_bool(r);
	uint64_t rel = ds_get_u64(r);
	/* Version 1 had no guest value: no guest could arm the deadline
	 * then (IA32_TSC_DEADLINE was not routed), so it loads disarmed. */
	uint64_t tsc_deadline = version >= 2 ? ds_get_u64(r) : 0;
	if (!ds_done(r))
		return -1;
	/* What a guest could not have written is cut off, as a write would. */
	n.id = regs[0] & 0xff000000u;
	n.tpr = regs[1] & 0xff;
	n.ldr = regs[2] & 0xff000000u;
	n.dfr = regs[3] | 0x0fffffffu;
	n.svr = regs[4] & (SVR_VECTOR | SVR_ENABLE | SVR_NO_FOCUS);
	n.esr = regs[5] & 0xff;
	n.esr_pending = regs[6] & 0xff;
	n.icr_lo = regs[7] & ICR_LO_WRITABLE;
	n.icr_hi = regs[8] & 0xff000000u;
	n.initial_count = regs[9];
	n.dcr = regs[10] & 0xb;
	n.load_count = regs[11];
	n.load_ns = n.load_count ? t + load_rel : 0;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		n.lvt[i] &= lvt_writable[i] | LVT_REMOTE_IRR;
	n.tsc_deadline = deadline ? tsc_deadline : 0;
	n.tsc_deadline_ns = n.tsc_deadline ? t + rel : 0;
	*a = n;
	return 0;
}

static void lapic_destroy(void *dev)
{
	struct lapic *a = dev;

	lapic_disconnect(a);
	free(a);
}

void lapic_counters(const struct lapic *a, struct lapic_counters *out)
{
	*out = a->counters;
}

/* " 0x24 0xec" for the vectors set in bits, at most 8 of them. */
static int vector_list(const uint32_t *bits, char *buf, size_t len)
{
	int n = 0, shown = 0;

	buf[0] = 0;
	for (int v = 255; v >= 0 && (size_t)n < len; v--) {
		if (!vec_test(bits, (unsigned)v))
			continue;
		n += snprintf(buf + n, len - n, shown++ < 8 ? " 0x%02x" : " ...", v);
		if (shown > 8)
			break;
	}
	if (!shown)
		snprintf(buf, len, " -");
	return n;
}

/* Which vectors wait and which are in service, what gates them (TPR,
 * PPR, the software enable), the timer and LINT0 (the 8259's way in). */
static void lapic_describe(void *dev, uint64_t now_ns, char *buf, size_t len)
{
	const struct lapic *a = dev;
	char irr[64], isr[64], timer[256];

	vector_list(a->irr, irr, sizeof(irr));
	vector_list(a->isr, isr, sizeof(isr));
	lapic_timer_describe(a, now_ns, timer, sizeof(timer));
	snprintf(buf, len, "lapic %u: svr 0x%03x tpr 0x%02x ppr 0x%02x irr%s isr%s; %s; "
		 "lint0 0x%05x lint1 0x%05x",
		 a->vcpu, a->svr, a->tpr, lapic_ppr(a), irr, isr, timer,
		 a->lvt[LVT_LINT0], a->lvt[LVT_LINT1]);
}

static struct device_model lapic_model = {
	.name = "lapic",
	.level = DEVICE_LEVEL_CORE,
	.state_version = 2,	/* 2: IA32_TSC_DEADLINE's value */
	.create = lapic_create,
	.reset = lapic_reset,
	.save = lapic_save,
	.load = lapic_load,
	.poll = lapic_timer_poll,
	.next_deadline = lapic_timer_deadline,
	.describe = lapic_describe,
	.destroy = lapic_destroy,
};
DEVICE_REGISTER(lapic_model)

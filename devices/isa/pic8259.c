/*
 * The PC/AT interrupt controller: two Intel 8259A in cascade, master at
 * 0x20/0x21 with the slave's INT on its IR2, slave at 0xa0/0xa1, and the
 * edge/level control registers (ELCR) at 0x4d0/0x4d1 as on PIIX/ICH.
 * It listens on interrupt lines 0-15 and is the machine's ExtINT source
 * (irq_router_set_extint): its INT pin is the BSP's INTR, reached through
 * the local APIC's LINT0 in ExtINT mode, or directly on a machine without
 * a local APIC. The VMM, not an engine, asks it through irq_controller_ops,
 * so every engine sees the same interrupt behaviour.
 *
 * Register and command names follow the 8259A datasheet: ICW1-ICW4
 * (initialization command words), OCW1 (IMR), OCW2 (EOI/rotation),
 * OCW3 (register read select, poll, special mask).
 */
#include <stdlib.h>
#include "devices/device_util.h"

#define PIC_MASTER_BASE	0x20
#define PIC_SLAVE_BASE	0xa0
#define PIC_ELCR_BASE	0x4d0
#define PIC_CASCADE_IRQ	2

#define ICW1_IC4	0x01	/* ICW4 follows */
#define ICW1_SNGL	0x02	/* single 8259, no ICW3 */
#define ICW1_LTIM	0x08	/* level-triggered inputs */
#define ICW1_INIT	0x10	/* A0=0 write with D4 set is ICW1 */
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10	/* special fully nested mode */
#define OCW3_SEL	0x08	/* A0=0 write with D4=0, D3=1 is OCW3 */
#define OCW3_RIS	0x01	/* read ISR (else IRR) */
#define OCW3_RR		0x02	/* RIS is valid */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode value */
#define OCW3_ESMM	0x40	/* SMM is valid */

/* ELCR bits that can be level: IRQ0, 1, 2, 8 and 13 are edge only. */
#define ELCR_MASTER_MASK 0xf8
#define ELCR_SLAVE_MASK	 0xde

enum icw_expect { EXPECT_OCW, EXPECT_ICW2, EXPECT_ICW3, EXPECT_ICW4 };

struct i8259 {
	uint8_t irr, isr, imr;
	uint8_t line;		/* input levels, for edge detection */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base;	/* ICW2 T7-T3 */
	uint8_t lowest_priority_after; /* rotation: IR(n+1) is highest */
	enum icw_expect expect;
	bool ic4, single, ltim;
	bool auto_eoi, rotate_on_aeoi, sfnm;
	bool read_isr, poll, special_mask;
	bool is_master;
};

struct pic {
	struct device_env *env;
	struct i8259 chip[2];	/* 0 master, 1 slave */
};

static uint8_t level_mask(const struct i8259 *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* Priority 0 is the highest; returns 8 when nothing in mask. */
static int highest_priority(const struct i8259 *c, uint8_t mask)
{
	for (int prio = 0; prio < 8; prio++) {
		int irq = (prio + c->lowest_priority_after) & 7;
		if (mask & (1u << irq))
			return prio;
	}
	return 8;
}

/* The IR this chip would present on INT, or -1. */
static int chip_pending_irq(const struct i8259 *c)
{
	/* nothing requested: the common answer, asked at every port access
	 * the VMM serves without an exit (vm.c io_fast), without the
	 * priority scan (a tenth of an IN's time, docs/perf/bt-exits.md) */
	if (!(c->irr & ~c->imr))
		return -1;
	int prio = highest_priority(c, c->irr & ~c->imr);
	if (prio == 8)
		return -1;

	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	/* In SFNM the master lets a higher slave request through while the
	 * cascade IR is in service. */
	if (c->sfnm && c->is_master)
		in_service &= ~(1u << PIC_CASCADE_IRQ);
	if (prio < highest_priority(c, in_service))
		return (prio + c->lowest_priority_after) & 7;
	return -1;
}

static void chip_set_input(struct i8259 *c, unsigned ir, bool level)
{
	uint8_t bit = 1u << ir;

	if (level_mask(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->line & bit)) {
		c->irr |= bit;	/* rising edge; IRR holds until INTA */
	}
	if (level)
		c->line |= bit;
	else
		c->line &= ~bit;
}

/* The slave's INT output is wired to the master's IR2. */
static void update_cascade(struct pic *p)
{
	chip_set_input(&p->chip[0], PIC_CASCADE_IRQ,
		       chip_pending_irq(&p->chip[1]) >= 0);
}

static void chip_reset(struct i8259 *c)
{
	uint8_t elcr = c->elcr, elcr_mask = c->elcr_mask;
	bool master = c->is_master;

	*c = (struct i8259){ .elcr = elcr, .elcr_mask = elcr_mask,
			     .is_master = master };
}

/* INTA on one chip for IR irq. */
static void chip_intack(struct i8259 *c, int irq)
{
	uint8_t bit = 1u << irq;

	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->lowest_priority_after = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
	if (!(level_mask(c) & bit))
		c->irr &= ~bit;
}

/* ISA IRQ n (GSI n) is the master's IRn for n < 8, the slave's IR(n-8)
 * otherwise. */
static void pic_line_changed(void *ctx, unsigned irq, bool level)
{
	struct pic *p = ctx;

	if (irq >= 16)
		return;
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	update_cascade(p);
}

static bool pic_has_interrupt(void *ctx, unsigned vcpu)
{
	struct pic *p = ctx;

	return chip_pending_irq(&p->chip[0]) >= 0;
}

/* INTA cycle: returns the vector to deliver and updates ISR/IRR. */
static int pic_acknowledge(void *ctx, unsigned vcpu)
{
	struct pic *p = ctx;
	struct i8259 *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_pending_irq(m);
	int vector;

	if (irq < 0) {
		/* Request gone before INTA: the 8259A answers IR7, no ISR bit. */
		return m->vector_base | 7;
	}
	chip_intack(m, irq);
	if (irq == PIC_CASCADE_IRQ && !m->single) {
		int sirq = chip_pending_irq(s);
		if (sirq >= 0) {
			chip_intack(s, sirq);
			vector = s->vector_base | sirq;
		} else {
			vector = s->vector_base | 7;	/* spurious IRQ15 */
		}
	} else {
		vector = m->vector_base | irq;
	}
	update_cascade(p);
	return vector;
}

/* OCW3 poll: the read itself is the acknowledge. */
static uint8_t chip_poll_read(struct pic *p, struct i8259 *c)
{
	int irq = chip_pending_irq(c);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_intack(c, irq);
	if (!c->is_master) {
		/* The master's IR2 was the path to this request. */
		struct i8259 *m = &p->chip[0];
		m->isr &= ~(1u << PIC_CASCADE_IRQ);
		update_cascade(p);
	}
	return 0x80 | (uint8_t)irq;
}

static void chip_ocw2(struct i8259 *c, uint8_t val)
{
	unsigned cmd = val >> 5;
	int irq;

	switch (cmd) {
	case 0:	/* rotate in automatic EOI mode: clear */
	case 4:	/* ... set */
		c->rotate_on_aeoi = cmd == 4;
		break;
	case 1:	/* non-specific EOI */
	case 5:	/* rotate on non-specific EOI */
		irq = highest_priority(c, c->isr);
		if (irq == 8)
			break;
		irq = (irq + c->lowest_priority_after) & 7;
		c->isr &= ~(1u << irq);
		if (cmd == 5)
			c->lowest_priority_after = (irq + 1) & 7;
		break;
	case 3:	/* specific EOI */
		c->isr &= ~(1u << (val & 7));
		break;
	case 6:	/* set priority: L2-L0 becomes the lowest */
		c->lowest_priority_after = (val + 1) & 7;
		break;
	case 7:	/* rotate on specific EOI */
		c->isr &= ~(1u << (val & 7));
		c->lowest_priority_after = ((val & 7) + 1) & 7;
		break;
	default:	/* 2: no operation */
		break;
	}
}

static void chip_write(struct pic *p, struct i8259 *c, unsigned a0,
		       uint8_t val)
{
	if (a0 == 0) {
		if (val & ICW1_INIT) {
			chip_reset(c);
			c->expect = EXPECT_ICW2;
			c->ic4 = val & ICW1_IC4;
			c->single = val & ICW1_SNGL;
			c->ltim = val & ICW1_LTIM;
		} else if (val & OCW3_SEL) {
			if (val & OCW3_RR)
				c->read_isr = val & OCW3_RIS;
			if (val & OCW3_POLL)
				c->poll = true;
			if (val & OCW3_ESMM)
				c->special_mask = val & OCW3_SMM;
		} else {
			chip_ocw2(c, val);
		}
		update_cascade(p);
		return;
	}

	switch (c->expect) {
	case EXPECT_OCW:
		c->imr = val;
		break;
	case EXPECT_ICW2:
		c->vector_base = val & 0xf8;
		if (!c->single)
			c->expect = EXPECT_ICW3;
		else
			c->expect = c->ic4 ? EXPECT_ICW4 : EXPECT_OCW;
		break;
	case EXPECT_ICW3:
		/* Cascade wiring is fixed on a PC; nothing to record. */
		c->expect = c->ic4 ? EXPECT_ICW4 : EXPECT_OCW;
		break;
	case EXPECT_ICW4:
		c->auto_eoi = val & ICW4_AEOI;
		c->sfnm = val & ICW4_SFNM;
		c->expect = EXPECT_OCW;
		break;
	}
	update_cascade(p);
}

static uint8_t chip_read(struct pic *p, struct i8259 *c, unsigned a0)
{
	if (c->poll)
		return chip_poll_read(p, c);
	if (a0)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		   bool is_write)
{
	struct pic *p = opaque;
	struct i8259 *c = &p->chip[addr >= PIC_SLAVE_BASE];
	unsigned base = addr >= PIC_SLAVE_BASE ? PIC_SLAVE_BASE : PIC_MASTER_BASE;

	for (unsigned i = 0; i < len; i++) {
		unsigned a0 = (unsigned)(addr + i - base) & 1;
		if (is_write)
			chip_write(p, c, a0, data[i]);
		else
			data[i] = chip_read(p, c, a0);
	}
}

static void elcr_io(void *opaque, uint64_t addr, uint8_t *data, unsigned len,
		    bool is_write)
{
	struct pic *p = opaque;

	for (unsigned i = 0; i < len; i++) {
		struct i8259 *c = &p->chip[(addr + i - PIC_ELCR_BASE) & 1];
		if (is_write)
			c->elcr = data[i] & c->elcr_mask;
		else
			data[i] = c->elcr;
	}
	/* A line switched to level mode takes its current level into IRR. */
	for (unsigned n = 0; n < 2; n++) {
		struct i8259 *c = &p->chip[n];
		c->irr = (uint8_t)((c->irr & ~level_mask(c)) |
				   (c->line & level_mask(c)));
	}
	update_cascade(p);
}

static const struct irq_controller_ops pic_controller_ops = {
	.has_interrupt = pic_has_interrupt,
	.acknowledge = pic_acknowledge,
};

static void pic_disconnect(struct pic *p)
{
	if (p->env->irq) {
		irq_router_unlisten(p->env->irq, p);
		irq_router_clear_controller(p->env->irq, p);
	}
	bus_unregister_owner(p->env->pio, p);
}

/* As a PC BIOS leaves the pair (vectors 0x08 and 0x70, every line but the
 * cascade masked), so a guest that never programs the PIC sees no
 * interrupt, as it would under SeaBIOS. The input lines keep their levels:
 * they are wires from the devices. */
static void pic_reset(void *dev)
{
	struct pic *p = dev;

	for (unsigned n = 0; n < 2; n++) {
		uint8_t line = p->chip[n].line;
		p->chip[n].elcr = 0;
		chip_reset(&p->chip[n]);
		p->chip[n].line = line;
	}
	p->chip[0].vector_base = 0x08;
	p->chip[1].vector_base = 0x70;
	p->chip[0].imr = (uint8_t)~(1u << PIC_CASCADE_IRQ);
	p->chip[1].imr = 0xff;
	update_cascade(p);
}

static void *pic_create(struct device_env *env, const char *config,
			char *err, size_t errlen)
{
	if (device_config_parse("pic8259", config, NULL, 0, err, errlen))
		return NULL;
	struct pic *p = calloc(1, sizeof(*p));
	if (!p)
		return device_no_memory(err, errlen, "pic8259");
	p->env = env;
	p->chip[0].is_master = true;
	p->chip[0].elcr_mask = ELCR_MASTER_MASK;
	p->chip[1].elcr_mask = ELCR_SLAVE_MASK;
	pic_reset(p);
	if (!env->irq ||
	    irq_router_set_extint(env->irq, &pic_controller_ops, p)) {
		free(p);
		if (!env->irq)
			snprintf(err, errlen, "device pic8259: the machine has no interrupt lines");
		else
			snprintf(err, errlen, "device pic8259: the machine has an ExtINT "
				 "source (another 8259 pair) already");
		return NULL;
	}
	if (irq_router_listen(env->irq, 0, 16, pic_line_changed, p) ||
	    bus_register(env->pio, PIC_MASTER_BASE, 2, pic_io, p, "pic-master") ||
	    bus_register(env->pio, PIC_SLAVE_BASE, 2, pic_io, p, "pic-slave") ||
	    bus_register(env->pio, PIC_ELCR_BASE, 2, elcr_io, p, "pic-elcr")) {
		pic_disconnect(p);
		free(p);
		return device_ports_taken(err, errlen, "pic8259", PIC_MASTER_BASE);
	}
	return p;
}

static void chip_save(const struct i8259 *c, struct ds_writer *w)
{
	ds_put_u8(w, c->irr);
	ds_put_u8(w, c->isr);
	ds_put_u8(w, c->imr);
	ds_put_u8(w, c->line);
	ds_put_u8(w, c->elcr);
	ds_put_u8(w, c->vector_base);
	ds_put_u32(w, c->lowest_priority_after);
	ds_put_u32(w, c->expect);
	const bool flags[] = { c->ic4, c->single, c->ltim, c->auto_eoi,
			       c->rotate_on_aeoi, c->sfnm, c->read_isr, c->poll,
			       c->special_mask };
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		ds_put_bool(w, flags[i]);
}

static void chip_load(struct i8259 *c, struct ds_reader *r)
{
	c->irr = ds_get_u8(r);
	c->isr = ds_get_u8(r);
	c->imr = ds_get_u8(r);
	c->line = ds_get_u8(r);
	c->elcr = ds_get_u8(r) & c->elcr_mask;
	c->vector_base = ds_get_u8(r) & 0xf8;
	c->lowest_priority_after = (uint8_t)ds_get_below(r, 8, "rotation");
	c->expect = ds_get_below(r, EXPECT_ICW4 + 1, "initialization step");
	bool *flags[] = { &c->ic4, &c->single, &c->ltim, &c->auto_eoi,
			  &c->rotate_on_aeoi, &c->sfnm, &c->read_isr, &c->poll,
			  &c->special_mask };
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		*flags[i] = ds_get_bool(r);
}

static void pic_save(void *dev, struct ds_writer *w)
{
	struct pic *p = dev;

	chip_save(&p->chip[0], w);
	chip_save(&p->chip[1], w);
}

static int pic_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct pic *p = dev;
	struct i8259 chip[2] = { p->chip[0], p->chip[1] };

	chip_load(&chip[0], r);
	chip_load(&chip[1], r);
	if (!ds_done(r))
		return -1;
	p->chip[0] = chip[0];
	p->chip[1] = chip[1];
	update_cascade(p);
	return 0;
}

static void pic_destroy(void *dev)
{
	struct pic *p = dev;

	pic_disconnect(p);
	free(p);
}

/* For the stop report: each chip's request, service and mask bits. */
static void pic_describe(void *dev, uint64_t now_ns, char *buf, size_t len)
{
	const struct i8259 *m = &((struct pic *)dev)->chip[0], *s = m + 1;

	snprintf(buf, len, "pic: master irr 0x%02x isr 0x%02x imr 0x%02x base 0x%02x; "
		 "slave irr 0x%02x isr 0x%02x imr 0x%02x base 0x%02x", m->irr, m->isr, m->imr,
		 m->vector_base, s->irr, s->isr, s->imr, s->vector_base);
}

static struct device_model pic8259_model = {
	.name = "pic8259",
	.level = DEVICE_LEVEL_CORE,
	.state_version = 1,
	.create = pic_create,
	.reset = pic_reset,
	.save = pic_save,
	.load = pic_load,
	.describe = pic_describe,
	.destroy = pic_destroy,
};
DEVICE_REGISTER(pic8259_model)

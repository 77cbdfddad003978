/*
 * The 8254's saved state (checkpoints, hybrid moves): every channel's
 * programming, counting and latches, and channel 0's owed periods.
 */
#include "devices/device_util.h"
#include "devices/isa/pit8254.h"

/* Times are saved relative to the clock at save time, so a state loaded
 * later (or in another process) counts on from where it was. */
void pit_state_save(void *dev, struct ds_writer *w)
{
	struct pit *p = dev;
	uint64_t now = device_now(p->env);

	for (unsigned i = 0; i < 3; i++) {
		const struct pit_channel *c = &p->ch[i];
		ds_put_u32(w, c->mode);
		ds_put_u32(w, c->rw);
		ds_put_bool(w, c->bcd);
		ds_put_u32(w, c->reload);
		ds_put_bool(w, c->loaded);
		ds_put_bool(w, c->started);
		ds_put_bool(w, c->gate);
		ds_put_bool(w, c->running);
		ds_put_u64(w, c->started ? c->start_ns - now : 0);
		ds_put_u64(w, c->tick_base);
		ds_put_bool(w, c->write_msb_next);
		ds_put_u8(w, c->write_lsb);
		ds_put_bool(w, c->read_msb_next);
		ds_put_u32(w, c->latched_bytes);
		ds_put_u16(w, c->latched_count);
		ds_put_bool(w, c->status_latched);
		ds_put_u8(w, c->status);
		ds_put_u64(w, c->periods_signalled);
	}
	ds_put_bool(w, p->speaker_enable);
}

int pit_state_load(void *dev, struct ds_reader *r, unsigned version)
{
	struct pit *p = dev, t = *p;
	uint64_t now = device_now(p->env);

	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &t.ch[i];
		c->mode = ds_get_below(r, 8, "counter mode");
		c->rw = ds_get_below(r, 4, "read/write mode");
		c->bcd = ds_get_bool(r);
		c->reload = ds_get_u32(r);
		if (c->reload > 65536)
			ds_fail(r, "saved state is garbled (PIT count above 65536)");
		c->loaded = ds_get_bool(r);
		if (c->loaded && c->reload == 0)
			ds_fail(r, "saved state is garbled (PIT count 0)");
		c->started = ds_get_bool(r);
		c->gate = ds_get_bool(r);
		c->running = ds_get_bool(r);
		c->start_ns = ds_get_u64(r);
		c->start_ns = c->started ? now + c->start_ns : 0;
		c->tick_base = ds_get_u64(r);
		c->write_msb_next = ds_get_bool(r);
		c->write_lsb = ds_get_u8(r);
		c->read_msb_next = ds_get_bool(r);
		c->latched_bytes = ds_get_below(r, 3, "latched bytes");
		c->latched_count = ds_get_u16(r);
		c->status_latched = ds_get_bool(r);
		c->status = ds_get_u8(r);
		c->periods_signalled = ds_get_u64(r);
		c->last_edge_ns = 0;	/* a clock of this process only */
	}
	t.speaker_enable = ds_get_bool(r);
	if (!ds_done(r))
		return -1;
	*p = t;
	return 0;
}

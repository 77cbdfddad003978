/*
 * The 8254 PIT's state, shared by its model (pit8254.c) and its save and
 * load (pit8254_state.c). Not an API: devices meet the VMM only through
 * the buses and interrupt lines.
 */
#ifndef HYVM_DEVICES_PIT8254_H
#define HYVM_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/device.h"

struct pit_channel {
	unsigned mode;		/* 0-5; 6 and 7 alias 2 and 3 */
	unsigned rw;
	bool bcd;
	uint32_t reload;	/* 1..65536 (binary) or 1..10000 (BCD) */
	bool loaded;		/* a count was written since the control word */
	bool started;		/* counting (modes 1/5: after a gate trigger) */
	bool gate;
	bool running;		/* not frozen by a low gate */
	uint64_t start_ns;	/* clock at tick_base */
	uint64_t tick_base;	/* ticks elapsed before start_ns */

	bool write_msb_next;	/* lohi write: LSB done, MSB next */
	uint8_t write_lsb;
	bool read_msb_next;	/* lohi read of the live count */
	unsigned latched_bytes;	/* 0, 1 or 2 bytes of latched count left */
	uint16_t latched_count;
	bool status_latched;
	uint8_t status;

	uint64_t periods_signalled;	/* channel 0: periods whose edge was raised
					   (or dropped as beyond MAX_OWED) */
	uint64_t last_edge_ns;		/* channel 0: clock at the last edge */
};

struct pit {
	struct device_env *env;
	struct pit_channel ch[3];
	bool speaker_enable;
};

void pit_state_save(void *dev, struct ds_writer *w);
int pit_state_load(void *dev, struct ds_reader *r, unsigned version);

#endif

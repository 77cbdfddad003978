/*
 * The debugger on bt (engine_ops.set_guest_debug): single steps and
 * execution breakpoints without touching guest memory. A breakpoint
 * address always starts a block (translate.c ends a block before one),
 * such a block is never chained or jump-cached into (dispatch.c), so
 * every arrival at it passes the dispatcher's check here. A step runs
 * one instruction per block. Watchpoints are refused: translated code
 * reaches guest memory directly through the views, with no hook per
 * access; gdb then watches in software, by single steps.
 */
#include <stdio.h>
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/translator.h"
#include "engines/engine.h"

_Static_assert(BT_DEBUG_MAX_BP == ENGINE_DEBUG_MAX_SW + 4, "bt's breakpoint list holds them all");

int bt_set_guest_debug(struct bt_cpu *cpu, const struct engine_debug *d, char *err,
		       size_t errlen)
{
	uint32_t bp[BT_DEBUG_MAX_BP];
	unsigned nr = 0;

	if (d) {
		for (int i = 0; i < 4; i++) {
			if (!(d->dr7 >> (2 * i) & 3))
				continue;
			if ((d->dr7 >> (16 + 4 * i) & 3) != DR7_RW_EXEC) {
				snprintf(err, errlen, "bt: no watchpoints (translated code reaches guest "
					 "memory directly, with no check per access)");
				return -1;
			}
			bp[nr++] = (uint32_t)d->dr[i];
		}
		if (d->nr_sw > ENGINE_DEBUG_MAX_SW) {
			snprintf(err, errlen, "bt: at most %d software breakpoints", ENGINE_DEBUG_MAX_SW);
			return -1;
		}
		for (unsigned i = 0; i < d->nr_sw; i++)
			bp[nr++] = (uint32_t)d->sw[i];
	}
	/* blocks were cut and marked for the old list: a new one needs new blocks */
	bool changed = nr != cpu->dbg.nr_bp;
	for (unsigned i = 0; i < nr && !changed; i++)
		changed = !bt_debug_is_bp(cpu, bp[i]);
	memcpy(cpu->dbg.bp, bp, nr * sizeof(bp[0]));
	cpu->dbg.nr_bp = nr;
	if (changed)
		tc_flush(cpu->vm, "debugger breakpoints");
	cpu->dbg.step = d && d->single_step;
	if (!cpu->dbg.step)
		cpu->dbg.step_done = false;
	cpu->dbg.active = cpu->dbg.step || nr;
	if (!cpu->dbg.active)
		cpu->dbg.skip_once = false;
	return 0;
}

static void stop(struct bt_cpu *cpu, struct vcpu_exit *exit, enum engine_debug_stop why,
		 uint32_t linear)
{
	exit->kind = EXIT_DEBUG;
	exit->debug.reason = why;
	exit->debug.addr = linear;
	cpu->dbg.skip_once = true;
	cpu->dbg.skip_lin = linear;
}

bool bt_debug_stop(struct bt_cpu *cpu, struct vcpu_exit *exit)
{
	uint32_t lin = cs_linear(cpu, cpu->eip);

	if (cpu->dbg.step && cpu->dbg.step_done) {
		cpu->dbg.step_done = false;
		stop(cpu, exit, DEBUG_STOP_STEP, lin);
		return true;
	}
	if (cpu->dbg.skip_once) {
		cpu->dbg.skip_once = false;
		if (lin == cpu->dbg.skip_lin)
			return false;
	}
	if (bt_debug_is_bp(cpu, lin)) {
		stop(cpu, exit, DEBUG_STOP_BREAK, lin);
		return true;
	}
	return false;
}

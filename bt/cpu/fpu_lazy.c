/*
 * The guest's x87/SSE state, in the host's registers only from the first
 * block that uses it (Linux's kernel loads a task's FPU registers only on
 * its way back to user mode, for the same reason). The guest's image is
 * cpu->fx_guest; translated code calls through cpu->fpu_enter in front of
 * a block's first x87, MMX or SSE instruction (translate/fpu_load_emit.c):
 * the runtime's load routine (FXRSTOR, fpu_loaded = 1, fpu_enter = a bare
 * RET) while the image is in memory, the RET once it is in the registers.
 * Chained blocks keep it loaded; C called from a block keeps the guest's
 * XMM0-7 aside while it is (translate/sse_spill.c); everything that
 * leaves translated code for the dispatcher's C unloads it here.
 *
 * Before, every block run from the dispatcher and every in-block callout
 * did an FXRSTOR and an FXSAVE once the guest had used the FPU at all
 * (cpu->fpu_live): ~3,500 of each per fork+exec of /bin/true, a tenth of
 * the VMM's time, for a kernel whose own blocks use no FPU register.
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/translator.h"

static void fxsave(void *p) { __asm__ volatile("fxsave64 (%0)" : : "r"(p) : "memory"); }
static void fxrstor(const void *p) { __asm__ volatile("fxrstor64 (%0)" : : "r"(p) : "memory"); }

/* Whether the guest left the x87/SSE environment as the host's C wants
 * it: the host's control word and MXCSR, every x87 register empty, no
 * exception flag (FXSAVE image: FCW at byte 0, FSW at 2, the abridged tag
 * word at 4, MXCSR at 24; SDM Vol. 1 10.5.1). Linux's kernel and busybox
 * leave it so nearly always, and FNINIT, FLDCW and LDMXCSR after every
 * block were a quarter of the dispatcher's own time (docs/perf/bt-shadow.md). */
static bool host_fpu_env(const uint8_t *fx, uint16_t fcw, uint32_t mxcsr)
{
	uint16_t gfcw, gfsw;
	uint32_t gmxcsr;

	memcpy(&gfcw, fx, 2);
	memcpy(&gfsw, fx + 2, 2);
	memcpy(&gmxcsr, fx + 24, 4);
	/* TOP (FSW bits 11-13) may be anything with every register empty */
	return gfcw == fcw && !(gfsw & ~0x3800u) && !fx[4] && gmxcsr == mxcsr;
}

void fpu_enter_blocks(struct bt_cpu *cpu)
{
	uint32_t mxcsr;
	uint16_t fcw;

	/* the environment C runs on (sse_spill.c loads host_mxcsr), read
	 * while the registers are surely the host's */
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fcw));
	cpu->host_mxcsr = mxcsr;
	cpu->host_fcw = fcw;
	cpu->fpu_loaded = 0;
	cpu->fpu_enter = (uintptr_t)cpu->vm->tc->rt.fpu_load;
}

/* The registers belong to the host's C again: its control word, MXCSR
 * and an empty x87 stack (the C ABI keeps no value in x87 or XMM
 * registers across a call), unless the guest left them so already. */
static void give_back(struct bt_cpu *cpu)
{
	cpu->fpu_loaded = 0;
	cpu->fpu_enter = (uintptr_t)cpu->vm->tc->rt.fpu_load;
	if (!host_fpu_env(cpu->fx_guest, cpu->host_fcw, cpu->host_mxcsr))
		__asm__ volatile("fninit\n\tfldcw %0\n\tldmxcsr %1"
				 : : "m"(cpu->host_fcw), "m"(cpu->host_mxcsr));
}

void fpu_unload(struct bt_cpu *cpu)
{
	if (!cpu->fpu_loaded)
		return;
	fxsave(cpu->fx_guest);
	give_back(cpu);
}

bool fpu_set_aside(struct bt_cpu *cpu)
{
	if (!cpu->fpu_loaded)
		return false;
	fxsave(cpu->fx_guest);
	return true;
}

void fpu_put_back(struct bt_cpu *cpu, bool aside, bool block_goes_on)
{
	if (!aside)
		return;
	if (block_goes_on)
		fxrstor(cpu->fx_guest);
	else
		give_back(cpu);
}

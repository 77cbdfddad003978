/*
 * The instruction emulator's unit tests' fixture (test_mmio_emulate.c,
 * test_emul_ops.c, test_emul_shift.c): a calloc'd "guest RAM" at
 * guest-physical 0 (RAM_SIZE, which a test file may define first), code
 * at CODE, MMIO at 0xe0000000, and a vCPU in flat 32-bit protected mode.
 */
#ifndef HYVM_TEST_EMUL_FIXTURE_H
#define HYVM_TEST_EMUL_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <hyvm/x86.h>
#include "unit.h"
#include "emul/mmio_emulate.h"

#ifndef RAM_SIZE
#define RAM_SIZE	(1u << 20)
#endif
#define CODE		0x1000u
#define MMIO		0xe0000000u

static uint8_t *ram;
static struct guest_mem mem;
static struct hyvm_cpu_state st;
static struct emul em;

static inline int setup(void)
{
	ram = calloc(1, RAM_SIZE);
	return ram ? 0 : -1;
}

static inline int teardown(void)
{
	free(ram);
	return 0;
}

/* Flat 32-bit protected mode, no paging, CPL 3 data segments, code at
 * CODE; RAM cleared. */
static inline void flat32(const void *code, size_t len)
{
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add(&mem, 0, ram, RAM_SIZE);
	memset(&st, 0, sizeof(st));
	memcpy(ram + CODE, code, len);
	st.rip = CODE;
	st.rflags = 2;
	st.cr0 = CR0_PE;
	for (int i = 0; i < HYVM_LDTR; i++) {
		st.seg[i].limit = 0xffffffff;
		st.seg[i].attrib = HYVM_SEG_P | HYVM_SEG_S | HYVM_SEG_DB | HYVM_SEG_G | 3;
	}
	st.seg[HYVM_CS].attrib |= 0xb;
}

#endif

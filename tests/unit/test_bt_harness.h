/*
 * A tiny VM for bt unit tests: RAM in a memfd, the bt engine driven
 * directly, and a 32-bit assembler built on Zydis's encoder so tests write
 * guest code as instructions rather than bytes.
 */
#ifndef HYVM_TEST_BT_HARNESS_H
#define HYVM_TEST_BT_HARNESS_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <Zydis/Zydis.h>
#include "engines/engine.h"

extern const struct engine_ops bt_engine_ops;

#define TG_RAM_SIZE (16u << 20)

struct tg {
	int memfd;
	uint8_t *ram;
	struct engine_vm *vm;
	struct engine_vcpu *vcpu;
	struct hyvm_cpu_state st;
	struct vcpu_exit exit;
	uint32_t pc;		/* assembler position (guest physical) */
	char err[256];
};

static inline ZydisEncoderOperand R_(ZydisRegister r)
{
	ZydisEncoderOperand o;
	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_REGISTER;
	o.reg.value = r;
	return o;
}

static inline ZydisEncoderOperand I_(int64_t v)
{
	ZydisEncoderOperand o;
	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o.imm.s = v;
	return o;
}

static inline ZydisEncoderOperand M_(ZydisRegister base, int64_t disp, int size)
{
	ZydisEncoderOperand o;
	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_MEMORY;
	o.mem.base = base;
	o.mem.displacement = disp;
	o.mem.size = size;
	return o;
}

#define REG(x) R_(ZYDIS_REGISTER_##x)

/* Assembles one 32-bit instruction with prefixes (ZYDIS_ATTRIB_HAS_*,
 * e.g. a segment override) at g->pc; returns its address. */
static inline uint32_t tg_asm_prefixed(struct tg *g, ZyanU64 prefixes, ZydisMnemonic m, int n,
				       ZydisEncoderOperand a, ZydisEncoderOperand b)
{
	ZydisEncoderRequest r;
	ZyanUSize len = 15;
	uint32_t at = g->pc;

	memset(&r, 0, sizeof(r));
	r.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
	r.mnemonic = m;
	r.operand_count = n;
	r.operands[0] = a;
	r.operands[1] = b;
	r.prefixes = prefixes;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&r, g->ram + g->pc, &len)))
		return 0xffffffffu;
	g->pc += (uint32_t)len;
	return at;
}

/* Assembles one 32-bit instruction at g->pc; returns its address. */
static inline uint32_t tg_asm(struct tg *g, ZydisMnemonic m, int n, ZydisEncoderOperand a,
			      ZydisEncoderOperand b)
{
	return tg_asm_prefixed(g, 0, m, n, a, b);
}

#define A0(g, m) tg_asm(g, ZYDIS_MNEMONIC_##m, 0, I_(0), I_(0))
#define A1(g, m, a) tg_asm(g, ZYDIS_MNEMONIC_##m, 1, a, I_(0))
#define A2(g, m, a, b) tg_asm(g, ZYDIS_MNEMONIC_##m, 2, a, b)

/* A relative branch to an absolute guest address, rel32 form. */
static inline uint32_t tg_branch(struct tg *g, ZydisMnemonic m, uint32_t target)
{
	ZydisEncoderRequest r;
	ZyanUSize len = 15;
	uint32_t at = g->pc;

	memset(&r, 0, sizeof(r));
	r.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
	r.mnemonic = m;
	r.operand_count = 1;
	r.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
	r.branch_width = ZYDIS_BRANCH_WIDTH_32;
	r.operands[0] = I_(0);
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&r, g->ram + g->pc, &len)))
		return 0xffffffffu;
	g->pc += (uint32_t)len;
	int32_t rel = (int32_t)(target - g->pc);
	memcpy(g->ram + g->pc - 4, &rel, 4);
	return at;
}

int tg_init(struct tg *g);
void tg_fini(struct tg *g);

/* A suite's CUnit setup and teardown around one struct tg named G. */
#define TG_SUITE_SETUP(G)						\
	static int setup(void) { return tg_init(&(G)); }		\
	static int teardown(void) { tg_fini(&(G)); return 0; }

/* The one struct tg of a bt suite (g), with its setup and teardown. */
#define TG_SUITE_FIXTURE(G)						\
	static struct tg G;						\
	TG_SUITE_SETUP(G)
/* Flat 32-bit CPL0 state entering at eip with ESP = 0x80000. */
void tg_flat_state(struct tg *g, uint32_t eip);
int tg_start(struct tg *g);
/* Runs until an exit that is not KICKED/IRQ_WINDOW; returns its kind. */
int tg_run(struct tg *g);
uint64_t tg_counter(struct tg *g, const char *name);
/* A flat GDT at 0x500 (code 0x08, data 0x10, user code 0x1b, user data
 * 0x23, TSS 0x28 at 0x600) and an IDT at 0x800 whose gates point at
 * handlers[i] (0: not present). */
void tg_tables(struct tg *g, const uint32_t *handlers, int n);

#endif

/*
 * What the instruction emulator's two halves share: mmio_emulate.c decodes
 * and executes, emul_operands.c reads and writes registers and guest
 * memory (through the guest's page tables, or the VMM's bus when the
 * address is not RAM). Private to those two files.
 */
#ifndef HYVM_EMUL_INTERNAL_H
#define HYVM_EMUL_INTERNAL_H

#include "emul/mmio_emulate.h"

#include <hyvm/x86.h>
#include "x86/segment_reg.h"

enum step { STEP_OK, STEP_ACCESS, STEP_FAULT, STEP_ERROR };

uint64_t emul_mask_bits(unsigned bits);

/* SF, ZF, PF of a result (PF: even parity of the low byte). */
static inline uint64_t emul_flags_szp(uint64_t r, unsigned bits)
{
	return (r == 0 ? EFLAGS_ZF : 0) | ((r >> (bits - 1)) & 1 ? EFLAGS_SF : 0) |
	       (__builtin_popcount(r & 0xff) & 1 ? 0 : EFLAGS_PF);
}
enum step emul_fail(struct emul *e, const char *why);
bool emul_gpr_ref(ZydisRegister r, unsigned *idx, unsigned *shift, unsigned *bits);
uint64_t emul_reg_read(struct emul *e, ZydisRegister r);
void emul_reg_write(struct emul *e, ZydisRegister r, uint64_t v);
uint64_t emul_areg(struct emul *e, int idx);
void emul_areg_set(struct emul *e, int idx, uint64_t v);
uint64_t emul_linear(struct emul *e, int seg, uint64_t off);
/* A memory operand's offset in its segment, wrapped to the address size. */
uint64_t emul_effective_address(struct emul *e, const ZydisDecodedOperand *o);
enum step emul_translate(struct emul *e, uint64_t lin, enum gm_access how, uint64_t *gpa);
enum step emul_mem_rw(struct emul *e, int seg, uint64_t off, unsigned size, bool write,
		      uint64_t *val);
enum step emul_operand_rw(struct emul *e, const ZydisDecodedOperand *o, bool write,
			    uint64_t *val);
uint64_t emul_source_value(struct emul *e, const ZydisDecodedOperand *o, unsigned bits);
/* emul_stack.c */
enum step emul_exec_push(struct emul *e);
enum step emul_exec_pop(struct emul *e);
/* SF, ZF, PF of r and CF/OF/AF of r = a + b + c (sub: a - b - c); emul_rmw.c */
uint64_t emul_arith_flags(uint64_t a, uint64_t b, unsigned c, uint64_t r, unsigned bits,
			  bool sub);
/* emul_string.c: STOS, LODS, MOVS, CMPS, SCAS (one element) */
bool emul_is_string_op(const ZydisDecodedInstruction *in);
unsigned emul_string_size(const ZydisDecodedInstruction *in);
int emul_source_segment(struct emul *e);
int64_t emul_string_delta(struct emul *e, unsigned size);
bool emul_string_compare_ends(struct emul *e);
enum step emul_exec_string(struct emul *e);
/* emul_rmw.c: CMPXCHG, XADD, INC, DEC, NOT, NEG, ADC, SBB on memory */
enum step emul_exec_rmw(struct emul *e);
/* emul_condition.c: SETcc, CMOVcc */
enum step emul_exec_condition(struct emul *e);
/* emul_bits.c: BT, BTS, BTR, BTC, BSF, BSR */
enum step emul_exec_bits(struct emul *e);
/* emul_muldiv.c: MUL, IMUL, DIV, IDIV; #DE injected */
enum step emul_exec_muldiv(struct emul *e);
/* emul_shift.c: group 2 shifts and rotates, SHLD/SHRD on memory */
enum step emul_exec_shift(struct emul *e);

#endif

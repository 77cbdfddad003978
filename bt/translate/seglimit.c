/*
 * Segment limit checks on ordinary memory accesses (SDM Vol. 3A 5.3).
 *
 * A block is translated for one set of segment limits (they are part of
 * its key, like the bases), so a flat 4 GiB expand-up segment costs
 * nothing: its accesses get no check at all. An access through any other
 * segment gets a check in front of the instruction's host code. Guest
 * arithmetic flags live in RFLAGS, so the check must not touch them: the
 * comparison is done by addition into bits 32..63 of rcx (offsets are
 * 32-bit, so the sum crosses 2^32 exactly when the access is out of
 * bounds), BSWAP + a 32-bit MOV bring those bits down, and JRCXZ, the one
 * flag-free conditional branch, skips the exit. Guest ECX waits in r9.
 */
#include "bt/translate/translator.h"

#define R(x) op_reg(ZYDIS_REGISTER_##x)

/* seg_check_kind and seg_check_key: inline in translator.h */

/* rcx = 0 iff src + k < 2^32 (src a zero-extended 32-bit value or its
 * complement, k < 2^33): the high half of the 64-bit sum, byte-swapped
 * into ecx. None of these instructions writes RFLAGS. */
static bool high_half_of_sum(struct bt_emitter *e, uint64_t k)
{
	return emit2(e, ZYDIS_MNEMONIC_MOV, R(R10), op_imm((int64_t)k)) &&
	       emit2(e, ZYDIS_MNEMONIC_LEA, R(RCX),
		     op_mem(ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R10, 1, 0, 8)) &&
	       emit1(e, ZYDIS_MNEMONIC_BSWAP, R(RCX)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), R(ECX));
}

bool emit_limit_check(struct bt_emitter *e, uint8_t kind, uint32_t limit, ZydisRegister base,
		      ZydisRegister index, uint8_t scale, int64_t disp, unsigned size,
		      uint8_t **fail_site)
{
	uint64_t last = size ? size - 1 : 0;
	uint8_t *to_fail = NULL, *ok;
	bool good;

	/* r13d = the offset, wrapped to 32 bits as the address computation does */
	if (base == ZYDIS_REGISTER_NONE && index == ZYDIS_REGISTER_NONE) {
		good = emit2(e, ZYDIS_MNEMONIC_MOV, R(R13D), op_imm((int32_t)disp));
	} else {
		ZydisEncoderRequest r = emit_req(ZYDIS_MNEMONIC_LEA, 2);
		r.operands[0] = R(R13D);
		r.operands[1] = op_mem(base, index, index ? scale : 0, (int32_t)disp, 4);
		r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
		good = emit_request(e, &r);
	}
	good = good && emit2(e, ZYDIS_MNEMONIC_MOV, R(R9), R(RCX));
	if (kind == BT_SEGCHK_UP) {
		/* offset + size - 1 > limit */
		good = good && high_half_of_sum(e, last + 0xffffffffull - limit);
	} else {
		/* expand-down: offset <= limit, i.e. limit - offset + 2^32 >= 2^32 */
		uint64_t upper = kind == BT_SEGCHK_DOWN32 ? 0xffffffffull : 0xffffull;
		uint8_t *next;
		good = good && emit1(e, ZYDIS_MNEMONIC_NOT, R(R13)) &&
		       high_half_of_sum(e, (uint64_t)limit + (1ull << 32) + 1) &&
		       emit1(e, ZYDIS_MNEMONIC_NOT, R(R13)) &&
		       (next = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
		       (to_fail = emit_branch8(e, ZYDIS_MNEMONIC_JMP, false));
		if (good)
			patch_rel8(next, e->pos);
		/* ... or offset + size - 1 above the upper bound (B flag) */
		good = good && high_half_of_sum(e, last + 0xffffffffull - upper);
	}
	good = good && (ok = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false));
	if (good && to_fail)
		patch_rel8(to_fail, e->pos);
	good = good && emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9)) &&
	       (*fail_site = emit_branch32(e, ZYDIS_MNEMONIC_JMP));
	if (good)
		patch_rel8(ok, e->pos);
	return good && emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9));
}

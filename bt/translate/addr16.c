/*
 * 16-bit addressing in translated code: a memory operand's offset
 * computed in front of the instruction (translate_insn.c uses it for
 * every explicit 16-bit memory operand).
 */
#include "bt/translate/translate.h"

/* A 16-bit register of a 16-bit address as the 32-bit host register
 * holding it (BX -> EBX); the sum is cut to 16 bits afterwards. */
static ZydisRegister a16_reg(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return r;
	return ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_COMPAT_32, r);
}

/*
 * 16-bit addressing (SDM Vol. 2A, 2.1.5, Table 2-1): the offset is
 * base + index + disp modulo 64 KiB, which no 64-bit mode addressing
 * form computes. It goes into r11d in front of the instruction (LEA and
 * MOVZX, neither touching RFLAGS), and the operand becomes
 * gs:[r11d + segment base]; an offset without registers is a constant.
 * *in_r11 says which. Limit checks as for 32-bit offsets, except for an
 * expand-up segment of 64 KiB or more, which a 16-bit offset cannot leave
 * (an access straddling offset 0xffff is not checked: QEMU TCG does not
 * check either).
 */
bool a16_offset(struct tx *t, const ZydisDecodedOperand *o, bool *in_r11)
{
	int seg = x86_seg_index(o->mem.segment);
	ZydisRegister base = a16_reg(o->mem.base), index = a16_reg(o->mem.index);
	uint16_t disp = (uint16_t)o->mem.disp.value;

	*in_r11 = base != ZYDIS_REGISTER_NONE || index != ZYDIS_REGISTER_NONE;
	if (*in_r11) {
		ZydisEncoderRequest r = emit_req(ZYDIS_MNEMONIC_LEA, 2);
		r.operands[0] = R(R11D);
		r.operands[1] = op_mem(base, index, index ? 1 : 0, disp, 4);
		r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
		if (!emit_request(&t->e, &r) ||
		    !emit2(&t->e, ZYDIS_MNEMONIC_MOVZX, R(R11D), R(R11W)))
			return false;
	}
	if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
		return true;
	t->b->seg_used |= (uint8_t)(1u << seg);
	if (t->b->seg_check[seg] == BT_SEGCHK_UP && t->b->seg_limit[seg] >= 0xffff)
		return true;
	return limit_check(t, seg, *in_r11 ? ZYDIS_REGISTER_R11D : ZYDIS_REGISTER_NONE,
			   ZYDIS_REGISTER_NONE, 0, *in_r11 ? 0 : disp, o->size / 8);
}

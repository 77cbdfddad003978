/*
 * GS memory operands whose base is read at run time, so the block is not
 * keyed by GS's base (bt/README.md, "The translation cache's bound").
 */
#include "bt/translate/translate.h"

/*
 * A GS memory operand of an ordinary instruction takes GS's base at run
 * time: i386 Linux keeps each process's TLS there (glibc's stack
 * protector reads gs:0x14 in most functions), and a base baked into the
 * code made a copy of every such block per process, live and never
 * reached again once the process ended: a guest that keeps starting
 * processes grew the cache without end (the soak test: 24K of 77K blocks
 * were such copies). The offset goes into r11d (32-bit LEAs wrap as the
 * guest's address arithmetic does, RFLAGS untouched), base from the
 * context through r10d; the operand becomes gs:[r11d]. Not next to
 * AH..BH, which cannot sit beside r10/r11's REX prefix: those keep the
 * base in the displacement, keyed by it.
 */
bool gs_base_at_run_time(struct tx *t, ZydisEncoderOperand *o)
{
	ZydisRegister base = o->mem.base, index = o->mem.index;
	int32_t disp = (int32_t)o->mem.displacement;
	ZydisEncoderRequest r;

	if (!emit2(&t->e, ZYDIS_MNEMONIC_MOV, R(R10D), op_ctx(BT_OFF(arch.seg[HYVM_GS].base), 4)))
		return false;
	if (base != ZYDIS_REGISTER_NONE && index != ZYDIS_REGISTER_NONE) {
		r = emit_req(ZYDIS_MNEMONIC_LEA, 2);
		r.operands[0] = R(R11D);
		r.operands[1] = op_mem(base, index, o->mem.scale, disp, 4);
		r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
		if (!emit_request(&t->e, &r))
			return false;
		base = ZYDIS_REGISTER_R11D;
		index = ZYDIS_REGISTER_NONE;
		disp = 0;
	}
	/* [r10d + the one register left * scale + disp] */
	r = emit_req(ZYDIS_MNEMONIC_LEA, 2);
	r.operands[0] = R(R11D);
	if (base != ZYDIS_REGISTER_NONE)
		r.operands[1] = op_mem(ZYDIS_REGISTER_R10D, base, 1, disp, 4);
	else
		r.operands[1] = op_mem(ZYDIS_REGISTER_R10D, index, index ? o->mem.scale : 0, disp, 4);
	r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	if (!emit_request(&t->e, &r))
		return false;
	o->mem.base = ZYDIS_REGISTER_R11D;
	o->mem.index = ZYDIS_REGISTER_NONE;
	o->mem.scale = 0;
	o->mem.displacement = 0;
	return true;
}

/* Host code through Zydis's encoder (emit.c): part of translation. */
#ifndef HYVM_BT_EMIT_H
#define HYVM_BT_EMIT_H

#include "bt/bt.h"

/* --- emit.c: host code through Zydis's encoder --- */
struct bt_emitter {
	uint8_t *start, *pos, *end;
	bool overflow;
};
void emit_init(struct bt_emitter *e, uint8_t *buf, size_t size);
/* Encodes req at e->pos; false if it cannot (the caller gives #UD). */
bool emit_request(struct bt_emitter *e, ZydisEncoderRequest *req);
ZydisEncoderRequest emit_req(ZydisMnemonic m, int nops);
ZydisEncoderOperand op_reg(ZydisRegister r);
ZydisEncoderOperand op_imm(int64_t v);
ZydisEncoderOperand op_mem(ZydisRegister base, ZydisRegister index, int scale,
			   int64_t disp, int size);
/* [r15 + offset], size bytes */
ZydisEncoderOperand op_ctx(int32_t off, int size);
bool emit2(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
	   ZydisEncoderOperand b);
bool emit1(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a);
bool emit0(struct bt_emitter *e, ZydisMnemonic m);
/* Relative jump/jcc with a rel32 field; returns the rel32 field. */
uint8_t *emit_branch32(struct bt_emitter *e, ZydisMnemonic m);
/* Short branch (loop, jecxz) with addr32; returns the rel8 field. */
uint8_t *emit_branch8(struct bt_emitter *e, ZydisMnemonic m, bool addr32);
void patch_rel32(uint8_t *site, const void *target);
void patch_rel8(uint8_t *site, const void *target);
ZydisRegister reg32(int n);
ZydisRegister reg64(int n);

#endif

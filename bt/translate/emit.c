/*
 * Host code emission. Every host instruction the translator writes goes
 * through Zydis's encoder; the only bytes we touch by hand are the rel32 and
 * rel8 fields of branches, which we fill once the target is known.
 */
#include <string.h>
#include "bt/translate/emit.h"

void emit_init(struct bt_emitter *e, uint8_t *buf, size_t size)
{
	e->start = e->pos = buf;
	e->end = buf + size;
	e->overflow = false;
}

ZydisEncoderRequest emit_req(ZydisMnemonic m, int nops)
{
	ZydisEncoderRequest r;

	memset(&r, 0, sizeof(r));
	r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	r.mnemonic = m;
	r.operand_count = nops;
	return r;
}

bool emit_request(struct bt_emitter *e, ZydisEncoderRequest *req)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(buf);

	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(req, buf, &len)))
		return false;
	if (e->pos + len > e->end) {
		e->overflow = true;
		return false;
	}
	memcpy(e->pos, buf, len);
	e->pos += len;
	return true;
}

ZydisEncoderOperand op_reg(ZydisRegister r)
{
	ZydisEncoderOperand o;

	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_REGISTER;
	o.reg.value = r;
	return o;
}

ZydisEncoderOperand op_imm(int64_t v)
{
	ZydisEncoderOperand o;

	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o.imm.s = v;
	return o;
}

ZydisEncoderOperand op_mem(ZydisRegister base, ZydisRegister index, int scale,
			   int64_t disp, int size)
{
	ZydisEncoderOperand o;

	memset(&o, 0, sizeof(o));
	o.type = ZYDIS_OPERAND_TYPE_MEMORY;
	o.mem.base = base;
	o.mem.index = index;
	o.mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
	o.mem.displacement = disp;
	o.mem.size = size;
	return o;
}

ZydisEncoderOperand op_ctx(int32_t off, int size)
{
	return op_mem(ZYDIS_REGISTER_R15, ZYDIS_REGISTER_NONE, 0, off, size);
}

bool emit2(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a,
	   ZydisEncoderOperand b)
{
	ZydisEncoderRequest r = emit_req(m, 2);

	r.operands[0] = a;
	r.operands[1] = b;
	return emit_request(e, &r);
}

bool emit1(struct bt_emitter *e, ZydisMnemonic m, ZydisEncoderOperand a)
{
	ZydisEncoderRequest r = emit_req(m, 1);

	r.operands[0] = a;
	return emit_request(e, &r);
}

bool emit0(struct bt_emitter *e, ZydisMnemonic m)
{
	ZydisEncoderRequest r = emit_req(m, 0);

	return emit_request(e, &r);
}

uint8_t *emit_branch32(struct bt_emitter *e, ZydisMnemonic m)
{
	ZydisEncoderRequest r = emit_req(m, 1);

	r.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
	r.branch_width = ZYDIS_BRANCH_WIDTH_32;
	r.operands[0] = op_imm(0);
	if (!emit_request(e, &r))
		return NULL;
	return e->pos - 4;
}

uint8_t *emit_branch8(struct bt_emitter *e, ZydisMnemonic m, bool addr32)
{
	ZydisEncoderRequest r = emit_req(m, 1);

	r.branch_type = ZYDIS_BRANCH_TYPE_SHORT;
	r.branch_width = ZYDIS_BRANCH_WIDTH_8;
	if (addr32)
		r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	r.operands[0] = op_imm(0);
	if (!emit_request(e, &r))
		return NULL;
	return e->pos - 1;
}

void patch_rel32(uint8_t *site, const void *target)
{
	int32_t rel = (int32_t)((const uint8_t *)target - (site + 4));

	__atomic_store_n((uint32_t *)site, (uint32_t)rel, __ATOMIC_RELAXED);
}

void patch_rel8(uint8_t *site, const void *target)
{
	*site = (uint8_t)(int8_t)((const uint8_t *)target - (site + 1));
}

static const ZydisRegister regs32[16] = {
	ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EBX,
	ZYDIS_REGISTER_ESP, ZYDIS_REGISTER_EBP, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI,
	ZYDIS_REGISTER_R8D, ZYDIS_REGISTER_R9D, ZYDIS_REGISTER_R10D, ZYDIS_REGISTER_R11D,
	ZYDIS_REGISTER_R12D, ZYDIS_REGISTER_R13D, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R15D,
};
static const ZydisRegister regs64[16] = {
	ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
	ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
	ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
	ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
};

ZydisRegister reg32(int n) { return regs32[n & 15]; }
ZydisRegister reg64(int n) { return regs64[n & 15]; }

/*
 * The instruction emulator's operands: guest registers as an instruction's
 * operand sizes see them, segmentation, the guest page walk, and the
 * accesses only the VMM's buses can answer (replayed; see mmio_emulate.c).
 */
#include <stdio.h>
#include <string.h>
#include "emul/emul_internal.h"

uint64_t emul_mask_bits(unsigned bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

enum step emul_fail(struct emul *e, const char *why)
{
	char text[96] = "?";
	ZydisFormatter f;

	if (ZYAN_SUCCESS(ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL)))
		ZydisFormatterFormatInstruction(&f, &e->insn, e->op, e->insn.operand_count_visible,
						text, sizeof(text), e->st.rip, NULL);
	snprintf(e->err, sizeof(e->err), "cannot emulate '%s' at rip %#llx: %s", text,
		 (unsigned long long)e->st.rip, why);
	return STEP_ERROR;
}

/* --- registers --------------------------------------------------------- */

bool emul_gpr_ref(ZydisRegister r, unsigned *idx, unsigned *shift, unsigned *bits)
{
	ZydisRegisterClass c = ZydisRegisterGetClass(r);

	if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
		*idx = r - ZYDIS_REGISTER_AH;	/* AH, CH, DH, BH: bits 15:8 of 0-3 */
		*shift = 8;
		*bits = 8;
		return true;
	}
	if (c != ZYDIS_REGCLASS_GPR8 && c != ZYDIS_REGCLASS_GPR16 &&
	    c != ZYDIS_REGCLASS_GPR32 && c != ZYDIS_REGCLASS_GPR64)
		return false;
	*idx = ZydisRegisterGetId(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r));
	*shift = 0;
	*bits = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
	return *idx < HYVM_NR_GPRS;
}

uint64_t emul_reg_read(struct emul *e, ZydisRegister r)
{
	unsigned idx, shift, bits;

	if (!emul_gpr_ref(r, &idx, &shift, &bits))
		return 0;
	return (e->st.gpr[idx] >> shift) & emul_mask_bits(bits);
}

/* A 32-bit write zero-extends (APM Vol. 1, 3.1.2.3); 8/16-bit writes merge. */
void emul_reg_write(struct emul *e, ZydisRegister r, uint64_t v)
{
	unsigned idx, shift, bits;

	if (!emul_gpr_ref(r, &idx, &shift, &bits))
		return;
	if (bits >= 32)
		e->st.gpr[idx] = v & emul_mask_bits(bits);
	else
		e->st.gpr[idx] = (e->st.gpr[idx] & ~(emul_mask_bits(bits) << shift)) |
				 ((v & emul_mask_bits(bits)) << shift);
}

/* SI/DI/CX as the address size sees them, and their update. */
uint64_t emul_areg(struct emul *e, int idx)
{
	return e->st.gpr[idx] & emul_mask_bits(e->insn.address_width);
}

void emul_areg_set(struct emul *e, int idx, uint64_t v)
{
	unsigned w = e->insn.address_width;

	if (w == 16)
		e->st.gpr[idx] = (e->st.gpr[idx] & ~0xffffULL) | (v & 0xffff);
	else
		e->st.gpr[idx] = v & emul_mask_bits(w);
}

/* --- memory ------------------------------------------------------------ */

/* In 64-bit mode only FS and GS have a base (APM Vol. 2, 4.5.3). */
uint64_t emul_linear(struct emul *e, int seg, uint64_t off)
{
	if (guest_is_64bit(&e->st))
		return (seg == HYVM_FS || seg == HYVM_GS) ? off + e->st.seg[seg].base : off;
	return (uint32_t)(e->st.seg[seg].base + off);
}

uint64_t emul_effective_address(struct emul *e, const ZydisDecodedOperand *o)
{
	uint64_t a = o->mem.disp.has_displacement ? (uint64_t)o->mem.disp.value : 0;

	if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP)
		a += e->st.rip + e->insn.length;
	else if (o->mem.base != ZYDIS_REGISTER_NONE)
		a += emul_reg_read(e, o->mem.base);
	if (o->mem.index != ZYDIS_REGISTER_NONE)
		a += emul_reg_read(e, o->mem.index) * (o->mem.scale ? o->mem.scale : 1);
	return a & emul_mask_bits(e->insn.address_width);
}

static enum step page_fault(struct emul *e, uint64_t lin, uint32_t err)
{
	e->st.cr2 = lin;
	e->st.event.type = HYVM_EVENT_EXCEPTION;
	e->st.event.vector = VEC_PF;
	e->st.event.has_error_code = 1;
	e->st.event.error_code = err;
	return STEP_FAULT;
}

enum step emul_translate(struct emul *e, uint64_t lin, enum gm_access how, uint64_t *gpa)
{
	uint32_t pf = 0;

	switch (guest_translate(e->mem, &e->st, lin, how, gpa, &pf)) {
	case GM_OK:
		return STEP_OK;
	case GM_PAGE_FAULT:
		return page_fault(e, lin, pf);
	default:
		return emul_fail(e, "a guest page table lies outside RAM");
	}
}

/* An access the VMM's MMIO bus must do; answered ones are replayed. */
static enum step bus(struct emul *e, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	unsigned i = e->cursor++;

	if (i < e->answered) {
		if (!write)
			*val = e->answer[i] & emul_mask_bits(size * 8);
		return STEP_OK;
	}
	if (i >= sizeof(e->answer) / sizeof(e->answer[0]))
		return emul_fail(e, "too many MMIO accesses in one instruction");
	e->acc = (struct emul_access){
		.pio = false, .write = write, .size = size, .count = 1, .addr = gpa,
		.data = e->buf,
	};
	memset(e->buf, 0, 8);
	if (write)
		memcpy(e->buf, val, size);	/* x86 is little-endian */
	return STEP_ACCESS;
}

static void note_ram_write(struct emul *e, uint64_t gpa, unsigned len)
{
	if (e->mem->ram_written)
		e->mem->ram_written(e->mem->opaque, gpa, len);
}

enum step emul_mem_rw(struct emul *e, int seg, uint64_t off, unsigned size, bool write,
			uint64_t *val)
{
	enum gm_access how = write ? GM_WRITE : GM_READ;
	uint64_t lin = emul_linear(e, seg, off), gpa, gpa2;
	unsigned first = 4096 - (lin & 0xfff);
	enum step s;
	uint8_t *p;

	if (!write && val)
		*val = 0;
	if ((s = emul_translate(e, lin, how, &gpa)) != STEP_OK)
		return s;
	if (first >= size) {
		p = write ? guest_mem_ptr_write(e->mem, gpa, size) : guest_mem_ptr(e->mem, gpa, size);
		if (!p && e->ram_only)
			return emul_fail(e, "its memory operand lies outside RAM");
		if (!p)
			return bus(e, gpa, size, write, val);
		if (!val)
			return STEP_OK;		/* a probe: is it there, writable? */
		if (write) {
			memcpy(p, val, size);
			note_ram_write(e, gpa, size);
		} else {
			memcpy(val, p, size);
		}
		return STEP_OK;
	}
	/* Split across two pages: each half is RAM, or goes to the bus in
	 * pieces of 4, 2 and 1 bytes from the lower address up, as the
	 * processor splits an access that crosses a page into separate bus
	 * cycles (SDM Vol. 3A 9.1.1: such accesses are not atomic). */
	if ((s = emul_translate(e, emul_linear(e, seg, off + first), how, &gpa2)) != STEP_OK)
		return s;
	const struct { uint64_t gpa; unsigned len, at; } half[2] = {
		{ gpa, first, 0 }, { gpa2, size - first, first },
	};
	uint8_t bytes[8] = { 0 };

	if (write && val)
		memcpy(bytes, val, size);
	for (int h = 0; h < 2; h++) {
		p = write ? guest_mem_ptr_write(e->mem, half[h].gpa, half[h].len)
			  : guest_mem_ptr(e->mem, half[h].gpa, half[h].len);
		if (!p && e->ram_only)
			return emul_fail(e, "its memory operand lies outside RAM");
		if (!val)
			continue;		/* a probe */
		if (p && write) {
			memcpy(p, bytes + half[h].at, half[h].len);
			note_ram_write(e, half[h].gpa, half[h].len);
		} else if (p) {
			memcpy(bytes + half[h].at, p, half[h].len);
		}
		for (unsigned done = 0, piece; !p && done < half[h].len; done += piece) {
			uint64_t v = 0;

			for (piece = 4; piece > half[h].len - done; piece /= 2)
				;
			if (write)
				memcpy(&v, bytes + half[h].at + done, piece);
			if ((s = bus(e, half[h].gpa + done, piece, write, &v)) != STEP_OK)
				return s;
			if (!write)
				memcpy(bytes + half[h].at + done, &v, piece);
		}
	}
	if (val && !write)
		memcpy(val, bytes, size);
	return STEP_OK;
}

enum step emul_operand_rw(struct emul *e, const ZydisDecodedOperand *o, bool write,
			    uint64_t *val)
{
	return emul_mem_rw(e, x86_seg_index(o->mem.segment), emul_effective_address(e, o), o->size / 8,
		      write, val);
}

/* A register or immediate source, as wide as the destination. */
uint64_t emul_source_value(struct emul *e, const ZydisDecodedOperand *o, unsigned bits)
{
	if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return o->imm.value.u & emul_mask_bits(bits);
	return emul_reg_read(e, o->reg.value) & emul_mask_bits(bits);
}

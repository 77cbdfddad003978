/*
 * The instruction emulator behind MMIO and string port I/O; see
 * mmio_emulate.h for what it handles and how an engine drives it.
 * Register updates come after an element's last access, so re-running an
 * element after each answered access (the replay) never applies one twice;
 * RAM writes before a pending access are repeated with the same value.
 */
#include <stdio.h>
#include <string.h>
#include "mmio_emulate.h"

#define RFLAGS_CF	(1ULL << 0)
#define RFLAGS_PF	(1ULL << 2)
#define RFLAGS_AF	(1ULL << 4)
#define RFLAGS_ZF	(1ULL << 6)
#define RFLAGS_SF	(1ULL << 7)
#define RFLAGS_DF	(1ULL << 10)
#define RFLAGS_OF	(1ULL << 11)
#define RFLAGS_ARITH	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define CR0_PE		(1ULL << 0)
#define RFLAGS_VM	(1ULL << 17)
#define VEC_PF		14

enum step { STEP_OK, STEP_ACCESS, STEP_FAULT, STEP_ERROR };

static uint64_t mask_bits(unsigned bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

static enum step fail(struct emul *e, const char *why)
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

static bool gpr_ref(ZydisRegister r, unsigned *idx, unsigned *shift, unsigned *bits)
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

static uint64_t reg_read(struct emul *e, ZydisRegister r)
{
	unsigned idx, shift, bits;

	if (!gpr_ref(r, &idx, &shift, &bits))
		return 0;
	return (e->st.gpr[idx] >> shift) & mask_bits(bits);
}

/* A 32-bit write zero-extends (APM Vol. 1, 3.1.2.3); 8/16-bit writes merge. */
static void reg_write(struct emul *e, ZydisRegister r, uint64_t v)
{
	unsigned idx, shift, bits;

	if (!gpr_ref(r, &idx, &shift, &bits))
		return;
	if (bits >= 32)
		e->st.gpr[idx] = v & mask_bits(bits);
	else
		e->st.gpr[idx] = (e->st.gpr[idx] & ~(mask_bits(bits) << shift)) |
				 ((v & mask_bits(bits)) << shift);
}

/* SI/DI/CX as the address size sees them, and their update. */
static uint64_t areg(struct emul *e, int idx)
{
	return e->st.gpr[idx] & mask_bits(e->insn.address_width);
}

static void areg_set(struct emul *e, int idx, uint64_t v)
{
	unsigned w = e->insn.address_width;

	if (w == 16)
		e->st.gpr[idx] = (e->st.gpr[idx] & ~0xffffULL) | (v & 0xffff);
	else
		e->st.gpr[idx] = v & mask_bits(w);
}

static int seg_index(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: return HYVM_ES;
	case ZYDIS_REGISTER_CS: return HYVM_CS;
	case ZYDIS_REGISTER_SS: return HYVM_SS;
	case ZYDIS_REGISTER_FS: return HYVM_FS;
	case ZYDIS_REGISTER_GS: return HYVM_GS;
	default: return HYVM_DS;
	}
}

/* --- memory ------------------------------------------------------------ */

/* In 64-bit mode only FS and GS have a base (APM Vol. 2, 4.5.3). */
static uint64_t linear(struct emul *e, int seg, uint64_t off)
{
	if (guest_is_64bit(&e->st))
		return (seg == HYVM_FS || seg == HYVM_GS) ? off + e->st.seg[seg].base : off;
	return (uint32_t)(e->st.seg[seg].base + off);
}

static uint64_t effective_address(struct emul *e, const ZydisDecodedOperand *o)
{
	uint64_t a = o->mem.disp.has_displacement ? (uint64_t)o->mem.disp.value : 0;

	if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP)
		a += e->st.rip + e->insn.length;
	else if (o->mem.base != ZYDIS_REGISTER_NONE)
		a += reg_read(e, o->mem.base);
	if (o->mem.index != ZYDIS_REGISTER_NONE)
		a += reg_read(e, o->mem.index) * (o->mem.scale ? o->mem.scale : 1);
	return a & mask_bits(e->insn.address_width);
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

static enum step translate(struct emul *e, uint64_t lin, enum gm_access how, uint64_t *gpa)
{
	uint32_t pf = 0;

	switch (guest_translate(e->mem, &e->st, lin, how, gpa, &pf)) {
	case GM_OK:
		return STEP_OK;
	case GM_PAGE_FAULT:
		return page_fault(e, lin, pf);
	default:
		return fail(e, "a guest page table lies outside RAM");
	}
}

/* An access the VMM's MMIO bus must do; answered ones are replayed. */
static enum step bus(struct emul *e, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	unsigned i = e->cursor++;

	if (i < e->answered) {
		if (!write)
			*val = e->answer[i] & mask_bits(size * 8);
		return STEP_OK;
	}
	if (i >= sizeof(e->answer) / sizeof(e->answer[0]))
		return fail(e, "too many MMIO accesses in one instruction");
	e->acc = (struct emul_access){
		.pio = false, .write = write, .size = size, .count = 1, .addr = gpa,
		.data = e->buf,
	};
	memset(e->buf, 0, 8);
	if (write)
		memcpy(e->buf, val, size);	/* x86 is little-endian */
	return STEP_ACCESS;
}

static enum step mem_rw(struct emul *e, int seg, uint64_t off, unsigned size, bool write,
			uint64_t *val)
{
	enum gm_access how = write ? GM_WRITE : GM_READ;
	uint64_t lin = linear(e, seg, off), gpa, gpa2;
	unsigned first = 4096 - (lin & 0xfff);
	enum step s;
	uint8_t *p, *p2;

	if (!write && val)
		*val = 0;
	if ((s = translate(e, lin, how, &gpa)) != STEP_OK)
		return s;
	if (first >= size) {
		p = guest_mem_ptr(e->mem, gpa, size);
		if (!p && e->ram_only)
			return fail(e, "its memory operand lies outside RAM");
		if (!p)
			return bus(e, gpa, size, write, val);
		if (!val)
			return STEP_OK;		/* a probe: is it there, writable? */
		if (write)
			memcpy(p, val, size);
		else
			memcpy(val, p, size);
		return STEP_OK;
	}
	/* Split across two pages: both halves must be RAM. */
	if ((s = translate(e, linear(e, seg, off + first), how, &gpa2)) != STEP_OK)
		return s;
	p = guest_mem_ptr(e->mem, gpa, first);
	p2 = guest_mem_ptr(e->mem, gpa2, size - first);
	if (!p || !p2)
		return fail(e, "an MMIO access that crosses a page boundary");
	if (!val)
		return STEP_OK;
	if (write) {
		memcpy(p, val, first);
		memcpy(p2, (uint8_t *)val + first, size - first);
	} else {
		memcpy(val, p, first);
		memcpy((uint8_t *)val + first, p2, size - first);
	}
	return STEP_OK;
}

static enum step operand_rw(struct emul *e, const ZydisDecodedOperand *o, bool write,
			    uint64_t *val)
{
	return mem_rw(e, seg_index(o->mem.segment), effective_address(e, o), o->size / 8,
		      write, val);
}

/* A register or immediate source, as wide as the destination. */
static uint64_t source_value(struct emul *e, const ZydisDecodedOperand *o, unsigned bits)
{
	if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return o->imm.value.u & mask_bits(bits);
	return reg_read(e, o->reg.value) & mask_bits(bits);
}


/* --- driving ------------------------------------------------------------ */

static ZydisMachineMode machine_mode(const struct hyvm_cpu_state *st)
{
	if (guest_is_64bit(st))
		return ZYDIS_MACHINE_MODE_LONG_64;
	if (!(st->cr0 & CR0_PE) || (st->rflags & RFLAGS_VM))
		return ZYDIS_MACHINE_MODE_REAL_16;
	return (st->seg[HYVM_CS].attrib & HYVM_SEG_DB) ? ZYDIS_MACHINE_MODE_LEGACY_32
							: ZYDIS_MACHINE_MODE_LEGACY_16;
}

/* Up to 15 bytes at CS:RIP, page by page, stopping where RAM ends. */
static enum step fetch(struct emul *e)
{
	uint64_t lin = linear(e, HYVM_CS, e->st.rip), gpa;
	enum step s;

	e->nbytes = 0;
	while (e->nbytes < 15) {
		unsigned chunk = 4096 - ((lin + e->nbytes) & 0xfff);
		uint8_t *p;

		if ((s = translate(e, linear(e, HYVM_CS, e->st.rip + e->nbytes), GM_FETCH, &gpa)))
			return e->nbytes ? STEP_OK : s;
		if (chunk > 15 - e->nbytes)
			chunk = 15 - e->nbytes;
		p = guest_mem_ptr(e->mem, gpa, chunk);
		if (!p)
			break;
		memcpy(e->bytes + e->nbytes, p, chunk);
		e->nbytes += chunk;
	}
	if (!e->nbytes) {
		snprintf(e->err, sizeof(e->err),
			 "instruction fetch at rip %#llx (guest-physical %#llx) is outside RAM",
			 (unsigned long long)e->st.rip, (unsigned long long)gpa);
		return STEP_ERROR;
	}
	return STEP_OK;
}

static void finish_insn(struct emul *e)
{
	e->st.rip += e->insn.length;
	if (!guest_is_64bit(&e->st))
		e->st.rip &= (machine_mode(&e->st) == ZYDIS_MACHINE_MODE_LEGACY_32) ? 0xffffffff : 0xffff;
	/* The instruction retired: an STI/MOV SS shadow is over. */
	e->st.interruptibility &= ~(HYVM_INTR_SHADOW_STI | HYVM_INTR_SHADOW_MOVSS);
}

/* --- instructions ------------------------------------------------------- */

static bool is_gpr(ZydisRegister r)
{
	unsigned idx, shift, bits;

	return gpr_ref(r, &idx, &shift, &bits);
}

static bool is_string_op(const ZydisDecodedInstruction *in)
{
	return in->meta.category == ZYDIS_CATEGORY_STRINGOP;
}

static bool is_port_string_op(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		return true;
	default:
		return false;
	}
}

/* Element size of a string instruction, from its mnemonic's suffix. */
static unsigned string_size(const ZydisDecodedInstruction *in)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_MOVSB:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_OUTSB:
		return 1;
	case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_OUTSW:
		return 2;
	case ZYDIS_MNEMONIC_STOSQ: case ZYDIS_MNEMONIC_LODSQ: case ZYDIS_MNEMONIC_MOVSQ:
		return 8;
	default:
		return 4;
	}
}

/* DS:SI's segment, with any override (Zydis resolved it). */
static int source_segment(struct emul *e)
{
	for (unsigned i = 0; i < e->insn.operand_count; i++)
		if (e->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ZydisRegisterGetId(e->op[i].mem.base) == HYVM_RSI &&
		    ZydisRegisterGetClass(e->op[i].mem.base) != ZYDIS_REGCLASS_GPR8)
			return seg_index(e->op[i].mem.segment);
	return HYVM_DS;
}

static int64_t string_delta(struct emul *e, unsigned size)
{
	return (e->st.rflags & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
}

/* One element of STOS, LODS or MOVS. */
static enum step exec_string(struct emul *e)
{
	unsigned size = string_size(&e->insn);
	int64_t delta = string_delta(e, size);
	static const ZydisRegister acc[9] = {
		[1] = ZYDIS_REGISTER_AL, [2] = ZYDIS_REGISTER_AX,
		[4] = ZYDIS_REGISTER_EAX, [8] = ZYDIS_REGISTER_RAX,
	};
	uint64_t v = 0;
	enum step s;

	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
		v = reg_read(e, acc[size]);
		if ((s = mem_rw(e, HYVM_ES, areg(e, HYVM_RDI), size, true, &v)))
			return s;
		areg_set(e, HYVM_RDI, areg(e, HYVM_RDI) + delta);
		return STEP_OK;
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_LODSD: case ZYDIS_MNEMONIC_LODSQ:
		if ((s = mem_rw(e, source_segment(e), areg(e, HYVM_RSI), size, false, &v)))
			return s;
		reg_write(e, acc[size], v);
		areg_set(e, HYVM_RSI, areg(e, HYVM_RSI) + delta);
		return STEP_OK;
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVSQ:
		if ((s = mem_rw(e, source_segment(e), areg(e, HYVM_RSI), size, false, &v)) ||
		    (s = mem_rw(e, HYVM_ES, areg(e, HYVM_RDI), size, true, &v)))
			return s;
		areg_set(e, HYVM_RSI, areg(e, HYVM_RSI) + delta);
		areg_set(e, HYVM_RDI, areg(e, HYVM_RDI) + delta);
		return STEP_OK;
	default:
		return fail(e, "a string instruction the MMIO emulator does not handle");
	}
}

/* SF, ZF, PF of a result (PF: even parity of the low byte). */
static uint64_t flags_szp(uint64_t r, unsigned bits)
{
	return (r == 0 ? RFLAGS_ZF : 0) | ((r >> (bits - 1)) & 1 ? RFLAGS_SF : 0) |
	       (__builtin_popcount(r & 0xff) & 1 ? 0 : RFLAGS_PF);
}

/* AND/OR/XOR/ADD/SUB/CMP/TEST with a memory operand (APM Vol. 3). */
static enum step exec_alu(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	ZydisMnemonic mn = e->insn.mnemonic;
	unsigned bits = d->size;
	uint64_t m = mask_bits(bits), a = 0, b = 0, r, f;
	enum step s;

	if (d->type == ZYDIS_OPERAND_TYPE_MEMORY &&
	    (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ||
	     (src->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(src->reg.value)))) {
		if ((s = operand_rw(e, d, false, &a)))
			return s;
		b = source_value(e, src, bits);
	} else if (d->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(d->reg.value) &&
		   src->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		a = reg_read(e, d->reg.value);
		if ((s = operand_rw(e, src, false, &b)))
			return s;
	} else {
		return fail(e, "unsupported operands");
	}
	switch (mn) {
	case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_TEST: r = a & b; break;
	case ZYDIS_MNEMONIC_OR:  r = a | b; break;
	case ZYDIS_MNEMONIC_XOR: r = a ^ b; break;
	case ZYDIS_MNEMONIC_ADD: r = (a + b) & m; break;
	default:		 r = (a - b) & m; break;	/* SUB, CMP */
	}
	f = flags_szp(r, bits);
	if (mn == ZYDIS_MNEMONIC_ADD)
		f |= (r < a ? RFLAGS_CF : 0) |
		     ((((a ^ r) & (b ^ r)) >> (bits - 1)) & 1 ? RFLAGS_OF : 0) |
		     ((a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0);
	else if (mn == ZYDIS_MNEMONIC_SUB || mn == ZYDIS_MNEMONIC_CMP)
		f |= (a < b ? RFLAGS_CF : 0) |
		     ((((a ^ b) & (a ^ r)) >> (bits - 1)) & 1 ? RFLAGS_OF : 0) |
		     ((a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0);
	if (mn != ZYDIS_MNEMONIC_CMP && mn != ZYDIS_MNEMONIC_TEST) {
		if (d->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if ((s = operand_rw(e, d, true, &r)))
				return s;
		} else {
			reg_write(e, d->reg.value, r);
		}
	}
	e->st.rflags = (e->st.rflags & ~RFLAGS_ARITH) | f;
	return STEP_OK;
}

/* One whole instruction, or one element of a string instruction. */
static enum step exec(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	uint64_t a = 0, b;
	enum step s;

	if (is_string_op(&e->insn))
		return exec_string(e);
	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		if (d->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ||
		     (src->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(src->reg.value)))) {
			a = source_value(e, src, d->size);
			return operand_rw(e, d, true, &a);
		}
		if (d->type != ZYDIS_OPERAND_TYPE_REGISTER || !is_gpr(d->reg.value) ||
		    src->type != ZYDIS_OPERAND_TYPE_MEMORY)
			return fail(e, "unsupported operands");
		if ((s = operand_rw(e, src, false, &a)))
			return s;
		reg_write(e, d->reg.value, a);
		return STEP_OK;
	case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX: case ZYDIS_MNEMONIC_MOVSXD:
		if (src->type != ZYDIS_OPERAND_TYPE_MEMORY || !is_gpr(d->reg.value))
			return fail(e, "unsupported operands");
		if ((s = operand_rw(e, src, false, &a)))
			return s;
		if (e->insn.mnemonic != ZYDIS_MNEMONIC_MOVZX && ((a >> (src->size - 1)) & 1))
			a |= ~mask_bits(src->size);
		reg_write(e, d->reg.value, a);
		return STEP_OK;
	case ZYDIS_MNEMONIC_XCHG: {
		const ZydisDecodedOperand *mem = d->type == ZYDIS_OPERAND_TYPE_MEMORY ? d : src;
		const ZydisDecodedOperand *reg = mem == d ? src : d;

		if (mem->type != ZYDIS_OPERAND_TYPE_MEMORY || !is_gpr(reg->reg.value))
			return fail(e, "unsupported operands");
		if ((s = operand_rw(e, mem, false, &a)))
			return s;
		b = reg_read(e, reg->reg.value);
		if ((s = operand_rw(e, mem, true, &b)))
			return s;
		reg_write(e, reg->reg.value, a);
		return STEP_OK;
	}
	case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR:
	case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_CMP:
	case ZYDIS_MNEMONIC_TEST:
		return exec_alu(e);
	default:
		return fail(e, "not an instruction the MMIO emulator handles");
	}
}

/* --- INS/OUTS ------------------------------------------------------------ */

/* Up to EMUL_BUF_SIZE bytes of a (REP) INS/OUTS as one port exit; the
 * memory side must be RAM. OUTS reads its data now; INS checks that every
 * destination is writable now and stores on emul_resume. */
static enum emul_status string_io_begin(struct emul *e)
{
	bool out = e->insn.mnemonic >= ZYDIS_MNEMONIC_OUTSB &&
		   e->insn.mnemonic <= ZYDIS_MNEMONIC_OUTSW;
	bool rep = e->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					 ZYDIS_ATTRIB_HAS_REPNE);
	unsigned size = string_size(&e->insn);
	int seg = out ? source_segment(e) : HYVM_ES, idx = out ? HYVM_RSI : HYVM_RDI;
	int64_t delta = string_delta(e, size);
	uint64_t n = rep ? areg(e, HYVM_RCX) : 1, i;

	if (n == 0) {
		finish_insn(e);
		return EMUL_DONE;
	}
	if (n > EMUL_BUF_SIZE / size)
		n = EMUL_BUF_SIZE / size;
	e->ram_only = true;
	for (i = 0; i < n; i++) {
		uint64_t off = (areg(e, idx) + i * delta) & mask_bits(e->insn.address_width);
		/* Through an aligned local: mem_rw works on whole uint64_t. */
		uint64_t v;
		enum step s = mem_rw(e, seg, off, size, !out, out ? &v : NULL);

		if (s == STEP_OK) {
			if (out)
				memcpy(e->buf + i * size, &v, size);
			continue;
		}
		if (i == 0)	/* the first element faults: the guest sees it */
			return s == STEP_FAULT ? EMUL_DONE : EMUL_ERROR;
		n = i;		/* the rest faults when the guest re-executes */
		e->st.event.type = HYVM_EVENT_NONE;
		e->err[0] = 0;
		break;
	}
	e->acc = (struct emul_access){
		.pio = true, .write = out, .size = size, .count = n,
		.addr = e->st.gpr[HYVM_RDX] & 0xffff, .data = e->buf,
	};
	return EMUL_ACCESS;
}

static enum emul_status string_io_finish(struct emul *e)
{
	bool out = e->acc.write;
	unsigned size = e->acc.size, n = e->acc.count;
	int idx = out ? HYVM_RSI : HYVM_RDI;
	int64_t delta = string_delta(e, size);

	e->acc.pio = false;
	for (unsigned i = 0; !out && i < n; i++) {
		uint64_t off = (areg(e, idx) + i * delta) & mask_bits(e->insn.address_width);

		uint64_t v = 0;

		memcpy(&v, e->buf + i * size, size);
		if (mem_rw(e, HYVM_ES, off, size, true, &v) != STEP_OK)
			return EMUL_ERROR;	/* the guest changed its page tables meanwhile */
	}
	areg_set(e, idx, areg(e, idx) + n * delta);
	if (e->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) {
		areg_set(e, HYVM_RCX, areg(e, HYVM_RCX) - n);
		if (areg(e, HYVM_RCX) != 0)
			return EMUL_DONE;	/* re-executed with the count left */
	}
	finish_insn(e);
	return EMUL_DONE;
}

/* Runs elements until one needs the VMM or the instruction is done. */
static enum emul_status run(struct emul *e)
{
	bool rep = is_string_op(&e->insn) &&
		   (e->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					  ZYDIS_ATTRIB_HAS_REPNE));

	for (;;) {
		if (rep && areg(e, HYVM_RCX) == 0) {
			finish_insn(e);
			return EMUL_DONE;
		}
		e->cursor = 0;
		switch (exec(e)) {
		case STEP_ACCESS:
			return EMUL_ACCESS;
		case STEP_ERROR:
			return EMUL_ERROR;
		case STEP_FAULT:
			return EMUL_DONE;	/* RIP stays: the guest sees the #PF there */
		case STEP_OK:
			break;
		}
		e->answered = 0;
		if (!rep) {
			finish_insn(e);
			return EMUL_DONE;
		}
		areg_set(e, HYVM_RCX, areg(e, HYVM_RCX) - 1);
		if (areg(e, HYVM_RCX) == 0) {
			finish_insn(e);
			return EMUL_DONE;
		}
		/* Let the guest run (and take interrupts) now and then; it
		 * re-executes the REP instruction with the count left. */
		if (++e->iterations >= EMUL_MAX_ITER)
			return EMUL_DONE;
	}
}

enum emul_status emul_begin(struct emul *e, const struct hyvm_cpu_state *st,
			    const struct guest_mem *mem, const uint8_t *insn,
			    unsigned insn_len)
{
	ZydisDecoder dec;
	ZydisMachineMode mode;

	e->st = *st;
	e->mem = mem;
	e->answered = e->cursor = e->iterations = 0;
	e->ram_only = false;
	memset(&e->acc, 0, sizeof(e->acc));
	e->err[0] = 0;
	memset(&e->insn, 0, sizeof(e->insn));
	if (st->event.type != HYVM_EVENT_NONE) {
		snprintf(e->err, sizeof(e->err),
			 "an access outside RAM while delivering vector %u at rip %#llx",
			 st->event.vector, (unsigned long long)st->rip);
		return EMUL_ERROR;
	}
	if (insn && insn_len) {
		e->nbytes = insn_len > 15 ? 15 : insn_len;
		memcpy(e->bytes, insn, e->nbytes);
	} else {
		switch (fetch(e)) {
		case STEP_OK:
			break;
		case STEP_FAULT:
			return EMUL_DONE;
		default:
			return EMUL_ERROR;
		}
	}
	mode = machine_mode(st);
	ZydisDecoderInit(&dec, mode, mode == ZYDIS_MACHINE_MODE_LONG_64 ? ZYDIS_STACK_WIDTH_64 :
			 mode == ZYDIS_MACHINE_MODE_LEGACY_32 ? ZYDIS_STACK_WIDTH_32 :
			 ZYDIS_STACK_WIDTH_16);
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, e->bytes, e->nbytes, &e->insn, e->op))) {
		char hex[3 * 15 + 1] = "";

		for (unsigned i = 0; i < e->nbytes; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", e->bytes[i]);
		snprintf(e->err, sizeof(e->err), "cannot decode the instruction at rip %#llx: %s",
			 (unsigned long long)st->rip, hex);
		return EMUL_ERROR;
	}
	if (is_port_string_op(&e->insn))
		return string_io_begin(e);
	return run(e);
}

enum emul_status emul_resume(struct emul *e)
{
	if (e->acc.pio)
		return string_io_finish(e);
	if (!e->acc.write) {
		uint64_t v = 0;

		memcpy(&v, e->buf, e->acc.size);
		e->answer[e->answered] = v;
	}
	e->answered++;
	return run(e);
}

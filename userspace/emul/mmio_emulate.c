/*
 * The instruction emulator behind MMIO and string port I/O; see
 * mmio_emulate.h for what it handles and how an engine drives it.
 * Register updates come after an element's last access, so re-running an
 * element after each answered access (the replay) never applies one twice;
 * RAM writes before a pending access are repeated with the same value.
 */
#include <stdio.h>
#include <string.h>
#include "emul/emul_internal.h"
#include "engines/engine.h"

/* --- driving ------------------------------------------------------------ */

static ZydisMachineMode machine_mode(const struct hyvm_cpu_state *st)
{
	if (guest_is_64bit(st))
		return ZYDIS_MACHINE_MODE_LONG_64;
	if (!(st->cr0 & CR0_PE) || (st->rflags & EFLAGS_VM))
		return ZYDIS_MACHINE_MODE_REAL_16;
	return (st->seg[HYVM_CS].attrib & HYVM_SEG_DB) ? ZYDIS_MACHINE_MODE_LEGACY_32
							: ZYDIS_MACHINE_MODE_LEGACY_16;
}

/* Up to 15 bytes at CS:RIP, page by page, stopping where RAM ends. */
static enum step fetch(struct emul *e)
{
	uint64_t lin = emul_linear(e, HYVM_CS, e->st.rip), gpa;
	enum step s;

	e->nbytes = 0;
	while (e->nbytes < 15) {
		unsigned chunk = 4096 - ((lin + e->nbytes) & 0xfff);
		uint8_t *p;

		if ((s = emul_translate(e, emul_linear(e, HYVM_CS, e->st.rip + e->nbytes), GM_FETCH, &gpa)))
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

	return emul_gpr_ref(r, &idx, &shift, &bits);
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

/* AND/OR/XOR/ADD/SUB/CMP/TEST with a memory operand (APM Vol. 3). */
static enum step exec_alu(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	ZydisMnemonic mn = e->insn.mnemonic;
	unsigned bits = d->size;
	uint64_t m = emul_mask_bits(bits), a = 0, b = 0, r, f;
	enum step s;

	if (d->type == ZYDIS_OPERAND_TYPE_MEMORY &&
	    (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ||
	     (src->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(src->reg.value)))) {
		if ((s = emul_operand_rw(e, d, false, &a)))
			return s;
		b = emul_source_value(e, src, bits);
	} else if (d->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(d->reg.value) &&
		   src->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		a = emul_reg_read(e, d->reg.value);
		if ((s = emul_operand_rw(e, src, false, &b)))
			return s;
	} else {
		return emul_fail(e, "unsupported operands");
	}
	switch (mn) {
	case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_TEST: r = a & b; break;
	case ZYDIS_MNEMONIC_OR:  r = a | b; break;
	case ZYDIS_MNEMONIC_XOR: r = a ^ b; break;
	case ZYDIS_MNEMONIC_ADD: r = (a + b) & m; break;
	default:		 r = (a - b) & m; break;	/* SUB, CMP */
	}
	f = emul_flags_szp(r, bits);
	if (mn == ZYDIS_MNEMONIC_ADD)
		f |= (r < a ? EFLAGS_CF : 0) |
		     ((((a ^ r) & (b ^ r)) >> (bits - 1)) & 1 ? EFLAGS_OF : 0) |
		     ((a ^ b ^ r) & 0x10 ? EFLAGS_AF : 0);
	else if (mn == ZYDIS_MNEMONIC_SUB || mn == ZYDIS_MNEMONIC_CMP)
		f |= (a < b ? EFLAGS_CF : 0) |
		     ((((a ^ b) & (a ^ r)) >> (bits - 1)) & 1 ? EFLAGS_OF : 0) |
		     ((a ^ b ^ r) & 0x10 ? EFLAGS_AF : 0);
	if (mn != ZYDIS_MNEMONIC_CMP && mn != ZYDIS_MNEMONIC_TEST) {
		if (d->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if ((s = emul_operand_rw(e, d, true, &r)))
				return s;
		} else {
			emul_reg_write(e, d->reg.value, r);
		}
	}
	e->st.rflags = (e->st.rflags & ~(uint64_t)EFLAGS_ARITH) | f;
	return STEP_OK;
}

/* One whole instruction, or one element of a string instruction. */
static enum step exec(struct emul *e)
{
	const ZydisDecodedOperand *d = &e->op[0], *src = &e->op[1];
	uint64_t a = 0, b;
	enum step s;

	if (emul_is_string_op(&e->insn))
		return emul_exec_string(e);
	switch (e->insn.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		if (d->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE ||
		     (src->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(src->reg.value)))) {
			a = emul_source_value(e, src, d->size);
			return emul_operand_rw(e, d, true, &a);
		}
		if (d->type != ZYDIS_OPERAND_TYPE_REGISTER || !is_gpr(d->reg.value) ||
		    src->type != ZYDIS_OPERAND_TYPE_MEMORY)
			return emul_fail(e, "unsupported operands");
		if ((s = emul_operand_rw(e, src, false, &a)))
			return s;
		emul_reg_write(e, d->reg.value, a);
		return STEP_OK;
	case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX: case ZYDIS_MNEMONIC_MOVSXD:
		if (src->type != ZYDIS_OPERAND_TYPE_MEMORY || !is_gpr(d->reg.value))
			return emul_fail(e, "unsupported operands");
		if ((s = emul_operand_rw(e, src, false, &a)))
			return s;
		if (e->insn.mnemonic != ZYDIS_MNEMONIC_MOVZX && ((a >> (src->size - 1)) & 1))
			a |= ~emul_mask_bits(src->size);
		emul_reg_write(e, d->reg.value, a);
		return STEP_OK;
	case ZYDIS_MNEMONIC_XCHG: {
		const ZydisDecodedOperand *mem = d->type == ZYDIS_OPERAND_TYPE_MEMORY ? d : src;
		const ZydisDecodedOperand *reg = mem == d ? src : d;

		if (mem->type != ZYDIS_OPERAND_TYPE_MEMORY || !is_gpr(reg->reg.value))
			return emul_fail(e, "unsupported operands");
		if ((s = emul_operand_rw(e, mem, false, &a)))
			return s;
		b = emul_reg_read(e, reg->reg.value);
		if ((s = emul_operand_rw(e, mem, true, &b)))
			return s;
		emul_reg_write(e, reg->reg.value, a);
		return STEP_OK;
	}
	case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR:
	case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_CMP:
	case ZYDIS_MNEMONIC_TEST:
		return exec_alu(e);
	case ZYDIS_MNEMONIC_CMPXCHG: case ZYDIS_MNEMONIC_XADD: case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_NOT: case ZYDIS_MNEMONIC_NEG:
	case ZYDIS_MNEMONIC_ADC: case ZYDIS_MNEMONIC_SBB:
		return emul_exec_rmw(e);
	case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR: case ZYDIS_MNEMONIC_RCL:
	case ZYDIS_MNEMONIC_RCR: case ZYDIS_MNEMONIC_SHL:
	case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR: case ZYDIS_MNEMONIC_SHLD:
	case ZYDIS_MNEMONIC_SHRD:
		return emul_exec_shift(e);
	case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR:
	case ZYDIS_MNEMONIC_BTC: case ZYDIS_MNEMONIC_BSF: case ZYDIS_MNEMONIC_BSR:
		return emul_exec_bits(e);
	case ZYDIS_MNEMONIC_MUL: case ZYDIS_MNEMONIC_IMUL: case ZYDIS_MNEMONIC_DIV:
	case ZYDIS_MNEMONIC_IDIV:
		return emul_exec_muldiv(e);
	case ZYDIS_MNEMONIC_XLAT:
		/* AL = [rBX + zero-extended AL] (SDM Vol. 2B "XLAT") */
		a = emul_areg(e, HYVM_RBX) + (e->st.gpr[HYVM_RAX] & 0xff);
		if ((s = emul_mem_rw(e, x86_seg_index(d->mem.segment),
				     a & emul_mask_bits(e->insn.address_width), 1, false, &b)))
			return s;
		emul_reg_write(e, ZYDIS_REGISTER_AL, b);
		return STEP_OK;
	case ZYDIS_MNEMONIC_PUSH:
		return emul_exec_push(e);
	case ZYDIS_MNEMONIC_POP:
		return emul_exec_pop(e);
	default:
		if (e->insn.meta.category == ZYDIS_CATEGORY_SETCC ||
		    e->insn.meta.category == ZYDIS_CATEGORY_CMOV)
			return emul_exec_condition(e);
		return emul_fail(e, "not an instruction the MMIO emulator handles");
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
	unsigned size = emul_string_size(&e->insn);
	int seg = out ? emul_source_segment(e) : HYVM_ES, idx = out ? HYVM_RSI : HYVM_RDI;
	int64_t delta = emul_string_delta(e, size);
	uint64_t n = rep ? emul_areg(e, HYVM_RCX) : 1, i;

	if (n == 0) {
		finish_insn(e);
		return EMUL_DONE;
	}
	if (n > EMUL_BUF_SIZE / size)
		n = EMUL_BUF_SIZE / size;
	e->ram_only = true;
	for (i = 0; i < n; i++) {
		uint64_t off = (emul_areg(e, idx) + i * delta) & emul_mask_bits(e->insn.address_width);
		/* Through an aligned local: mem_rw works on whole uint64_t. */
		uint64_t v;
		enum step s = emul_mem_rw(e, seg, off, size, !out, out ? &v : NULL);

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
	int64_t delta = emul_string_delta(e, size);

	e->acc.pio = false;
	for (unsigned i = 0; !out && i < n; i++) {
		uint64_t off = (emul_areg(e, idx) + i * delta) & emul_mask_bits(e->insn.address_width);

		uint64_t v = 0;

		memcpy(&v, e->buf + i * size, size);
		if (emul_mem_rw(e, HYVM_ES, off, size, true, &v) != STEP_OK)
			return EMUL_ERROR;	/* the guest changed its page tables meanwhile */
	}
	emul_areg_set(e, idx, emul_areg(e, idx) + n * delta);
	if (e->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) {
		emul_areg_set(e, HYVM_RCX, emul_areg(e, HYVM_RCX) - n);
		if (emul_areg(e, HYVM_RCX) != 0)
			return EMUL_DONE;	/* re-executed with the count left */
	}
	finish_insn(e);
	return EMUL_DONE;
}

/* Runs elements until one needs the VMM or the instruction is done. */
static enum emul_status run(struct emul *e)
{
	bool rep = emul_is_string_op(&e->insn) &&
		   (e->insn.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					  ZYDIS_ATTRIB_HAS_REPNE));

	for (;;) {
		if (rep && emul_areg(e, HYVM_RCX) == 0) {
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
		emul_areg_set(e, HYVM_RCX, emul_areg(e, HYVM_RCX) - 1);
		if (emul_areg(e, HYVM_RCX) == 0 || emul_string_compare_ends(e)) {
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

void emul_access_exit(const struct emul *e, struct vcpu_exit *exit)
{
	if (e->acc.pio) {
		exit->kind = EXIT_IO;
		exit->io.port = (uint16_t)e->acc.addr;
		exit->io.size = e->acc.size;
		exit->io.write = e->acc.write;
		exit->io.count = e->acc.count;
		exit->io.data = e->acc.data;
	} else {
		exit->kind = EXIT_MMIO;
		exit->mmio.gpa = e->acc.addr;
		exit->mmio.size = e->acc.size;
		exit->mmio.write = e->acc.write;
		exit->mmio.data = e->acc.data;
	}
}

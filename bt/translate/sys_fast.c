/*
 * SYSENTER and SYSEXIT as translated code, in front of their in-block
 * callout (callout_call.c): when what the transfer did the last time is
 * still what it does, the block does it itself, without a call into C.
 *
 * What SYSENTER does (SDM Vol. 2B, SYSENTER, protected mode): #GP(0) if
 * IA32_SYSENTER_CS[15:2] = 0; VM, IF and RF cleared; CS = SYSENTER_CS &
 * 0xfffc and SS = CS + 8, both flat 4 GiB at DPL 0; ESP = SYSENTER_ESP,
 * EIP = SYSENTER_EIP. SYSEXIT (SDM Vol. 2B, SYSEXIT, 32-bit return):
 * #GP(0) at CPL > 0 or with SYSENTER_CS[15:2] = 0; CS = (SYSENTER_CS +
 * 16) | 3 and SS = (SYSENTER_CS + 24) | 3, flat at DPL 3; ESP = ECX,
 * EIP = EDX; EFLAGS untouched. Both #GP(0) in real mode.
 *
 * So with the MSRs, CR0 and the other segments unchanged, CS, SS, the
 * mode and the next block are what they were after the last transfer the
 * callout did; only ESP and the virtual IF/RF come from the live state.
 * The callout remembers that outcome in the block's bt_sys_fast
 * (cpu/callout_in_block.c, sys_fast_fill) with cpu->xfer_epoch, which
 * bt_xfer_changed bumps whenever one of its premises may change: WRMSR,
 * a CR write, every jump-cache reset (a segment's base or limit, CR3,
 * paging, a flush), a dropped page, an invalidated block, and every entry
 * into the dispatcher from the VMM (set_state, an interrupt or interrupt
 * window asked for, the debugger). The fill itself is refused while an
 * interrupt is pending or a window wanted (SYSEXIT keeps IF, so STI;
 * SYSEXIT must give the dispatcher its boundary), with the debugger on,
 * and under paging (the view changes with the CPL there, and with it
 * the host's GS base; not done here).
 *
 * Emitted only where the block's key makes the rest hold: 32-bit code on
 * a 32-bit stack (not virtual-8086 mode, which keys CODE16), no paging,
 * and for SYSEXIT CPL 0. The jump cache is keyed by segment bases and
 * limits, not by CPL, so with flat segments ring 3 can reach a ring-0
 * block through an indirect branch: SYSEXIT also compares the CS
 * selector with the one it was filled under (SYSENTER works at any CPL).
 * Anything else, or a stale record, falls through to the callout, which
 * checks the CPL in C.
 */
#include "bt/translate/translate.h"

/* EFLAGS bytes 1 and 2 with IF (bit 9) and RF, VM (bits 16, 17) cleared:
 * a table lookup, as an AND would clobber the guest's RFLAGS. */
static const uint8_t clear_if[256] = {
#define B4(n) (n) & ~2, ((n) + 1) & ~2, ((n) + 2) & ~2, ((n) + 3) & ~2
#define B16(n) B4(n), B4((n) + 4), B4((n) + 8), B4((n) + 12)
#define B64(n) B16(n), B16((n) + 16), B16((n) + 32), B16((n) + 48)
	B64(0), B64(64), B64(128), B64(192)
#undef B4
#undef B16
#undef B64
};
static const uint8_t clear_rf_vm[256] = {
#define B4(n) (n) & ~3, ((n) + 1) & ~3, ((n) + 2) & ~3, ((n) + 3) & ~3
#define B16(n) B4(n), B4((n) + 4), B4((n) + 8), B4((n) + 12)
#define B64(n) B16(n), B16((n) + 16), B16((n) + 32), B16((n) + 48)
	B64(0), B64(64), B64(128), B64(192)
#undef B4
#undef B16
#undef B64
};

static bool sys_fast_wanted(const struct tx *t, const struct bt_insn *d)
{
	uint32_t m = t->b->mode;

	if (m & (BT_MODE_SINGLE | BT_MODE_CODE16 | BT_MODE_STACK16 | BT_MODE_PAGING))
		return false;
	if (d->insn.mnemonic == ZYDIS_MNEMONIC_SYSENTER)
		return true;
	/* a 64-bit SYSEXIT (REX.W) returns to long mode: not here */
	return d->insn.mnemonic == ZYDIS_MNEMONIC_SYSEXIT && (m & BT_MODE_CPL_MASK) == 0 &&
	       d->insn.operand_width == 32;
}

/* rcx = b - rcx without flags (not, lea): jrcxz then tests rcx == b */
static bool emit_diff(struct bt_emitter *e, ZydisRegister b)
{
	return emit1(e, ZYDIS_MNEMONIC_NOT, R(RCX)) &&
	       emit2(e, ZYDIS_MNEMONIC_LEA, R(RCX), op_mem(ZYDIS_REGISTER_RCX, b, 1, 1, 8));
}

/* ECX holds a 32-bit value now: on to what follows when it equals the
 * record's field at offset off (through r11), else a jump to miss. */
static bool emit_same_or_miss(struct bt_emitter *e, size_t off, const uint8_t *miss)
{
	uint8_t *same, *other;

	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(R10D), op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, (int64_t)off, 4)) &&
	      emit1(e, ZYDIS_MNEMONIC_NOT, R(ECX)) &&
	      emit2(e, ZYDIS_MNEMONIC_LEA, R(ECX), op_mem(ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_R10, 1, 1, 8)) &&
	      (same = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      (other = emit_branch8(e, ZYDIS_MNEMONIC_JMP, false))))
		return false;
	patch_rel8(other, miss);
	patch_rel8(same, e->pos);
	return true;
}

static bool emit_stat_inc(struct bt_emitter *e)
{
	return emit2(e, ZYDIS_MNEMONIC_MOV, R(R10), op_ctx(BT_OFF(stats.sys_fast), 8)) &&
	       emit2(e, ZYDIS_MNEMONIC_LEA, R(R10), op_mem(ZYDIS_REGISTER_R10, ZYDIS_REGISTER_NONE, 0, 1, 8)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(stats.sys_fast), 8), R(R10));
}

/* eflags byte off of the context through table tab: r13 = tab */
static bool emit_flags_byte(struct bt_emitter *e, const uint8_t *tab, int32_t off)
{
	return emit2(e, ZYDIS_MNEMONIC_MOV, R(R13), op_imm((int64_t)(uintptr_t)tab)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOVZX, R(R10D), op_ctx(BT_OFF(eflags) + off, 1)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOVZX, R(R10D),
		     op_mem(ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R10, 1, 0, 1)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(eflags) + off, 1), R(R10B));
}

/*
 *	mov r9, rcx;  mov r11, record
 *	mov rcx, [r15+xfer_epoch];  not rcx;  mov r10, [r11+epoch]
 *	lea rcx, [rcx+r10+1];  jrcxz next_check	(record.epoch == xfer_epoch)
 * miss: mov rcx, r9;  jmp callout
 * SYSEXIT, next_check: movzx ecx, word [r15+CS.selector];  mov r10d, [r11+cs_before]
 *	not ecx;  lea ecx, [rcx+r10+1];  jrcxz cs_ok;  jmp miss	(still CPL 0: see below)
 * cs_ok: mov ecx, edx;  mov r10d, [r11+eip];  not ecx
 *	lea ecx, [rcx+r10+1];  jrcxz hit;  jmp miss	(EDX == record.eip)
 * hit: (SYSENTER) eflags bytes 1, 2 through the tables;  r14d = SYSENTER_ESP
 *	(SYSEXIT) r14d = ECX
 *	CS, SS = record.cs_ss (6 qwords through r10);  intr_shadow = 0
 *	stats.sys_fast++ (mov, lea, mov);  mov rcx, r9;  jmp [r11+target]
 * callout: what callout_call.c emits after this.
 * RFLAGS is never written: the guest's arithmetic flags stay live.
 */
bool sys_fast_emit(struct tx *t, const struct bt_insn *d)
{
	struct bt_emitter *e = &t->e;
	bool sysexit = d->insn.mnemonic == ZYDIS_MNEMONIC_SYSEXIT;
	struct bt_sys_fast *rec;
	uint8_t *next_check, *miss, *to_callout;

	if (!sys_fast_wanted(t, d) || !(rec = tc_alloc_data(t->tc, sizeof(*rec))))
		return true;
	*rec = (struct bt_sys_fast){ 0 };
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(R9), R(RCX)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)rec)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), op_ctx(BT_OFF(xfer_epoch), 8)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R10),
		    op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, offsetof(struct bt_sys_fast, epoch), 8)) &&
	      emit_diff(e, ZYDIS_REGISTER_R10) &&
	      (next_check = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false))))
		return false;
	miss = e->pos;
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9)) &&
	      (to_callout = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
	patch_rel8(next_check, e->pos);
	if (sysexit) {
		if (!(emit2(e, ZYDIS_MNEMONIC_MOVZX, R(ECX), op_ctx(BT_OFF(arch.seg[HYVM_CS].selector), 2)) &&
		      emit_same_or_miss(e, offsetof(struct bt_sys_fast, cs_before), miss) &&
		      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), R(EDX)) &&
		      emit_same_or_miss(e, offsetof(struct bt_sys_fast, eip), miss) &&
		      emit2(e, ZYDIS_MNEMONIC_MOV, R(R14D), R(R9D))))
			return false;
	} else if (!(emit_flags_byte(e, clear_if, 1) && emit_flags_byte(e, clear_rf_vm, 2) &&
		     emit2(e, ZYDIS_MNEMONIC_MOV, R(R14D), op_ctx(BT_OFF(arch.sysenter_esp), 4)))) {
		return false;
	}
	for (int i = 0; i < 6; i++)
		if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(R10),
			    op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0,
				   offsetof(struct bt_sys_fast, cs_ss) + 8 * i, 8)) &&
		      emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(arch.seg[HYVM_CS]) + 8 * i, 8), R(R10))))
			return false;
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF(intr_shadow), 1), op_imm(0)) &&
	      emit_stat_inc(e) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RCX), R(R9)) &&
	      emit1(e, ZYDIS_MNEMONIC_JMP,
		    op_mem(ZYDIS_REGISTER_R11, ZYDIS_REGISTER_NONE, 0, offsetof(struct bt_sys_fast, target), 8))))
		return false;
	patch_rel32(to_callout, e->pos);
	t->b->sys_fast = rec;
	return true;
}

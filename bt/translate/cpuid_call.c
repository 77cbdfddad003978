/*
 * CPUID as translated code executes it, without a block exit and without
 * the host's CPUID: a flag-free lookup in cpu->cpuid_fast inline in the
 * block (cpuid_emit, below) and, on a miss, a call to bt_cpuid.
 * Part of translation so translated code calls nothing in bt/cpu/; the
 * CPUID callout there calls bt_cpuid too.
 */
#include <hyvm/cpuid_table.h>
#include <cpuid.h>
#include "bt/translate/translate.h"
#include "bt/translate/translator.h"

/* CPUID: the model's table (set_cpuid), plus what a CPU fills in per
 * logical processor: the initial APIC ID in CPUID.1:EBX[31:24] (SDM Vol.
 * 2A, CPUID, Table 3-8). bt has one vCPU, APIC ID 0; the model lists no
 * XSAVE, so there is no OSXSAVE to mirror from CR4. */
static void cpuid_answer(const struct bt_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	hyvm_cpuid_lookup(&cpu->cpuid, leaf, sub, r);
	if (leaf == 1)
		r[1] &= 0x00ffffffu;
}

void bt_cpuid(struct bt_cpu *cpu)
{
	uint32_t leaf = cpu->gpr[HYVM_RAX], sub = cpu->gpr[HYVM_RCX];
	uint32_t r[4];

	cpuid_answer(cpu, leaf, sub, r);
	cpu->gpr[HYVM_RAX] = r[0];
	cpu->gpr[HYVM_RBX] = r[1];
	cpu->gpr[HYVM_RCX] = r[2];
	cpu->gpr[HYVM_RDX] = r[3];
}

/* A leaf's answer ignores ECX unless an entry of its function is indexed
 * (hyvm_cpuid_find matches such an entry only on its index). */
static bool cpuid_leaf_indexed(const struct hyvm_cpuid_table *t, uint32_t leaf)
{
	for (uint32_t i = 0; i < t->nent && i < HYVM_CPUID_MAX_ENTRIES; i++)
		if (t->entries[i].function == leaf && (t->entries[i].flags & HYVM_CPUID_INDEXED))
			return true;
	return false;
}

/* The fast table: every leaf within the basic, hypervisor and extended
 * ranges the model lists (at most a slot's worth of each) that ignores
 * ECX, the first of colliding leaves winning; the answers are bt_cpuid's.
 * Everything else (indexed leaves, leaves out of range) misses. */
void bt_cpuid_prepare(struct bt_cpu *cpu)
{
	static const uint32_t bases[] = { 0, 0x80000000u, 0x40000000u };
	struct bt_cpuid_fast *f = &cpu->cpuid_fast;
	bool used[BT_CPUID_SLOTS] = { false };

	for (unsigned s = 0; s < BT_CPUID_SLOTS; s++) {
		f->neg_leaf[s] = -(s ^ 1u);
		f->eax[s] = f->ebx[s] = f->ecx[s] = f->edx[s] = 0;
	}
	for (unsigned b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		const struct hyvm_cpuid_entry *max = hyvm_cpuid_find(&cpu->cpuid, bases[b], 0);
		if (!max || max->eax < bases[b])
			continue;
		uint32_t n = max->eax - bases[b];
		if (n >= BT_CPUID_SLOTS)
			n = BT_CPUID_SLOTS - 1;
		for (uint32_t leaf = bases[b]; leaf <= bases[b] + n; leaf++) {
			unsigned s = bt_cpuid_slot(leaf);
			uint32_t r[4];
			if (used[s] || cpuid_leaf_indexed(&cpu->cpuid, leaf))
				continue;
			cpuid_answer(cpu, leaf, 0, r);
			used[s] = true;
			f->neg_leaf[s] = -leaf;
			f->eax[s] = r[0];
			f->ebx[s] = r[1];
			f->ecx[s] = r[2];
			f->edx[s] = r[3];
		}
	}
}

/* LAHF/SAHF in 64-bit mode: CPUID.80000001H:ECX[0] */
static bool host_has_sahf(void)
{
	static int has = -1;
	unsigned a, b, c, d;

	if (has < 0)
		has = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & 1);
	return has;
}

/* CPUID through bt_cpuid, the model's table lookup, on the guest EAX/ECX
 * stored in the context. A callout would cost a block exit and a trip
 * through the dispatcher per CPUID. The C call may clobber rax-rdi (ESI,
 * EDI saved), r8 (saved) and r9-r11 (scratch) and wants DF clear and a
 * 16-byte aligned stack; r13 keeps RSP across it. The guest's live flags,
 * which CPUID does not change, wait in rbx (callee-saved; EBX is an output)
 * and come back without POPFQ, which is slow: DF by STD if it was set, OF
 * by ADD AL,0x7f on AL = OF, then SF ZF AF PF CF by SAHF. POPFQ only on a
 * host without SAHF in 64-bit mode. */
static bool cpuid_call(struct bt_emitter *e)
{
	bool sahf = host_has_sahf();
	uint8_t *df_clear;

	if (!(emit0(e, ZYDIS_MNEMONIC_PUSHFQ) &&
	      (sahf ? emit1(e, ZYDIS_MNEMONIC_POP, R(RBX)) : true) &&
	      emit0(e, ZYDIS_MNEMONIC_CLD) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(0), 4), R(EAX)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(1), 4), R(ECX)) &&
	      emit1(e, ZYDIS_MNEMONIC_PUSH, R(RSI)) && emit1(e, ZYDIS_MNEMONIC_PUSH, R(RDI)) &&
	      emit1(e, ZYDIS_MNEMONIC_PUSH, R(R8)) && sse_spill_emit_save(e) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R13), R(RSP)) &&
	      emit2(e, ZYDIS_MNEMONIC_AND, R(RSP), op_imm(-16)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RDI), R(R15)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(R11), op_imm((int64_t)(uintptr_t)bt_cpuid)) &&
	      emit1(e, ZYDIS_MNEMONIC_CALL, R(R11)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(RSP), R(R13)) && sse_spill_emit_restore(e) &&
	      emit1(e, ZYDIS_MNEMONIC_POP, R(R8)) && emit1(e, ZYDIS_MNEMONIC_POP, R(RDI)) &&
	      emit1(e, ZYDIS_MNEMONIC_POP, R(RSI))))
		return false;
	if (sahf) {
		if (!(emit2(e, ZYDIS_MNEMONIC_BT, R(EBX), op_imm(10)) &&
		      (df_clear = emit_branch8(e, ZYDIS_MNEMONIC_JNB, false)) &&
		      emit0(e, ZYDIS_MNEMONIC_STD)))
			return false;
		patch_rel8(df_clear, e->pos);
		if (!(emit2(e, ZYDIS_MNEMONIC_BT, R(EBX), op_imm(11)) &&
		      emit1(e, ZYDIS_MNEMONIC_SETB, R(AL)) &&
		      emit2(e, ZYDIS_MNEMONIC_ADD, R(AL), op_imm(0x7f)) &&
		      emit2(e, ZYDIS_MNEMONIC_MOV, R(AH), R(BL)) &&
		      emit0(e, ZYDIS_MNEMONIC_SAHF)))
			return false;
	}
	return emit2(e, ZYDIS_MNEMONIC_MOV, R(EAX), op_ctx(BT_OFF_GPR(0), 4)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(EDX), op_ctx(BT_OFF_GPR(2), 4)) &&
	       emit2(e, ZYDIS_MNEMONIC_MOV, R(EBX), op_ctx(BT_OFF_GPR(3), 4)) &&
	       (sahf || emit0(e, ZYDIS_MNEMONIC_POPFQ));
}

/* CPUID without a call for the leaves in cpu->cpuid_fast (bt.h), and
 * without touching RFLAGS (CPUID changes no flag): the slot from the low
 * byte of EAX + bswap(EAX), a match by EAX - leaf = 0 in rcx for JRCXZ,
 * then four loads. A miss calls bt_cpuid. EBX and EDX are outputs, so
 * free; guest ECX waits in the context for the miss.
 *
 *	mov [r15+gpr1], ecx;  mov edx, eax;  bswap edx;  lea edx, [rax+rdx]
 *	movzx edx, dl;  mov ecx, [r15+rdx*4+neg_leaf];  lea ecx, [rax+rcx]
 *	jrcxz hit;  jmp miss
 * hit:	mov eax/ebx/ecx/edx, [r15+rdx*4+eax/ebx/ecx/edx]  (edx last);  jmp done
 * miss: mov ecx, [r15+gpr1];  <cpuid_call>
 * done:
 * (JRCXZ reaches only 127 bytes; the miss path, with the guest's XMM
 * registers kept aside around the call, is longer.) */
bool cpuid_emit(struct tx *t)
{
	struct bt_emitter *e = &t->e;
	const ZydisRegister r15 = ZYDIS_REGISTER_R15, rdx = ZYDIS_REGISTER_RDX;
	uint8_t *hit, *done, *miss;

#define FAST(f) op_mem(r15, rdx, 4, BT_OFF(cpuid_fast.f), 4)
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, op_ctx(BT_OFF_GPR(1), 4), R(ECX)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(EDX), R(EAX)) &&
	      emit1(e, ZYDIS_MNEMONIC_BSWAP, R(EDX)) &&
	      emit2(e, ZYDIS_MNEMONIC_LEA, R(EDX),
		    op_mem(ZYDIS_REGISTER_RAX, rdx, 1, 0, 8)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOVZX, R(EDX), R(DL)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), FAST(neg_leaf)) &&
	      emit2(e, ZYDIS_MNEMONIC_LEA, R(ECX),
		    op_mem(ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, 1, 0, 8)) &&
	      (hit = emit_branch8(e, ZYDIS_MNEMONIC_JRCXZ, false)) &&
	      (miss = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
	patch_rel8(hit, e->pos);
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(EAX), FAST(eax)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(EBX), FAST(ebx)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), FAST(ecx)) &&
	      emit2(e, ZYDIS_MNEMONIC_MOV, R(EDX), FAST(edx)) &&
	      (done = emit_branch32(e, ZYDIS_MNEMONIC_JMP))))
		return false;
#undef FAST
	patch_rel32(miss, e->pos);
	if (!(emit2(e, ZYDIS_MNEMONIC_MOV, R(ECX), op_ctx(BT_OFF_GPR(1), 4)) && cpuid_call(e)))
		return false;
	patch_rel32(done, e->pos);
	return true;
}

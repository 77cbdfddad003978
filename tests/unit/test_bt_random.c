/*
 * Random instruction blocks, run twice: natively on the host CPU (32-bit
 * code in the compatibility-mode segment 0x23 of this process) and on bt.
 * The silicon is the oracle: registers, arithmetic flags and each block's
 * 1 KiB data window must come out identical. BT_RANDOM_BLOCKS sets how many
 * blocks (default 100000); BT_RANDOM_SEED the seed. 16-bit code has its
 * own random test with QEMU TCG as the oracle: tests/bt/random16.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "unit.h"
#include "test_bt_harness.h"

#define CODE	0x00400000u	/* same linear addresses natively and in the guest */
#define RES	0x00500000u
#define DATA	0x00600000u
#define CODE_SIZE 0x100000u
#define BATCH	1000u
#define WIN	1024u
#define FLAGS_MASK 0xcd5u	/* CF PF AF ZF SF OF DF */

struct rng { uint64_t s; };

static uint32_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

static uint32_t pick(struct rng *r, uint32_t n) { return rnd(r) % n; }

static const ZydisRegister dst32[] = { ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX };
static const ZydisRegister any32[] = {
	ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EBX,
	ZYDIS_REGISTER_ESP, ZYDIS_REGISTER_EBP, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI,
};
static const ZydisRegister ptr32[] = { ZYDIS_REGISTER_EBX, ZYDIS_REGISTER_EBP, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI };
static const ZydisRegister dst16[] = { ZYDIS_REGISTER_AX, ZYDIS_REGISTER_CX, ZYDIS_REGISTER_DX };
static const ZydisRegister dst8[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AH, ZYDIS_REGISTER_CL,
				      ZYDIS_REGISTER_CH, ZYDIS_REGISTER_DL, ZYDIS_REGISTER_DH };
static const ZydisRegister src8[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AH, ZYDIS_REGISTER_CL,
				      ZYDIS_REGISTER_CH, ZYDIS_REGISTER_DL, ZYDIS_REGISTER_DH,
				      ZYDIS_REGISTER_BL, ZYDIS_REGISTER_BH };
static const ZydisMnemonic alu[] = {
	ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
	ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP,
	ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_MOV,
};
static const ZydisMnemonic shifts[] = {
	ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR, ZYDIS_MNEMONIC_ROL,
	ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL, ZYDIS_MNEMONIC_RCR,
};
static const ZydisMnemonic unary[] = {
	ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT,
};
static const ZydisMnemonic setcc[] = {
	ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETL,
	ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETS,
};
static const ZydisMnemonic cmov[] = {
	ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNBE, ZYDIS_MNEMONIC_CMOVL,
	ZYDIS_MNEMONIC_CMOVNLE, ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNP, ZYDIS_MNEMONIC_CMOVS,
};
static const ZydisMnemonic jcc[] = {
	ZYDIS_MNEMONIC_JB, ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JL,
	ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JP, ZYDIS_MNEMONIC_JS,
	ZYDIS_MNEMONIC_JNB, ZYDIS_MNEMONIC_JNZ,
};
static const ZydisMnemonic flagops[] = {
	ZYDIS_MNEMONIC_CLC, ZYDIS_MNEMONIC_STC, ZYDIS_MNEMONIC_CMC, ZYDIS_MNEMONIC_CLD,
	ZYDIS_MNEMONIC_STD, ZYDIS_MNEMONIC_LAHF, ZYDIS_MNEMONIC_SAHF, ZYDIS_MNEMONIC_CDQ,
	ZYDIS_MNEMONIC_CWDE, ZYDIS_MNEMONIC_CBW,
};
static const ZydisMnemonic strops[] = {
	ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSD, ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSD,
	ZYDIS_MNEMONIC_LODSD, ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_SCASB,
};

#define X1(m, a) tg_asm(g, (m), 1, (a), I_(0))
#define X2(m, a, b) tg_asm(g, (m), 2, (a), (b))
#define ARR(a) (sizeof(a) / sizeof((a)[0]))
#define ONE(r, a) ((a)[pick(r, ARR(a))])

struct gen {
	struct tg *g;
	struct rng *r;
	int depth;		/* dwords pushed in this block */
};

static ZydisEncoderOperand mem_operand(struct gen *s, int size)
{
	switch (pick(s->r, 3)) {
	case 0:
		if (s->depth > 0)
			return M_(ZYDIS_REGISTER_ESP, 4 * pick(s->r, s->depth), size);
		/* fall through */
	case 1:
		return M_(ONE(s->r, ptr32), (int)pick(s->r, 129) - 64, size);
	default: {
		/* an absolute address inside this test's window */
		ZydisEncoderOperand o = M_(ZYDIS_REGISTER_NONE, 0, size);
		o.mem.displacement = s->g->st.rip + pick(s->r, WIN - 8);	/* window base in rip */
		return o;
	}
	}
}

static uint32_t emit_string(struct gen *s)
{
	ZydisEncoderRequest q;
	ZyanUSize len = 15;
	ZydisMnemonic m = ONE(s->r, strops);

	A2(s->g, MOV, REG(ECX), I_(pick(s->r, 9)));
	memset(&q, 0, sizeof(q));
	q.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
	q.mnemonic = m;
	if (m == ZYDIS_MNEMONIC_CMPSB)
		q.prefixes = ZYDIS_ATTRIB_HAS_REPE;
	else if (m == ZYDIS_MNEMONIC_SCASB)
		q.prefixes = ZYDIS_ATTRIB_HAS_REPNE;
	else if (m != ZYDIS_MNEMONIC_LODSD)
		q.prefixes = ZYDIS_ATTRIB_HAS_REP;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, s->g->ram + s->g->pc, &len)))
		return 0xffffffffu;
	s->g->pc += (uint32_t)len;
	return 0;
}

/* One random instruction (sometimes two, for jcc/call forms). */
static void emit_random(struct gen *s)
{
	struct tg *g = s->g;
	struct rng *r = s->r;
	ZydisMnemonic m;

	switch (pick(r, 22)) {
	case 0: X2(ONE(r, alu), R_(ONE(r, dst32)), R_(ONE(r, any32))); break;
	case 1: X2(ONE(r, alu), R_(ONE(r, dst32)), I_((int32_t)rnd(r))); break;
	case 2: X2(ONE(r, alu), R_(ONE(r, dst32)), mem_operand(s, 4)); break;
	case 3: X2(ONE(r, alu), mem_operand(s, 4), R_(ONE(r, any32))); break;
	case 4: X2(ONE(r, alu), mem_operand(s, pick(r, 2) ? 4 : 1), I_((int8_t)rnd(r))); break;
	case 5: X2(ONE(r, alu), R_(ONE(r, dst8)), pick(r, 2) ? R_(ONE(r, src8)) : mem_operand(s, 1)); break;
	case 6: X2(ONE(r, alu), R_(ONE(r, dst16)), pick(r, 2) ? I_((int16_t)rnd(r)) : mem_operand(s, 2)); break;
	case 7:
		m = ONE(r, shifts);
		if (pick(r, 2))
			X2(m, pick(r, 3) ? R_(ONE(r, dst32)) : mem_operand(s, 4), I_(1 + pick(r, 31)));
		else
			X2(m, R_(ONE(r, dst32)), REG(CL));
		break;
	case 8: X1(ONE(r, unary), pick(r, 2) ? R_(ONE(r, dst32)) : mem_operand(s, 4)); break;
	case 9:
		X1(pick(r, 2) ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL,
		   pick(r, 2) ? R_(ONE(r, any32)) : mem_operand(s, 4));
		break;
	case 10: {
		ZydisEncoderRequest q;
		ZyanUSize len = 15;
		memset(&q, 0, sizeof(q));
		q.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
		q.mnemonic = ZYDIS_MNEMONIC_IMUL;
		q.operand_count = 3;
		q.operands[0] = R_(ONE(r, dst32));
		q.operands[1] = pick(r, 2) ? R_(ONE(r, any32)) : mem_operand(s, 4);
		q.operands[2] = I_((int32_t)rnd(r) >> pick(r, 24));
		if (ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, g->ram + g->pc, &len)))
			g->pc += (uint32_t)len;
		break;
	}
	case 11:
		X2(pick(r, 2) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX, R_(ONE(r, dst32)),
		   pick(r, 2) ? R_(ONE(r, src8)) : mem_operand(s, pick(r, 2) ? 1 : 2));
		break;
	case 12:
		if (pick(r, 2))
			X1(ONE(r, setcc), pick(r, 2) ? R_(ONE(r, dst8)) : mem_operand(s, 1));
		else
			X2(ONE(r, cmov), R_(ONE(r, dst32)), pick(r, 2) ? R_(ONE(r, any32)) : mem_operand(s, 4));
		break;
	case 13: {
		static const ZydisMnemonic bits[] = { ZYDIS_MNEMONIC_BT, ZYDIS_MNEMONIC_BTS,
						      ZYDIS_MNEMONIC_BTR, ZYDIS_MNEMONIC_BTC };
		if (pick(r, 3))
			X2(ONE(r, bits), pick(r, 2) ? R_(ONE(r, dst32)) : mem_operand(s, 4), I_(pick(r, 32)));
		else
			X2(pick(r, 2) ? ZYDIS_MNEMONIC_BSF : ZYDIS_MNEMONIC_BSR, R_(ONE(r, dst32)),
			   R_(ONE(r, any32)));
		break;
	}
	case 14:
		switch (pick(r, 4)) {
		case 0: A2(g, XCHG, R_(ONE(r, dst32)), R_(ONE(r, dst32))); break;
		case 1: A2(g, XCHG, mem_operand(s, 4), R_(ONE(r, dst32))); break;
		case 2: A2(g, XADD, mem_operand(s, 4), R_(ONE(r, dst32))); break;
		default: A2(g, CMPXCHG, mem_operand(s, 4), R_(pick(r, 2) ? ZYDIS_REGISTER_ECX : ZYDIS_REGISTER_EDX)); break;
		}
		break;
	case 15: A1(g, BSWAP, R_(ONE(r, dst32))); break;
	case 16: A2(g, LEA, R_(ONE(r, dst32)), M_(ONE(r, any32), (int32_t)rnd(r) >> 8, 4)); break;
	case 17:
		if (s->depth > 0 && pick(r, 2)) {
			A1(g, POP, pick(r, 3) ? R_(ONE(r, dst32)) : mem_operand(s, 4));
			s->depth--;
		} else if (s->depth < 12) {
			switch (pick(r, 3)) {
			case 0: A1(g, PUSH, R_(ONE(r, any32))); break;
			case 1: A1(g, PUSH, I_((int32_t)rnd(r))); break;
			default: A1(g, PUSH, mem_operand(s, 4)); break;
			}
			s->depth++;
		}
		break;
	case 18: emit_string(s); break;
	case 19: tg_asm(g, ONE(r, flagops), 0, I_(0), I_(0)); break;
	case 20: {
		/* a conditional branch over one instruction */
		uint32_t at = tg_branch(g, ONE(r, jcc), 0);
		X2(ONE(r, alu), R_(ONE(r, dst32)), I_((int32_t)rnd(r)));
		int32_t rel = (int32_t)(g->pc - (at + 6));
		memcpy(g->ram + at + 2, &rel, 4);
		break;
	}
	default:
		/* AH..DH next to ESP: the translator's spill path */
		if (pick(r, 2))
			A2(g, MOV, R_(ONE(r, dst8)), M_(ZYDIS_REGISTER_ESP, pick(r, 4), 1));
		else
			A2(g, MOV, M_(ZYDIS_REGISTER_ESP, -1 - (int)pick(r, 8), 1), R_(ONE(r, src8)));
		break;
	}
}

struct batch_test { uint32_t regs[8], flags; };

/* Builds the batch program: per test, load registers and flags, run the
 * random block, store registers and flags to RES. */
static uint32_t build_batch(struct tg *g, struct rng *r, struct batch_test *init, bool native)
{
	g->pc = CODE;
	for (uint32_t i = 0; i < BATCH; i++) {
		uint32_t win = DATA + i * WIN, res = RES + i * 36;
		struct gen s = { g, r, 0 };
		struct batch_test *t = &init[i];

		t->regs[HYVM_RSP] = win + WIN - 16;
		t->flags = (rnd(r) & FLAGS_MASK & ~0x400u) | 0x202 | (pick(r, 8) ? 0 : 0x400u);
		A2(g, MOV, REG(ESP), I_((int32_t)t->regs[HYVM_RSP]));
		A1(g, PUSH, I_((int32_t)t->flags));
		A0(g, POPFD);
		for (int k = 0; k < 8; k++) {
			if (k == HYVM_RSP)
				continue;
			bool ptr = k == HYVM_RBX || k == HYVM_RBP || k == HYVM_RSI || k == HYVM_RDI;
			t->regs[k] = ptr ? win + 448 + pick(r, 128) : rnd(r) ^ (rnd(r) << 16);
			A2(g, MOV, R_(any32[k]), I_((int32_t)t->regs[k]));
		}
		g->st.rip = win;	/* mem_operand's absolute window */
		unsigned n = 1 + pick(r, 8);
		for (unsigned k = 0; k < n; k++)
			emit_random(&s);
		for (int k = 0; k < 8; k++)
			A2(g, MOV, M_(ZYDIS_REGISTER_NONE, res + 4 * k, 4), R_(any32[k]));
		A0(g, PUSHFD);
		A1(g, POP, M_(ZYDIS_REGISTER_NONE, res + 32, 4));
		if (g->pc > CODE + CODE_SIZE - 4096)
			return 0;
	}
	A0(g, CLD);
	if (native) {
		ZydisEncoderRequest q;
		ZyanUSize len = 15;
		memset(&q, 0, sizeof(q));
		q.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
		q.mnemonic = ZYDIS_MNEMONIC_JMP;
		q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
		q.operand_count = 1;
		q.operands[0].type = ZYDIS_OPERAND_TYPE_POINTER;
		q.operands[0].ptr.segment = 0x33;	/* back to 64-bit mode */
		q.operands[0].ptr.offset = 0;		/* patched by the caller */
		if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, g->ram + g->pc, &len)))
			return 0;
		g->pc += (uint32_t)len;
		return g->pc - 6;	/* the offset field */
	}
	A0(g, HLT);
	return g->pc;
}

/* 64-bit trampoline below 4 GiB: far return into 0x23:CODE, and the
 * program's far jump to 0x33:back lands here. */
static uint8_t *make_trampoline(uint32_t *back)
{
	uint8_t *t = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct tg fake = { .ram = t, .pc = 0 };
	ZydisEncoderRequest q;

	if (t == MAP_FAILED)
		return NULL;
	static const ZydisRegister saved[] = { ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_R12,
					       ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15 };
#define E(m, n, a, b) do {								\
		ZyanUSize len = 15;							\
		memset(&q, 0, sizeof(q));						\
		q.machine_mode = ZYDIS_MACHINE_MODE_LONG_64; q.mnemonic = m;		\
		q.operand_count = n; q.operands[0] = a; q.operands[1] = b;		\
		if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, t + fake.pc, &len))) \
			return NULL;							\
		fake.pc += (uint32_t)len;						\
	} while (0)
	for (int i = 0; i < 6; i++)
		E(ZYDIS_MNEMONIC_PUSH, 1, R_(saved[i]), I_(0));
	E(ZYDIS_MNEMONIC_MOV, 2, REG(R12), REG(RSP));
	/* 64-bit processes run with null DS/ES; compatibility mode needs real ones */
	E(ZYDIS_MNEMONIC_MOV, 2, REG(EAX), I_(0x2b));
	E(ZYDIS_MNEMONIC_MOV, 2, REG(DS), REG(AX));
	E(ZYDIS_MNEMONIC_MOV, 2, REG(ES), REG(AX));
	/* a 32-bit far return pops EIP, then CS: one qword holds both */
	E(ZYDIS_MNEMONIC_MOV, 2, REG(RAX), I_((int64_t)((0x23ull << 32) | CODE)));
	E(ZYDIS_MNEMONIC_PUSH, 1, REG(RAX), I_(0));
	{
		ZyanUSize len = 15;
		memset(&q, 0, sizeof(q));
		q.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
		q.mnemonic = ZYDIS_MNEMONIC_RET;
		q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
		if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, t + fake.pc, &len)))
			return NULL;
		fake.pc += (uint32_t)len;
	}
	*back = (uint32_t)(uintptr_t)(t + fake.pc);
	E(ZYDIS_MNEMONIC_MOV, 2, REG(RSP), REG(R12));
	E(ZYDIS_MNEMONIC_XOR, 2, REG(EAX), REG(EAX));
	E(ZYDIS_MNEMONIC_MOV, 2, REG(DS), REG(AX));
	E(ZYDIS_MNEMONIC_MOV, 2, REG(ES), REG(AX));
	for (int i = 5; i >= 0; i--)
		E(ZYDIS_MNEMONIC_POP, 1, R_(saved[i]), I_(0));
	E(ZYDIS_MNEMONIC_RET, 0, I_(0), I_(0));
#undef E
	return t;
}

/* Some kernels cannot run 32-bit code in a 64-bit process (a PVM guest
 * kernel, ia32_emulation=0): the far return to CS 0x23 faults. Try one
 * empty batch in a child first, so such a host gets a SKIP, not a crash. */
static bool host_runs_compat_code(uint8_t *code, uint8_t *tramp, uint32_t back)
{
	pid_t pid = fork();
	if (pid == 0) {
		uint8_t jmp[7] = { 0xea };	/* jmp far 0x33:back, as a batch ends */
		memcpy(jmp + 1, &back, 4);
		jmp[5] = 0x33;
		memcpy(code, jmp, 7);
		((void (*)(void))tramp)();
		_exit(0);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_random_blocks_match_host_cpu(void)
{
	const char *env = getenv("BT_RANDOM_BLOCKS");
	const char *seed_env = getenv("BT_RANDOM_SEED");
	unsigned total = env ? (unsigned)strtoul(env, NULL, 0) : 100000;
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x5eed1234abcdull;
	struct tg g;
	uint32_t back = 0;

	uint8_t *code = mmap((void *)(uintptr_t)CODE, 0x300000, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CU_ASSERT_EQUAL_FATAL(code, (uint8_t *)(uintptr_t)CODE);
	uint8_t *tramp = make_trampoline(&back);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tramp);
	if (!host_runs_compat_code(code, tramp, back)) {
		fprintf(stderr, "\nSKIP: bt random-instruction test: this host kernel does not run "
			"32-bit compatibility-mode code (the far return to CS 0x23 faults), so the "
			"silicon cannot serve as the oracle\n");
		munmap(code, 0x300000);
		munmap(tramp, 4096);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(tg_init(&g), 0);

	static struct batch_test init[BATCH];
	static uint8_t data0[BATCH * WIN];
	unsigned ran = 0, mismatches = 0;
	struct rng r = { seed };
	for (unsigned b = 0; ran < total; b++) {
		struct rng code_rng = r;
		for (unsigned i = 0; i < sizeof(data0); i++)
			data0[i] = (uint8_t)rnd(&r);
		/* native: assemble into the process's own low mapping */
		struct tg nat = { .ram = (uint8_t *)0, .pc = CODE };
		struct rng rn = code_rng;
		uint32_t off_field = build_batch(&nat, &rn, init, true);
		CU_ASSERT_FATAL(off_field != 0);
		memcpy(code + (off_field - CODE), &back, 4);
		memcpy(code + (DATA - CODE), data0, sizeof(data0));
		((void (*)(void))tramp)();
		/* bt: the same program in guest RAM, ending in hlt */
		struct rng rb = code_rng;
		CU_ASSERT_FATAL(build_batch(&g, &rb, init, false) != 0);
		memcpy(g.ram + DATA, data0, sizeof(data0));
		tg_flat_state(&g, CODE);
		g.st.rflags = 0x202;	/* IF as in the host process, for pushfd */
		CU_ASSERT_EQUAL_FATAL(tg_start(&g), 0);
		int kind = tg_run(&g);
		CU_ASSERT_EQUAL(kind, EXIT_HLT);
		if (kind != EXIT_HLT) {
			fprintf(stderr, "\nbt random: batch %u stopped at eip %#llx (exit %d)\n", b,
				(unsigned long long)g.st.rip, kind);
			break;
		}
		for (unsigned i = 0; i < BATCH && ran < total; i++, ran++) {
			uint32_t *nr = (uint32_t *)(code + (RES - CODE) + i * 36);
			uint32_t *br = (uint32_t *)(g.ram + RES + i * 36);
			bool same = !memcmp(nr, br, 32) && ((nr[8] ^ br[8]) & FLAGS_MASK) == 0 &&
				    !memcmp(code + (DATA - CODE) + i * WIN, g.ram + DATA + i * WIN, WIN);
			if (!same && mismatches++ < 3) {
				fprintf(stderr, "\nbt random: batch %u test %u differs (seed %#llx)\n", b, i,
					(unsigned long long)seed);
				for (int k = 0; k < 9; k++)
					fprintf(stderr, "  %d: native %08x bt %08x\n", k, nr[k], br[k]);
			}
		}
	}
	fprintf(stderr, "\nbt random-instruction test: %u blocks ran natively and on bt, %u differed\n",
		ran, mismatches);
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(ran, total);
	tg_fini(&g);
	munmap(code, 0x300000);
	munmap(tramp, 4096);
}

UNIT_SUITE(bt_random, NULL, NULL, UNIT_TEST(test_random_blocks_match_host_cpu));

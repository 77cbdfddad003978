/*
 * The instruction emulator's other memory-operand classes against the host
 * CPU, the oracle: SETcc and CMOVcc for all 16 conditions, BT/BTS/BTR/BTC
 * (a register offset reaching past the operand, both signs), BSF/BSR,
 * MUL/IMUL/DIV/IDIV at every operand size with seeded values, CMPS/SCAS
 * under REPE/REPNE, XLAT. The memory operand is MMIO at 0xe0000000, each
 * read answered from a scratch copy the test keeps; flags the SDM leaves
 * undefined are not compared (the emulator follows QEMU there).
 */
#include <stdio.h>
#include "emul_fixture.h"

#define DEV_SIZE	0x100u

static uint8_t dev[DEV_SIZE];	/* what the "device" at MMIO holds */

/* Runs the instruction to its end, answering MMIO from dev[]. */
static enum emul_status run(void)
{
	enum emul_status s = emul_begin(&em, &st, &mem, NULL, 0);

	for (int n = 0; s == EMUL_ACCESS && n < 64; n++) {
		uint64_t off = em.acc.addr - MMIO;

		if (em.acc.pio || off + em.acc.size > DEV_SIZE)
			return EMUL_ERROR;
		if (em.acc.write)
			memcpy(dev + off, em.acc.data, em.acc.size);
		else
			memcpy(em.acc.data, dev + off, em.acc.size);
		s = emul_resume(&em);
	}
	return s;
}

static uint64_t host_flags(uint64_t f)
{
	uint64_t out;

	asm volatile("sub $128, %%rsp\n\tpush %1\n\tpopfq\n\tpushfq\n\tpop %0\n\tadd $128, %%rsp"
		     : "=r"(out) : "r"(f) : "cc");
	return out;
}

static void test_setcc_cmovcc(void)
{
	unsigned failures = 0;

	for (unsigned cc = 0; cc < 16; cc++) {
		for (uint64_t f = 0; f < 64; f++) {
			/* every combination of CF PF ZF SF OF (AF rides along) */
			uint64_t fl = 2 | (f & 1 ? EFLAGS_CF : 0) | (f & 2 ? EFLAGS_PF : 0) |
				      (f & 4 ? EFLAGS_ZF : 0) | (f & 8 ? EFLAGS_SF : 0) |
				      (f & 16 ? EFLAGS_OF : 0) | (f & 32 ? EFLAGS_AF : 0);
			uint8_t set[] = { 0x0f, (uint8_t)(0x90 | cc), 0x00 };	/* setcc [eax] */
			uint8_t cmov[] = { 0x0f, (uint8_t)(0x40 | cc), 0x08 };	/* cmovcc ecx,[eax] */
			uint8_t want;
			uint32_t host_ecx = 0x11111111, src = 0x22222222;

			/* the host's own SETcc/CMOVcc by a jump table on cc */
			switch (cc) {
#define HOST_CC(n, s) case n: asm volatile("sub $128, %%rsp\n\tpush %2\n\tpopfq\n\tset" s " %0\n\tcmov" s \
					       " %3, %1\n\tadd $128, %%rsp" \
					       : "=&q"(want), "+r"(host_ecx) : "r"(fl), "r"(src) : "cc"); break;
			HOST_CC(0, "o") HOST_CC(1, "no") HOST_CC(2, "b") HOST_CC(3, "ae")
			HOST_CC(4, "e") HOST_CC(5, "ne") HOST_CC(6, "be") HOST_CC(7, "a")
			HOST_CC(8, "s") HOST_CC(9, "ns") HOST_CC(10, "p") HOST_CC(11, "np")
			HOST_CC(12, "l") HOST_CC(13, "ge") HOST_CC(14, "le") default: HOST_CC(15, "g")
#undef HOST_CC
			}
			flat32(set, sizeof(set));
			st.rflags = fl;
			st.gpr[HYVM_RAX] = MMIO;
			dev[0] = 0x5a;
			if (run() != EMUL_DONE || dev[0] != want || em.st.rflags != fl)
				failures++;
			flat32(cmov, sizeof(cmov));
			st.rflags = fl;
			st.gpr[HYVM_RAX] = MMIO;
			st.gpr[HYVM_RCX] = 0x11111111;
			memcpy(dev, &src, 4);
			if (run() != EMUL_DONE || em.st.gpr[HYVM_RCX] != host_ecx)
				failures++;
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
}

static void test_bit_test(void)
{
	/* bt/bts/btr/btc dword [eax+0x40], ecx: the bit offset reaches +-2 dwords */
	static const uint8_t ops[4] = { 0xa3, 0xab, 0xb3, 0xbb };
	unsigned failures = 0;

	for (unsigned o = 0; o < 4; o++) {
		for (int32_t bit = -64; bit < 96; bit += 5) {
			uint8_t code[] = { 0x0f, ops[o], 0x48, 0x40 };
			uint32_t words[8], want_words[8], at = 0x40 + 4 * (uint32_t)(bit >> 5);
			uint64_t want_f = 2 | EFLAGS_ZF | EFLAGS_SF;

			for (int i = 0; i < 8; i++)
				words[i] = 0x9abcdef0u * (uint32_t)(i + 1) + (uint32_t)bit;
			memcpy(want_words, words, sizeof(words));
			memcpy(dev + 0x30, words, sizeof(words));
			/* the host on the same dwords in its own memory */
			uint32_t *w = &want_words[(at - 0x30) / 4];
			uint32_t b = (uint32_t)bit & 31;
			switch (o) {
			case 0: asm volatile("sub $128, %%rsp\n\tpush %0\n\tpopfq\n\tbtl %2, (%1)\n\tpushfq\n\tpop %0\n\tadd $128, %%rsp" : "+r"(want_f) : "r"(w), "r"(b) : "cc", "memory"); break;
			case 1: asm volatile("sub $128, %%rsp\n\tpush %0\n\tpopfq\n\tbtsl %2, (%1)\n\tpushfq\n\tpop %0\n\tadd $128, %%rsp" : "+r"(want_f) : "r"(w), "r"(b) : "cc", "memory"); break;
			case 2: asm volatile("sub $128, %%rsp\n\tpush %0\n\tpopfq\n\tbtrl %2, (%1)\n\tpushfq\n\tpop %0\n\tadd $128, %%rsp" : "+r"(want_f) : "r"(w), "r"(b) : "cc", "memory"); break;
			default: asm volatile("sub $128, %%rsp\n\tpush %0\n\tpopfq\n\tbtcl %2, (%1)\n\tpushfq\n\tpop %0\n\tadd $128, %%rsp" : "+r"(want_f) : "r"(w), "r"(b) : "cc", "memory"); break;
			}
			flat32(code, sizeof(code));
			st.rflags = 2 | EFLAGS_ZF | EFLAGS_SF;
			st.gpr[HYVM_RAX] = MMIO;
			st.gpr[HYVM_RCX] = (uint32_t)bit;
			if (run() != EMUL_DONE || memcmp(dev + 0x30, want_words, sizeof(want_words)) ||
			    ((em.st.rflags ^ want_f) & (EFLAGS_CF | EFLAGS_ZF)) || em.st.rip != CODE + 4) {
				if (failures < 5)
					fprintf(stderr, "\n  op %u bit %d: flags %#llx want %#llx err %s", o, bit,
						(unsigned long long)em.st.rflags, (unsigned long long)want_f, em.err);
				failures++;
			}
		}
	}
	CU_ASSERT_EQUAL(failures, 0);

	/* bts word [eax], 0x13: an immediate offset is modulo 16 */
	static const uint8_t imm[] = { 0x66, 0x0f, 0xba, 0x28, 0x13 };
	flat32(imm, sizeof(imm));
	st.gpr[HYVM_RAX] = MMIO;
	memset(dev, 0, 4);
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(dev[0], 0x08);
	CU_ASSERT_EQUAL(dev[2], 0);
}

static void test_bit_scan(void)
{
	static const uint8_t bsf[] = { 0x0f, 0xbc, 0x08 }, bsr[] = { 0x0f, 0xbd, 0x08 };
	static const uint32_t vals[] = { 1, 0x80000000u, 0x00f0f000u, 0x12345678u, 0 };

	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		for (int r = 0; r < 2; r++) {
			uint32_t want = 0x77;
			uint64_t f;

			if (r)
				asm volatile("sub $128, %%rsp\n\tbsrl %2, %0\n\tpushfq\n\tpopq %q1\n\tadd $128, %%rsp" : "+r"(want), "=r"(f) : "r"(vals[i]) : "cc");
			else
				asm volatile("sub $128, %%rsp\n\tbsfl %2, %0\n\tpushfq\n\tpopq %q1\n\tadd $128, %%rsp" : "+r"(want), "=r"(f) : "r"(vals[i]) : "cc");
			flat32(r ? bsr : bsf, 3);
			st.gpr[HYVM_RAX] = MMIO;
			st.gpr[HYVM_RCX] = 0x77;
			memcpy(dev, &vals[i], 4);
			CU_ASSERT_EQUAL(run(), EMUL_DONE);
			CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], want);
			CU_ASSERT_EQUAL(em.st.rflags & EFLAGS_ZF, f & EFLAGS_ZF);
		}
	}
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* mul/imul/div/idiv [eax] with 8/16/32-bit operands; imul ecx,[eax] and
 * imul ecx,[eax],-3. The host runs the same on registers. */
static void test_mul_div(void)
{
	uint64_t seed = 12345;
	unsigned failures = 0;

	for (int k = 0; k < 3000; k++) {
		unsigned sz = k % 3, ext = 4 + (k / 3) % 4;	/* 4 mul, 5 imul, 6 div, 7 idiv */
		uint32_t a = (uint32_t)next_random(&seed), d = (uint32_t)next_random(&seed);
		uint32_t v = (uint32_t)next_random(&seed), ha, hd, hf;
		uint8_t code[3];
		unsigned n = 0;

		if (ext >= 6) {
			/* a dividend q * v + r whose quotient q fits (no #DE on
			 * the host): r below |v|, of the dividend's sign */
			unsigned bits = 8u << sz;
			uint64_t m = (1ULL << bits) - 1, r = next_random(&seed);
			int64_t n;

			v &= (uint32_t)m;
			if (!v)
				v = 3;
			if (ext == 6) {
				uint64_t q = next_random(&seed) & m;

				n = (int64_t)(q * v + r % v);
			} else {
				int64_t sv = (int64_t)((uint64_t)v << (64 - bits)) >> (64 - bits);
				int64_t q = (int64_t)(next_random(&seed) & (m >> 2)) - (int64_t)(m >> 3);
				int64_t rr = (int64_t)(r % (uint64_t)(sv < 0 ? -sv : sv));

				n = q * sv;
				n += n < 0 ? -rr : rr;
			}
			if (sz == 0) {
				a = (a & 0xffff0000u) | ((uint32_t)n & 0xffff);
			} else if (sz == 1) {
				a = (a & 0xffff0000u) | ((uint32_t)n & 0xffff);
				d = (d & 0xffff0000u) | ((uint32_t)(n >> 16) & 0xffff);
			} else {
				a = (uint32_t)n;
				d = (uint32_t)((uint64_t)n >> 32);
			}
		}
		ha = a, hd = d, hf = 2;
		/* the host: the same operation on a register operand */
#define HOST_MD(insn, cons, val) asm volatile("sub $128, %%rsp\n\tpush %q2\n\tpopfq\n\t" insn " %3\n\tpushfq\n\tpop %q2\n\tadd $128, %%rsp" \
					  : "+a"(ha), "+d"(hd), "+r"(hf) : cons(val) : "cc")
		switch (sz * 4 + ext - 4) {
		case 0: HOST_MD("mulb", "q", (uint8_t)v); break;
		case 1: HOST_MD("imulb", "q", (uint8_t)v); break;
		case 2: HOST_MD("divb", "q", (uint8_t)v); break;
		case 3: HOST_MD("idivb", "q", (uint8_t)v); break;
		case 4: HOST_MD("mulw", "r", (uint16_t)v); break;
		case 5: HOST_MD("imulw", "r", (uint16_t)v); break;
		case 6: HOST_MD("divw", "r", (uint16_t)v); break;
		case 7: HOST_MD("idivw", "r", (uint16_t)v); break;
		case 8: HOST_MD("mull", "r", v); break;
		case 9: HOST_MD("imull", "r", v); break;
		case 10: HOST_MD("divl", "r", v); break;
		default: HOST_MD("idivl", "r", v); break;
		}
#undef HOST_MD
		if (sz == 1)
			code[n++] = 0x66;
		code[n++] = sz == 0 ? 0xf6 : 0xf7;
		code[n++] = (uint8_t)(ext << 3);
		flat32(code, n);
		st.gpr[HYVM_RAX] = MMIO;	/* [eax]: the operand's address, then the value */
		memcpy(dev, &v, 4);
		/* EAX is the address register here and the accumulator too:
		 * use [ebx] instead */
		code[n - 1] = (uint8_t)(ext << 3 | 3);
		flat32(code, n);
		st.gpr[HYVM_RBX] = MMIO;
		st.gpr[HYVM_RAX] = a;
		st.gpr[HYVM_RDX] = d;
		if (run() != EMUL_DONE || (uint32_t)em.st.gpr[HYVM_RAX] != ha ||
		    (uint32_t)em.st.gpr[HYVM_RDX] != hd ||
		    (ext < 6 && ((em.st.rflags ^ hf) & (EFLAGS_CF | EFLAGS_OF)))) {
			if (failures < 5)
				fprintf(stderr, "\n  /%u size %u: a %#x d %#x v %#x: emulator %#llx %#llx "
					"flags %#llx, host %#x %#x flags %#x", ext, sz, a, d, v,
					(unsigned long long)em.st.gpr[HYVM_RAX],
					(unsigned long long)em.st.gpr[HYVM_RDX],
					(unsigned long long)em.st.rflags, ha, hd, hf);
			failures++;
		}
	}
	CU_ASSERT_EQUAL(failures, 0);

	/* #DE: a zero divisor, and a quotient that does not fit */
	static const uint8_t divd[] = { 0xf7, 0x33 };		/* div dword [ebx] */
	flat32(divd, sizeof(divd));
	st.gpr[HYVM_RBX] = MMIO;
	st.gpr[HYVM_RAX] = 5;
	memset(dev, 0, 4);
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.event.type, HYVM_EVENT_EXCEPTION);
	CU_ASSERT_EQUAL(em.st.event.vector, VEC_DE);
	CU_ASSERT_EQUAL(em.st.rip, CODE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 5);
	flat32(divd, sizeof(divd));
	st.gpr[HYVM_RBX] = MMIO;
	st.gpr[HYVM_RDX] = 2;
	dev[0] = 2;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.event.vector, VEC_DE);
	static const uint8_t idivb[] = { 0xf6, 0x3b };		/* idiv byte [ebx]: -128*2 / -1 */
	flat32(idivb, sizeof(idivb));
	st.gpr[HYVM_RBX] = MMIO;
	st.gpr[HYVM_RAX] = 0xff80;
	dev[0] = 0xff;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.event.vector, VEC_DE);

	/* imul ecx,[ebx] and imul ecx,[ebx],-3 */
	static const uint8_t imul2[] = { 0x0f, 0xaf, 0x0b }, imul3[] = { 0x6b, 0x0b, 0xfd };
	uint32_t val = 0x40000001u, want = 0x7fffffffu;
	uint64_t hf;
	asm volatile("sub $128, %%rsp\n\timull %2, %0\n\tpushfq\n\tpopq %q1\n\tadd $128, %%rsp" : "+r"(want), "=r"(hf) : "r"(val) : "cc");
	flat32(imul2, sizeof(imul2));
	st.gpr[HYVM_RBX] = MMIO;
	st.gpr[HYVM_RCX] = 0x7fffffffu;
	memcpy(dev, &val, 4);
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], want);
	CU_ASSERT_EQUAL(em.st.rflags & (EFLAGS_CF | EFLAGS_OF), hf & (EFLAGS_CF | EFLAGS_OF));
	flat32(imul3, sizeof(imul3));
	st.gpr[HYVM_RBX] = MMIO;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], (uint32_t)(0x40000001u * (uint32_t)-3));
	CU_ASSERT_EQUAL(em.st.rflags & EFLAGS_CF, EFLAGS_CF);
}

/* repe cmpsb from RAM against MMIO stops at the first difference;
 * repne scasw finds AX; xlat reads [ebx+al]. */
static void test_compare_strings_xlat(void)
{
	static const uint8_t cmps[] = { 0xf3, 0xa6 }, scas[] = { 0xf2, 0x66, 0xaf }, xlat[] = { 0xd7 };

	flat32(cmps, sizeof(cmps));
	memcpy(ram + 0x3000, "abcdefgh", 8);
	memcpy(dev, "abcdXfgh", 8);
	st.gpr[HYVM_RSI] = 0x3000;
	st.gpr[HYVM_RDI] = MMIO;
	st.gpr[HYVM_RCX] = 8;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 3);		/* stopped after 'e' vs 'X' */
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSI], 0x3005);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RDI], MMIO + 5);
	CU_ASSERT_EQUAL(em.st.rflags & (EFLAGS_ZF | EFLAGS_CF), 0);	/* 'e' > 'X' */
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);

	flat32(scas, sizeof(scas));
	for (int i = 0; i < 8; i++)
		dev[2 * i] = (uint8_t)i, dev[2 * i + 1] = 0x10;
	st.gpr[HYVM_RAX] = 0x1005;
	st.gpr[HYVM_RDI] = MMIO;
	st.gpr[HYVM_RCX] = 100;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 94);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RDI], MMIO + 12);
	CU_ASSERT_EQUAL(em.st.rflags & EFLAGS_ZF, EFLAGS_ZF);

	flat32(xlat, sizeof(xlat));
	dev[0x90] = 0xab;
	st.gpr[HYVM_RBX] = MMIO + 0x10;
	st.gpr[HYVM_RAX] = 0x12345680;
	CU_ASSERT_EQUAL(run(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0x123456ab);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 1);
	(void)host_flags;
}

UNIT_SUITE(emul_ops, setup, teardown,
	   UNIT_TEST(test_setcc_cmovcc), UNIT_TEST(test_bit_test), UNIT_TEST(test_bit_scan),
	   UNIT_TEST(test_mul_div), UNIT_TEST(test_compare_strings_xlat));

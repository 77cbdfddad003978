/*
 * The instruction emulator's shifts and rotates on MMIO against the host
 * CPU, the oracle: every group 2 operation and SHLD/SHRD, operand sizes
 * 8/16/32 (32-bit code) and 64 (64-bit code), every count 0-63 by CL,
 * seeded random values and incoming flags. The MMIO read is answered with
 * the value; the write the emulator hands out and the flags it leaves must
 * equal what the host's own instruction gives, except where SDM Vol. 2B
 * leaves a flag or the result undefined (there emul_shift.c follows QEMU,
 * and the host may differ).
 */
#include <stdio.h>
#include "emul_fixture.h"

enum op { ROL, ROR, RCL, RCR, SHL, SHR, SAR, SHLD, SHRD, NR_OPS };
static const char *const op_names[NR_OPS] = {
	"rol", "ror", "rcl", "rcr", "shl", "shr", "sar", "shld", "shrd",
};


/* The host's own instruction: v op= (cl, src), flags in and out. */
#define HOST(insn, cons, val, source, count, fl_) \
	asm volatile("sub $128, %%rsp\n\tpush %[f]\n\tpopfq\n\t" insn \
		     "\n\tpushfq\n\tpop %[f]\n\tadd $128, %%rsp" \
		     : [v] "+" cons(val), [f] "+r"(fl_) : [s] "r"(source), "c"(count) : "cc")
#define HOST_SIZES(op8, op16, op32, op64) \
	switch (bits) { \
	case 8: { uint8_t x = (uint8_t)v; HOST(op8 " %%cl, %[v]", "q", x, src, cnt, fl); v = x; break; } \
	case 16: { uint16_t x = (uint16_t)v; HOST(op16 " %%cl, %[v]", "r", x, src, cnt, fl); v = x; break; } \
	case 32: { uint32_t x = (uint32_t)v; HOST(op32 " %%cl, %[v]", "r", x, src, cnt, fl); v = x; break; } \
	default: HOST(op64 " %%cl, %[v]", "r", v, src, cnt, fl); break; \
	}
#define HOST_DOUBLE(op16, op32, op64) \
	switch (bits) { \
	case 16: { uint16_t x = (uint16_t)v, s16 = (uint16_t)src; \
		   HOST(op16 " %%cl, %w[s], %[v]", "r", x, s16, cnt, fl); v = x; break; } \
	case 32: { uint32_t x = (uint32_t)v, s32 = (uint32_t)src; \
		   HOST(op32 " %%cl, %k[s], %[v]", "r", x, s32, cnt, fl); v = x; break; } \
	default: HOST(op64 " %%cl, %q[s], %[v]", "r", v, src, cnt, fl); break; \
	}

static uint64_t host(enum op op, unsigned bits, uint64_t v, uint64_t src, uint8_t cnt,
		     uint64_t *flags)
{
	uint64_t fl = *flags;

	switch (op) {
	case ROL: HOST_SIZES("rolb", "rolw", "roll", "rolq"); break;
	case ROR: HOST_SIZES("rorb", "rorw", "rorl", "rorq"); break;
	case RCL: HOST_SIZES("rclb", "rclw", "rcll", "rclq"); break;
	case RCR: HOST_SIZES("rcrb", "rcrw", "rcrl", "rcrq"); break;
	case SHL: HOST_SIZES("shlb", "shlw", "shll", "shlq"); break;
	case SHR: HOST_SIZES("shrb", "shrw", "shrl", "shrq"); break;
	case SAR: HOST_SIZES("sarb", "sarw", "sarl", "sarq"); break;
	case SHLD: HOST_DOUBLE("shldw", "shldl", "shldq"); break;
	default: HOST_DOUBLE("shrdw", "shrdl", "shrdq"); break;
	}
	*flags = fl;
	return v;
}

/* Guest code: [66|48] opcode modrm, destination [eax] (mod 00 rm 000),
 * SHLD/SHRD's source EDX (reg 010), the count in CL. */
static unsigned encode(enum op op, unsigned bits, uint8_t *b)
{
	static const uint8_t ext[] = { [ROL] = 0, [ROR] = 1, [RCL] = 2, [RCR] = 3,
				       [SHL] = 4, [SHR] = 5, [SAR] = 7 };
	unsigned n = 0;

	if (bits == 16)
		b[n++] = 0x66;
	if (bits == 64)
		b[n++] = 0x48;
	if (op == SHLD || op == SHRD) {
		b[n++] = 0x0f;
		b[n++] = op == SHLD ? 0xa5 : 0xad;
		b[n++] = 2 << 3;
	} else {
		b[n++] = bits == 8 ? 0xd2 : 0xd3;
		b[n++] = (uint8_t)(ext[op] << 3);
	}
	return n;
}

/* 32-bit flat code, or 64-bit code on 4-level paging with linear
 * 0xc0000000 mapping MMIO by a 2 MiB page. */
static void machine(const uint8_t *code, unsigned len, bool long_mode)
{
	flat32(code, len);
	st.rflags = 0;	/* each case sets the flags it starts from */
	st.gpr[HYVM_RAX] = MMIO;
	if (!long_mode)
		return;
	((uint64_t *)(ram + 0x20000))[0] = 0x21000 | 3;		/* PML4 */
	((uint64_t *)(ram + 0x21000))[0] = 0x23000 | 3;		/* PDPT[0]: code */
	((uint64_t *)(ram + 0x23000))[0] = 0x83;
	((uint64_t *)(ram + 0x21000))[3] = 0x22000 | 3;		/* PDPT[3]: MMIO */
	((uint64_t *)(ram + 0x22000))[0] = MMIO | 0x83;
	st.cr0 |= CR0_PG;
	st.cr3 = 0x20000;
	st.cr4 = 0x20;
	st.efer = 0x500;
	st.seg[HYVM_CS].attrib = (st.seg[HYVM_CS].attrib & ~HYVM_SEG_DB) | HYVM_SEG_L;
	st.gpr[HYVM_RAX] = 0xc0000000ULL;
}

/* Flags the SDM defines after op with this count (masked), besides the
 * ones it leaves alone; the result is defined unless undefined_result. */
static uint64_t defined_flags(enum op op, unsigned bits, unsigned cnt, bool *undefined_result)
{
	bool rotate = op <= RCR, dbl = op >= SHLD;

	*undefined_result = dbl && cnt > bits;
	if (cnt == 0)
		return EFLAGS_ARITH;			/* nothing changes */
	if (*undefined_result)
		return 0;
	if (rotate)	/* SF ZF AF PF untouched; OF only for a count of 1 */
		return EFLAGS_ARITH & ~(cnt == 1 ? 0 : EFLAGS_OF);
	return (EFLAGS_ARITH & ~EFLAGS_AF & ~(cnt == 1 ? 0 : EFLAGS_OF) &
		~((op == SHL || op == SHR) && cnt > bits ? EFLAGS_CF : 0));
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_one(enum op op, unsigned bits, uint64_t v, uint64_t src, unsigned cnt,
		      uint64_t flags_in, unsigned *failures)
{
	uint8_t code[8];
	unsigned len = encode(op, bits, code);
	uint64_t m = bits == 64 ? ~0ULL : (1ULL << bits) - 1, want_f = flags_in | 2, want, got = 0;
	bool undefined_result;
	uint64_t mask = defined_flags(op, bits, cnt & (bits == 64 ? 0x3f : 0x1f), &undefined_result);

	v &= m;
	want = host(op, bits, v, src & m, (uint8_t)cnt, &want_f) & m;
	machine(code, len, bits == 64);
	st.gpr[HYVM_RCX] = cnt;
	st.gpr[HYVM_RDX] = src;
	st.rflags = flags_in | 2;
	if (emul_begin(&em, &st, &mem, NULL, 0) != EMUL_ACCESS || em.acc.write ||
	    em.acc.size != bits / 8) {
		(*failures)++;
		return;
	}
	memcpy(em.acc.data, &v, bits / 8);
	if (emul_resume(&em) != EMUL_ACCESS || !em.acc.write) {
		(*failures)++;
		return;
	}
	memcpy(&got, em.acc.data, bits / 8);
	if (emul_resume(&em) != EMUL_DONE || em.st.rip != CODE + len ||
	    (!undefined_result && got != want) || ((em.st.rflags ^ want_f) & mask)) {
		if (*failures < 10)
			fprintf(stderr, "\n  %s%u %#llx,%#llx by %u, flags %#llx: emulator %#llx "
				"flags %#llx, host %#llx flags %#llx (compared %#llx)",
				op_names[op], bits, (unsigned long long)v,
				(unsigned long long)(src & m), cnt, (unsigned long long)flags_in,
				(unsigned long long)got, (unsigned long long)em.st.rflags,
				(unsigned long long)want, (unsigned long long)want_f,
				(unsigned long long)mask);
		(*failures)++;
	}
}

static void test_shifts_against_host(void)
{
	static const unsigned sizes[] = { 8, 16, 32, 64 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned failures = 0, checked = 0;

	for (enum op op = 0; op < NR_OPS; op++) {
		for (unsigned s = 0; s < 4; s++) {
			if (op >= SHLD && sizes[s] == 8)
				continue;		/* no byte form */
			for (unsigned cnt = 0; cnt < 64; cnt++) {
				for (int k = 0; k < 8; k++, checked++) {
					uint64_t v = next_random(&seed), src = next_random(&seed);
					uint64_t f = next_random(&seed) & EFLAGS_ARITH;

					if (k == 0)
						v = 0;	/* ZF, PF of zero */
					if (k == 1)
						v = 1ULL << (sizes[s] - 1);	/* the sign alone */
					check_one(op, sizes[s], v, src, cnt, f, &failures);
				}
			}
		}
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT(checked > 10000);
}

/* The 8000-page campaign's exit 4: ROL byte [si], 1 (D0 /0) in real mode,
 * and the immediate forms (C0, C1 with 16-bit operands). */
static void test_rol_real_mode(void)
{
	static const uint8_t rol1[] = { 0xd0, 0x04 };			/* rol byte [si],1 */
	static const uint8_t sarimm[] = { 0xc1, 0x3c, 0x03 };		/* sar word [si],3 */
	uint64_t v;

	machine(rol1, sizeof(rol1), false);
	st.cr0 = 0;
	for (int i = 0; i < HYVM_LDTR; i++)
		st.seg[i].attrib &= ~(HYVM_SEG_DB | HYVM_SEG_G);
	st.seg[HYVM_DS].base = 0xe0000000;
	st.gpr[HYVM_RSI] = 0x10;
	st.rflags = 2;
	CU_ASSERT_EQUAL_FATAL(emul_begin(&em, &st, &mem, NULL, 0), EMUL_ACCESS);
	CU_ASSERT_EQUAL(em.acc.addr, MMIO + 0x10);
	CU_ASSERT_EQUAL(em.acc.size, 1);
	v = 0xff;	/* unbacked space: all ones */
	memcpy(em.acc.data, &v, 1);
	CU_ASSERT_EQUAL_FATAL(emul_resume(&em), EMUL_ACCESS);
	CU_ASSERT(em.acc.write);
	CU_ASSERT_EQUAL(em.acc.data[0], 0xff);
	CU_ASSERT_EQUAL(emul_resume(&em), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.rflags & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF);	/* CF = 1, OF = 1 ^ 1 */
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);

	memcpy(ram + CODE, sarimm, sizeof(sarimm));
	st.rip = CODE;
	CU_ASSERT_EQUAL_FATAL(emul_begin(&em, &st, &mem, NULL, 0), EMUL_ACCESS);
	CU_ASSERT_EQUAL(em.acc.size, 2);
	v = 0x8010;
	memcpy(em.acc.data, &v, 2);
	CU_ASSERT_EQUAL_FATAL(emul_resume(&em), EMUL_ACCESS);
	v = 0;
	memcpy(&v, em.acc.data, 2);
	CU_ASSERT_EQUAL(v, 0xf002);
	CU_ASSERT_EQUAL(emul_resume(&em), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.rflags & EFLAGS_CF, 0);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 3);
}

UNIT_SUITE(emul_shift, setup, teardown,
	   UNIT_TEST(test_shifts_against_host), UNIT_TEST(test_rol_real_mode));

/* 32-bit flat protected mode: integer ALU results and the arithmetic
 * flags they leave. Flags an instruction leaves undefined are masked out
 * of each comparison, so a correct CPU cannot fail and a wrong flag
 * computation cannot pass. Expected values are worked by hand and agree
 * with the host CPU and QEMU. */
#include "guest.h"

GUEST("alu", "");

#define CF EFLAGS_CF
#define PF EFLAGS_PF
#define AF EFLAGS_AF
#define ZF EFLAGS_ZF
#define SF EFLAGS_SF
#define OF EFLAGS_OF
#define ALL EFLAGS_ARITH
#define FLAGS_IN(f) ((f) | 0x2u) /* bit 1 always reads as 1 */

struct alu_result {
	uint32_t value, flags;
};

/* insn src, dst with dst preloaded with a and the flags set to flags_in. */
#define ALU2(insn, a, b, flags_in) ({ \
	uint32_t r_ = (a), f_; \
	asm volatile("pushl %[fi]\n\tpopfl\n\t" insn " %[src], %[dst]\n\tpushfl\n\tpopl %[fo]" \
	             : [dst] "+r"(r_), [fo] "=&r"(f_) \
	             : [src] "r"((uint32_t)(b)), [fi] "r"(FLAGS_IN(flags_in)) : "cc"); \
	(struct alu_result){ r_, f_ }; })

/* One-operand forms (inc, dec, neg, not, bswap, shifts by an immediate). */
#define ALU1(insn, a, flags_in) ({ \
	uint32_t r_ = (a), f_; \
	asm volatile("pushl %[fi]\n\tpopfl\n\t" insn " %[dst]\n\tpushfl\n\tpopl %[fo]" \
	             : [dst] "+r"(r_), [fo] "=&r"(f_) : [fi] "r"(FLAGS_IN(flags_in)) : "cc"); \
	(struct alu_result){ r_, f_ }; })

/* Shifts and rotates by CL. */
#define SHIFT_CL(insn, a, count, flags_in) ({ \
	uint32_t r_ = (a), f_; \
	asm volatile("pushl %[fi]\n\tpopfl\n\t" insn " %%cl, %[dst]\n\tpushfl\n\tpopl %[fo]" \
	             : [dst] "+r"(r_), [fo] "=&r"(f_) \
	             : "c"((uint32_t)(count)), [fi] "r"(FLAGS_IN(flags_in)) : "cc"); \
	(struct alu_result){ r_, f_ }; })

static void expect(const char *what, struct alu_result got, uint32_t value, uint32_t flags, uint32_t mask)
{
	check(got.value == value && (got.flags & mask) == flags,
	      "%s: got 0x%x flags 0x%x, want 0x%x flags 0x%x (of mask 0x%x)", what, got.value,
	      got.flags & mask, value, flags, mask);
}

static void add_sub(void)
{
	check_begin("add_sub");
	expect("add 7fffffff+1", ALU2("addl", 0x7fffffff, 1, 0), 0x80000000, OF | SF | AF | PF, ALL);
	expect("add ffffffff+1", ALU2("addl", 0xffffffff, 1, 0), 0, CF | ZF | AF | PF, ALL);
	expect("add 12+34", ALU2("addl", 0x12, 0x34, ALL), 0x46, 0, ALL);
	expect("adc ffffffff+0+CF", ALU2("adcl", 0xffffffff, 0, CF), 0, CF | ZF | AF | PF, ALL);
	expect("adc 7fffffff+0+CF", ALU2("adcl", 0x7fffffff, 0, CF), 0x80000000, OF | SF | AF | PF, ALL);
	expect("sub 0-1", ALU2("subl", 0, 1, 0), 0xffffffff, CF | SF | AF | PF, ALL);
	expect("sub 80000000-1", ALU2("subl", 0x80000000, 1, 0), 0x7fffffff, OF | AF | PF, ALL);
	expect("sub 5-5", ALU2("subl", 5, 5, 0), 0, ZF | PF, ALL);
	expect("sbb 0-0-CF", ALU2("sbbl", 0, 0, CF), 0xffffffff, CF | SF | AF | PF, ALL);
	expect("sbb 5-4-CF", ALU2("sbbl", 5, 4, CF), 0, ZF | PF, ALL);
	expect("cmp 3,5", ALU2("cmpl", 3, 5, 0), 3, CF | SF | AF, ALL);
	expect("inc 7fffffff", ALU1("incl", 0x7fffffff, CF), 0x80000000, CF | OF | SF | AF | PF, ALL);
	expect("dec 1", ALU1("decl", 1, 0), 0, ZF | PF, ALL);
	expect("neg 5", ALU1("negl", 5, 0), 0xfffffffb, CF | SF | AF, ALL);
	expect("neg 0", ALU1("negl", 0, CF), 0, ZF | PF, ALL);
	expect("neg 80000000", ALU1("negl", 0x80000000, 0), 0x80000000, OF | SF | CF | PF, ALL);
	check_end();
}

static void logic(void)
{
	const uint32_t defined = ALL & ~AF;
	check_begin("logic");
	expect("and", ALU2("andl", 0xf0f0f0f0, 0x0f0f0f0f, CF | OF), 0, ZF | PF, defined);
	expect("or", ALU2("orl", 0x80000000, 1, 0), 0x80000001, SF, defined);
	expect("xor", ALU2("xorl", 0xffff, 0xff, 0), 0xff00, PF, defined);
	expect("test", ALU2("testl", 0x80, 0x80, 0), 0x80, 0, defined);
	expect("not keeps flags", ALU1("notl", 0x0f0f0f0f, CF | ZF), 0xf0f0f0f0, CF | ZF, ALL);
	expect("bswap", ALU1("bswap", 0x12345678, 0), 0x78563412, 0, 0);
	check_end();
}

static void shifts_rotates(void)
{
	const uint32_t no_af = ALL & ~AF;
	check_begin("shift_rotate");
	expect("shl 80000001,1", SHIFT_CL("shll", 0x80000001, 1, 0), 2, CF | OF, no_af);
	expect("shl 40000000,1", SHIFT_CL("shll", 0x40000000, 1, 0), 0x80000000, OF | SF | PF, no_af);
	expect("shr 80000001,1", SHIFT_CL("shrl", 0x80000001, 1, 0), 0x40000000, CF | OF | PF, no_af);
	expect("sar 80000000,4", SHIFT_CL("sarl", 0x80000000, 4, 0), 0xf8000000, SF | PF, CF | PF | ZF | SF);
	expect("shl by 0 keeps flags", SHIFT_CL("shll", 5, 0, CF | ZF), 5, CF | ZF, ALL);
	expect("shr count masked to 5 bits", SHIFT_CL("shrl", 3, 33, 0), 1, CF, CF);
	expect("shl imm", ALU1("shll $4,", 0x0ffffff1, 0), 0xffffff10, 0, CF);
	expect("rol 80000001,1", SHIFT_CL("roll", 0x80000001, 1, 0), 3, CF | OF, CF | OF);
	expect("ror 1,1", SHIFT_CL("rorl", 1, 1, 0), 0x80000000, CF | OF, CF | OF);
	expect("rcl 80000000,1", SHIFT_CL("rcll", 0x80000000, 1, 0), 0, CF | OF, CF | OF);
	expect("rcr 1,1 CF", SHIFT_CL("rcrl", 1, 1, CF), 0x80000000, CF | OF, CF | OF);
	expect("rcl 1,4 CF", SHIFT_CL("rcll", 1, 4, CF), 0x18, 0, CF);
	expect("rol 12345678,8", SHIFT_CL("roll", 0x12345678, 8, 0), 0x34567812, 0, CF);

	uint32_t a = 0x12345678, f;
	asm volatile("clc; shld $4, %2, %0; pushfl; popl %1" : "+r"(a), "=r"(f) : "r"(0x9abcdef0u) : "cc");
	expect("shld 4", (struct alu_result){ a, f }, 0x23456789, CF, CF);
	a = 0x12345678;
	asm volatile("stc; shrd $8, %2, %0; pushfl; popl %1" : "+r"(a), "=r"(f) : "r"(0x9abcdef0u) : "cc");
	expect("shrd 8", (struct alu_result){ a, f }, 0xf0123456, 0, CF);
	check_end();
}

struct wide {
	uint32_t lo, hi, flags;
};

#define MUL1(insn, a, b) ({ \
	struct wide w_; \
	asm volatile(insn " %[src]\n\tpushfl\n\tpopl %[fo]" \
	             : "=a"(w_.lo), "=d"(w_.hi), [fo] "=r"(w_.flags) : "a"(a), [src] "r"(b) : "cc"); \
	w_; })

#define DIV1(insn, dividend_hi, dividend_lo, b) ({ \
	struct wide w_; \
	asm volatile(insn " %[src]" : "=a"(w_.lo), "=d"(w_.hi) \
	             : "a"(dividend_lo), "d"(dividend_hi), [src] "r"(b) : "cc"); \
	w_.flags = 0; w_; })

static void expect_wide(const char *what, struct wide got, uint32_t hi, uint32_t lo, uint32_t cf_of)
{
	check(got.hi == hi && got.lo == lo && (got.flags & (CF | OF)) == cf_of,
	      "%s: got %x:%x CF|OF 0x%x, want %x:%x CF|OF 0x%x", what, got.hi, got.lo,
	      got.flags & (CF | OF), hi, lo, cf_of);
}

static void mul_div(void)
{
	check_begin("mul_div");
	expect_wide("mul ffffffff^2", MUL1("mull", 0xffffffffu, 0xffffffffu), 0xfffffffe, 1, CF | OF);
	expect_wide("mul 3*4", MUL1("mull", 3u, 4u), 0, 12, 0);
	expect_wide("imul -2*3", MUL1("imull", 0xfffffffeu, 3u), 0xffffffff, 0xfffffffa, 0);
	expect_wide("imul 40000000*4", MUL1("imull", 0x40000000u, 4u), 1, 0, CF | OF);
	expect("imul r,r overflow", ALU2("imull", 0x10000, 0x10000, 0), 0, CF | OF, CF | OF);
	expect("imul r,r", ALU2("imull", 7, 6, CF | OF), 42, 0, CF | OF);

	uint32_t r, f;
	asm volatile("imull $-3, %2, %0; pushfl; popl %1" : "=r"(r), "=r"(f) : "r"(7u) : "cc");
	expect("imul r,r,imm", (struct alu_result){ r, f }, 0xffffffeb, 0, CF | OF);

	struct wide q = DIV1("divl", 1u, 0u, 3u);
	check(q.lo == 0x55555555 && q.hi == 1, "div 100000000/3 = %x rem %x", q.lo, q.hi);
	q = DIV1("idivl", 0xffffffffu, 0xfffffff9u, 2u);
	check(q.lo == 0xfffffffd && q.hi == 0xffffffff, "idiv -7/2 = %x rem %x", q.lo, q.hi);

	uint32_t ax = 0x80;
	asm volatile("mulb %b2; pushfl; popl %0" : "=r"(f), "+a"(ax) : "q"(2) : "cc");
	check((ax & 0xffff) == 0x100 && (f & (CF | OF)) == (CF | OF), "mul8 80*2 = %x flags %x", ax & 0xffff, f);
	ax = 0x0107;
	asm volatile("divb %b1" : "+a"(ax) : "q"(0x10) : "cc");
	check((ax & 0xffff) == 0x0710, "div8 107/10: ax = %x, want 710", ax & 0xffff);
	check_end();
}

static void bit_ops(void)
{
	check_begin("bit_ops");
	expect("bt 5 of 20", ALU1("btl $5,", 0x20, 0), 0x20, CF, CF);
	expect("bts 0", ALU1("btsl $0,", 0x20, CF), 0x21, 0, CF);
	expect("btr 5", ALU1("btrl $5,", 0x21, 0), 0x01, CF, CF);
	expect("btc 31", ALU1("btcl $31,", 0x01, CF), 0x80000001, 0, CF);

	/* A register bit offset addresses a bit string beyond the dword. */
	uint32_t bits[2] = { 0, 1u << 5 }, f;
	asm volatile("bt %1, %2; pushfl; popl %0" : "=r"(f) : "r"(37), "m"(bits) : "cc");
	check(f & CF, "bt 37 of a bit string: CF clear");
	asm volatile("bts %0, %1" : : "r"(63), "m"(bits) : "cc", "memory");
	check_eq("bts 63 of a bit string: word 1", bits[1], 0x80000020);

	expect("bsf", ALU2("bsfl", 0, 0x00f00000, ZF), 20, 0, ZF);
	expect("bsr", ALU2("bsrl", 0, 0x00f00000, ZF), 23, 0, ZF);
	asm volatile("bsfl %1, %0; pushfl; popl %0" : "=r"(f) : "r"(0) : "cc");
	check(f & ZF, "bsf 0 leaves ZF clear");
	check_end();
}

#define SETCC(cc, a, b) ({ \
	uint8_t s_; \
	asm volatile("cmpl %2, %1; set" cc " %0" : "=q"(s_) : "r"((uint32_t)(a)), "r"((uint32_t)(b)) : "cc"); \
	s_; })

#define CMOV(cc, a, b, then, other) ({ \
	uint32_t d_ = (other); \
	asm volatile("cmpl %2, %1; cmov" cc " %3, %0" : "+r"(d_) : "r"((uint32_t)(a)), "r"((uint32_t)(b)), "rm"((uint32_t)(then)) : "cc"); \
	d_; })

static void conditions(void)
{
	check_begin("setcc_cmov");
	/* 3 vs 5: below and less. -1 vs 1: above but less. */
	check(SETCC("b", 3, 5) == 1 && SETCC("l", 3, 5) == 1 && SETCC("a", 3, 5) == 0 &&
	      SETCC("g", 3, 5) == 0, "setb/setl/seta/setg on 3,5");
	check(SETCC("a", -1, 1) == 1 && SETCC("l", -1, 1) == 1 && SETCC("ge", -1, 1) == 0 &&
	      SETCC("be", -1, 1) == 0, "seta/setl/setge/setbe on -1,1");
	check(SETCC("e", 7, 7) == 1 && SETCC("ne", 7, 7) == 0 && SETCC("le", 7, 7) == 1 &&
	      SETCC("s", 7, 7) == 0 && SETCC("p", 7, 7) == 1, "sete/setne/setle/sets/setp on 7,7");
	check(SETCC("o", 0x80000000, 1) == 1 && SETCC("no", 1, 1) == 1, "seto/setno");
	check_eq("cmove taken", CMOV("e", 4, 4, 111, 222), 111);
	check_eq("cmove not taken", CMOV("e", 4, 5, 111, 222), 222);
	check_eq("cmovl taken", CMOV("l", -5, 2, 111, 222), 111);
	check_eq("cmova not taken", CMOV("a", 2, -5, 111, 222), 222);
	check_eq("cmovb taken", CMOV("b", 2, -5, 111, 222), 111);
	check_end();
}

static void exchange_extend(void)
{
	check_begin("xchg_extend");
	uint32_t mem = 5, acc = 5, f;
	asm volatile("lock cmpxchgl %3, %1; pushfl; popl %2" : "+a"(acc), "+m"(mem), "=r"(f) : "r"(9u) : "cc");
	check(mem == 9 && (f & ZF), "cmpxchg equal: mem %u ZF %u", mem, !!(f & ZF));
	acc = 1;
	asm volatile("lock cmpxchgl %3, %1; pushfl; popl %2" : "+a"(acc), "+m"(mem), "=r"(f) : "r"(7u) : "cc");
	check(mem == 9 && acc == 9 && !(f & ZF), "cmpxchg unequal: mem %u eax %u", mem, acc);
	uint32_t add = 3;
	asm volatile("lock xaddl %0, %1" : "+r"(add), "+m"(mem) : : "cc");
	check(mem == 12 && add == 9, "xadd: mem %u old %u", mem, add);
	uint32_t x = 10;
	asm volatile("xchgl %0, %1" : "+r"(x), "+m"(mem));
	check(mem == 10 && x == 12, "xchg: mem %u reg %u", mem, x);

	int32_t sx;
	uint32_t zx;
	uint8_t byte = 0x80;
	asm volatile("movsbl %1, %0" : "=r"(sx) : "m"(byte));
	asm volatile("movzbl %1, %0" : "=r"(zx) : "m"(byte));
	check(sx == -128 && zx == 0x80, "movsx/movzx of 0x80: %d / %u", sx, zx);
	uint32_t lo = 0x80000000, hi;
	asm volatile("cltd" : "=d"(hi) : "a"(lo));
	check_eq("cdq of 80000000", hi, 0xffffffff);
	uint32_t w = 0xff80;
	asm volatile("cwtl" : "+a"(w));
	check_eq("cwde of ff80", w, 0xffffff80);
	uint32_t base = 0x1000, index = 3, ea;
	asm volatile("leal 0x10(%1,%2,8), %0" : "=r"(ea) : "r"(base), "r"(index));
	check_eq("lea base+index*8+disp", ea, 0x1028);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	add_sub();
	logic();
	shifts_rotates();
	mul_div();
	bit_ops();
	conditions();
	exchange_extend();
}

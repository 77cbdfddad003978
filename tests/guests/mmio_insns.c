/* Instructions other than MOV aimed at memory outside RAM, as a driver or
 * a hostile guest may aim them: PUSH/POP, ADD/OR/AND, INC/DEC/NOT/NEG,
 * ADC/SBB, XCHG, CMPXCHG (both outcomes), XADD, shifts and rotates
 * (group 2, SHLD/SHRD), BT*, SETcc, CMOVcc, MUL/DIV, XLAT, REPE CMPS and
 * REP MOVS/STOS (and dwords that cross a page), on a
 * device register (the local APIC's TPR, SDM Vol. 3A 11.8.3.1: bits 7:0
 * read back, 31:8 read 0) and on unbacked space in the PCI hole (reads all
 * ones on hyvm, 0 in QEMU; writes dropped). Hardware finishes every one of them; so must
 * each engine (bt through userspace/emul, the hardware engines through
 * their MMIO exits). */
#include "guest.h"

GUEST("mmio_insns", "");

#define TPR ((volatile uint32_t *)(APIC_BASE + APIC_TPR))
/* Below the APIC, IOAPIC and the BARs firmware assigns: nothing there. */
#define HOLE 0xe0000000u
#define ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

static uint32_t tpr_set(uint32_t v)
{
	*TPR = v;
	return *TPR;
}

/* "insn mem-operand" with EAX = a, ECX = c in and out; the flags out. */
#define MEM_OP(insn, addr, a, c) ({ \
	uint32_t f_; \
	asm volatile(insn "\n\tpushfl\n\tpopl %[f]" \
		     : "+a"(a), "+c"(c), [f] "=&r"(f_) : "d"(addr) : "cc", "memory"); \
	f_ & ARITH; })

static void on_tpr(void)
{
	uint32_t a = 0, c = 0, f;

	check_begin("tpr");
	tpr_set(0x20);
	f = MEM_OP("addl $0x10, (%%edx)", TPR, a, c);
	check_eq("add imm", *TPR, 0x30);
	check_eq("add flags", f, EFLAGS_PF);
	MEM_OP("orl $0x1, (%%edx)", TPR, a, c);
	check_eq("or imm", *TPR, 0x31);
	MEM_OP("andl $0xf0, (%%edx)", TPR, a, c);
	check_eq("and imm", *TPR, 0x30);
	MEM_OP("incl (%%edx)", TPR, a, c);
	check_eq("inc", *TPR, 0x31);
	MEM_OP("decl (%%edx)", TPR, a, c);
	check_eq("dec", *TPR, 0x30);
	a = 0x40;
	MEM_OP("xchgl %%eax, (%%edx)", TPR, a, c);
	check_eq("xchg reg", a, 0x30);
	check_eq("xchg mem", *TPR, 0x40);
	a = 0x40, c = 0x50;
	f = MEM_OP("cmpxchgl %%ecx, (%%edx)", TPR, a, c);
	check_eq("cmpxchg equal: mem", *TPR, 0x50);
	check_eq("cmpxchg equal: ZF", f & EFLAGS_ZF, EFLAGS_ZF);
	a = 0x11, c = 0x77;
	f = MEM_OP("cmpxchgl %%ecx, (%%edx)", TPR, a, c);
	check_eq("cmpxchg differ: mem", *TPR, 0x50);
	check_eq("cmpxchg differ: eax", a, 0x50);
	check_eq("cmpxchg differ: ZF", f & EFLAGS_ZF, 0);
	c = 0x08;
	MEM_OP("xaddl %%ecx, (%%edx)", TPR, a, c);
	check_eq("xadd mem", *TPR, 0x58);
	check_eq("xadd reg", c, 0x50);
	tpr_set(0x03);
	f = MEM_OP("shll $4, (%%edx)", TPR, a, c);
	check_eq("shl imm", *TPR, 0x30);
	check_eq("shl flags", f & (EFLAGS_CF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_PF), EFLAGS_PF);
	c = 2;
	f = MEM_OP("rorl %%cl, (%%edx)", TPR, a, c);
	check_eq("ror cl", *TPR, 0x0c);
	check_eq("ror CF", f & EFLAGS_CF, 0);
	f = MEM_OP("stc\n\trcrl $1, (%%edx)", TPR, a, c);
	check_eq("rcr CF in", *TPR, 0x06);	/* 0x80000006: bits 31:8 are not kept */
	check_eq("rcr CF out", f & EFLAGS_CF, 0);
	c = 0xf0000000;
	f = MEM_OP("shldl $4, %%ecx, (%%edx)", TPR, a, c);
	check_eq("shld", *TPR, 0x6f);
	f = MEM_OP("shrdl $1, %%ecx, (%%edx)", TPR, a, c);
	check_eq("shrd CF", f & EFLAGS_CF, EFLAGS_CF);
	tpr_set(0x60);
	MEM_OP("pushl (%%edx)\n\tmovl $0, (%%edx)\n\tpopl %%eax", TPR, a, c);
	check_eq("push from tpr", a, 0x60);
	MEM_OP("pushl $0x70\n\tpopl (%%edx)", TPR, a, c);
	check_eq("pop to tpr", *TPR, 0x70);
	uint32_t src = 0x90, dst = 0;
	{
		uint32_t *s = &src, *d = (uint32_t *)TPR, n = 1;
		asm volatile("cld\n\trep movsl" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
	}
	check_eq("rep movsd ram to tpr", *TPR, 0x90);
	{
		uint32_t *s = (uint32_t *)TPR, *d = &dst, n = 1;
		asm volatile("cld\n\trep movsl" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
	}
	check_eq("rep movsd tpr to ram", dst, 0x90);
	{
		uint32_t *d = (uint32_t *)TPR, n = 1, v = 0xa0;
		asm volatile("cld\n\trep stosl" : "+D"(d), "+c"(n) : "a"(v) : "memory");
	}
	check_eq("rep stosd", *TPR, 0xa0);
	tpr_set(0);
	check_end();
}

/* What unbacked space reads is the platform's: all ones on hyvm (as on
 * hardware, where the access ends in a master abort), 0 in QEMU TCG. Each
 * check is against that first read v: every write is dropped, every
 * read-modify-write computes from v. */
static void on_hole(void)
{
	volatile uint32_t *hole = (volatile uint32_t *)HOLE;
	uint32_t v = *hole, a = 0, c = 0, f;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	check_begin("unbacked");
	check(v == 0 || v == 0xffffffff, "unbacked space reads 0x%x, neither 0 nor all ones", v);
	f = MEM_OP("addl $1, (%%edx)", HOLE, a, c);
	check_eq("add: ZF", f & EFLAGS_ZF, v + 1 == 0 ? EFLAGS_ZF : 0);
	check_eq("add: write dropped", *hole, v);
	MEM_OP("orl $1, (%%edx)\n\tandl $0, (%%edx)\n\tnotl (%%edx)\n\tnegl (%%edx)\n\t"
	       "incl (%%edx)\n\tdecl (%%edx)", HOLE, a, c);
	check_eq("or/and/not/neg/inc/dec: dropped", *hole, v);
	f = MEM_OP("stc\n\tadcl $0, (%%edx)", HOLE, a, c);
	check_eq("adc: CF", f & EFLAGS_CF, v == 0xffffffff ? EFLAGS_CF : 0);
	f = MEM_OP("stc\n\tsbbl $0, (%%edx)", HOLE, a, c);
	check_eq("sbb: SF", f & EFLAGS_SF, EFLAGS_SF);	/* v - 1 has bit 31 either way */
	f = MEM_OP("rolb $1, (%%edx)", HOLE, a, c);
	check_eq("rol: CF", f & EFLAGS_CF, v & 1 ? EFLAGS_CF : 0);
	check_eq("rol: dropped", *hole, v);
	c = 3;
	f = MEM_OP("sarw %%cl, (%%edx)\n\tshldl %%cl, %%eax, (%%edx)", HOLE, a, c);
	check_eq("sar/shld: dropped", *hole, v);
	f = MEM_OP("btl $31, (%%edx)\n\tbtsl $3, (%%edx)", HOLE, a, c);
	check_eq("bt: CF", f & EFLAGS_CF, v >> 31 ? EFLAGS_CF : 0);
	c = 0;
	MEM_OP("stc\n\tsetc (%%edx)\n\tcmovcl (%%edx), %%ecx", HOLE, a, c);
	check_eq("setc: dropped", *hole, v);
	check_eq("cmovc", c, v);
	{
		uint32_t lo = 3, hi;

		asm volatile("mull (%[p])" : "+a"(lo), "=&d"(hi) : [p] "r"(HOLE) : "cc");
		check_eq("mul", lo, v * 3);
		a = 1;
		asm volatile("xlatb" : "+a"(a) : "b"(HOLE) : "memory");
	}
	check_eq("xlat", a, v & 0xff);
	{
		uint8_t *s = (uint8_t *)HOLE, *d = buf;
		uint32_t n = 4;

		memset(buf, v & 0xff, 2);
		buf[2] = (uint8_t)~v;
		asm volatile("cld\n\trepe cmpsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory", "cc");
		check_eq("repe cmpsb: stops at the difference", n, 1);
	}
	a = 0x1234;
	MEM_OP("xchgl %%eax, (%%edx)", HOLE, a, c);
	check_eq("xchg", a, v);
	a = v, c = 5;
	f = MEM_OP("cmpxchgl %%ecx, (%%edx)", HOLE, a, c);
	check_eq("cmpxchg equal: ZF", f & EFLAGS_ZF, EFLAGS_ZF);
	a = v ^ 3;
	f = MEM_OP("cmpxchgl %%ecx, (%%edx)", HOLE, a, c);
	check_eq("cmpxchg differ: eax", a, v);
	check_eq("cmpxchg differ: ZF", f & EFLAGS_ZF, 0);
	c = 2;
	MEM_OP("lock xaddl %%ecx, (%%edx)", HOLE, a, c);
	check_eq("xadd", c, v);
	MEM_OP("pushl (%%edx)\n\tpopl %%eax", HOLE, a, c);
	check_eq("push", a, v);
	MEM_OP("pushl $7\n\tpopl (%%edx)", HOLE, a, c);
	check_eq("pop: dropped", *hole, v);
	/* an access that crosses a page: two bus cycles, same answers */
	*(volatile uint32_t *)(HOLE + 0xffe) = 0x12345678;
	check_eq("dword across a page", *(volatile uint32_t *)(HOLE + 0xffe), v);
	a = 0;
	MEM_OP("addl $1, 0xffd(%%edx)", HOLE, a, c);
	check_eq("add across a page: dropped", *(volatile uint32_t *)(HOLE + 0xffd), v);
	{
		uint8_t *s = (uint8_t *)HOLE, *d = buf;
		uint32_t n = sizeof(buf);
		asm volatile("cld\n\trep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
		check_eq("rep movsb hole to ram", buf[0] | buf[7] << 8, (v & 0xff) * 0x101);
		check_eq("rep movsb: ecx", n, 0);
	}
	{
		uint8_t *s = buf, *d = (uint8_t *)HOLE;
		uint32_t n = sizeof(buf);
		asm volatile("cld\n\trep movsb" : "+S"(s), "+D"(d), "+c"(n) : : "memory");
		check_eq("rep movsb ram to hole: edi", (uint32_t)d, HOLE + 8);
		check_eq("rep movsb ram to hole: dropped", *hole, v);
	}
	{
		uint8_t *d = (uint8_t *)HOLE;
		uint32_t n = 16;
		asm volatile("cld\n\trep stosb" : "+D"(d), "+c"(n) : "a"(0x5a) : "memory");
		check_eq("rep stosb: dropped", *(volatile uint8_t *)(HOLE + 3), v & 0xff);
	}
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	on_tpr();
	on_hole();
}

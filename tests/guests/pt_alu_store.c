/* Read-modify-write stores to a page-table entry, over and over at one
 * instruction, as a #PF handler's "or $1, pte" or Linux's pte updates do:
 * bt turns such an instruction into a page-table-write callout and, from
 * its block, stores OR, AND, XOR, ADD, SUB and MOV itself
 * (bt/cpu/callouts_pt_write.c, alu_store). Each round runs the same
 * instruction on an entry of a live page table and on a plain variable
 * with the same operands: the two results and the arithmetic flags after
 * it (CF, PF, AF, ZF, SF, OF: SDM Vol. 1 3.4.3.1) must agree (the
 * plain side runs its own copy of the instruction). The values
 * are even, so the entry is never present while it holds them. Then the
 * demand-fault loop of bench/nano's pgfault: a not-present entry, the
 * handler reads CR2 and ORs P into the entry, the retry must read the
 * right frame (the soft TLB's fill from the block, MOV from CR2 and the
 * OR all stay in translated code on bt). */
#include "guest.h"

GUEST("pt_alu_store", "paging32");

#define PDE 302u
#define BASE (PDE << 22)
#define ROUNDS 64
#define NPAGES 64
#define ENTRY 700u	/* an entry no access goes through */

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static volatile uint32_t frames[4][1024] __attribute__((aligned(4096)));
static volatile uint32_t plain;
static volatile uint32_t faults, bad_cr2;

#define ALU_FORM(name, insn)								\
	__attribute__((noinline, noclone))						\
	static uint32_t name(volatile uint32_t *p, uint32_t v, uint32_t a, uint32_t b)	\
	{										\
		uint32_t f;								\
		asm volatile("cmpl %[b], %[a]\n\t"					\
			     insn "\n\t"						\
			     "pushfl\n\tpopl %[f]"					\
			     : [f] "=&r"(f)						\
			     : [p] "r"(p), [v] "r"(v), [a] "r"(a), [b] "r"(b)		\
			     : "memory", "cc");						\
		return f & 0x8d5u;	/* OF SF ZF AF PF CF */				\
	}

/* each form twice: the entry's copy, and a reference copy that only
 * ever writes a plain variable (one instruction turned into a callout
 * would run both sides through the same path) */
#define ALU_PAIR(name, insn) ALU_FORM(do_##name, insn) ALU_FORM(ref_##name, insn)
ALU_PAIR(or, "orl %[v], (%[p])")
ALU_PAIR(and, "andl %[v], (%[p])")
ALU_PAIR(xor, "xorl %[v], (%[p])")
ALU_PAIR(add, "addl %[v], (%[p])")
ALU_PAIR(sub, "subl %[v], (%[p])")
ALU_PAIR(or_imm, "orl $0x40000002, (%[p])")
ALU_PAIR(sub_imm, "subl $0x12, (%[p])")
ALU_PAIR(mov, "movl %[v], (%[p])")

typedef uint32_t (*alu_fn)(volatile uint32_t *, uint32_t, uint32_t, uint32_t);

/* Touches the table through the alias so the translator walks it (and
 * traces it as a page table). */
static uint32_t touch(void)
{
	return ((volatile uint32_t *)BASE)[1];
}

static void run(const char *what, alu_fn fn, alu_fn ref)
{
	uint32_t bad_value = 0, bad_flags = 0, seed = 0x2545f491u;

	check_begin(what);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t x = (seed ^ (seed >> 13)) & ~1u, v = (seed * 2654435761u) & ~1u;
		if (i % 8 == 3)
			v = x;		/* ZF for XOR and SUB */
		if (i % 8 == 5)
			v = 0x80000000u - (x & 0x7ffffffeu);	/* signed overflow for ADD */
		uint32_t a = i * 0x9e3779b9u, b = i * 7;	/* flags before: CMP */
		table[ENTRY] = x;
		plain = x;
		uint32_t f_pte = fn(&table[ENTRY], v, a, b);
		uint32_t f_plain = ref(&plain, v, a, b);
		if (table[ENTRY] != plain)
			bad_value++;
		if (f_pte != f_plain)
			bad_flags++;
		(void)touch();
	}
	table[ENTRY] = 0;
	check(bad_value == 0, "%u of %u rounds stored another value in the entry", bad_value, ROUNDS);
	check(bad_flags == 0, "%u of %u rounds left other flags", bad_flags, ROUNDS);
	check_end();
}

/* The pgfault handler: CR2's page made present, no INVLPG (a
 * not-present entry is not cached, SDM Vol. 3A 4.10.2.3). */
static void on_pf(struct trap_frame *tf)
{
	uint32_t cr2 = read_cr2();
	faults++;
	if (cr2 - BASE >= NPAGES * 4096u) {
		bad_cr2++;
		return;
	}
	table[(cr2 - BASE) >> 12] |= PTE_P;
}

static void demand_faults(void)
{
	uint32_t bad = 0;

	check_begin("demand_faults");
	trap_set_handler(VEC_PF, on_pf);
	for (uint32_t round = 0; round < 4; round++) {
		for (uint32_t k = 2; k < NPAGES; k++)
			table[k] = (uint32_t)frames[k % 4] | PTE_W;
		write_cr3(read_cr3());
		for (uint32_t k = 2; k < NPAGES; k++)
			if (((volatile uint32_t *)(BASE + k * 4096))[k] != (k % 4) * 0x10000 + k)
				bad++;
	}
	check(faults == 4 * (NPAGES - 2), "%u faults, not %u", faults, 4 * (NPAGES - 2));
	check(bad_cr2 == 0, "%u faults with CR2 outside the window", bad_cr2);
	check(bad == 0, "%u of %u reads after a fault saw another frame", bad, 4 * (NPAGES - 2));
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	for (unsigned p = 0; p < 4; p++)
		for (unsigned w = 0; w < 1024; w++)
			frames[p][w] = p * 0x10000 + w;
	paging32_enable();
	paging32_directory[PDE] = (uint32_t)table | PTE_P | PTE_W;
	table[0] = (uint32_t)frames[0] | PTE_P | PTE_W;
	table[1] = (uint32_t)frames[1] | PTE_P | PTE_W;
	write_cr3(read_cr3());
	(void)touch();
	run("or", do_or, ref_or);
	run("and", do_and, ref_and);
	run("xor", do_xor, ref_xor);
	run("add", do_add, ref_add);
	run("sub", do_sub, ref_sub);
	run("or_imm", do_or_imm, ref_or_imm);
	run("sub_imm", do_sub_imm, ref_sub_imm);
	run("mov", do_mov, ref_mov);
	demand_faults();
}

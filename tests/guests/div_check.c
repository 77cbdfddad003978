/* #DE raised over and over at the same DIV, as bt's adaptive translation
 * sees it: after a few host faults there it checks the divisor inline
 * instead (bt/translate/div_check.c). Every #DE, the first and the
 * hundredth, must come with the same frame: vector 0, the DIV's EIP, the
 * flags the DIV found (set to a different value each time), and every
 * register as it was (the DIV did nothing). Divisors: ECX, EBX, CX, CL,
 * AH (a high byte) and a memory operand (not checked inline: still the
 * host fault); then an IDIV that overflows with a nonzero divisor at a
 * site that has been checked (still #DE, through the host fault). The
 * differential test compares the STATE with QEMU's. */
#include "guest.h"

GUEST("div_check", "");

static volatile uint32_t seen_eip, seen_flags, seen_eax, seen_ebx, seen_ecx, seen_edx, seen_vec;
static volatile uint32_t skip_len, faults;
static volatile uint32_t zero_word, form_flags;

static void on_de(struct trap_frame *tf)
{
	seen_vec = tf->vector;
	seen_eip = tf->eip;
	/* RF left out: hardware, and KVM's emulator, set it in the EFLAGS
	 * image of a fault-class exception (Intel SDM Vol. 3A, 18.3.1.1),
	 * QEMU TCG and bt do not; seen_flags is in the compared state */
	seen_flags = tf->eflags & ~0x10000u;
	seen_eax = tf->eax;
	seen_ebx = tf->ebx;
	seen_ecx = tf->ecx;
	seen_edx = tf->edx;
	faults++;
	tf->eip += skip_len;
}

/* One DIV form: the label marks the DIV, LEN its bytes. CMP sets the
 * flags from a and b; PUSHF/POP records them without changing them. */
#define DIV_FORM(name, setup, insn, len)						\
	__attribute__((noinline, noclone))						\
	static uint32_t name(uint32_t a, uint32_t b, uint32_t *flags, uint32_t *at)	\
	{										\
		uint32_t eax = 0x1234 + a, edx = 7, ebx = 0, ecx = 0;			\
		skip_len = len;								\
		asm volatile(setup "\n\t"						\
			     "cmpl %[b], %[a]\n\t"					\
			     "pushfl\n\tpopl form_flags\n\t"				\
			     ".globl " #name "_at\n" #name "_at:\n\t"			\
			     insn							\
			     : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx)		\
			     : [a] "r"(a), [b] "r"(b)					\
			     : "memory", "cc");						\
		*flags = form_flags;							\
		extern char name##_at[];						\
		*at = (uint32_t)name##_at;						\
		return eax ^ (edx << 8) ^ ebx ^ ecx;					\
	}

DIV_FORM(div_ecx, "xorl %%ecx, %%ecx", "divl %%ecx", 2)
DIV_FORM(div_ebx, "xorl %%ebx, %%ebx", "divl %%ebx", 2)
DIV_FORM(div_cx, "movl $0xffff0000, %%ecx", "divw %%cx", 3)
DIV_FORM(div_cl, "movl $0x100, %%ecx", "divb %%cl", 2)
DIV_FORM(idiv_ah, "movl $0x00ff, %%eax", "idivb %%ah", 2)
DIV_FORM(div_mem, "", "divl zero_word", 6)

extern char div_var_at[];

/* EDX:EAX = hi:1000000 divided by divisor; a #DE skips it (EAX stays). */
__attribute__((noinline, noclone)) static uint32_t div_var(uint32_t divisor, uint32_t hi, uint32_t *bad)
{
	uint32_t eax = 1000000, edx = hi, ecx = divisor;

	skip_len = 2;
	asm volatile(".globl div_var_at\ndiv_var_at:\n\tdivl %%ecx"
		     : "+a"(eax), "+d"(edx), "+c"(ecx) : : "cc", "memory");
	if (!divisor && eax != 1000000)
		(*bad)++;
	return divisor ? eax : 1;
}

static void run_form(const char *what, uint32_t (*form)(uint32_t, uint32_t, uint32_t *, uint32_t *))
{
	uint32_t bad = 0, before = faults;

	for (uint32_t i = 0; i < 40; i++) {
		uint32_t flags, at;
		uint32_t a = i * 0x9e3779b9u, b = i * 7 + (i & 1 ? 0x80000000u : 0);
		uint32_t mix = form(a, b, &flags, &at);
		if (seen_vec != VEC_DE || seen_eip != at ||
		    ((seen_flags ^ flags) & 0x8d5) != 0)	/* OF SF ZF AF PF CF */
			bad++;
		/* the registers the handler saw are the ones after the DIV */
		if ((seen_eax ^ (seen_edx << 8) ^ seen_ebx ^ seen_ecx) != mix)
			bad++;
	}
	check_eq(what, bad, 0);
	check_eq("one #DE per DIV", faults - before, 40);
}

void guest_main(const struct mb_info *mbi)
{
	trap_set_handler(VEC_DE, on_de);
	check_begin("div_check");
	run_form("div ecx", div_ecx);
	run_form("div ebx", div_ebx);
	run_form("div cx", div_cx);
	run_form("div cl", div_cl);
	run_form("idiv ah", idiv_ah);
	run_form("div [mem]", div_mem);
	check_end();

	/* one DIV: zero divisors until it is checked, then real divisions
	 * through the check, then a quotient too large (still #DE) */
	check_begin("checked_site");
	uint32_t bad = 0, before = faults;
	for (uint32_t i = 0; i < 10; i++)
		if (div_var(0, 0, &bad) != 1)
			bad++;
	check_eq("zero divisor: #DE each time", faults - before, 10);
	for (uint32_t i = 1; i < 30; i++)
		if (div_var(i, 0, &bad) != 1000000u / i)
			bad++;
	check_eq("quotients through the check", bad, 0);
	check_eq("no #DE for nonzero divisors", faults - before, 10);
	div_var(1, 7, &bad);
	check_eq("overflow: #DE", faults - before, 11);
	check_eq("overflow: at the DIV", seen_eip, (uint32_t)div_var_at);
	check_end();
	trap_set_handler(VEC_DE, NULL);
}

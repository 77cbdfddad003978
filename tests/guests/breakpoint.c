/* Software interrupts at CPL0: INT3 (#BP), INT n and INTO, which trap
 * with EIP after the instruction and no error code; a handler that
 * resumes after INT3; and the IRET instruction itself, both after an INT
 * and on its own. */
#include "guest.h"

GUEST("breakpoint", "soft-int-cpl0");

#define VEC_SOFT 0x40
#define VEC_IRET_COUNTER 0x41

/* NAME_raise runs insn; NAME labels the instruction after it, where a
 * trap (not a fault) reports EIP. */
#define TRAPPING_INSN(name, setup, insn, ...) \
	extern const char name[]; \
	static void __attribute__((noinline)) name##_raise(void *arg) \
	{ \
		asm volatile(setup "\n\t" insn "\n.globl " #name "\n" #name ":" : : : __VA_ARGS__); \
	}

TRAPPING_INSN(after_int3, "", "int3", "memory")
TRAPPING_INSN(after_int_n, "", "int $0x40", "memory")
TRAPPING_INSN(after_into, "movl $0x7fffffff, %%eax\n\taddl $1, %%eax", "into", "eax", "cc")

static void expect_trap(const char *what, void (*raise)(void *), uint32_t vector, const char *eip)
{
	struct fault f;
	if (!catch_fault(raise, NULL, &f)) {
		check(false, "%s: no trap", what);
		return;
	}
	check(f.vector == vector && f.error == 0 && f.eip == (uint32_t)eip,
	      "%s: vector %u error 0x%x eip %x, want vector %u eip %x", what, f.vector, f.error, f.eip, vector,
	      (uint32_t)eip);
}

static volatile uint32_t breakpoints_seen;
static void count_breakpoint(struct trap_frame *tf) { breakpoints_seen++; }

/* A gate straight to this handler: increments a counter, returns by IRET. */
extern volatile uint32_t iret_counter;
void iret_counting_handler(void);
asm(".data\n.globl iret_counter\niret_counter: .long 0\n"
    ".text\n.globl iret_counting_handler\n"
    "iret_counting_handler:\n\t"
    "incl iret_counter\n\t"
    "iret\n");

void guest_main(const struct mb_info *mbi)
{
	check_begin("traps");
	expect_trap("int3", after_int3_raise, VEC_BP, after_int3);
	expect_trap("int 0x40", after_int_n_raise, VEC_SOFT, after_int_n);
	expect_trap("into with OF=1", after_into_raise, VEC_OF, after_into);
	uint32_t of_clear_ran = 0;
	asm volatile("xorl %%eax, %%eax\n\tinto\n\tmovl $1, %0" : "=r"(of_clear_ran) : : "eax", "cc");
	check_eq("into with OF=0 falls through", of_clear_ran, 1);
	check_end();

	check_begin("resume_after_int3");
	trap_set_handler(VEC_BP, count_breakpoint);
	uint32_t after = 0;
	asm volatile("int3\n\tint3\n\tmovl $0x77, %0" : "=r"(after) : : "memory");
	check_eq("breakpoints handled", breakpoints_seen, 2);
	check_eq("code after the breakpoints ran", after, 0x77);
	trap_set_handler(VEC_BP, NULL);
	check_end();

	check_begin("iret");
	idt_set_raw(VEC_IRET_COUNTER, iret_counting_handler, GATE_INT);
	uint32_t flags_after;
	asm volatile("stc\n\tint $0x41\n\tint $0x41\n\tpushfl\n\tpopl %0" : "=r"(flags_after) : : "cc", "memory");
	check_eq("int/iret round trips", iret_counter, 2);
	check_eq("CF restored by iret", flags_after & EFLAGS_CF, EFLAGS_CF);

	/* IRET with a hand-made frame: to a label, with chosen flags. */
	uint32_t landed = 0, flags_loaded;
	asm volatile("pushl $0x8c3\n\t" /* CF, bit 1, ZF, SF, OF */
	             "pushl %%cs\n\t"
	             "pushl $1f\n\t"
	             "iret\n\t"
	             "movl $0xbad, %0\n"
	             "1:\tmovl $1, %0\n\t"
	             "pushfl\n\tpopl %1\n\t"
	             "pushl $2\n\tpopfl"
	             : "=r"(landed), "=r"(flags_loaded) : : "cc", "memory");
	check_eq("iret to a hand-made frame", landed, 1);
	check_eq("flags loaded by iret", flags_loaded & (EFLAGS_ARITH | EFLAGS_IF | EFLAGS_DF), 0x8c1);
	check_end();
}
